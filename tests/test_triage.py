"""Page triage by the form's body: pages that share the form's print but are not a
filled form (development variants of the generator's page kinds only)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from faker import Faker

from pipeline.models import PageImage, PageKind, PageRef
from pipeline.reader import read_page
from pipeline.synth import other
from pipeline.synth.people import make_person
from tests.pages import filled_page, transform


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _read(img: np.ndarray, template, engine):
    return read_page(PageImage(PageRef("t.pdf", 1), img, "x"), template, engine)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_invitations_first_page_is_not_a_form(template, engine, seed: int) -> None:
    page = _grey(other.invitation_page(template, np.random.default_rng(seed)))
    r = _read(transform(page, angle=1.5 * seed, seed=seed), template, engine)
    assert r.kind == PageKind.OTHER and not r.fields  # no attendee row
    assert "header is there but not its fields" in r.detail


def test_a_letter_quoting_the_form_is_not_a_form(template, engine) -> None:
    rng = np.random.default_rng(3)
    faker = Faker("fr_FR")
    faker.seed_instance(3)
    page = _grey(other.quoting_letter(template, make_person(rng, faker), rng))
    r = _read(transform(page, angle=-2), template, engine)
    assert r.kind == PageKind.OTHER and not r.fields
    assert "not the inscription form" in r.detail


@pytest.mark.parametrize("seed", [4, 5])
def test_a_blank_copy_of_the_form_is_told_apart_and_makes_no_attendee(
        template, engine, seed: int) -> None:
    page = _grey(other.blank_copy(template, np.random.default_rng(seed)))
    r = _read(transform(page, angle=-1, dx=20, seed=seed), template, engine)
    assert r.kind == PageKind.BLANK and not r.fields
    assert r.detail.startswith("a blank copy of the form")


def test_a_form_with_only_a_name_or_only_a_box_is_still_a_form(template, engine) -> None:
    r = _read(transform(filled_page(template, {"nom": "Roux"}, marks={}), angle=1), template,
              engine)
    assert r.kind == PageKind.FORM
    r = _read(transform(filled_page(template, {}, marks={"participera": "oui"})), template,
              engine)
    assert r.kind == PageKind.FORM
    assert {f.field: f.value for f in r.fields}["participera"] == "oui"


def test_a_stamp_over_the_fields_is_found_and_its_fields_are_doubtful(template) -> None:
    from pipeline.preprocess import capture_doubts, stamps
    from pipeline.synth.scan import stamp

    page = filled_page(template)
    assert stamps(page, template) == []  # typing, leaders and crossed boxes are no stamp
    stamped = page.copy()
    k = 300 / 25.4
    stamp(stamped, np.random.default_rng(2), (round(120 * k), round(90 * k)))
    found = stamps(stamped, template)
    assert len(found) == 1 and found[0].w_mm > 40
    doubts = capture_doubts(stamped, template, {"nom": "Dupont", "prenom": "Hélène",
                                               "structure": "Mairie de Riom"})
    assert {"prenom", "structure"} <= set(doubts)
    assert "nom" not in doubts  # the stamp starts at 120 mm: right of the name line


def test_a_field_read_empty_over_ink_is_doubtful(template) -> None:
    from pipeline.preprocess import capture_doubts

    page = filled_page(template, {"nom": "Roux", "fonction": "Élu"}, marks={})
    doubts = capture_doubts(page, template, {"nom": "Roux", "fonction": ""})
    assert "fonction" in doubts and "read as empty" in doubts["fonction"]
    assert "structure" not in doubts  # nothing in it, nothing read: fine


def test_a_blank_back_with_a_black_edge_band_is_blank(template, engine) -> None:
    # a lid's shadow on a 1-bit scan: a ragged black band reaching in from the edge
    page = np.full((3508, 2480), 255, np.uint8)
    rng = np.random.default_rng(8)
    edge = 160 + rng.integers(0, 60, 3508).cumsum() % 40
    for y in range(3508):
        page[y, : edge[y]] = 0
    flips = rng.random(page.shape) < 0.001
    page[flips] = 255 - page[flips]
    r = _read(page, template, engine)
    assert r.kind == PageKind.BLANK

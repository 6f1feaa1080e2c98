"""Boxes marked as people really mark them, on small synthetic pages.

Only the generator's development mark styles are drawn here: the held-out ones
(see pipeline.synth.behaviours) are for the benchmark's held-out column alone.
The page is the blank form itself, as a registered page looks, so these tests
need no OCR engine.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline import marks
from pipeline.models import MarkState, Reason
from pipeline.reader import ACCEPT
from pipeline.render import blank_form, label_width_mm
from pipeline.synth import marks as synth_marks
from pipeline.template import MM_PER_INCH, FieldKind
from pipeline.validate import form_inferences

K = 300 / MM_PER_INCH
BLUE = 60  # a blue ballpoint, as a grey scan sees it


def _page(template, field_id: str, option: str, style: str, seed: int = 0,
          grey: int = BLUE, shift: tuple[int, int] = (0, 0)) -> np.ndarray:
    """The blank form with `style` drawn for one option, shifted by `shift` px."""
    page = blank_form(template, 300).astype(np.float32)
    o = next(o for o in template.field(field_id).options if o.value == option)
    word = (round(o.label.x_mm * K), round((o.label.y_mm - 2.9) * K),
            round((o.label.x_mm + label_width_mm(template, o.label.text)) * K),
            round((o.label.y_mm + 0.6) * K))
    layer = np.zeros(page.shape, np.uint8)
    synth_marks.draw_mark(layer, o.box.rect.px(300), style, np.random.default_rng(seed), K,
                          False, word)
    a = layer.astype(np.float32) / 255
    page = page * (1 - a) + grey * a
    m = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    page = cv2.warpAffine(page, m, page.shape[::-1], borderValue=255)
    return np.clip(page, 0, 255).astype(np.uint8)


def _read(template, page: np.ndarray, field_id: str = "agent_collectivite"):
    return marks.read_group(page, template, template.field(field_id))


def _accepted(template, g, field_id: str = "agent_collectivite") -> bool:
    kind = FieldKind(template.field(field_id).kind)
    return not g.reasons and g.confidence >= ACCEPT[kind]


def test_the_blank_form_reads_empty_and_is_accepted(template) -> None:
    g = _read(template, blank_form(template, 300).copy())
    assert all(m.state == MarkState.EMPTY for m in g.marks)
    assert Reason.MISSING_REQUIRED in g.reasons  # agent_collectivite is required


@pytest.mark.parametrize("style", ["cross", "tick", "fill", "scribble", "overflow_cross"])
@pytest.mark.parametrize("seed", [1, 2])
def test_a_mark_in_the_box_is_read_and_accepted(template, style: str, seed: int) -> None:
    g = _read(template, _page(template, "agent_collectivite", "non", style, seed,
                              shift=(4, -3)))
    assert g.value == "non"
    assert _accepted(template, g)
    assert next(m for m in g.marks if m.option == "oui").state == MarkState.EMPTY


@pytest.mark.parametrize("style", ["border_tick", "beside"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_mark_on_the_border_or_beside_the_box_goes_to_review_with_that_choice(
        template, style: str, seed: int) -> None:
    g = _read(template, _page(template, "agent_collectivite", "non", style, seed))
    assert g.value == "non"  # what the reviewer finds pre-filled, never "empty"
    non = next(m for m in g.marks if m.option == "non")
    assert non.state != MarkState.EMPTY
    # beside the box: always for a reviewer; on its border it may hold enough ink in it
    # to be a plain mark
    assert not _accepted(template, g) or (style == "border_tick" and non.fill >= marks.MARKED_MIN)


@pytest.mark.parametrize("style", ["circled", "underlined"])
@pytest.mark.parametrize("seed", [1, 2])
def test_a_circled_or_underlined_word_counts_as_that_choice(template, style: str,
                                                             seed: int) -> None:
    g = _read(template, _page(template, "dejeunera", "oui", style, seed), "dejeunera")
    assert g.value == "oui"
    oui = next(m for m in g.marks if m.option == "oui")
    # the marks sweep lists it (marked), and says how it was marked
    assert oui.state == MarkState.MARKED and oui.how == style
    assert not _accepted(template, g, "dejeunera")  # a reviewer confirms it
    assert f":{style}" in marks.describe(g.marks)


def test_a_light_pencil_tick_is_never_read_as_empty(template) -> None:
    light = synth_marks.PENCILS["default"][1][0]  # the development set's light pencil
    page = _page(template, "participera", "oui", "pencil_tick", 3, grey=light)
    g = _read(template, page, "participera")
    assert g.value == "oui"
    assert g.marks[0].state != MarkState.EMPTY


def test_unexplained_ink_near_a_box_is_ambiguous_never_empty(template) -> None:
    page = blank_form(template, 300).copy()
    o = template.field("participera").options[0]
    x0, y0, _, _ = o.box.rect.px(300)
    # a short stroke 2 mm above the box: not a tick, not in the box, not round the word
    cv2.line(page, (x0 + 5, y0 - 30), (x0 + 40, y0 - 26), BLUE, 4)
    g = _read(template, page, "participera")
    assert g.marks[0].state == MarkState.AMBIGUOUS
    assert Reason.AMBIGUOUS_MARK in g.reasons


def test_specks_of_dust_do_not_make_a_box_doubtful(template) -> None:
    page = blank_form(template, 300).copy()
    x0, y0, x1, _ = template.field("participera").options[0].box.rect.px(300)
    rng = np.random.default_rng(4)
    for _ in range(12):  # copier toner: single dots, well under 0.2 mm²
        x, y = rng.integers(x0 - 40, x1 + 40), rng.integers(y0 - 40, y0 - 5)
        page[y:y + 2, x:x + 2] = 90
    g = _read(template, page, "participera")
    assert g.marks[0].state == MarkState.EMPTY and g.value == "non"


def test_a_box_scribbled_out_with_the_other_ticked_is_the_other(template) -> None:
    a = _page(template, "agent_collectivite", "oui", "scribble_out", 5)
    b = _page(template, "agent_collectivite", "non", "cross", 5)
    g = _read(template, np.minimum(a, b))
    assert g.value == "non"
    assert Reason.CONFLICTING_MARKS in g.reasons  # still for a reviewer to confirm


def test_both_boxes_ticked_stays_undecided(template) -> None:
    a = _page(template, "agent_collectivite", "oui", "tick", 6)
    b = _page(template, "agent_collectivite", "non", "cross", 6)
    g = _read(template, np.minimum(a, b))
    assert g.value == "" and Reason.CONFLICTING_MARKS in g.reasons


@pytest.mark.parametrize("style", ["tick", "circled", "overflow_cross"])
def test_marks_on_a_one_bit_fax(template, style: str) -> None:
    page = _page(template, "dejeunera", "non", style, 7, shift=(-3, 5))
    fax = np.where(page > 160, 255, 0).astype(np.uint8)
    flips = np.random.default_rng(7).random(fax.shape) < 0.002  # phone-line noise
    fax[flips] = 255 - fax[flips]
    g = _read(template, fax, "dejeunera")
    assert g.value == "non"
    assert next(m for m in g.marks if m.option == "oui").state == MarkState.EMPTY


def test_lunch_implies_attending(template) -> None:
    got = form_inferences(template, {"participera": "non", "dejeunera": "oui"})
    assert got["participera"][0] == "oui"
    assert form_inferences(template, {"participera": "oui", "dejeunera": "oui"}) == {}
    assert form_inferences(template, {"participera": "non", "dejeunera": "non"}) == {}


def test_development_and_held_out_mark_styles_differ() -> None:
    dev = {s for s, _ in synth_marks.STYLES["default"]}
    held = {s for s, _ in synth_marks.STYLES["held-out"]}
    # besides the plain cross, every held-out style is one no development set draws
    assert dev & held <= {"cross"}
    assert synth_marks.CORRECTIONS["default"] != synth_marks.CORRECTIONS["held-out"]

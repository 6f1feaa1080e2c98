"""Read the checkboxes: how much ink a box holds beyond the blank form's own.

As SDAPS and ballot scanners do, a box is measured a few pixels inside its
border (so the printed square and a small misregistration do not count), and
two thresholds split clearly empty, clearly marked and ambiguous. Each box is
first snapped onto its printed square, found by template matching nearby.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.imaging import percentiles_u8
from pipeline.models import MarkReading, MarkState, Reason
from pipeline.render import blank_form
from pipeline.template import MM_PER_INCH, FormField, Rule, Template

DPI = 300
PX_MM = DPI / MM_PER_INCH
EMPTY_MAX = 0.03  # fill at or below: clearly empty
MARKED_MIN = 0.10  # fill at or above: clearly marked
INSET_MM = 0.7
SEARCH_MM = 1.5


@dataclass(frozen=True)
class GroupReading:
    value: str  # '' when undecided
    confidence: float
    reasons: tuple[Reason, ...]
    marks: tuple[MarkReading, ...]


def _snap(page: np.ndarray, ref: np.ndarray, x0: int, y0: int, size: int) -> tuple[int, int]:
    """Offset that puts the printed square under the template's box, if it is found."""
    pad = round(0.6 * PX_MM)
    s = round(SEARCH_MM * PX_MM)
    tpl = ref[y0 - pad:y0 + size + pad, x0 - pad:x0 + size + pad]
    win = page[max(0, y0 - pad - s):y0 + size + pad + s, max(0, x0 - pad - s):x0 + size + pad + s]
    if win.shape[0] < tpl.shape[0] or win.shape[1] < tpl.shape[1] or tpl.std() < 1:
        return 0, 0
    # Edges only: a filled box must still match its border.
    res = cv2.matchTemplate(win.astype(np.float32), tpl.astype(np.float32), cv2.TM_CCOEFF_NORMED)
    _, peak, _, loc = cv2.minMaxLoc(res)
    if peak < 0.3:
        return 0, 0
    return loc[0] - min(s, x0 - pad), loc[1] - min(s, y0 - pad)


def fill_ratio(page: np.ndarray, ref: np.ndarray, box_px: tuple[int, int, int]) -> float:
    """Share of the box's inside that is darker than paper, beyond the blank's own ink."""
    x0, y0, size = box_px
    dx, dy = _snap(page, ref, x0, y0, size)
    inset = round(INSET_MM * PX_MM)
    ax, ay = x0 + dx + inset, y0 + dy + inset
    n = size - 2 * inset
    inner = page[ay:ay + n, ax:ax + n]
    if inner.size == 0:
        return 0.0
    around = page[max(0, y0 - size):y0 + 2 * size, max(0, x0 - size):x0 + 2 * size]
    (paper,) = percentiles_u8(np.ascontiguousarray(around), (95,))
    inner = cv2.medianBlur(np.ascontiguousarray(inner), 3)
    dark = inner < paper - max(35.0, 0.18 * paper)
    own = ref[y0 + inset:y0 + inset + n, x0 + inset:x0 + inset + n] < 128
    return float(max(0.0, dark.mean() - own.mean()))


def _state(fill: float) -> tuple[MarkState, float]:
    if fill <= EMPTY_MAX:
        return MarkState.EMPTY, round(1.0 - 0.4 * fill / EMPTY_MAX, 3)
    if fill >= MARKED_MIN:
        return MarkState.MARKED, round(min(1.0, 0.6 + 0.4 * (fill - MARKED_MIN) / MARKED_MIN), 3)
    mid = (EMPTY_MAX + MARKED_MIN) / 2
    return MarkState.AMBIGUOUS, round(0.2 + 0.3 * abs(fill - mid) / (mid - EMPTY_MAX), 3)


def read_group(page: np.ndarray, template: Template, field: FormField) -> GroupReading:
    """Every box of `field`, then the group's value under its rule."""
    ref = blank_form(template, DPI)
    marks = []
    for opt in field.options:
        x0, y0, x1, _ = opt.box.rect.px(DPI)
        fill = fill_ratio(page, ref, (x0, y0, x1 - x0))
        state, conf = _state(fill)
        marks.append(MarkReading(opt.value, round(fill, 4), state, conf))
    return resolve(field, tuple(marks))


def resolve(field: FormField, marks: tuple[MarkReading, ...]) -> GroupReading:
    """Apply the group's rule: one box, exactly one, or at most one marked."""
    marked = [m for m in marks if m.state == MarkState.MARKED]
    ambiguous = [m for m in marks if m.state == MarkState.AMBIGUOUS]
    conf = min(m.confidence for m in marks)
    reasons: list[Reason] = []
    if ambiguous:
        reasons.append(Reason.AMBIGUOUS_MARK)
    if len(marked) > 1:
        reasons.append(Reason.CONFLICTING_MARKS)
        return GroupReading("", conf, tuple(reasons), marks)
    if len(marked) == 1:
        value = marked[0].option
    elif field.unmarked is not None and not ambiguous:
        value = field.unmarked
    else:
        value = ""
    if not marked and field.rule == Rule.EXACTLY_ONE and field.required and not ambiguous:
        reasons.append(Reason.MISSING_REQUIRED)
    return GroupReading(value, conf, tuple(reasons), marks)

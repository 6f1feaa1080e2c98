"""Read the checkboxes: ink beyond the blank form's own, in each box and around it.

People do not only tick inside the box: their cross overflows it, their tick
sits on its border or beside it, they circle or underline the option's word
instead, press lightly with a pencil, or scribble a box out and tick the other
one. So each box is first snapped onto its printed square (a small local
alignment that absorbs registration error), then the ink that is not the
form's own is measured in three places: inside the box (a few pixels in from
its border, as SDAPS does), in a margin around it, and around its option
word. Ink is split into pieces (connected strokes) and each piece is
explained: it reaches into the box (a mark, however far it strays), it rings
or underlines the word (that choice, with a lower confidence), or nothing
explains it. **A box is read as empty only on positive evidence that its
whole neighbourhood is clean**: unexplained ink near it makes it ambiguous,
which goes to a reviewer, never to "empty".
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.models import MarkReading, MarkState, Reason
from pipeline.render import blank_form, label_width_mm
from pipeline.template import MM_PER_INCH, FormField, Option, Rule, Template

DPI = 300
PX_MM = DPI / MM_PER_INCH
EMPTY_MAX = 0.03  # inside fill at or below: no mark inside the box
MARKED_MIN = 0.10  # at or above: clearly marked (measured: empty <= 0.02, marks >= 0.12)
# A box blacked or scribbled out this far, beside another marked one, is a
# correction (generated scribble-outs fill 0.6-1.0; a tick or cross 0.1-0.6)
HEAVY_MIN = 0.55
# ... and the other box's ink at most this share of the scribbled one's: two marks of
# the same kind (two crosses, 0.4-0.6 each) are a conflict, not a correction
CORRECTION_RATIO = 0.7
INSET_MM = 0.7  # the inside is measured this far in from the printed border
SEARCH_MM = 1.5  # how far the printed square is looked for around its place
# The neighbourhood: a box's margin, and its option word's. Below the box it is
# narrower: the address line's handwriting starts 2.5 mm under the agent boxes.
NEAR_MM = 4.0
NEAR_BELOW_MM = 2.5
WORD_MARGIN_MM = 2.5
WORD_AFTER_MM = 7.0  # after the word: room for a tick put there (the next box is >= 9 mm on)
LABEL_ASCENT_MM = 3.3  # an 11 pt label's capitals and accents above its baseline
LABEL_DESCENT_MM = 0.9  # its descenders ("p") below
# Ink levels below the paper (closing of the neighbourhood: robust to shadows and
# grey scans). "Dark" counts as fill; "faint" is enough to be evidence (a light
# pencil on a grey scan is 25-60 levels below paper; sensor noise after the median
# filter stays within about 15).
DARK_MIN, DARK_SHARE = 35.0, 0.18
FAINT_MIN, FAINT_SHARE = 22.0, 0.09
OWN_TOL_PX = 3  # printed ink is dilated this much before it is taken away (residual error)
BRIDGE_PX = 5  # strokes cut by the printed border are joined again across it
# A piece of ink smaller than this in both directions, or of less ink, is dust, toner
# or line noise (a fax's flipped pixels are 0.13 mm, a copier's specks under 0.2 mm²;
# a pen's shortest mark is a 1 mm dot)
MIN_EXTENT_MM = 0.7
MIN_AREA_MM2 = 0.2
# Unexplained ink this large is a mark made beside the box (the smallest generated
# one, a 3 mm tick in a 0.2 mm pencil, is 1.2 mm²): it suggests that box. Less is a
# doubt for a reviewer, not a choice.
STRAY_MARK_MM2 = 1.0
BACKGROUND_MM = 8.0  # wider than a filled box, so a filled box is not taken for paper
# Confidences that decide review (a box field is accepted at >= 0.60, see reader.ACCEPT)
WORD_CONF = 0.5  # a circled or underlined word: that choice, for a reviewer to confirm
FAINT_CONF = 0.5  # a mark found only at the faint level
DOUBT_CONF = 0.5  # a clear mark with unexplained ink beside it
UNSNAPPED_CONF = 0.55  # the printed square was not found: emptiness is not proven


@dataclass(frozen=True)
class GroupReading:
    value: str  # the likeliest value; '' when nothing or several are marked
    confidence: float
    reasons: tuple[Reason, ...]
    marks: tuple[MarkReading, ...]


@dataclass(frozen=True)
class _Geom:
    """One option's places in reference pixels: (x0, y0, x1, y1) each."""

    box: tuple[int, int, int, int]
    word: tuple[int, int, int, int]
    zone: tuple[int, int, int, int]  # everything looked at: box, its margin, the word's


def _px(v: float) -> int:
    return round(v * PX_MM)


_GEOMS: dict[tuple[str, str, str], _Geom] = {}


def _geometry(template: Template, field_id: str, option: str) -> _Geom:
    key = (template.fingerprint, field_id, option)
    if key not in _GEOMS:
        _GEOMS[key] = _option_geometry(template, field_id, option)
    return _GEOMS[key]


def neighbourhood(template: Template, field_id: str, option: str) -> tuple[int, int, int, int]:
    """Everything looked at for one box (px at DPI): the box, its margin, its word's."""
    return _geometry(template, field_id, option).zone


def _option_geometry(template: Template, field_id: str, option: str) -> _Geom:
    o: Option = next(o for o in template.field(field_id).options if o.value == option)
    b = o.box
    box = (_px(b.x_mm), _px(b.y_mm), _px(b.x_mm + b.size_mm), _px(b.y_mm + b.size_mm))
    lx = o.label.x_mm
    word = (_px(lx), _px(o.label.y_mm - LABEL_ASCENT_MM),
            _px(lx + label_width_mm(template, o.label.text)), _px(o.label.y_mm + LABEL_DESCENT_MM))
    near = (box[0] - _px(NEAR_MM), box[1] - _px(NEAR_MM), box[2] + _px(NEAR_MM),
            box[3] + _px(NEAR_BELOW_MM))
    wz = (word[0] - _px(WORD_MARGIN_MM), word[1] - _px(WORD_MARGIN_MM),
          word[2] + _px(WORD_AFTER_MM), word[3] + _px(WORD_MARGIN_MM))
    zone = (min(near[0], wz[0]), min(near[1], wz[1]), max(near[2], wz[2]), max(near[3], wz[3]))
    return _Geom(box, word, zone)


def _snap(page: np.ndarray, ref: np.ndarray, box: tuple[int, int, int, int]
          ) -> tuple[int, int] | None:
    """Offset that puts the printed square under the template's box; None if not found."""
    x0, y0, x1, _ = box
    size = x1 - x0
    pad = round(0.6 * PX_MM)
    s = round(SEARCH_MM * PX_MM)
    tpl = ref[y0 - pad:y0 + size + pad, x0 - pad:x0 + size + pad]
    win = page[max(0, y0 - pad - s):y0 + size + pad + s, max(0, x0 - pad - s):x0 + size + pad + s]
    if win.shape[0] < tpl.shape[0] or win.shape[1] < tpl.shape[1] or tpl.std() < 1:
        return None
    # Edges only: a filled box must still match its border.
    res = cv2.matchTemplate(win.astype(np.float32), tpl.astype(np.float32), cv2.TM_CCOEFF_NORMED)
    _, peak, _, loc = cv2.minMaxLoc(res)
    if peak < 0.3:
        return None
    return loc[0] - min(s, x0 - pad), loc[1] - min(s, y0 - pad)


def _crop(img: np.ndarray, rect: tuple[int, int, int, int], fill: int = 255) -> np.ndarray:
    """img[y0:y1, x0:x1], padded with `fill` where the rectangle leaves the image."""
    x0, y0, x1, y1 = rect
    h, w = img.shape[:2]
    out = np.full((y1 - y0, x1 - x0), fill, np.uint8)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
    return out


@dataclass(frozen=True)
class _Ink:
    fill: float  # dark share of the inside, beyond the form's own
    faint_fill: float  # the same at the faint level
    stray: float  # mm² of ink near the box that no mark in it explains
    word: str  # "circled" | "underlined" | ""
    snapped: bool


def _measure(page: np.ndarray, ref: np.ndarray, g: _Geom) -> _Ink:
    off = _snap(page, ref, g.box)
    dx, dy = off or (0, 0)
    zx0, zy0, zx1, zy1 = g.zone
    crop = _crop(page, (zx0 + dx, zy0 + dy, zx1 + dx, zy1 + dy))
    dark, faint, own = _new_ink(crop, _crop(ref, g.zone))

    inset = _px(INSET_MM)
    bx0, by0, bx1, by1 = (g.box[0] - zx0 + inset, g.box[1] - zy0 + inset,
                          g.box[2] - zx0 - inset, g.box[3] - zy0 - inset)
    inside = np.zeros_like(faint)
    inside[by0:by1, bx0:bx1] = True
    n_inside = max(1, int(inside.sum()))
    fill = float(dark[inside].sum()) / n_inside
    faint_fill = float(faint[inside].sum()) / n_inside

    # The printed square joins what crosses or touches it: an overflowing cross is one
    # piece with its part inside, a tick on the border one piece with the border.
    square = np.zeros_like(faint)
    t = OWN_TOL_PX + 1
    square[max(0, by0 - inset - t):by1 + inset + t, max(0, bx0 - inset - t):bx1 + inset + t] = True
    square[by0:by1, bx0:bx1] = False
    bridged = cv2.dilate((faint | (square & own)).astype(np.uint8),
                         np.ones((BRIDGE_PX, BRIDGE_PX), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bridged, connectivity=8)
    wx0, wy0, wx1, wy1 = (g.word[0] - zx0, g.word[1] - zy0, g.word[2] - zx0, g.word[3] - zy0)
    min_ext, min_area = MIN_EXTENT_MM * PX_MM, MIN_AREA_MM2 * PX_MM ** 2
    # pieces reaching into the box are its mark only if the box holds one; otherwise
    # they are a mark on its border or beside it
    box_marked = max(fill, faint_fill) >= MARKED_MIN
    stray = 0.0
    word = ""
    for i in range(1, n):
        x, y, w, h = stats[i, :4]
        piece = (labels[y:y + h, x:x + w] == i) & faint[y:y + h, x:x + w]
        area = int(piece.sum())
        if max(w, h) < min_ext or area < min_area:
            continue  # dust
        if box_marked and piece[max(0, by0 - y):max(0, by1 - y),
                                max(0, bx0 - x):max(0, bx1 - x)].any():
            continue  # reaches into the box: part of the box's mark, however far it strays
        shape = _word_mark(piece, x, y, (wx0, wy0, wx1, wy1))
        if shape:
            word = word or shape
            continue
        stray += area / PX_MM ** 2
    return _Ink(fill, faint_fill, stray, word, off is not None)


def _new_ink(crop: np.ndarray, ref: np.ndarray, background_mm: float = BACKGROUND_MM
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dark, faint, own): ink beyond the blank form's own at the two levels, and the
    form's own ink (dilated by the residual registration error). The paper's level
    is the closing over `background_mm`: wider than any ink to be found."""
    own = ref < 160
    own = cv2.dilate(own.astype(np.uint8), np.ones((2 * OWN_TOL_PX + 1,) * 2, np.uint8)) > 0
    blur = cv2.medianBlur(np.ascontiguousarray(crop), 3)
    k = _px(background_mm) | 1
    paper = cv2.morphologyEx(blur, cv2.MORPH_CLOSE, cv2.getStructuringElement(
        cv2.MORPH_RECT, (k, k)))
    depth = paper.astype(np.int16) - blur.astype(np.int16)
    p = paper.astype(np.float32)
    dark = (depth > np.maximum(DARK_MIN, DARK_SHARE * p)) & ~own
    faint = (depth > np.maximum(FAINT_MIN, FAINT_SHARE * p)) & ~own
    return dark, faint, own


def ink_beyond_form(page: np.ndarray, template: Template, rect: tuple[int, int, int, int],
                    background_mm: float = BACKGROUND_MM) -> float:
    """mm² of ink in `rect` (px at DPI on a registered page) that is not the blank
    form's own, leaving out dust: whether anything was written there."""
    _, faint, _ = _new_ink(_crop(page, rect), _crop(blank_form(template, DPI), rect),
                           background_mm)
    _, _, stats, _ = cv2.connectedComponentsWithStats(faint.astype(np.uint8), connectivity=8)
    keep = (np.maximum(stats[1:, 2], stats[1:, 3]) >= MIN_EXTENT_MM * PX_MM) & (
        stats[1:, 4] >= MIN_AREA_MM2 * PX_MM ** 2)
    return float(stats[1:, 4][keep].sum()) / PX_MM ** 2


def _word_mark(piece: np.ndarray, x: int, y: int, word: tuple[int, int, int, int]) -> str:
    """'circled' when a stroke goes round the word, 'underlined' when it runs under it."""
    wx0, wy0, wx1, wy1 = word
    ww, wh = wx1 - wx0, wy1 - wy0
    ys, xs = np.nonzero(piece)
    xs, ys = xs + x, ys + y
    over = (xs > wx0 + 0.15 * ww) & (xs < wx1 - 0.15 * ww)  # columns over the word's middle
    sides = [
        bool(((xs < wx0 + 0.1 * ww) & (ys > wy0) & (ys < wy1)).any()),  # left of the word
        bool(((xs > wx1 - 0.1 * ww) & (ys > wy0) & (ys < wy1)).any()),  # right
        bool((over & (ys < wy0 + 0.15 * wh)).any()),  # above
        bool((over & (ys > wy1 - 0.15 * wh)).any()),  # below
    ]
    if sum(sides) >= 3 and xs.max() - xs.min() >= 0.8 * ww:
        return "circled"
    under = ys > wy1 - 0.35 * wh
    span = xs[under].max() - xs[under].min() if under.any() else 0
    if under.mean() > 0.8 and span >= 0.6 * ww and ys.max() - ys.min() < 0.9 * wh:
        return "underlined"
    return ""


def _state(fill: float) -> tuple[MarkState, float]:
    if fill <= EMPTY_MAX:
        return MarkState.EMPTY, round(1.0 - 0.4 * fill / EMPTY_MAX, 3)
    if fill >= MARKED_MIN:
        return MarkState.MARKED, round(min(1.0, 0.6 + 0.4 * (fill - MARKED_MIN) / MARKED_MIN), 3)
    mid = (EMPTY_MAX + MARKED_MIN) / 2
    return MarkState.AMBIGUOUS, round(0.2 + 0.3 * abs(fill - mid) / (mid - EMPTY_MAX), 3)


def judge(option: str, ink: _Ink) -> MarkReading:
    """One box's state from its ink: in the box first, then the word, then anything else."""
    state, conf = _state(ink.fill)
    how = "box"
    fill = ink.fill
    if state == MarkState.MARKED:
        if ink.stray >= STRAY_MARK_MM2:  # another mark beside this one: which is meant?
            conf = min(conf, DOUBT_CONF)
    elif ink.word and ink.fill <= EMPTY_MAX:
        state, conf, how = MarkState.MARKED, WORD_CONF, ink.word
    elif state == MarkState.EMPTY and ink.faint_fill >= MARKED_MIN:
        state, conf, how, fill = MarkState.MARKED, FAINT_CONF, "faint", ink.faint_fill
    elif state == MarkState.EMPTY and ink.faint_fill > EMPTY_MAX:
        state, conf, how, fill = MarkState.AMBIGUOUS, 0.3, "faint", ink.faint_fill
    elif state == MarkState.EMPTY and ink.stray:
        how = "beside" if ink.stray >= STRAY_MARK_MM2 else "speck"
        state, conf = MarkState.AMBIGUOUS, 0.3
    elif state == MarkState.EMPTY:
        how = ""
        if not ink.snapped:
            conf = min(conf, UNSNAPPED_CONF)
    return MarkReading(option, round(fill, 4), state, conf, how, round(ink.stray, 2))


def read_group(page: np.ndarray, template: Template, field: FormField) -> GroupReading:
    """Every box of `field`, then the group's value under its rule."""
    ref = blank_form(template, DPI)
    marks = tuple(judge(o.value, _measure(page, ref, _geometry(template, field.id, o.value)))
                  for o in field.options)
    return resolve(field, marks)


def resolve(field: FormField, marks: tuple[MarkReading, ...]) -> GroupReading:
    """Apply the group's rule: one box, exactly one, or at most one marked.

    The value is the likeliest reading even when it goes to review: what a
    reviewer finds pre-filled, and what the export shows until then.
    """
    marked = [m for m in marks if m.state == MarkState.MARKED]
    ambiguous = [m for m in marks if m.state == MarkState.AMBIGUOUS]
    # ink that points at a box: some in it, a faint mark, a mark on its border or beside it
    hinted = [m for m in ambiguous if m.how != "speck"]
    conf = min(m.confidence for m in marks)
    reasons: list[Reason] = []
    if ambiguous:
        reasons.append(Reason.AMBIGUOUS_MARK)
    inked = [m for m in marked + hinted if m.how in ("box", "faint")]
    heaviest = max(inked, key=lambda m: m.fill, default=None)
    others = [m for m in marked + hinted if m is not heaviest and m.how != "beside"]
    if (heaviest is not None and heaviest.fill >= HEAVY_MIN and len(others) == 1
            and len(marked) + len(hinted) == 2
            and others[0].fill <= CORRECTION_RATIO * heaviest.fill):
        # one box scribbled or blacked out, the other ticked: a correction
        reasons.append(Reason.CONFLICTING_MARKS)
        return GroupReading(others[0].option, min(conf, 0.45), tuple(reasons), marks)
    if len(marked) > 1:
        reasons.append(Reason.CONFLICTING_MARKS)
        return GroupReading("", conf, tuple(reasons), marks)
    if len(marked) == 1:
        value = marked[0].option
    elif len(hinted) == 1:
        value = hinted[0].option  # some ink by that box and none by the others
    elif field.unmarked is not None and not hinted:
        value = field.unmarked
    else:
        value = ""
    if not marked and field.rule == Rule.EXACTLY_ONE and field.required and not hinted:
        reasons.append(Reason.MISSING_REQUIRED)
    return GroupReading(value, conf, tuple(reasons), marks)


def describe(marks: tuple[MarkReading, ...]) -> str:
    """The field's raw reading, for the store and reviewers: 'oui=marked:0.142:box;...'."""
    return ";".join(f"{m.option}={m.state.value}:{m.fill:.3f}" + (f":{m.how}" if m.how else "")
                    + (f":stray {m.near:.1f} mm²" if m.near else "") for m in marks)

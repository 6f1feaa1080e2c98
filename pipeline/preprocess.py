"""Page triage: is there anything on this page at all (before registration); is it
the form's body and is anything written on it (after)?"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.imaging import shrink
from pipeline.models import MarkState, PageKind, Triage
from pipeline.render import blank_form, label_width_mm
from pipeline.template import MM_PER_INCH, Rect, Template

BLANK_INK_SHARE = 0.002  # share of dark pixels below which a page is a blank back side
WORK_LONG_SIDE = 1000


def ink_share(img: np.ndarray) -> float:
    """Share of pixels clearly darker than the paper around them.

    Measured against a local background so that uneven light, a grey fax and
    faint show-through of the other side do not count as writing.
    """
    k = WORK_LONG_SIDE / max(img.shape)
    small = shrink(img, k)
    small = cv2.medianBlur(small, 3)
    bg = cv2.dilate(small, np.ones((15, 15), np.uint8))  # paper level, ink removed
    dark = (bg.astype(np.int16) - small.astype(np.int16)) > 70
    # Ignore a thin frame: scanner edges and photo borders are not writing; nor is
    # what reaches in from it (a lid's shadow a 1-bit scan turns into a black band).
    m = max(2, int(0.03 * min(dark.shape)))
    _, labels = cv2.connectedComponents(dark.astype(np.uint8), connectivity=8)
    frame = np.ones(dark.shape, bool)
    frame[m:-m, m:-m] = False
    from_edge = np.unique(labels[frame & dark])
    inner = dark[m:-m, m:-m] & ~np.isin(labels[m:-m, m:-m], from_edge[from_edge > 0])
    return float(inner.mean())


def is_blank(img: np.ndarray) -> tuple[bool, float]:
    share = ink_share(img)
    return share < BLANK_INK_SHARE, share


# --- after registration: is it the form's body, and is anything written on it? -------

BODY_DPI = 300  # the registered page's resolution (reader.warp's default)
BODY_SEARCH_MM = 1.0  # each printed element is looked for this far around its place
BODY_MATCH = 0.45  # normalised correlation above which an element is found
# A form shows most of its labels, leaders and boxes even under writing, a stamp or
# a poor fax (generated forms: 85-100 %); a page that only shares the header (the
# invitation's first page) shows almost none.
BODY_MIN_SHARE = 0.5
# Ink beyond the form's own in the writing areas, in mm², above which a form is
# written on: a short typed name is over 10 mm²; dust and toner are pieces too small
# to count (see marks.MIN_EXTENT_MM).
WRITTEN_MIN_MM2 = 3.0
# Paper level under writing: wider than a pen's or a font's stroke (about 1 mm); no
# need for the 8 mm a filled box takes, and four times faster on the long lines
WRITING_BACKGROUND_MM = 2.5


def _elements(template: Template) -> list[tuple[str, Rect]]:
    """The printed parts of the form's body: each label, leader, box and option word."""
    out = []
    for f in template.fields:
        if f.label:
            w = label_width_mm(template, f.label.text)
            out.append((f"label {f.label.text!r}", Rect(x_mm=f.label.x_mm - 0.5,
                        y_mm=f.label.y_mm - 3.5, w_mm=w + 1.0, h_mm=4.6)))
        for ln in f.lines:
            ld = ln.leader
            x0 = ld.x_mm + (ld.to_mm - ld.x_mm) * 0.75  # the end: least often written over
            out.append((f"leader of {f.id}", Rect(x_mm=x0, y_mm=ld.y_mm - 1.0,
                                                   w_mm=ld.to_mm - x0, h_mm=1.6)))
        for o in f.options:
            b = o.box
            out.append((f"box {o.label.text!r}", Rect(x_mm=b.x_mm - 0.6, y_mm=b.y_mm - 0.6,
                                                     w_mm=b.size_mm + 1.2, h_mm=b.size_mm + 1.2)))
            w = label_width_mm(template, o.label.text)
            out.append((f"word {o.label.text!r}", Rect(x_mm=o.label.x_mm - 0.5,
                        y_mm=o.label.y_mm - 3.5, w_mm=w + 1.0, h_mm=4.6)))
    return out


def _found(page: np.ndarray, ref: np.ndarray, r: Rect) -> bool:
    x0, y0, x1, y1 = r.px(BODY_DPI)
    s = round(BODY_SEARCH_MM * BODY_DPI / MM_PER_INCH)
    tpl = ref[y0:y1, x0:x1]
    win = page[max(0, y0 - s):y1 + s, max(0, x0 - s):x1 + s]
    if tpl.std() < 1 or win.shape[0] < tpl.shape[0] or win.shape[1] < tpl.shape[1]:
        return False
    if win.std() < 1:
        return False
    res = cv2.matchTemplate(win.astype(np.float32), tpl.astype(np.float32), cv2.TM_CCOEFF_NORMED)
    return float(res.max()) >= BODY_MATCH


def body_found(registered: np.ndarray, template: Template) -> tuple[int, int, list[str]]:
    """(found, looked for, names of the missing) of the form body's printed elements."""
    ref = blank_form(template, BODY_DPI)
    missing = [name for name, r in _elements(template) if not _found(registered, ref, r)]
    n = len(_elements(template))
    return n - len(missing), n, missing


def written_mm2(registered: np.ndarray, template: Template,
                enough: float = float("inf")) -> float:
    """Ink beyond the blank form's own in the writing areas, in mm² (dust left out),
    summed until it reaches `enough`."""
    from pipeline.marks import ink_beyond_form

    total = 0.0
    for f in template.fields:
        for ln in f.lines:
            total += ink_beyond_form(registered, template, ln.area.px(BODY_DPI),
                                     background_mm=WRITING_BACKGROUND_MM)
            if total >= enough:
                return total
    return total


def form_triage(registered: np.ndarray, template: Template) -> Triage | None:
    """A registered page that is not a filled form, and why; None for a filled form.

    By the form's body, not its header: the invitation's first page carries the
    same header and registers on it. A blank copy of the form has every part of
    the body and nothing written in it (no writing, no box marked): no attendee.
    """
    from pipeline.marks import read_group

    found, n, _ = body_found(registered, template)
    if found < BODY_MIN_SHARE * n:
        return Triage(PageKind.OTHER, (
            f"not the inscription form: the form's header is there but not its fields "
            f"({found} of {n} labels, dotted lines and boxes found where the form has them; "
            "the invitation's first page, or a letter quoting the form)"))
    ink = written_mm2(registered, template, enough=WRITTEN_MIN_MM2)
    if ink >= WRITTEN_MIN_MM2:
        return None
    for f in template.box_fields():
        g = read_group(registered, template, f)
        if any(m.state != MarkState.EMPTY and m.how != "speck" for m in g.marks):
            return None  # (a speck by a box is a doubt for a reviewer on a form, not writing)
    return Triage(PageKind.BLANK, (
        f"a blank copy of the form: its fields are there ({found} of {n} labels, dotted "
        f"lines and boxes) but nothing is written in them ({ink:.1f} mm² of ink) and no box "
        "is ticked; no attendee row"))


# --- doubts a capture leaves on a form's readings ------------------------------------

STAMP_DPI = 100  # stamps are looked for at this resolution: they are big
# A stamp's frame: one stroke round a region at least this large, mostly hollow (a
# post room's date stamps are 30-60 x 15-30 mm; a written line is under 11 mm tall,
# a circled option word under 9 mm)
STAMP_MIN_W_MM, STAMP_MIN_H_MM = 25.0, 12.0
STAMP_MAX_FILL = 0.45  # share of its bounding box a frame inks (once bridged: 0.25-0.35)
STAMP_DUST_PX = 4  # at STAMP_DPI: pieces under 1 mm both ways are not a stamp's strokes
STAMP_BRIDGE_PX = 7  # at STAMP_DPI: 1.8 mm, more than a label's stroke and its margin


def stamps(registered: np.ndarray, template: Template) -> list[Rect]:
    """Where a stamp lies over the form's fields (its frame's box, in mm)."""
    ref = blank_form(template, STAMP_DPI)
    page = cv2.resize(registered, ref.shape[::-1], interpolation=cv2.INTER_AREA)
    own = cv2.dilate((ref < 200).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    paper = cv2.morphologyEx(page, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    ink = (((paper.astype(np.int16) - page.astype(np.int16)) > 40) & ~own).astype(np.uint8)
    # dust and a fax's line noise first: bridged, they would net the page together
    _, lab, st0, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = np.r_[True, np.maximum(st0[1:, 2], st0[1:, 3]) < STAMP_DUST_PX]
    ink[small[lab]] = 0
    _, _, st, _ = cv2.connectedComponentsWithStats(
        # (joined again across the print taken away where the frame crosses it)
        cv2.dilate(ink, np.ones((STAMP_BRIDGE_PX,) * 2, np.uint8)),
        connectivity=8)
    mm = MM_PER_INCH / STAMP_DPI
    out = []
    for x, y, w, h, area in st[1:]:
        if (w * mm >= STAMP_MIN_W_MM and h * mm >= STAMP_MIN_H_MM
                and area <= STAMP_MAX_FILL * w * h):
            out.append(Rect(x_mm=x * mm, y_mm=y * mm, w_mm=w * mm, h_mm=h * mm))
    return out


def _overlap(a: Rect, b: Rect) -> bool:
    return (a.x_mm < b.x_mm + b.w_mm and b.x_mm < a.x_mm + a.w_mm
            and a.y_mm < b.y_mm + b.h_mm and b.y_mm < a.y_mm + a.h_mm)


def capture_doubts(registered: np.ndarray, template: Template,
                   values: dict[str, str]) -> dict[str, str]:
    """Fields whose reading the capture makes doubtful: {field: why}.

    A stamp over a field mixes its print with the writing (its date was read
    as a structure). A text field read as empty with ink in its area lost
    writing the reader did not see (a printer low on toner: "Élu" read empty).
    Neither may be accepted without a reviewer.
    """
    from pipeline.marks import ink_beyond_form

    out: dict[str, str] = {}
    over = stamps(registered, template)
    for f in template.fields:
        rects = [ln.area for ln in f.lines] + [o.box.rect for o in f.options]
        if any(_overlap(r, s) for r in rects for s in over):
            out[f.id] = "a stamp lies over it"
        elif f.lines and not values.get(f.id, ""):
            ink = sum(ink_beyond_form(registered, template, ln.area.px(BODY_DPI),
                                      background_mm=WRITING_BACKGROUND_MM) for ln in f.lines)
            if ink >= WRITTEN_MIN_MM2:
                out[f.id] = f"read as empty, but {ink:.0f} mm² of ink lies in it"
    return out

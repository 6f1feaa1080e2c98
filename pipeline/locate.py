"""Cut each writing area out of the registered page and take the printed leader dots away.

Left in, the dots wreck Tesseract ("Dupont" reads "DUDONE"). They are removed
one connected component at a time, and only when a component is shaped like a
leader dot, sits on the leader's row, and falls on the printed dot lattice
(known from the blank reference, shifted by the locally measured offset).
A dot touching a letter merges with it; a second crop clears those dots too
(`LineCrop.alt`), keeping the strokes that run through them. A typed e-mail's
"." keeps its place unless it lands exactly on a printed dot, where nobody
could tell them apart; one merged with the printed dot under it is drawn again
alone, and whatever lies beyond the address's ends goes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.imaging import percentiles_u8
from pipeline.render import blank_form
from pipeline.template import MM_PER_INCH, Rect, Template, WritingLine

DPI = 300
PX_MM = DPI / MM_PER_INCH
MIN_CONTRAST = 60  # grey levels between paper and ink below which a crop holds no writing
SIDE_CONTACT = 0.33  # share of the ring around a dot beyond which ink on it is a letter's side
TRIM_MARGIN = 10  # px kept around the ink: Tesseract reads better with a little white
# A piece this much bigger than the page's printed dots, with a printed dot's centre in
# its ink, is that dot and an e-mail's "." merged (1.6: on dev sets 1301-1302, 4 more
# typed addresses of 93 right, none fewer; 1.4 also took the dot of a handwritten "i").
MERGED_DOT = 1.6
SPAN_GAP = 2.5  # letter heights of blank beyond which a piece stands apart from the writing


@dataclass(frozen=True)
class LineCrop:
    raw: np.ndarray  # the area as scanned (registered), for reviewers
    clean: np.ndarray  # dots removed and trimmed to the ink; empty (0 x 0) when nothing is written
    ink_px: int  # pixels of writing left after cleaning
    removed_dots: int
    dots_in_text: int  # lattice dots removed inside the text's span (the e-mail trap's risk)
    # The same crop with the printed dots fused under letters cleared too (strokes
    # running through a dot kept); None when no dot touches the writing. Typed
    # text sitting on the dots reads better from it (86 -> 93 % of typed fields
    # exactly right on a generated set); an e-mail's "." can go with it.
    alt: np.ndarray | None = None


@dataclass(frozen=True)
class _RefDots:
    xs: np.ndarray  # centre x of every printed dot, in crop coordinates
    y: float  # their centre y
    area: float  # typical dot area (px)
    size: float  # typical dot width (px)
    pitch: float


_DOTS: dict[tuple[str, float, float, float, float], _RefDots] = {}


def crop(page: np.ndarray, rect: Rect, pad_mm: float = 0.0) -> np.ndarray:
    x0, y0, x1, y1 = Rect(
        x_mm=rect.x_mm - pad_mm, y_mm=rect.y_mm - pad_mm,
        w_mm=rect.w_mm + 2 * pad_mm, h_mm=rect.h_mm + 2 * pad_mm,
    ).px(DPI)
    h, w = page.shape
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(w, x1), min(h, y1)
    return page[y0:y1, x0:x1]


def _ref_dots(template: Template, line: WritingLine) -> _RefDots:
    a = line.area
    key = (template.fingerprint, a.x_mm, a.y_mm, a.w_mm, a.h_mm)
    if key in _DOTS:
        return _DOTS[key]
    ref = crop(blank_form(template, DPI), a)
    ink = (ref < 128).astype(np.uint8)
    n, _, stats, cents = cv2.connectedComponentsWithStats(ink, connectivity=8)
    ly = (line.leader.y_mm - a.y_mm) * PX_MM
    dots = [(cents[i][0], cents[i][1], stats[i, cv2.CC_STAT_AREA], stats[i, cv2.CC_STAT_WIDTH])
            for i in range(1, n) if abs(cents[i][1] - ly) < 2 * PX_MM]
    if not dots:
        raise ValueError(f"no leader dots printed in area {a}")
    arr = np.array(dots)
    xs = np.sort(arr[:, 0])
    pitch = float(np.median(np.diff(xs))) if len(xs) > 1 else 12.0
    out = _RefDots(xs, float(np.median(arr[:, 1])), float(np.median(arr[:, 2])),
                   float(np.median(arr[:, 3])), pitch)
    _DOTS[key] = out
    return out




def _fused_dots(ink: np.ndarray, letter: np.ndarray, dots: _RefDots, size: float,
                fit_x: np.ndarray, fit_y: np.ndarray, x0: float, x1: float,
                reach: int = 2) -> np.ndarray:
    """Pixels of printed dots fused to letters ("o" over a dot reads "a" or "q").

    At each printed dot position inside the writing that a letter covers, the
    dot's disc is cleared except along the strokes that run through it: where
    ink enters the disc from two sides, the straight band between the two
    entries (as wide as the strokes) is kept. The bottom of an "o" survives,
    the corner of a "b" is cut square, the blob hanging under them goes. A lone
    "." is no letter, so an e-mail's dots are left to the lattice test.
    """
    out = np.zeros(ink.shape, bool)
    h, w = ink.shape
    r = size / 2 + 0.5
    k = int(np.ceil(r)) + reach
    yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
    dist = np.hypot(xx, yy)
    disc = dist <= r
    disc_px = disc.sum()
    ring = (dist > r) & (dist <= r + reach)
    ring_y, ring_x = np.nonzero(ring)
    order = np.argsort(np.arctan2(ring_y - k, ring_x - k))
    ring_y, ring_x = ring_y[order], ring_x[order]
    ring_yx = list(zip(ring_y.tolist(), ring_x.tolist(), strict=True))
    # Every printed dot's place on this line at once; only those inside the writing,
    # with a letter's ink on their centre, are looked at one by one.
    xs = dots.xs + np.polyval(fit_x, dots.xs)
    xs = xs[(xs >= x0) & (xs <= x1)]
    cxs = np.round(xs).astype(int)
    cys = np.round(dots.y + np.polyval(fit_y, xs)).astype(int)
    inside = (cxs - k >= 0) & (cys - k >= 0) & (cxs + k + 1 <= w) & (cys + k + 1 <= h)
    cxs, cys = cxs[inside], cys[inside]
    on_ink = ink[cys, cxs].astype(bool)
    for cx, cy in zip(cxs[on_ink].tolist(), cys[on_ink].tolist(), strict=True):
        xa, xb, ya, yb = cx - k, cx + k + 1, cy - k, cy + k + 1
        win = ink[ya:yb, xa:xb]
        covered = win & disc
        if covered.sum() < 0.35 * disc_px or not letter[ya:yb, xa:xb][covered].any():
            continue
        keep = np.zeros(win.shape, np.uint8)
        entries = _entries(win[ring_y, ring_x].tolist(), ring_yx)
        for (ay, ax, aw), (by, bx, bw) in itertools.combinations(entries, 2):
            cv2.line(keep, (ax, ay), (bx, by), 1, max(1, round(min(aw, bw, 2 * r))))
        out[ya:yb, xa:xb] |= disc & ~(keep.astype(bool) & win)
    return out


def _entries(on: list[bool], ring_yx: list[tuple[int, int]]) -> list[tuple[int, int, float]]:
    """Where strokes enter a dot's disc: (y, x, width) of each run of ink around it.

    Plain Python: the ring is a few dozen pixels, too few for numpy to pay.
    """
    n = len(on)
    if all(on) or not any(on):
        return []
    start = on.index(False)  # begin the circular walk off the ink
    out = []
    i = 0
    while i < n:
        if not on[(start + i) % n]:
            i += 1
            continue
        j = i
        while j + 1 < n and on[(start + j + 1) % n]:
            j += 1
        if j - i + 1 <= SIDE_CONTACT * n:  # else a letter's side touching the dot
            pts = [ring_yx[(start + m) % n] for m in range(i, j + 1)]
            ys = [y for y, _ in pts]
            xs = [x for _, x in pts]
            width = float(np.hypot(max(ys) - min(ys), max(xs) - min(xs))) + 1
            out.append((round(sum(ys) / len(ys)), round(sum(xs) / len(xs)), width))
        i = j + 1
    return out


def _robust_line(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """y = a*x + b fitted twice, the second time without the first fit's outliers."""
    fit = np.polyfit(x, y, 1)
    res = np.abs(y - np.polyval(fit, x))
    keep = res <= max(1.0, float(np.median(res)) * 3)
    if keep.sum() >= 3:
        fit = np.polyfit(x[keep], y[keep], 1)
    return fit


def _text_span(stats: np.ndarray, letters: np.ndarray) -> tuple[float, float] | None:
    """Where the writing runs along the line: its pieces of letter height, grouped
    by the gaps between them, without the stray specks far off (dust, a smudge)
    that would stretch it over leader dots."""
    if len(letters) == 0:
        return None
    hs = stats[letters, cv2.CC_STAT_HEIGHT]
    lefts = stats[letters, cv2.CC_STAT_LEFT]
    rights = lefts + stats[letters, cv2.CC_STAT_WIDTH]
    areas = stats[letters, cv2.CC_STAT_AREA]
    h_ref = float(np.percentile(hs, 75))
    tall = hs >= 0.35 * h_ref
    if not tall.any():
        return float(lefts.min()), float(rights.max())
    order = np.argsort(lefts[tall])
    ls, rs, inks = lefts[tall][order], rights[tall][order], areas[tall][order]
    groups: list[list[float]] = []  # [left, right, ink, pieces]
    for li, ri, ai in zip(ls.tolist(), rs.tolist(), inks.tolist(), strict=True):
        if groups and li - groups[-1][1] <= SPAN_GAP * h_ref:
            g = groups[-1]
            g[1], g[2], g[3] = max(g[1], ri), g[2] + ai, g[3] + 1
        else:
            groups.append([li, ri, ai, 1])
    total = sum(g[2] for g in groups)
    # a group is writing when it has two pieces or a fair share of the ink
    kept = [g for g in groups if g[3] >= 2 or g[2] >= 0.15 * total] or groups
    return float(min(g[0] for g in kept)), float(max(g[1] for g in kept))


def _merged_dots(labels: np.ndarray, stats: np.ndarray, cents: np.ndarray, cand: np.ndarray,
                 leaders: np.ndarray, inside: np.ndarray, dots: _RefDots, fit_x: np.ndarray,
                 fit_y: np.ndarray) -> list[tuple[int, float, float, float]]:
    """An e-mail's "." merged with the printed dot it stands on: (piece, x, y, area of the ".").

    Typed text sits just above the leader's row, so its "." touches the dot under
    it: the pair reads as "," or "-", or is lost. A piece with a printed dot's
    centre in its ink and MERGED_DOT times a printed dot's ink is taken apart:
    the "." is what is left once a printed dot is taken out, at the centre of
    mass that remains. (A "." exactly over a printed dot cannot be told from it.)
    """
    areas, ws, hs = (stats[:, c] for c in (cv2.CC_STAT_AREA, cv2.CC_STAT_WIDTH,
                                           cv2.CC_STAT_HEIGHT))
    xs = dots.xs + np.polyval(fit_x, dots.xs)
    lx = np.round(xs).astype(int)
    ly = np.round(dots.y + np.polyval(fit_y, xs)).astype(int)
    ok = (lx >= 0) & (lx < labels.shape[1]) & (ly >= 0) & (ly < labels.shape[0])
    lx, ly = lx[ok], ly[ok]
    hit = labels[ly, lx]
    small = np.zeros(len(areas), bool)
    small[cand] = True
    # ... or, a dot standing on a printed one, too tall to have looked dot-like
    small |= (areas <= 3.5 * dots.area) & (ws <= 2 * dots.size) & (hs <= 3 * dots.size)
    small[0] = False
    own_leaders = cand[leaders[cand]]
    dot_ink = float(np.median(areas[own_leaders])) if len(own_leaders) else dots.area
    out: list[tuple[int, float, float, float]] = []
    seen: set[int] = set()
    for comp, x, y in zip(hit.tolist(), lx.tolist(), ly.tolist(), strict=True):
        if comp in seen or not (small[comp] and inside[comp]):
            continue
        if areas[comp] >= MERGED_DOT * dot_ink:
            seen.add(comp)
            own = areas[comp] - dot_ink
            out.append((comp, (cents[comp, 0] * areas[comp] - x * dot_ink) / own,
                        (cents[comp, 1] * areas[comp] - y * dot_ink) / own, own))
    return out


def _ink_threshold(img: np.ndarray) -> float | None:
    """Grey level below which a pixel is ink, or None when the crop is plain paper."""
    dark, paper = percentiles_u8(img, (0.2, 90))
    if paper - dark < MIN_CONTRAST:
        return None
    return (paper + dark) / 2 if paper - dark < 140 else paper - 70


def clean_line(
    page: np.ndarray, template: Template, line: WritingLine, strict: bool = False
) -> LineCrop:
    """Cut `line`'s area from the registered page and remove its leader dots.

    `strict` (for e-mails, where a "." matters) removes a dot inside the writing
    only when it is a printed dot's twin: same size, on the lattice within 1.5 px.
    """
    raw = crop(page, line.area)
    dots = _ref_dots(template, line)
    thr = _ink_threshold(raw)
    if thr is None:
        return LineCrop(raw, np.zeros((0, 0), np.uint8), 0, 0, 0)
    ink = (cv2.medianBlur(raw, 3) < thr).astype(np.uint8) | (raw < thr - 40).astype(np.uint8)
    n, labels, stats, cents = cv2.connectedComponentsWithStats(ink, connectivity=8)
    areas = stats[:, cv2.CC_STAT_AREA]
    ws, hs = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    idx = np.arange(1, n)
    speck = areas[idx] < max(4.0, 0.25 * dots.area)
    dotlike = (
        ~speck
        & (areas[idx] <= 3.0 * dots.area)
        & (ws[idx] <= 2.2 * dots.size)
        & (hs[idx] <= 2.2 * dots.size)
        & (np.abs(cents[idx, 1] - dots.y) <= 1.4 * PX_MM)
    )
    # Where the printed dots really are on this line: their offset from the
    # reference lattice, fitted as a line along x (scale and skew residues).
    cand = idx[dotlike]
    fit_x = fit_y = np.zeros(2)
    if len(cand):
        cx, cy = cents[cand, 0], cents[cand, 1]
        j = np.searchsorted(dots.xs, cx).clip(1, len(dots.xs) - 1)
        left, right = dots.xs[j - 1], dots.xs[j]
        offs = cx - np.where(np.abs(cx - left) < np.abs(cx - right), left, right)
        ok = np.abs(offs) < dots.pitch / 2
        if ok.sum() >= 8:
            fit_x = _robust_line(cx[ok], offs[ok])
            fit_y = _robust_line(cx[ok], cy[ok] - dots.y)
        elif ok.sum() >= 3:
            fit_x = np.array([0.0, np.median(offs[ok])])
            fit_y = np.array([0.0, np.median(cy[ok] - dots.y)])
    is_leader = np.zeros(n, bool)
    on_lattice = np.zeros(n, bool)
    if len(cand):
        cx, cy = cents[cand, 0], cents[cand, 1]
        row = np.abs(cy - dots.y - np.polyval(fit_y, cx)) <= 0.5 * dots.size + 2.0
        twin = ((areas[cand] >= 0.4 * dots.area) & (areas[cand] <= 2.0 * dots.area)
                & (ws[cand] <= 1.6 * dots.size) & (hs[cand] <= 1.6 * dots.size))
        shifted = dots.xs + np.polyval(fit_x, dots.xs)
        j = np.searchsorted(shifted, cx).clip(1, len(shifted) - 1)
        d = np.minimum(np.abs(cx - shifted[j - 1]), np.abs(cx - shifted[j]))
        is_leader[cand] = row & twin
        on_lattice[cand] = row & twin & (d <= 1.5) & (areas[cand] <= 1.5 * dots.area)

    letters = idx[~speck & ~dotlike]
    if strict and (span := _text_span(stats, letters)) is not None:
        # An e-mail has no spaces and neither starts nor ends with a ".": every dot
        # beyond its ends (or by a speck far off) is leader.
        x0, x1 = span
    elif len(letters):
        x0 = stats[letters, cv2.CC_STAT_LEFT].min() - 0.8 * dots.pitch
        x1 = (stats[letters, cv2.CC_STAT_LEFT] + ws[letters]).max() + 0.8 * dots.pitch
    else:
        x0 = x1 = -1.0
    remove = np.zeros(n, bool)
    remove[idx[speck]] = True
    inside = (cents[:, 0] >= x0) & (cents[:, 0] <= x1)
    dot_mask = np.zeros(n, bool)
    dot_mask[cand] = True
    remove |= dot_mask & ~inside  # outside the writing every dot on the row goes
    if strict:
        remove |= ~inside  # and, an e-mail being one word, any speck standing apart
    merged = _merged_dots(labels, stats, cents, cand, is_leader & ~inside, inside, dots,
                          fit_x, fit_y) if strict else []
    judged = np.zeros(n, bool)
    judged[[c for c, *_ in merged]] = True
    # Inside it, a printed dot's twin on the leader's row goes; in an e-mail,
    # where a "." matters, only one that also sits on the printed lattice.
    remove |= inside & (on_lattice & ~judged if strict else is_leader)
    remove |= judged
    # The dots' size as printed and scanned here: ink spread and blur fatten them.
    size = float(np.median(ws[cand[is_leader[cand]]])) if is_leader.any() else dots.size
    keep = np.ones(n, bool)
    keep[0] = False
    keep &= ~remove
    kept_mask = np.take(keep, labels)  # (np.take: twice as fast as keep[labels])
    ink_px = int(kept_mask.sum())
    removed = int((remove & dot_mask).sum())
    in_text = int((inside & remove & dot_mask & ~judged).sum())
    if ink_px == 0 or len(letters) == 0:
        return LineCrop(raw, np.zeros((0, 0), np.uint8), 0, removed, 0)
    # Erase what was judged dots or specks (with their soft edges) and keep
    # everything else as scanned: faint strokes and the dots of i and j that
    # fell below the ink threshold still help the recogniser.
    gone = np.zeros(n, bool)
    gone[1:] = remove[1:]
    clean = raw.copy()
    clean[cv2.dilate(np.take(gone, labels).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0] = 255
    for comp, x, y, area in merged:  # each "." drawn again alone, where it stood
        grey = int(np.percentile(raw[labels == comp], 10))
        cv2.circle(clean, (round(x), round(y)), max(1, round(np.sqrt(area / np.pi))), grey, -1)
    big = keep & (areas > 3 * dots.area)
    fused = _fused_dots(kept_mask, np.take(big, labels), dots, max(dots.size, size),
                        fit_x, fit_y, x0, x1)
    if not fused.any():
        fused = None
    # the kept ink's bounding box, from its pieces' boxes
    kept = np.flatnonzero(keep)
    top, left = stats[kept, cv2.CC_STAT_TOP], stats[kept, cv2.CC_STAT_LEFT]
    bottom, right = top + hs[kept] - 1, left + ws[kept] - 1
    h, w = raw.shape
    y0, y1 = max(0, top.min() - TRIM_MARGIN), min(h, bottom.max() + TRIM_MARGIN + 1)
    xa, xb = max(0, left.min() - TRIM_MARGIN), min(w, right.max() + TRIM_MARGIN + 1)
    # Normalise contrast: paper white, ink dark, whatever the pen or the scanner.
    (lo,) = percentiles_u8(raw[kept_mask], (5,))
    (hi,) = percentiles_u8(raw, (90,))

    def finish(img: np.ndarray) -> np.ndarray:
        out = img[y0:y1, xa:xb]
        if hi - lo > 10:
            out = np.clip((out.astype(np.float32) - lo) * (255.0 / (hi - lo)), 0, 255)
        return out.astype(np.uint8)

    alt = None
    if fused is not None:
        alt = clean.copy()
        alt[fused] = 255
        alt = finish(alt)
    return LineCrop(raw, finish(clean), ink_px, removed, in_text, alt)

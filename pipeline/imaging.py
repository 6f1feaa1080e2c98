"""Small image helpers shared by the reader's stages."""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np


def percentiles_u8(img: np.ndarray, qs: tuple[float, ...]) -> tuple[float, ...]:
    """Percentiles of an 8-bit image via a histogram: exact, and fast (OpenCV's
    histogram is four times numpy's bincount)."""
    flat = img if img.ndim == 2 else img.reshape(1, -1)
    hist = cv2.calcHist([np.ascontiguousarray(flat)], [0], None, [256], [0, 256]).ravel()
    cum = np.cumsum(hist)
    total = cum[-1]
    if total == 0:
        return tuple(0.0 for _ in qs)
    return tuple(float(np.searchsorted(cum, q / 100.0 * total)) for q in qs)


def shrink(img: np.ndarray, k: float) -> np.ndarray:
    """Scale down by `k` (< 1) with area averaging, quickly.

    OpenCV's area resize is three times faster for whole-number ratios, so the
    bulk of the reduction is done by one, and the small rest by a cheap linear
    step (a 300 dpi page: 10 ms instead of 30).
    """
    if k >= 1:
        return img
    n = int(1 / k + 1e-6)
    if n >= 2:
        img = cv2.resize(img, None, fx=1 / n, fy=1 / n, interpolation=cv2.INTER_AREA)
        k *= n
    if abs(k - 1) < 1e-3:
        return img
    return cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_LINEAR)


class Wobble(NamedTuple):
    value: float  # median distance of letter bottoms from the fitted baseline, in letter heights
    letters: int  # how many letters it was measured on


def baseline_wobble(line: np.ndarray) -> Wobble | None:
    """How far a line's letters stray from a straight baseline, in letter heights.

    Type sits every letter on one straight line (about 0.01); a hand does not
    (0.03 and more), however neat and legible its letters are: a page whose
    writing Tesseract reads confidently may still be handwriting. None when the
    line holds too few letters to say.
    """
    if line.size == 0:
        return None
    ink = (line < 128).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    w = stats[1:, cv2.CC_STAT_WIDTH]
    if len(h) < 4:
        return None
    # The letter height, as the median over ink rather than over pieces: a faint or
    # low-resolution serif face breaks into more specks than letters.
    order = np.argsort(h)
    ink_below = np.cumsum(stats[1:, cv2.CC_STAT_AREA][order])
    med = float(h[order][np.searchsorted(ink_below, ink_below[-1] / 2)])
    # letter-sized pieces: not specks, accents, joined words or descenders' tails
    keep = (h > 0.5 * med) & (h < 1.6 * med) & (w < 3 * med)
    if keep.sum() < 4:
        return None
    x = stats[1:, cv2.CC_STAT_LEFT][keep] + w[keep] / 2
    bottom = (stats[1:, cv2.CC_STAT_TOP] + h)[keep].astype(float)
    if np.ptp(x) == 0:
        return None
    slope, icept = np.polyfit(x, bottom, 1)
    r = bottom - (slope * x + icept)
    return Wobble(float(np.median(np.abs(r - np.median(r))) / med), int(keep.sum()))


def marks_above(line: np.ndarray) -> int:
    """Small marks above a line of capitals and over its letters: accents ("É", "Ô")
    as a hand adds them, or specks that happen to sit there.

    Zero on a line that holds fewer than three letter-sized pieces.
    """
    if line.size == 0:
        return 0
    _, ink = cv2.threshold(line, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    pieces = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= 4]
    if not pieces:
        return 0
    tallest = max(stats[i, cv2.CC_STAT_HEIGHT] for i in pieces)
    letters = [i for i in pieces if stats[i, cv2.CC_STAT_HEIGHT] >= 0.6 * tallest]
    if len(letters) < 3:
        return 0
    height = float(np.median([stats[i, cv2.CC_STAT_HEIGHT] for i in letters]))
    top = float(np.median([stats[i, cv2.CC_STAT_TOP] for i in letters]))
    spans = [(stats[i, cv2.CC_STAT_LEFT], stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH])
             for i in letters]
    found = 0
    for i in pieces:
        x, y, w, h = (int(v) for v in stats[i, :4])
        if h < 0.45 * height and w < 0.8 * height and y + h <= top + 0.15 * height:
            centre = x + w / 2
            found += any(a <= centre <= b for a, b in spans)
    return found

"""Handwritten phone numbers and postcodes, read digit by digit.

Tesseract reads a line of hand-drawn digits as a word and slips on most of
them; a reviewer then retypes the whole number. Digits written apart are easy
to cut out one by one, and a small classifier that has seen thousands of
hands (MNIST) reads each far better than a print-trained line reader. The
line is cut into digit-sized pieces, each piece (and each pair of neighbours)
is classified as a digit or not one ("separator": ". - /", two digits), and
the reading with exactly as many digits as the number has that explains the
pieces best wins.

The classifier is a small CNN shipped as `handdigits.onnx`;
`handdigits_fit` retrains it (`make fit-digits`, needs torch) from MNIST
images 0-2499 only: the generator writes with 2500-4999 and 5000-9999 are
kept for an independent evaluation.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

WEIGHTS = Path(__file__).with_name("handdigits.onnx")
SEPARATOR = 10  # the classifier's class for ". - /" and stray strokes
# log prior of a separator between two pairs of digits, and anywhere else
_BETWEEN_PAIRS, _ELSEWHERE = math.log(0.9), math.log(0.1)
# log prior of a digit drawn in two pieces, against one piece per digit: without
# it, two neighbours read as one confident digit cost less than a separator
_JOINED = math.log(0.2)
# log-likelihood of another reader's digit at a place, when it is the written one and when not
_HINT_HIT, _HINT_MISS = math.log(0.8), math.log(0.2 / 9)
STROKE = 0.12  # stroke width / digit height in MNIST
PLACE = 4  # features of where a piece sits on the line
SIDE = 28  # classifier input, as MNIST: the ink fitted in 20 x 20, centred by mass
BOX = 20


@dataclass(frozen=True)
class DigitReading:
    text: str  # the digits, without separators ("" when no reading fits)
    # how well the reading explains the pieces (classifier, layout and hints together);
    # a score to rank readings by, not a calibrated probability of being right
    confidence: float
    digit_probs: tuple[float, ...] = ()


def features(ink: np.ndarray, height: float, centre_y: float) -> np.ndarray:
    """What the classifier sees of one piece: its deslanted shape, and where it sits.

    The shape is judged without size, weight or slant, as MNIST digits are;
    the piece's slant, height and height on the line relative to the line's
    digits are what tell a "/" from a 1, or a "-" from a 7's bar. The same
    function serves training and reading.
    """
    x, y, w, h = cv2.boundingRect((ink > 40).view(np.uint8))  # np.nonzero's extent, faster
    if w == 0:
        return np.zeros(SIDE * SIDE + PLACE, np.float32)
    img = ink[y: y + h, x: x + w].astype(np.float32)
    m = cv2.moments(img)
    skew = max(-0.6, min(0.6, m["mu11"] / m["mu02"])) if m["mu02"] > 1e-2 else 0.0
    place = [skew, math.log(h / height), math.log(w / height),
             (2 * y + h - 1) / 2 / height - centre_y / height]
    return np.concatenate([_shape(img, skew, m), np.float32(place)]).astype(np.float32)


def _shape(ink: np.ndarray, skew: float, m: dict[str, float]) -> np.ndarray:
    """Deslanted, fitted in a 20 x 20 box, centred by mass in 28 x 28, as MNIST.

    `skew` and `m` are the piece's slant and moments, as `features` measured them.
    """
    h, w = ink.shape
    if abs(m["mu02"]) > 1e-2:
        # shear the slant away (the classic MNIST deskew), about the ink's centre
        pad = math.ceil(abs(skew) * h) + 1
        shear = np.float32([[1, skew, -skew * m["m01"] / m["m00"] + pad], [0, 1, 0]])
        ink = cv2.warpAffine(ink, shear, (w + 2 * pad, h), flags=cv2.INTER_LINEAR)
        x, y, bw, bh = cv2.boundingRect((ink > 40).view(np.uint8))
        if bw:
            ink = ink[y: y + bh, x: x + bw]
        h, w = ink.shape
    ink = _stroke(ink)
    k = BOX / max(h, w)
    size = (max(1, round(w * k)), max(1, round(h * k)))
    ink = cv2.resize(ink, size, interpolation=cv2.INTER_AREA)
    h, w = ink.shape
    out = np.zeros((SIDE, SIDE), np.float32)
    m = cv2.moments(ink)
    cy, cx = (m["m01"] / m["m00"], m["m10"] / m["m00"]) if m["m00"] > 0 else (h / 2, w / 2)
    y0 = round(SIDE / 2 - cy)
    x0 = round(SIDE / 2 - cx)
    y0, x0 = min(max(y0, 0), SIDE - h), min(max(x0, 0), SIDE - w)
    out[y0: y0 + h, x0: x0 + w] = ink
    return (out / max(1.0, out.max())).ravel()


def _stroke(ink: np.ndarray) -> np.ndarray:
    """A ballpoint's thin line thickened to MNIST's felt-pen stroke (about 1/8 of the height).

    Shrunk to 20 pixels, a thin line turns into faint grey dots; the same
    weight for every writer keeps only the shape to judge.
    """
    b = (ink > 127).astype(np.uint8)
    if not b.any():
        return ink
    width = 2.2 * _percentile(cv2.distanceTransform(b, cv2.DIST_L2, 3)[b > 0], 90)
    grow = round(STROKE * max(ink.shape) - width)
    if grow < 1:
        return ink
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow + 1, grow + 1))
    return cv2.dilate(ink, kernel)


def _percentile(values: np.ndarray, q: float) -> float:
    """`np.percentile(values, q)` (linear), by partial sort: a tenth of its time on a
    piece's few hundred pixels, and thousands of pieces are weighed per page."""
    pos = (values.size - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    part = np.partition(values, (lo, hi))
    return float(part[lo] + (part[hi] - part[lo]) * (pos - lo))


class _Net:
    """The classifier, run by onnxruntime on one thread like the second OCR engine."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def probs(self, x: np.ndarray) -> np.ndarray:
        shape = x[:, :SIDE * SIDE].reshape(-1, 1, SIDE, SIDE).astype(np.float32)
        place = x[:, SIDE * SIDE:].astype(np.float32)
        (logits,) = self.session.run(None, {"shape": shape, "place": place})
        logits = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)


@cache
def _net(path: Path = WEIGHTS) -> _Net:
    return _Net(path)


def available() -> bool:
    return WEIGHTS.exists()


@dataclass(frozen=True)
class _Piece:
    x0: int
    x1: int
    labels: tuple[int, ...]  # its connected components


def _pieces(ink: np.ndarray) -> tuple[list[_Piece], np.ndarray, float, float]:
    """The line's ink in pieces of at most one character, left to right.

    Returns the pieces, the component label image, and the digits' height and
    middle row. A digit can still be in two pieces (a 0 whose loop did not
    close, a 5's bar): `read_phone` tries neighbours together as well.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    comps = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= 6]
    if not comps:
        return [], labels, 0.0, 0.0
    heights = np.array([stats[i, cv2.CC_STAT_HEIGHT] for i in comps], float)
    tall = heights >= 0.5 * heights.max()
    height = float(np.median(heights[tall]))
    middles = np.array([stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT] / 2
                        for i in comps])
    centre = float(np.median(middles[tall]))
    # specks: far too small to be a digit or a separator stroke
    comps = [i for i in comps
             if max(stats[i, cv2.CC_STAT_HEIGHT], stats[i, cv2.CC_STAT_WIDTH]) >= 0.2 * height]
    comps.sort(key=lambda i: stats[i, cv2.CC_STAT_LEFT])
    # pieces lying over one another (a 4's stem beside its cross) are one piece
    pieces: list[_Piece] = []
    for i in comps:
        x0, w = int(stats[i, cv2.CC_STAT_LEFT]), int(stats[i, cv2.CC_STAT_WIDTH])
        if pieces:
            last = pieces[-1]
            overlap = min(last.x1, x0 + w) - max(last.x0, x0)
            if overlap >= 0.6 * min(w, last.x1 - last.x0):
                pieces[-1] = _Piece(min(last.x0, x0), max(last.x1, x0 + w), (*last.labels, i))
                continue
        pieces.append(_Piece(x0, x0 + w, (i,)))
    return pieces, labels, height, centre


def _cuts(x0: int, mask: np.ndarray, height: float) -> list[tuple[int, np.ndarray]]:
    """Digits written touching: a piece far wider than a digit, cut where its ink is thinnest.

    A piece is its left column on the line and its ink from there on.
    """
    width = mask.shape[1]
    k = round(width / (0.75 * height))
    if k <= 1:
        return [(x0, mask)]
    cols = (mask > 0).sum(axis=0).astype(float)
    cuts = [0]
    for j in range(1, k):
        centre = j * width / k
        lo, hi = int(centre - 0.25 * width / k), int(centre + 0.25 * width / k) + 1
        cuts.append(lo + int(np.argmin(cols[lo:hi])))
    cuts.append(width)
    out = []
    for a, b in itertools.pairwise(cuts):
        part = mask[:, a:b]
        xs = np.flatnonzero(part.any(axis=0))
        if xs.size:
            out.append((x0 + a + int(xs[0]), part[:, xs[0]: xs[-1] + 1]))
    return out


def _ink(line: np.ndarray) -> np.ndarray:
    """Ink (255) of a grey line crop, dark writing on light paper."""
    _, ink = cv2.threshold(line, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return ink


MAX_JOIN = 2  # pieces that may together be one digit
SMALL = 0.5  # of the digits' height: a piece this short is punctuation (a comma, a dash)


@dataclass(frozen=True)
class _Lattice:
    """A line's pieces and every run of them the classifier judged."""

    left: list[int]  # each piece's left and right column
    right: list[int]
    runs: list[tuple[int, int]]  # [first piece, last piece + 1)
    probs: np.ndarray  # per run: digit 0-9, separator
    height: float
    tall: list[bool]  # each piece: as tall as a digit (not a comma, dot or dash)


def _lattice(line: np.ndarray, span: tuple[int, int] | None = None) -> _Lattice | None:
    """The line's pieces (those lying within columns `span`, if given) and their runs."""
    if line.size == 0 or not available():
        return None
    ink = _ink(line)
    pieces, labels, height, centre = _pieces(ink)
    masks: list[tuple[int, np.ndarray]] = []  # (left column, ink from there)
    for p in pieces:
        local = labels[:, p.x0:p.x1]
        inked = local == p.labels[0] if len(p.labels) == 1 else np.isin(local, p.labels)
        whole = inked.astype(np.uint8) * np.uint8(255)
        masks.extend(_cuts(p.x0, whole, height))
    if not masks:
        return None
    # every run of 1..MAX_JOIN neighbouring pieces narrow enough to be one character
    runs: list[tuple[int, int]] = []
    inputs: list[np.ndarray] = []
    inside = [span is None or (x >= span[0] and x + m.shape[1] <= span[1]) for x, m in masks]
    for i, (_, first) in enumerate(masks):
        if not inside[i]:
            continue
        inputs.append(features(first, height, centre))
        runs.append((i, i + 1))
        for j in range(i + 2, min(len(masks), i + MAX_JOIN) + 1):
            if not inside[j - 1]:
                break
            # (a piece cut from a wide one can start left of the piece before it)
            x0 = min(x for x, _ in masks[i:j])
            x1 = max(x + m.shape[1] for x, m in masks[i:j])
            if x1 - x0 > 1.4 * height:
                break
            run = np.zeros((ink.shape[0], x1 - x0), np.uint8)
            for x, m in masks[i:j]:
                run[:, x - x0: x - x0 + m.shape[1]] |= m
            runs.append((i, j))
            inputs.append(features(run, height, centre))
    probs = _net().probs(np.stack(inputs)) if inputs else np.zeros((0, SEPARATOR + 1))
    tall = [bool(np.ptp(np.flatnonzero(m.any(axis=1))) + 1 >= SMALL * height) for _, m in masks]
    return _Lattice([x for x, _ in masks], [x + m.shape[1] for x, m in masks], runs,
                    probs, height, tall)


def read_phone(line: np.ndarray, digits: int = 10, hints: tuple[str, ...] = ()) -> DigitReading:
    """The number written on `line` (grey crop), as the `digits` digits that explain it best.

    `hints` are other readers' readings of the same line (`digits` digits
    each, or ""): each digit they read is taken as evidence for that digit at
    that place, so where the classifier hesitates between two shapes, the
    other readers tip it.
    """
    lat = _lattice(line)
    if lat is None or len(lat.left) < digits:
        return DigitReading("", 0.0)
    return best_sequence(len(lat.left), lat.runs, lat.probs, digits, hints)


WORD_GAP = 0.35  # blank between two pieces, in digit heights, that parts two words
POSTCODE_SURE = 0.5  # every digit of a postcode found in a line at least this likely


# what a line reader makes of handwritten digits: the digits, and the look-alikes
_DIGITISH = re.compile(r"(?:[\dOoIl|/()+SsBbDGgZzQq?] ?){4,8}")
POSTCODE_PLACE = 0.15  # how far (share of the line's width) the postcode may lie from
# where the line reader's text puts it
SEARCH = 0.45  # ... and how much of the line around that place is searched


def postcode_span(text: str) -> tuple[int, int] | None:
    """Where a line's reading shows a postcode: the run of digits and digit
    look-alikes holding the most real digits (at least two), as (start, end)."""
    best, span = 1, None
    for m in _DIGITISH.finditer(text):
        a, b = m.start(), m.end()
        # not the first letters of the next word, nor the last of the one before
        # ("63360 GNERLAT": the G is the commune's)
        while b > a and (text[b - 1] == " " or (text[b - 1].isalpha() and b < len(text)
                                                 and text[b].isalpha())):
            b -= 1
        while a < b and text[a].isalpha() and a > 0 and text[a - 1].isalpha():
            a += 1
        real = sum(c.isdigit() for c in text[a:b])
        if real > best:
            best, span = real, (a, b)
    return span


def postcode_place(text: str) -> float | None:
    """Where along a line (0-1) its reading shows a postcode: "(03450 EBKEVIL" -> 0.2."""
    span = postcode_span(text)
    return None if span is None else (span[0] + span[1]) / 2 / max(1, len(text))


def find_postcode(line: np.ndarray, digits: int = 5, text: str = "") -> DigitReading:
    """A handwritten postcode among the words of an address line, or no reading.

    The likeliest stretch of pieces, set apart from its neighbours by word
    gaps, that reads as `digits` digits the classifier is sure of one by one,
    and lies where the line reader's `text` shows digits: the classifier knows
    no letters, and takes an "ALLEE" for "01188".
    """
    where = postcode_place(text)
    if where is None or line.size == 0:
        return DigitReading("", 0.0)
    # only the stretch of line around that place is cut into pieces and judged
    width = line.shape[1]
    x0 = max(0, int((where - SEARCH) * width))
    x1 = min(width, int((where + SEARCH) * width) + 1)
    lat = _lattice(line, (x0, x1))
    if lat is None:
        return DigitReading("", 0.0)
    n = len(lat.left)
    gap = WORD_GAP * lat.height
    starts = [i for i in range(n) if i == 0 or lat.left[i] - lat.right[i - 1] >= gap]
    ends = [j for j in range(1, n + 1) if j == n or lat.left[j] - lat.right[j - 1] >= gap]
    best = DigitReading("", 0.0)
    for s in starts:
        for e in ends:
            if not digits <= e - s <= digits + MAX_JOIN * 2:
                continue
            middle = (lat.left[s] + lat.right[e - 1]) / 2 / width
            if abs(middle - where) > POSTCODE_PLACE:
                continue
            chosen = [r for r, (i, j) in enumerate(lat.runs) if s <= i and j <= e]
            sub = [(i - s, j - s) for i, j in (lat.runs[r] for r in chosen)]
            r = best_sequence(e - s, sub, lat.probs[chosen], digits, lead=None)
            if r.text and min(r.digit_probs) >= POSTCODE_SURE and r.confidence > best.confidence:
                best = r
    return best


HOUSE_DIGITS = (1, 2, 3)  # a house number's length
HOUSE_SURE = 0.6  # every digit of a house number read at least this likely


def find_house_number(line: np.ndarray, text: str, hint: str = "") -> DigitReading:
    """The house number opening an address line: its first word of ink, as 1 to 3 digits.

    `text` is the line reader's reading of the line (where its first word ends
    tells how much of the line to cut into pieces); `hint` the number it read,
    if digits. Only a reading whose every digit the classifier is sure of.
    """
    words = text.split()
    if line.size == 0 or not words:
        return DigitReading("", 0.0)
    share = min(1.0, 2 * (len(words[0]) + 2) / max(1, len(text)))
    lat = _lattice(line, (0, int(share * line.shape[1]) + 1))
    if lat is None:
        return DigitReading("", 0.0)
    n, gap = len(lat.left), WORD_GAP * lat.height
    end = next((j for j in range(1, n) if lat.left[j] - lat.right[j - 1] >= gap), n)
    if end == n:
        return DigitReading("", 0.0)  # no word gap after it: more than a number
    while end > 1 and not lat.tall[end - 1]:
        end -= 1  # "34," : the comma after it
    chosen = [r for r, (_, j) in enumerate(lat.runs) if j <= end]
    runs, probs = [lat.runs[r] for r in chosen], lat.probs[chosen]
    best = DigitReading("", 0.0)
    for digits in HOUSE_DIGITS:
        r = best_sequence(end, runs, probs, digits, (hint,) if hint else (), lead=None)
        if r.text and min(r.digit_probs) >= HOUSE_SURE and r.confidence > best.confidence:
            best = r
    return best


def best_sequence(n: int, runs: list[tuple[int, int]], probs: np.ndarray, digits: int,
                  hints: tuple[str, ...] = (), lead: str | None = "0") -> DigitReading:
    """Exactly `digits` runs of pieces read as digits, every other piece as a separator.

    Dynamic programming over the pieces in order: a run of pieces is one
    digit (its likeliest), or a single piece is a separator; the first digit
    of a French phone number is 0 (`lead`), and separators come between pairs
    of digits ("04/73/...") far more often than anywhere else; a number with
    no `lead` (a postcode) is not read in pairs.
    """
    logp = np.log(np.clip(probs, 1e-9, 1.0))
    # log-evidence for digit c at place k from the other readers
    place = np.zeros((digits, SEPARATOR))
    if lead is not None:
        place[0, :] = -np.inf  # a French phone number starts with 0
        place[0, int(lead)] = 0.0
    for hint in hints:
        if len(hint) == digits and hint.isdigit():
            for k, c in enumerate(hint):
                place[k] += _HINT_MISS
                place[k, int(c)] += _HINT_HIT - _HINT_MISS
    starting: dict[int, list[int]] = {}
    for r, (i, _) in enumerate(runs):
        starting.setdefault(i, []).append(r)
    neg = -1e18
    score = np.full((n + 1, digits + 1), neg)
    # (j, k) -> (i, k before, run, digit it was read as or -1 for a separator)
    back: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    score[0, 0] = 0.0
    for i in range(n):
        for k in range(digits + 1):
            if score[i, k] == neg:
                continue
            for r in starting.get(i, []):
                j = runs[r][1]
                if j == i + 1:
                    paired = lead is not None and 0 < k < digits and k % 2 == 0
                    prior = _BETWEEN_PAIRS if paired else _ELSEWHERE
                    s = score[i, k] + logp[r, SEPARATOR] + prior
                    if s > score[j, k]:
                        score[j, k], back[(j, k)] = s, (i, k, r, -1)
                if k < digits:
                    c = int(np.argmax(logp[r, :SEPARATOR] + place[k]))
                    s = score[i, k] + logp[r, c] + place[k, c] + (_JOINED if j > i + 1 else 0.0)
                    if s > score[j, k + 1]:
                        score[j, k + 1], back[(j, k + 1)] = s, (i, k, r, c)
    if score[n, digits] == neg:
        return DigitReading("", 0.0)
    read: list[tuple[int, int]] = []  # (run, digit)
    j, k = n, digits
    while j > 0:
        i, k_prev, r, c = back[(j, k)]
        if c >= 0:
            read.append((r, c))
        j, k = i, k_prev
    read.reverse()
    text = "".join(str(c) for _, c in read)
    ps = tuple(float(probs[r, c]) for r, c in read)
    return DigitReading(text, float(math.exp(min(0.0, score[n, digits]))), ps)

"""Real people's handwriting for the generator: scanned name crops pasted onto the form.

Fonts flatter a reader: a recogniser tuned on them can still fail on real
hands. A folder of real name crops (``FILENAME,IDENTITY`` in ``labels.csv``,
as in the public name-field set the project develops on) lets `formscan synth
--real-names DIR` write real block capitals in the Nom and Prénom fields.

Such crops carry more than the name: the form's printed label ("NOM :"), bits
of the lines above and below, rules, sometimes a date stamp turned sideways.
`clean_crop` keeps the name alone: rules go, the printed label is found by
where the handwriting readers' reading stops matching the known name (they
say where each character is), and everything left of it goes with it; only
the ink of the name's own row is kept.

The folder is split in two by file order: the first half for development
(``part="dev"``), the second for the benchmark's real-hands column
(``part="bench"``), which no fitting or tuning uses.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from pipeline.synth.handwriting import Ink

LABELS = "labels.csv"
UNUSABLE = frozenset({"UNREADABLE", "EMPTY", ""})
RULE_SHARE = 0.3  # a horizontal run of ink this share of the crop's width is a rule
PARTS = ("dev", "bench", "all")
# Width per letter over height of what is kept: block capitals spaced out or
# squeezed stay well inside; outside it, the cleaning kept the wrong row.
MIN_LETTER_SHAPE, MAX_LETTER_SHAPE = 0.35, 2.2


@dataclass(frozen=True)
class RealName:
    text: str  # what the label says, in capitals without accents
    ink: Ink
    source: str  # the crop's file name


def _fold(text: str) -> str:
    t = unicodedata.normalize("NFKD", text.upper())
    return "".join(c for c in t if not unicodedata.combining(c))


def _writing_starts(grey: np.ndarray, row: np.ndarray, label: str) -> int:
    """The column where the name begins in its row, right of a printed label ("NOM :",
    "PRENOM :") or stamp before it; 0 when nothing is read before the name.

    The generator knows what the name says: each handwriting reader's reading of
    the row is aligned with it, and the widest run of empty columns between what
    was read before it (the label, as often as not) and its first letter is the cut.
    """
    from rapidfuzz.fuzz import partial_ratio_alignment

    from pipeline.trust.handreaders import hand_readers

    empty = ~(row > 0).any(axis=0)
    cut = 0
    for reader in hand_readers():
        r = reader.read_line(grey)
        letters = "".join(c for c, *_ in r.boxes)
        if not letters:
            continue
        a = partial_ratio_alignment(label.replace(" ", ""), _fold(letters))
        if a is None or a.score < 60 or a.dest_start == 0:
            continue
        step = r.boxes[a.dest_start][2] - r.boxes[a.dest_start][1]
        x0 = max(0, r.boxes[a.dest_start - 1][2])
        x1 = max(0, r.boxes[a.dest_start][1] + step)
        gap = np.flatnonzero(empty[x0:x1])
        if gap.size == 0:
            continue  # no clear gap: nothing is cut rather than a letter
        runs = np.split(gap, np.flatnonzero(np.diff(gap) > 1) + 1)
        widest = max(runs, key=len)
        cut = max(cut, x0 + int(widest.mean()))
    return cut


PRINTED_LABEL = re.compile(r"^.{0,3}?(P?R?E?NOMS?|NAME)\W*$")


def _printed_label_end(grey: np.ndarray, row: np.ndarray) -> int:
    """The column just past a printed "NOM :" or "PRENOM :" starting the name's row
    (Tesseract reads print well), snapped to the empty columns after it; 0 if none."""
    import pytesseract

    ys = np.flatnonzero(row.any(axis=1))
    band = np.where(row[ys[0]:ys[-1] + 1] > 0, grey[ys[0]:ys[-1] + 1], 255).astype(np.uint8)
    big = cv2.resize(np.pad(band, 6, constant_values=255), None, fx=2, fy=2,
                     interpolation=cv2.INTER_CUBIC)
    try:
        data = pytesseract.image_to_data(big, lang="fra", config="--psm 7",
                                         output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractError:
        return 0
    words = [(_fold(t).strip(), (left + width) // 2 - 6) for t, left, width in
             zip(data["text"], data["left"], data["width"], strict=True) if t.strip()]
    if not words or not PRINTED_LABEL.match(words[0][0]):
        return 0
    end = words[0][1]
    if len(words) > 1 and words[1][0] in (":", ";", ".", "|"):
        end = words[1][1]
    empty = ~(row > 0).any(axis=0)
    window = np.flatnonzero(empty[end: end + row.shape[0]])
    return end + int(window[0]) if window.size else 0


def _rows(ink: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The crop's rows of writing, each as a mask of its components.

    Cut-off bits of the lines above and below (touching the crop's edge) join
    no row of their own; small marks (accents, dots) join the row below them.
    """
    h = ink.shape[0]
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    comps = []
    for i in range(1, n):
        _x, y, _cw, ch, area = stats[i]
        if area >= 3:
            edge = (y == 0 or y + ch >= h) and ch < 0.5 * h  # a cut-off bit, or a cut letter
            comps.append((i, y + ch / 2, ch, area, edge))
    if not comps:
        return labels, []
    inner = [c for c in comps if not c[4]] or comps
    big = max(c[3] for c in inner)
    spans = sorted((c - hh / 2, c + hh / 2) for _, c, hh, a, _ in inner if a >= 0.25 * big)
    m = float(np.median([b - t for t, b in spans]))
    bands: list[list[float]] = []
    for top, bottom in spans:  # rows: letters that overlap each other vertically
        if bands and min(bottom, bands[-1][1]) - top >= 0.5 * min(bottom - top,
                                                                   bands[-1][1] - bands[-1][0]):
            bands[-1][1] = max(bands[-1][1], bottom)
        else:
            bands.append([top, bottom])
    rows = []
    for top, bottom in bands:
        keep = np.zeros_like(ink)
        for i, c, _, a, _ in comps:
            small = a < 0.15 * big
            if top - 0.2 * m <= c <= bottom + 0.2 * m or (small and top - 0.6 * m <= c <= bottom):
                keep[labels == i] = 255
        rows.append(keep)
    return labels, rows


def _name_row(grey: np.ndarray, ink: np.ndarray, label: str) -> np.ndarray:
    """The row that holds the name: where crops hold several (a printed label above,
    a line of print below), the one the handwriting reader reads closest to it."""
    from rapidfuzz.fuzz import ratio

    from pipeline.trust.handreaders import hand_readers

    _, rows = _rows(ink)
    if len(rows) <= 1 or not hand_readers():
        return rows[0] if rows else np.zeros_like(ink)
    reader = hand_readers()[0]

    def likeness(row: np.ndarray) -> float:
        ys = np.flatnonzero(row.any(axis=1))
        band = np.where(row[ys[0]:ys[-1] + 1] > 0, grey[ys[0]:ys[-1] + 1], 255)
        text = _fold(reader.read_line(np.pad(band, 4, constant_values=255)).text)
        return ratio(text.replace(" ", ""), label.replace(" ", ""))

    return max(rows, key=likeness)


def clean_crop(grey: np.ndarray, label: str) -> tuple[np.ndarray, int] | None:
    """The name's ink alone (an alpha bitmap, 255 = full ink) and its baseline row.

    None when nothing that looks like writing is left.
    """
    h, w = grey.shape
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if ink.mean() < 1:
        return None
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (max(8, int(RULE_SHARE * w)), 1)))
    walls = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (1, max(8, int(0.8 * h)))))
    ink = cv2.subtract(ink, cv2.bitwise_or(rules, walls))
    keep = _name_row(grey, ink, label)
    cut = max(_writing_starts(grey, keep, label), _printed_label_end(grey, keep))
    if cut:
        # the label, its colon and anything left of them (a stamp)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(keep, connectivity=8)
        for i in range(1, n):
            if stats[i][0] + stats[i][2] / 2 < cut:
                keep[labels == i] = 0
    ys, xs = np.nonzero(keep)
    if xs.size < 20:
        return None
    # the writing's own grey levels where it was kept (soft edges, pen pressure)
    mask = cv2.dilate(keep, np.ones((3, 3), np.uint8))
    alpha = np.where(mask > 0, 255 - grey.astype(np.int16), 0).clip(0, 255).astype(np.uint8)
    alpha = cv2.normalize(alpha, None, 0, 255, cv2.NORM_MINMAX)
    y0, y1 = max(0, ys.min() - 1), min(h, ys.max() + 2)
    x0, x1 = max(0, xs.min() - 1), min(w, xs.max() + 2)
    per_letter = (x1 - x0) / max(1, len(label.replace(" ", ""))) / (y1 - y0)
    if not MIN_LETTER_SHAPE <= per_letter <= MAX_LETTER_SHAPE:
        return None  # another row of print kept instead of the name, or half of it
    return alpha[y0:y1, x0:x1], y1 - 1 - y0


def read_labels(folder: Path) -> list[tuple[str, str]]:
    """(file name, label) for every usable crop, in file order."""
    with (folder / LABELS).open(encoding="utf-8", newline="") as fh:
        rows = [(r["FILENAME"], r["IDENTITY"].strip()) for r in csv.DictReader(fh)]
    return sorted((f, _fold(t)) for f, t in rows if _fold(t) not in UNUSABLE)


def part_of(items: list[tuple[str, str]], part: str) -> list[tuple[str, str]]:
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}")
    half = len(items) // 2
    return {"dev": items[:half], "bench": items[half:], "all": items}[part]


@cache
def _load(folder: Path, part: str) -> tuple[RealName, ...]:
    out = []
    for name, text in part_of(read_labels(folder), part):
        grey = cv2.imread(str(folder / name), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            continue
        cleaned = clean_crop(grey, text)
        if cleaned is not None:
            out.append(RealName(text, Ink(*cleaned), name))
    return tuple(out)


class RealNameBank:
    """Real name crops, told apart as first names or surnames by the first-names list."""

    def __init__(self, folder: Path, part: str = "all") -> None:
        from pipeline.trust import lexicon

        folder = Path(folder)
        if not (folder / LABELS).is_file():
            raise FileNotFoundError(f"{folder}: no {LABELS} (FILENAME,IDENTITY) in it")
        names = _load(folder.resolve(), part)
        first = lexicon.first_names()
        self.first = [n for n in names if lexicon.fold_key(n.text) in first]
        self.last = [n for n in names if lexicon.fold_key(n.text) not in first]
        if not self.first or not self.last:
            raise ValueError(f"{folder}: too few usable crops for first names and surnames")

    def draw(self, rng: np.random.Generator, first: bool) -> RealName:
        pool = self.first if first else self.last
        return pool[int(rng.integers(len(pool)))]

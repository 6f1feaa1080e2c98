"""Names written by hand: what two handwriting readers agree on, and what the lists know.

On real people's block capitals Tesseract and PP-OCRv4 read a quarter of the
names right, and no amount of correcting their misreadings closes that gap.
Two recognisers trained on handwriting (`handreaders`) read most names right
alone; where they read the same letters, they are right far more often
still, since they were trained apart. So a handwritten name is accepted
without a reviewer only when

- both readers read it, letter for letter (case and accents aside);
- it is, as read, a name the field's list knows (the INSEE first names or
  surnames), spaces and hyphens included: a name split or glued by a reader
  ("AN NA", "JEANMARC") is not in the list, and an unknown name ("CLEHENCE")
  no list supports;
- every character was read at `ACCEPT_CHAR` or more by both;
- no commoner name of the list is the same with one more letter at either end
  (a letter lost at the edge of the writing makes another real name).

Everything else goes to a reviewer, pre-filled with the spelling the
readers' outputs and the list make likeliest (`likeliest`): the readers'
CTC likelihood of each candidate, weighed by how common the name is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from pipeline.models import TextReading
from pipeline.trust import lexicon
from pipeline.trust.handreaders import MARGIN

# Both readers' weakest character at or above this. Chosen on the development
# half of the real name crops and the development generated sets (never the
# benchmark's): below it, agreeing readings known to the list were wrong
# more than 1 time in 200.
ACCEPT_CHAR = 0.80
# Names of the list this many edits or fewer from a reading are scored too ...
NEAR_EDITS = 2
NEAR_LIMIT = 12
# ... and a name the list knows needs this much less of the readers' log-likelihood
# (summed over both) than a spelling it does not know to be preferred as the pre-fill.
KNOWN_BONUS = 8.0
# How common a name is weighs too, as a prior: the lists rank names by how many people
# bear them, and by Zipf's law (frequency about 1/rank) log P(name) is -log(rank) up to
# a constant. A spelling the list does not rank is taken for a name ranked this far
# down. (Development half of the real crops: pre-filled right 76.4 -> 79.7 %; generated
# hands 86.3 -> 90.2 %; no threshold was fitted: Zipf's exponent is 1.)
UNRANKED = 100_000


@dataclass(frozen=True)
class HandName:
    value: str  # the reviewer's pre-fill, or the accepted value
    accepted: bool
    confidence: float
    readings: tuple[TextReading, ...]
    why: str  # why it was not accepted ('' when it was)

    def evidence(self) -> dict:
        return {"readings": {r.engine: [r.text, round(r.confidence, 4)] for r in self.readings},
                "accepted": self.accepted, "why": self.why}


def _key(text: str) -> str:
    return lexicon.fold(text, case=True)


def known(text: str, names: str) -> bool:
    """The reading, as read (its spaces and hyphens too), is a name of the list."""
    table = lexicon.first_names() if names == "first_names" else lexicon.surnames()
    k = lexicon.fold_key(text)
    if not k:
        return False
    if k in table:
        return True
    # a compound ("Jean-Roch", "Dupont-Moretti"): each part known, written with a hyphen
    parts = k.split()
    return "-" in text and len(parts) > 1 and all(p in table for p in parts)


def cut_short(text: str, names: str) -> bool:
    """A commoner name of the list is this reading with one more letter at either end
    ("LORIAN" of "FLORIAN", "MATE" of "MATEO"): a letter lost at the crop's edge or
    under the margin reads as another real name, so the reading is not taken alone."""
    table = lexicon.first_names() if names == "first_names" else lexicon.surnames()
    k = lexicon.fold_key(text)
    rank = table.get(k)
    if rank is None:
        return False
    for c in "abcdefghijklmnopqrstuvwxyz":
        for longer in (c + k, k + c):
            r = table.get(longer)
            if r is not None and r < rank:
                return True
    return False


def _with_accents(readings: Sequence[TextReading], text: str) -> str:
    """Of the readings that fold to `text`, the one that kept the most accents."""
    same = [r.text for r in readings if _key(r.text) == _key(text)]
    return max(same, key=lambda t: (sum(not c.isascii() for c in t), t))


@cache
def _keys(names: str) -> tuple[list[str], dict[str, str]]:
    """The list's lookup keys without spaces (for edit distances), and each one's spelling."""
    table = lexicon.first_names() if names == "first_names" else lexicon.surnames()
    spellings = lexicon.name_spellings()
    keys = list(table)
    return [k.replace(" ", "") for k in keys], {k.replace(" ", ""): spellings.get(k, k)
                                                 for k in keys}


def _as_read(spelling: str, reading: str) -> str:
    """A list's spelling in the reading's case: capitals without accents for capitals."""
    if reading.upper() == reading:
        return lexicon.fold(spelling, case=False).upper()
    return spelling


def likeliest(readings: Sequence[TextReading], outputs: Sequence[tuple], readers: Sequence,
              names: str) -> str:
    """The spelling both readers' outputs make likeliest, names of the list favoured.

    Every reader's own reading competes with the list's names near them, each
    scored by every reader (the CTC likelihood of that spelling) and by how
    common the name is (a prior from the list's rank); a known name also gets
    KNOWN_BONUS. A general mechanism: the recogniser's own doubts, weighed
    against the list, in place of look-alike letter rules.
    """
    keys, spelling = _keys(names)
    cands: dict[str, bool] = {}
    for r in readings:
        if not r.text:
            continue
        cands.setdefault(r.text, known(r.text, names))
        q = lexicon.fold(r.text, case=True, spaces=True).replace("-", "")
        for k, _, _ in process.extract(q, keys, scorer=Levenshtein.distance,
                                       score_cutoff=NEAR_EDITS, limit=NEAR_LIMIT):
            cands.setdefault(_as_read(spelling[k], r.text), True)
    if not cands:
        return ""
    texts = list(cands)
    lls = [reader.log_likelihoods(probs, texts)
           for reader, (probs, _) in zip(readers, outputs, strict=True)]
    table = lexicon.first_names() if names == "first_names" else lexicon.surnames()

    def prior(text: str) -> float:
        rank = table.get(lexicon.fold_key(text))
        return (KNOWN_BONUS if cands[text] else 0.0) - math.log(
            rank + 1 if rank is not None else UNRANKED)

    scores = [sum(ll[i] for ll in lls) + prior(t) for i, t in enumerate(texts)]
    best = max(range(len(texts)), key=scores.__getitem__)
    return (texts[best] if math.isfinite(scores[best])
            else max(readings, key=lambda r: r.confidence).text)


def decide(crop: np.ndarray, readers: Sequence, names: str) -> HandName:
    """Read `crop` with every handwriting reader and decide as the module says."""
    outputs = [r.probabilities(crop) for r in readers]
    pad = round(MARGIN * crop.shape[0])
    readings = tuple(r.decode(p, step, crop.shape[0], pad) for r, (p, step) in
                     zip(readers, outputs, strict=True))
    texts = [r.text for r in readings if r.text]
    if not texts:
        return HandName("", False, 0.0, readings, "nothing read")
    by_key: dict[str, list[TextReading]] = {}
    for r in readings:
        if r.text:
            by_key.setdefault(_key(r.text), []).append(r)

    def rank(item: tuple[str, list[TextReading]]) -> tuple[int, bool, float]:
        _k, rs = item
        return len(rs), known(rs[0].text, names), max(r.confidence for r in rs)

    best_key, behind = max(by_key.items(), key=rank)
    read = _with_accents(behind, best_key)
    conf = min(r.confidence for r in behind)
    if len(readers) < 2 or len(behind) < len(readers):
        why = "the handwriting readers disagree"
    elif not known(read, names):
        why = "no list of names knows this reading"
    elif conf < ACCEPT_CHAR:
        why = "a character read unsurely"
    elif cut_short(read, names):
        why = "a commoner name has one letter more at an end"
    elif sum(c.isalpha() for c in read) < 2:
        why = "too short to tell"
    else:
        return HandName(read, True, conf, readings, "")
    # for a reviewer only: what the readers' outputs and the list make likeliest
    return HandName(likeliest(readings, outputs, readers, names) or read, False, conf,
                    readings, why)

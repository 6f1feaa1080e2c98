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
- every character was read at `ACCEPT_CHAR` or more by both.

Everything else goes to a reviewer, pre-filled with the likeliest reading:
the most readers behind it, then known to the list, then the surest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.models import TextReading
from pipeline.trust import lexicon

# Both readers' weakest character at or above this. Chosen on the development
# half of the real name crops and the development generated sets (never the
# benchmark's): below it, agreeing readings known to the list were wrong
# more than 1 time in 200.
ACCEPT_CHAR = 0.80


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


def _with_accents(readings: Sequence[TextReading], text: str) -> str:
    """Of the readings that fold to `text`, the one that kept the most accents."""
    same = [r.text for r in readings if _key(r.text) == _key(text)]
    return max(same, key=lambda t: (sum(not c.isascii() for c in t), t))


def decide(crop: np.ndarray, readers: Sequence, names: str) -> HandName:
    """Read `crop` with every handwriting reader and decide as the module says."""
    readings = tuple(r.read_line(crop) for r in readers)
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
    value = _with_accents(behind, best_key)
    conf = min(r.confidence for r in behind)
    if len(readers) < 2 or len(behind) < len(readers):
        why = "the handwriting readers disagree"
    elif not known(value, names):
        why = "no list of names knows this reading"
    elif conf < ACCEPT_CHAR:
        why = "a character read unsurely"
    elif sum(c.isalpha() for c in value) < 2:
        why = "too short to tell"
    else:
        why = ""
    return HandName(value, not why, conf, readings, why)

"""The reviewer's pre-filled value for handwriting: the reading, with its unknown words put right.

Tesseract reads handwriting letter by letter and slips ("MAIKIE DE LEZOIX").
Most words of a structure, a job title or an address are dictionary words or
places, and a first name is in the first-name list (surnames are left alone:
almost any spelling is somebody's name): a word the lexicons do not
know, with exactly one known word a few edits away, is suggested as that word
("MAIRIE DE LEZOUX"). That is snapping, which invents words when trusted, so it
only ever pre-fills a field already sent to review, with a note that shows the
reviewer what changed. Capitals stay capitals, and accents are added only where
the writer uses them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from pipeline import spelling
from pipeline.trust import lexicon
from pipeline.trust.lexicon import fold

# A whole word: not a piece of a garbled token ("C[evunt", "\\S140").
_WORD = re.compile(r"(?<![^\s\-'(])[^\W\d_]{3,}(?![^\s\-'),.])")
# Which words a field's writing is made of, by field.
VOCABULARY = {"structure": "words", "fonction": "words", "adresse": "words",
              "prenom": "first"}
_ACCENTED = re.compile(r"[À-ÖØ-öø-ÿœŒ]")


def max_edits(length: int, names: bool) -> int:
    """How far a reading may be from the word it is taken for: further for longer words."""
    return 1 if names or length <= 5 else 2


@cache
def _by_length(vocabulary: str) -> dict[int, tuple[list[str], list[str]]]:
    """{folded length: (folded words, their written forms)}."""
    forms: dict[str, str] = {}
    if vocabulary == "words":
        # the accented spelling where the dictionary has both ("developpement" too)
        for w in sorted(lexicon.french_words(), key=lambda w: (w.isascii(), w)):
            forms.setdefault(fold(w), w)
        for w in spelling.places():
            forms.setdefault(w, w)
    elif vocabulary == "first":
        spellings = lexicon.name_spellings()
        for k in lexicon.first_names():
            if " " not in k:
                forms[k] = spellings.get(k, k).lower()
    grouped: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for k, w in forms.items():
        if len(k) >= 3 and k.isalpha():
            keys, written = grouped[len(k)]
            keys.append(k)
            written.append(w)
    return dict(grouped)


def nearest(word: str, vocabulary: str) -> str | None:
    """The only known word closest to `word` (folded, lower case), if one is close enough."""
    key = fold(word)
    limit = max_edits(len(key), vocabulary != "words")
    table = _by_length(vocabulary)
    hits: list[tuple[int, str]] = []
    # A misread letter keeps the length, a split or merged one changes it by one;
    # two letters fewer is more often a word the dictionary lacks ("attractivité").
    for n in range(len(key) - 1, len(key) + 2):
        keys, written = table.get(n, ((), ()))
        for _, dist, i in process.extract(key, keys, scorer=Levenshtein.distance,
                                          score_cutoff=limit, limit=2):
            hits.append((int(dist), written[i]))
    hits.sort()
    if not hits or (len(hits) > 1 and hits[1][0] == hits[0][0]):
        return None
    return hits[0][1]


def _known(word: str, vocabulary: str) -> bool:
    if vocabulary == "words":
        return spelling.known_word(word)
    return fold(word) in lexicon.first_names()


def _as_written(found: str, read: str, accents: bool) -> str:
    """`found` in the reading's case; without accents if the writer writes capitals bare."""
    if read.isupper() and len(read) > 1:
        return found.upper() if accents else fold(found).upper()
    if read[0].isupper():
        return found[0].upper() + found[1:]
    return found


def _mostly_capitals(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.75 * len(letters)


def suggest(fid: str, value: str) -> tuple[str, list[str]]:
    """A handwritten field's reading made into the likeliest text, and the changes made."""
    vocabulary = VOCABULARY.get(fid)
    if not vocabulary or not value:
        return value, []
    changes: list[str] = []
    text = value
    if _mostly_capitals(text) and not text.isupper():
        text = text.upper()  # block capitals: "Du", "dE" are the same capitals misread
        changes.append("case: block capitals throughout")
    accents = bool(_ACCENTED.search(text))

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if _known(word, vocabulary):
            return word
        found = nearest(word, vocabulary)
        if found is None or fold(found) == fold(word):
            return word
        out = _as_written(found, word, accents)
        changes.append(f"{word} -> {out} (nearest known word)")
        return out

    text = _WORD.sub(fix, text)
    return text, changes


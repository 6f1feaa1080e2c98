"""Accents as the writer puts them: each known word's spelling, and a page's habit.

OCR gets accents wrong both ways: Tesseract drops a hand-drawn one, or takes a
stroke over a capital for one ("CONSÉILLER", "LÉADER"), and the second engine
reads none at all. French spelling settles most words whatever the OCR saw:
"conseiller" has no accent, "développement" two. Words written both ways
("côte"/"cote", "chargé"/"charge", "a"/"à") are left as read.

Whether the accents are written at all is the writer's habit: in small letters
nearly everybody writes them; in capitals many leave them off, and then all
over the form. So a page votes, on the words French always accents, and a
reading's stray accents count against the vote: a page read "PLACÉ DÉ" has
accents Tesseract made up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache

from pipeline.cache import cached
from pipeline.trust import lexicon
from pipeline.trust.lexicon import fold

# A spelling is a word's own when it holds this share of the word's uses
DOMINANT = 0.9
# Votes a page's habit takes (on 196 development pages in capitals: 62 right, 3 wrong)
MIN_VOTES = 2
_WORD = re.compile(r"[^\W\d_]+")


@cache
def spellings() -> dict[str, str]:
    """{folded lower-case word: its usual spelling, lower case}, for words spelt one way."""
    return cached(f"accents-{lexicon.version('pyspellchecker')}-{lexicon.sources()}-r2.pickle",
                  _build_spellings)


def _build_spellings() -> dict[str, str]:
    uses = lexicon.spelling_uses()
    out: dict[str, str] = {}
    for key, forms in uses.items():
        word, n = max(forms.items(), key=lambda t: t[1])
        if word.isalpha() and n >= DOMINANT * sum(forms.values()):
            out[key] = word
    # Place names (official spellings) where the dictionary does not know the
    # word, and only those spelt one way: "Loire" and "Loiré", "Besse" and
    # "Bessé" are both places (taking the first seen made the choice depend on
    # the order of a set, so on the run).
    places: dict[str, set[str]] = {}
    for word in lexicon.place_words():
        key = fold(word, case=False).lower()
        if word.isalpha() and key not in uses:
            places.setdefault(key, set()).add(word)
    out.update({key: words.pop() for key, words in places.items() if len(words) == 1})
    return out


def first_name(key: str) -> str | None:
    """A first name's spelling: accented where that spelling is in common use
    ("helene" -> "hélène"), plain if no spelling has accents ("marcelle")."""
    if found := lexicon.first_name_accents().get(key):
        return found
    if key in lexicon.first_names() and key not in lexicon.accented_spellings():
        return key
    return None


def usual(word: str, names: bool = False) -> str | None:
    """`word`'s usual spelling in its own case, or None if it has none (unknown, or both ways)."""
    key = fold(word, case=False).lower()
    found = first_name(key) if names and key in lexicon.first_names() else spellings().get(key)
    if found is None or len(found) != len(word):
        return None
    if names and word[0] != fold(word[0], case=False):
        found = word[0].lower() + found[1:]  # a capital's accent as written ("Éléonore")
    return _in_case_of(found, word)


def _in_case_of(found: str, word: str) -> str:
    return "".join(f.upper() if w.isupper() else f for f, w in zip(found, word, strict=True))


def habit(texts: Iterable[str],
          marks: int | Callable[[], int] | None = None) -> bool | None:
    """Whether this hand writes accents on capitals (None: the page does not say).

    A word in capitals French always accents votes for with an accent, against
    without; an accent where French has none ("CONSÉILLER") votes against, as
    the accents read on this page are then partly made up. It takes `MIN_VOTES`
    more one way than the other: Tesseract both drops a hand's accents and adds
    them where its dictionary has them.

    Where the vote is closer, `marks` (the small marks above the page's
    capitals, `imaging.marks_above`; counted only then, if given as a function)
    decide: none, and no vote for accents, is a plain hand; marks with a vote
    for accents, or two marks or more with none either way, an accenting one.
    On 90 development pages in capitals whose vote was close, those rules
    decided 63, 59 of them rightly.
    """
    vote = 0
    for text in texts:
        for word in _WORD.findall(text):
            if len(word) < 2 or not word.isupper():
                continue
            found = spellings().get(fold(word, case=False).lower())
            if found is None:
                continue
            if found.isascii():
                vote -= not word.isascii()
            else:
                vote += 1 if not word.isascii() else -1
    if abs(vote) >= MIN_VOTES:
        return vote > 0
    if marks is None:
        return None
    if callable(marks):
        marks = marks()
    if marks == 0 and vote <= 0:
        return False
    if (marks >= 1 and vote >= 1) or (marks >= 2 and vote == 0):
        return True
    return None


# A commune's name of several words ("Chaudes-Aigues": no "aiguës" there)
_COMPOUND = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)+")


def as_written(value: str, writes_accents: bool | None, names: bool = False,
               surname: bool = False) -> str:
    """`value` with each known word's accents as this writer would put them.

    Small letters get the word's usual accents; capitals get them where the
    page says the hand writes accents, none where it says it does not, and only
    lose made-up ones ("LÉADER") where the page does not say. A `surname` only
    loses made-up ones: "Carre" is a name as well as "carré". A commune's name
    is left as read.
    """
    places = [m.span() for m in _COMPOUND.finditer(value) if lexicon.is_commune(m.group(0))]

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if any(a <= m.start() < b for a, b in places):
            return word
        if len(word) < 2:  # "O" is no "Ô", "A" no "À"
            return word
        capitals = word.isupper()
        if capitals and writes_accents is False:
            return fold(word, case=False)
        found = usual(word, names)
        if found is None or (len(word) == 2 and not found.isascii()):
            return word  # "ÇA"/"CA", "OÙ"/"OU": too short to tell a slip from a word
        if surname or (capitals and writes_accents is None):
            return _without_accents_where(word, found)
        return found

    return _WORD.sub(fix, value)


def _without_accents_where(word: str, found: str) -> str:
    """`word` without the accents its usual spelling `found` lacks, letter by letter."""
    return "".join(fold(w, case=False) if f == fold(f, case=False) else w
                   for w, f in zip(word, found, strict=True))

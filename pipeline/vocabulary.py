"""Known words for handwriting's unknown ones: the nearest, for a reviewer to confirm.

Tesseract reads handwriting letter by letter and slips ("MAIKIE DE LEZOIX").
Most words of a structure, a job title or an address are dictionary words or
places, a first name is in the first-name list, and a surname nearly always in
the surname list (almost any spelling is somebody's name, so only one the list
lacks is changed, and only to a common one): a word the lexicons do not know,
with one known word nearer than any other, is suggested as that word ("MAIRIE
DE LEZOUX", "DUHAME" -> "DUHAMEL"); of equally near ones, the one such fields
are made of (`schemas/vocabulary-fr.yaml`), else a far commoner one. That is snapping,
which invents words when trusted, so it only ever pre-fills a field already
sent to review, with a note that shows the reviewer what changed. Capitals stay
capitals.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from functools import cache

import yaml
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from pipeline import spelling
from pipeline.cache import cached
from pipeline.nearby import CharCounts
from pipeline.template import SCHEMAS_DIR
from pipeline.trust import lexicon, postcodes
from pipeline.trust.evidence import mostly_capitals
from pipeline.trust.lexicon import fold

# A whole word: not a piece of a garbled token ("C[evunt", "\\S140").
_WORD = re.compile(r"(?<![^\s\-'(])[^\W\d_]{3,}(?![^\s\-'),.])")
# Which words a field's writing is made of, by field. (Names are not snapped to the
# nearest listed one: the handwriting readers weigh the lists themselves, in
# `trust.handnames`, where Tesseract's misread capitals needed "K for R" rules.)
VOCABULARY = {"structure": "words", "fonction": "words", "adresse": "words"}
ACCENTED = re.compile(r"[À-ÖØ-öø-ÿœŒ]")


def max_edits(length: int) -> int:
    """How far a reading may be from the word it is taken for: further for longer words."""
    return 1 if length <= 5 else 2


@cache
def _by_length(vocabulary: str) -> dict[int, tuple[list[str], list[str], CharCounts]]:
    """{folded length: (folded words, their written forms, their character counts)}."""
    lists = cached(f"suggest-{vocabulary}-{lexicon.sources()}-{lexicon.version('pyspellchecker')}"
                   f"-{lexicon.stamp(VOCABULARY_FILE)}.pickle",
                   lambda: _build_by_length(vocabulary))
    return {n: (keys, written, CharCounts(keys)) for n, (keys, written) in lists.items()}


@cache
def _all_vocabularies() -> None:
    """Built before a worker's first page (`reader.warm_up` calls what takes no argument)."""
    _by_length("words")


def _build_by_length(vocabulary: str) -> dict[int, tuple[list[str], list[str]]]:
    forms: dict[str, str] = {}
    if vocabulary == "words":
        # French's commonest spelling of it ("programme", not "programmé"), else the
        # accented one where the dictionary has both ("developpement" too)
        for w in sorted(lexicon.french_words(), key=lambda w: (w.isascii(), w)):
            usual = lexicon.commonest_spelling(w)
            forms.setdefault(fold(w), usual if usual and fold(usual) == fold(w) else w)
        for w in spelling.places():
            forms.setdefault(w, w)
        for w in _field_word_list():
            forms.setdefault(fold(w), w)
    grouped: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for k, w in forms.items():
        if len(k) >= 3 and k.isalpha():
            keys, written = grouped[len(k)]
            keys.append(k)
            written.append(w)
    return dict(grouped)


def nearest(word: str, vocabulary: str, by_frequency: bool = True) -> str | None:
    """The only known word closest to `word` (folded, lower case), if one is close enough;
    of several, the field's own, or (`by_frequency`) the far commoner in French."""
    key = fold(word)
    limit = max_edits(len(key))
    table = _by_length(vocabulary)
    hits: list[tuple[int, str]] = []
    # A misread letter keeps the length, a split or merged one changes it by one;
    # two letters fewer is more often a word the dictionary lacks ("attractivité").
    for n in range(len(key) - 1, len(key) + 2):
        if n not in table:
            continue
        keys, written, counts = table[n]
        could = counts.within_edits(key, limit)  # the same hits, a tenth of the time
        for _, dist, i in process.extract(key, [keys[i] for i in could],
                                          scorer=Levenshtein.distance,
                                          score_cutoff=limit, limit=None):
            hits.append((int(dist), written[could[i]]))
    if not hits:
        return None
    best = min(d for d, _ in hits)
    tied = sorted({w for d, w in hits if d == best})
    return tied[0] if len(tied) == 1 else _likelier(tied, vocabulary, by_frequency)


TIE_DOMINANCE = 10.0  # how much commoner one of two equally near words must be


def _likelier(tied: list[str], vocabulary: str, by_frequency: bool) -> str | None:
    """Of words equally near a reading, the one a form's field would hold
    ("COMMANES": "communes", not "commandes"), else the far commoner in French
    ("GKAND": "grand", not "gland"), else none. Not
    by frequency in an address: streets are named after people and places
    ("Tanneries" is no "conneries")."""
    if vocabulary == "words":
        ours = [w for w in tied if fold(w) in field_words()]
        if len(ours) == 1:
            return ours[0]
        if ours:
            tied = ours
    if not by_frequency:
        return None
    counts = sorted(((lexicon.word_count(w), w) for w in tied), reverse=True)
    if counts[0][0] > 0 and counts[0][0] >= TIE_DOMINANCE * counts[1][0]:
        return counts[0][1]
    return None


VOCABULARY_FILE = SCHEMAS_DIR / "vocabulary-fr.yaml"


@cache
def _vocabulary_file() -> dict:
    try:
        return yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8")) or {}
    except OSError:
        return {}


@cache
def _field_word_list() -> tuple[str, ...]:
    return tuple(str(w) for w in _vocabulary_file().get("words", []))


@cache
def _heads(fid: str) -> dict[str, str]:
    """{folded: as written} of the words field `fid`'s value starts with, if listed."""
    return {fold(str(h)): str(h) for h in _vocabulary_file().get("heads", {}).get(fid, [])}


HEAD_EDITS = 0.4  # letters in a head word a first word may be off, as a share


def field_head(fid: str, value: str, repairs: list[str]) -> str:
    """A structure's or job title's first word read as none of the words such names
    start with, but far nearer one than any other ("Moicie de Brioude" -> "Mairie",
    "Directrue" -> "Directrice"): that word. A closed class allows more letters off
    than the dictionary's snapping does."""
    heads = _heads(fid)
    m = re.match(r"\s*([^\W\d_]+(?:-[^\W\d_]+)*)", value)
    if (not heads or not m or len(m.group(1)) < (3 if m.group(1).isupper() else 4)
            or fold(m.group(1)) in heads):
        return value  # ("Cha rGee": a piece of a split word, no "Chef"; "CEI" may be "CCI")
    word = m.group(1)
    key = fold(word)
    # an acronym only for capitals ("CEI" -> "CCI", but "Made" is no "CAUE")
    near = sorted((Levenshtein.distance(key, k), k) for k, h in heads.items()
                  if word.isupper() or not h.isupper())
    dist, best = near[0]
    if (dist > max(1, round(HEAD_EDITS * min(len(best), len(key))))
            or (len(near) > 1 and near[1][0] == dist)):
        return value
    head = heads[best]
    out = head if head.isupper() else as_written(head.lower(), word, accents=True)
    repairs.append(f"suggestion: {word} -> {out} (how a {fid} starts)")
    return value[:m.start(1)] + out + value[m.end(1):]


@cache
def field_words() -> frozenset[str]:
    """Folded words of `schemas/vocabulary-fr.yaml`: what structures, titles, addresses hold."""
    return frozenset(fold(w) for w in _field_word_list())


def _known(word: str) -> bool:
    return spelling.known_word(word) or fold(word) in field_words()


def as_written(found: str, read: str, accents: bool) -> str:
    """`found` in the reading's case; without accents if the writer writes capitals bare."""
    if read.isupper() and len(read) > 1:
        return found.upper() if accents else fold(found).upper()
    if read[0].isupper():
        return found[0].upper() + found[1:]
    return found


def known_words(fid: str, value: str) -> tuple[str, list[str]]:
    """A handwritten field's reading with its unknown words made known ones, and the changes."""
    vocabulary = VOCABULARY.get(fid)
    if not vocabulary or not value:
        return value, []
    changes: list[str] = []
    text = value
    if mostly_capitals(text) and not text.isupper():
        text = text.upper()  # block capitals: "Du", "dE" are the same capitals misread
        changes.append("case: block capitals throughout")
    accents = bool(ACCENTED.search(text))

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if _known(word):
            return word
        found = nearest(word, vocabulary, by_frequency=fid != "adresse")
        if found is None or fold(found) == fold(word):
            return word
        out = as_written(found, word, accents)
        changes.append(f"{word} -> {out} (nearest known word)")
        return out

    text = _WORD.sub(fix, text)
    return text, changes


# What Tesseract reads handwritten capitals as ("HAUT&-LOIR&", "FOY£RS", "CCI DV CANTAL",
# "PIEKKE", "HULLER")
LOOKALIKES = {"&": "E", "£": "E", "€": "E", "V": "U", "|": "I", "]": "I", "0": "O", "1": "I",
              "$": "S", "K": "R", "H": "M"}
COMMONER = 100  # how much commoner a known reading must be than a known word it replaces
_PIECE = re.compile(r"[^\s\-'’(),.]+")


def lookalike_letters(fid: str, value: str, repairs: list[str]) -> str:
    """Capitals: a piece no lexicon knows, or a word French rarely uses ("DV"), read
    with its look-alike characters as the letters they resemble, where exactly one
    reading is a known word ("HAUT&" -> "HAUTE", "DV" -> "DU"; "VU" stays: it is a
    word)."""
    if fid not in VOCABULARY or not mostly_capitals(value):
        return value

    def known(word: str) -> bool:
        # a word French uses, the field's own, or a place (not in a job title): the
        # dictionary inside Tesseract's model also holds "rice" and "dv"
        return spelling.known_word(word) and (
            lexicon.word_count(word) > 0 or fold(word) in field_words()
            or (fid != "fonction" and fold(word) in spelling.places()))

    def fix(m: re.Match[str]) -> str:
        piece = m.group(0)
        spots = [i for i, c in enumerate(piece) if c in LOOKALIKES]
        if not spots or len(spots) > 3 or len(piece) < 2 or not any(c.isalpha() for c in piece):
            return piece  # ("11 CHEMIN": a number is no "II")
        bar = 1
        if piece.isalpha() and known(piece):
            bar = COMMONER * max(1, lexicon.word_count(piece))
        found: set[str] = set()
        for n in range(1, len(spots) + 1):
            for where in itertools.combinations(spots, n):
                chars = list(piece)
                for i in where:
                    chars[i] = LOOKALIKES[piece[i]]
                word = "".join(chars)
                if (word.isalpha() and known(word)
                        and (bar == 1 or lexicon.word_count(word) >= bar)):
                    found.add(word)
            if found:
                break  # the fewest look-alikes read again
        if len(found) != 1:
            return piece
        word = found.pop()
        repairs.append(f"suggestion: {piece} -> {word} (look-alike characters)")
        return word

    return _PIECE.sub(fix, value)


@cache
def _compound_places() -> dict[str, str]:
    """{key: name} of departments and communes of several words ("puy de dome",
    "haute loire", "riom es montagnes")."""
    names = [d.name for d in postcodes.departments().values()]
    names += [n for n in lexicon.commune_names().values() if "-" in n]
    out: dict[str, str] = {}
    for n in names:
        if " " in (key := lexicon.fold_key(n)):
            out.setdefault(key, n)
    return out


@cache
def _compound_keys() -> dict[int, tuple[tuple[str, ...], CharCounts]]:
    return spelling.by_length(_compound_places())


_COMPOUND = re.compile(r"(?<![\w-])[^\W\d_]+(?:-[^\s\-]+)+(?![\w-])")


def compound_place(fid: str, value: str, repairs: list[str]) -> str:
    """A hyphenated name in a structure, a title or an address that is no place but
    a letter or two off one department or commune of several words
    ("PUX-DE-DÔME" -> "PUY-DE-DÔME", "Haute-Loise" -> "Haute-Loire")."""
    if fid not in VOCABULARY:
        return value
    accents = bool(ACCENTED.search(value))

    def fix(m: re.Match[str]) -> str:
        read = m.group(0)
        key = lexicon.fold_key(read)
        if len(key) < 8 or lexicon.is_commune(read) or not any(c.isalpha() for c in key):
            return read
        found = spelling.nearest_key(key, _compound_keys(), 1 if len(key) < 12 else 2)
        if found is None or found == key:
            return read  # none, or two, as near; or a place, as written
        name = _compound_places()[found]
        out = as_written(name, read, accents) if read.isupper() else name
        repairs.append(f"suggestion: {read} -> {out} (a place)")
        return out

    return _COMPOUND.sub(fix, value)

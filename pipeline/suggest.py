"""The reviewer's pre-filled value: the reading, with what is surely misread put right.

Typed or handwritten, where the two engines read a word differently and only
one of their words is known, that one is taken ("missipoo" / "mission"); a
postcode whose department is not where its commune lies is read again
("93000 Moulins" -> "03000"). (E-mails: `mailsuggest`.)

Tesseract reads handwriting letter by letter and slips ("MAIKIE DE LEZOIX").
Most words of a structure, a job title or an address are dictionary words or
places, and a first name is in the first-name list (surnames are left alone:
almost any spelling is somebody's name): a word the lexicons do not
know, with exactly one known word a few edits away, is suggested as that word
("MAIRIE DE LEZOUX"). That is snapping, which invents words when trusted, so it
only ever pre-fills a field already sent to review, with a note that shows the
reviewer what changed. Capitals stay capitals, and accents are added only where
the writer uses them.

Handwritten digits are read again, one by one, by `handdigits`: a phone
number whole, and an address's postcode.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path

import yaml
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from pipeline import accents, handdigits, spelling, validate
from pipeline.cache import cached
from pipeline.template import SCHEMAS_DIR, FieldKind
from pipeline.trust import lexicon, postcodes
from pipeline.trust.evidence import (
    JUNK_TOKEN,
    SECOND,
    TESS,
    TextEvidence,
    canonical,
    mostly_capitals,
    small_surnames,
)
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
    return cached(f"suggest-{vocabulary}-{lexicon.sources()}-{lexicon.version('pyspellchecker')}"
                  f"-{_stamp(VOCABULARY_FILE)}.pickle",
                  lambda: _build_by_length(vocabulary))


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


def nearest(word: str, vocabulary: str, by_frequency: bool = True) -> str | None:
    """The only known word closest to `word` (folded, lower case), if one is close enough;
    of several, the field's own, or (`by_frequency`) the far commoner in French."""
    key = fold(word)
    limit = max_edits(len(key), vocabulary != "words")
    table = _by_length(vocabulary)
    hits: list[tuple[int, str]] = []
    # A misread letter keeps the length, a split or merged one changes it by one;
    # two letters fewer is more often a word the dictionary lacks ("attractivité").
    for n in range(len(key) - 1, len(key) + 2):
        keys, written = table.get(n, ((), ()))
        for _, dist, i in process.extract(key, keys, scorer=Levenshtein.distance,
                                          score_cutoff=limit, limit=None):
            hits.append((int(dist), written[i]))
    if not hits:
        return None
    best = min(d for d, _ in hits)
    tied = sorted({w for d, w in hits if d == best})
    return tied[0] if len(tied) == 1 else _likelier(tied, vocabulary, by_frequency)


TIE_DOMINANCE = 10.0  # how much commoner one of two equally near words must be


def _likelier(tied: list[str], vocabulary: str, by_frequency: bool) -> str | None:
    """Of words equally near a reading, the one a form's field would hold
    ("COMMANES": "communes", not "commandes"), else the far commoner in French
    ("GKAND": "grand", not "gland"), else none. Not by frequency in an address:
    streets are named after people and places ("Tanneries" is no "conneries")."""
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
    if not heads or not m or len(m.group(1)) < 3 or fold(m.group(1)) in heads:
        return value
    word = m.group(1)
    key = fold(word)
    near = sorted((Levenshtein.distance(key, k), k) for k in heads)
    dist, best = near[0]
    if dist > max(1, round(HEAD_EDITS * len(best))) or (len(near) > 1 and near[1][0] == dist):
        return value
    head = heads[best]
    out = head if head.isupper() else _as_written(head.lower(), word, accents=True)
    repairs.append(f"suggestion: {word} -> {out} (how a {fid} starts)")
    return value[:m.start(1)] + out + value[m.end(1):]


@cache
def field_words() -> frozenset[str]:
    """Folded words of `schemas/vocabulary-fr.yaml`: what structures, titles, addresses hold."""
    return frozenset(fold(w) for w in _field_word_list())


def _stamp(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "none"
    return f"{st.st_size}-{int(st.st_mtime)}"


def _known(word: str, vocabulary: str) -> bool:
    if vocabulary == "words":
        return spelling.known_word(word) or fold(word) in field_words()
    return fold(word) in lexicon.first_names()


def _as_written(found: str, read: str, accents: bool) -> str:
    """`found` in the reading's case; without accents if the writer writes capitals bare."""
    if read.isupper() and len(read) > 1:
        return found.upper() if accents else fold(found).upper()
    if read[0].isupper():
        return found[0].upper() + found[1:]
    return found


def suggest(fid: str, value: str) -> tuple[str, list[str]]:
    """A handwritten field's reading made into the likeliest text, and the changes made."""
    vocabulary = VOCABULARY.get(fid)
    if not vocabulary or not value:
        return value, []
    changes: list[str] = []
    text = value
    if mostly_capitals(text) and not text.isupper():
        text = text.upper()  # block capitals: "Du", "dE" are the same capitals misread
        changes.append("case: block capitals throughout")
    accents = bool(_ACCENTED.search(text))

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if _known(word, vocabulary):
            return word
        found = nearest(word, vocabulary, by_frequency=fid != "adresse")
        if found is None or fold(found) == fold(word):
            return word
        out = _as_written(found, word, accents)
        changes.append(f"{word} -> {out} (nearest known word)")
        return out

    text = _WORD.sub(fix, text)
    return text, changes


@dataclass(frozen=True)
class PageHand:
    """How the page is written, as all its fields together show it."""

    capitals: bool = False  # block capitals throughout (or typed so)
    accents: bool | None = None  # accents on capitals: yes, no, or not told (`accents.habit`)
    mails: tuple[str, ...] = ()  # the engines' readings of the page's e-mail


CAPITALS_SHARE = 0.8  # of a page's letters, read as capitals: a page in block capitals
# (development pages: block 263 of 264 at 0.8 or more, mixed and typed none above 0.79)


def page_hand(texts: Sequence[str], mails: Sequence[str] = ()) -> PageHand:
    """`PageHand` from Tesseract's readings of a page's names, titles and address,
    and both engines' of its e-mail."""
    letters = [c for t in texts for c in t if c.isalpha()]
    capitals = len(letters) >= 20 and sum(c.isupper() for c in letters) >= (
        CAPITALS_SHARE * len(letters))
    return PageHand(capitals, accents.habit(texts), tuple(m for m in mails if m))


def prefill(ev: TextEvidence, value: str, repairs: list[str], style: str = "hand",
            other: str = "", chosen: str = TESS, page: PageHand = PageHand()) -> str:
    """A field in review: the value to pre-fill, with notes added to `repairs`.

    `other` is the checked reading of the engine not `chosen`, if it ran; `page`
    how its page is written. (An e-mail is the reader's, with `mailsuggest`.)
    """
    hand = style == "hand"
    if ev.kind == FieldKind.PHONE and hand:
        value = phone_suggestion(ev, value, repairs)  # the digits, one by one
    if value and sum(c.isalnum() for c in value) <= _SPECK_CHARACTERS.get(ev.kind, 0):
        repairs.append(f"suggestion: {value!r} is no writing (a speck or a dot's edge)")
        return ""
    if ev.kind == FieldKind.PHONE:
        return value
    if ev.kind == FieldKind.EMAIL:
        return value
    if ev.kind == FieldKind.ADDRESS and (m := _ONE_AS_STROKE.match(value)):
        repairs.append(f"suggestion: the house number '{m.group(1)}' read as 1")
        value = "1" + value[m.end(1):]
    value = joined_words(o_for_q(without_junk(value, repairs), repairs), repairs,
                         names=ev.field == "prenom", surnames=ev.field == "nom")
    if ev.words and len(value) == 1:
        repairs.append(f"suggestion: '{value}' alone is no word (a speck)")
        return ""
    value = combine(ev.field, value, other, repairs, caps=hand and mostly_capitals(value),
                    accents=chosen != TESS)
    if ev.words:
        value = capitalised_surnames(elided_l(value, repairs), repairs)
    if ev.field in ("structure", "fonction"):
        value = capitalised_start(value, repairs)
    if ev.kind == FieldKind.ADDRESS:
        value = capitalised_way(street_type(value, repairs), repairs)
        if hand:
            value = postcode_suggestion(ev, value, repairs)
        if hand or mostly_capitals(value):
            value = lookalike_postcode(value, repairs)
        value = fitting_postcode(value, repairs)
    if hand or mostly_capitals(value):  # neat block capitals can pass for type
        value = field_head(ev.field, value, repairs)
        value, changes = suggest(ev.field, value)
        repairs.extend(f"suggestion: {c}" for c in changes)
        value = name_from_mail(ev.field, value, page.mails, repairs)
        if (page.capitals or (ev.field == "nom" and mostly_capitals(value))) and (
                not value.isupper()):
            value = value.upper()
            repairs.append("suggestion: case: block capitals throughout")
        spelt = accents.as_written(value, page.accents, names=ev.field == "prenom",
                                   surname=ev.field == "nom")
    elif ev.field == "prenom":  # typed: a first name's usual accents ("Anais" -> "Anaïs")
        spelt = accents.as_written(value, None, names=True)
    else:
        spelt = value
    if ev.field in ("nom", "prenom"):
        spelt = _plain_c(spelt)
    if spelt != value:
        repairs.append(f"suggestion: accents as written: {value} -> {spelt}")
        value = spelt
    return value


def _plain_c(name: str) -> str:
    """A name read with a ç its usual spelling lacks ("Leçonte"): a dot under a "c"."""
    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        usual = lexicon.name_spellings().get(lexicon.fold_key(word))
        if usual and "ç" not in usual.lower():
            return word.replace("ç", "c").replace("Ç", "C")
        return word

    return re.sub(r"[^\W\d_]*[çÇ][^\W\d_]*", fix, name)


# As many letters or digits as specks can be read as, in a field of each kind:
# no phone number has two digits, no e-mail a single letter ("4", ". . . .i")
_SPECK_CHARACTERS = {FieldKind.PHONE: 2, FieldKind.EMAIL: 1}
# An address starting with a stroke before a word: a house number 1 ("] avenue Victor Hugo")
_ONE_AS_STROKE = re.compile(r"([\]\[|!])\s+(?=[^\W\d_])")
# What a digit is misread as, in a word that stands for a number ("SO" for "50")
AS_DIGIT = str.maketrans("OoQDIlSsBZzGgb", "00001155822996")
_LETTERS = re.compile(r"[^\W\d_]+")
_MIXED = re.compile(r"[^\W\d_]\d|\d[^\W\d_]{3,}")  # "R10m", "B4"; not "1er", "2A", "3e"
# A word as written: letters, joined by hyphens or apostrophes, a comma or period after
_WORDLIKE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*[,.]?")


# How a French street address names its way, after the house number
STREET_TYPES = ("rue", "avenue", "boulevard", "place", "chemin", "allée", "impasse", "route",
                "quai", "cours", "square", "passage", "faubourg", "résidence", "hameau",
                "lotissement", "sentier", "montée", "promenade", "esplanade", "voie")
# ... and as it is shortened ("Rte de Lyon" is no misread "Rue")
STREET_ABBREVIATIONS = ("bd", "av", "pl", "ch", "che", "rte", "imp", "all", "sq", "fg", "res",
                        "crs", "lot", "ham", "pas", "qu", "mte", "prom", "esp", "sen")
_STREET_KEYS = frozenset(fold(t) for t in STREET_TYPES)
# the house number and its "bis", "ter", "B" ... then the word naming the way
_WAY = re.compile(r"^\s*(?:\d+\s*(?:bis|ter|quater|[A-Da-d])?\b[\s,]*)?([^\W\d_]+)", re.IGNORECASE)


def street_type(value: str, repairs: list[str]) -> str:
    """An address whose way is named by a word a letter (two in a long one) off one
    street type and is none ("PLAGE DE LA MAIRIE", "AVEMCE"): the street type."""
    m = _WAY.match(value)
    if not m:
        return value
    word = m.group(1)
    key = fold(word).lower()
    if key in _STREET_KEYS or key in STREET_ABBREVIATIONS:
        return value
    near = [t for t in STREET_TYPES
            if Levenshtein.distance(key, fold(t)) <= (2 if len(key) >= 6 else 1)]
    if len(near) != 1 or len(key) < 3:
        return value
    found = _as_written(near[0], word, accents=bool(_ACCENTED.search(value)))
    repairs.append(f"suggestion: {word} -> {found} (a street type)")
    return value[:m.start(1)] + found + value[m.end(1):]


# "I'Allier": French elides "le"/"la", never an "I", before a vowel or h
_I_ELIDED = re.compile(r"(?<![^\W\d_])I(?=['’][aeiouyhàâäéèêëîïôöûüAEIOUYHÀÂÄÉÈÊËÎÏÔÖÛÜ])")


def joined_words(value: str, repairs: list[str], names: bool = False,
                 surnames: bool = False) -> str:
    """Two neighbours, not both words, that make a known word joined ("DÉVELOPPE MENT",
    "MA RIE-HELENE"), or with `names` a first name not made of two ("CHRIS TELLE"),
    with `surnames` a surname too ("SAMS ON-MEUNIER"): one word the reading split."""
    out: list[str] = []
    for t in value.split(" "):
        if out and (joined := _joined(out[-1], t, names, surnames)):
            repairs.append(f"suggestion: {out[-1]} {t} -> {joined} (one word)")
            out[-1] = joined
        else:
            out.append(t)
    return " ".join(out)


def _joined(a: str, b: str, names: bool, surnames: bool) -> str | None:
    if (not (_WORDLIKE.fullmatch(a) and _WORDLIKE.fullmatch(b)) or a[-1] in ",.'’"
            or len(b) < 2 or _ELIDED.match(b)):
        return None  # "place d'Armes", "de l'Allier": an elision starts a word
    joined = a + (b if a.isupper() else b.lower())
    if names:
        first = lexicon.first_names()
        whole = lexicon.fold_key(joined) in first
        return joined if whole and not (lexicon.fold_key(a) in first
                                        and lexicon.fold_key(b) in first) else None
    known = spelling.known if surnames else spelling.known_word
    # the pieces that meet: "PUY" of "DU PUY-DE-DOME", not the whole name
    left, right = re.split(r"[-'’]", a)[-1], re.split(r"[-'’]", b.strip(",."))[0]
    if min(len(left), len(right)) < 4 and known(left) and known(right):
        return None  # "en cours", "du Puy", "DE SOUSA", though "Dupuy" is a name too
    parts = [p for p in re.split(r"[-'’]", joined.strip(",.")) if p]
    return joined if all(known(p) for p in parts) else None


# A word opening on an elided article or preposition ("d'Armes", "L'ALLIER")
_ELIDED = re.compile(r"[^\W\d_]['’]")


def name_from_mail(fid: str, value: str, mails: Sequence[str], repairs: list[str]) -> str:
    """A handwritten first name or surname no list knows, as the page's e-mail spells
    it: the one piece of the address's name part a letter or two off it that the
    list does know ("BOUSAUET" beside "elise.bousquet74@...": BOUSQUET). The
    e-mail is another crop read by both engines: their slips rarely coincide."""
    names = {"prenom": lexicon.first_names(), "nom": lexicon.surnames()}.get(fid)
    if not names or not value or not mails or not _LETTERS.fullmatch(value):
        return value
    key = lexicon.fold_key(value)
    if key in names:
        return value
    pieces = {p for m in mails for p in re.split(r"[^a-z]+", fold(m.rpartition("@")[0] or m))
              if len(p) >= 3}
    limit = 1 if len(key) <= 4 else 2
    near = {p for p in pieces if p in names and Levenshtein.distance(key, p) <= limit}
    if len(near) != 1:
        return value
    found = near.pop()
    if fid == "prenom":
        found = lexicon.name_spellings().get(found, found)
    out = found.upper() if value.isupper() else found[0].upper() + found[1:].lower()
    repairs.append(f"suggestion: {value} -> {out} (as the e-mail spells it)")
    return out


def elided_l(value: str, repairs: list[str]) -> str:
    """"de I'Allier" -> "de l'Allier": an I before an apostrophe is an l (L in capitals)."""
    ell = "L" if mostly_capitals(value) else "l"
    fixed = _I_ELIDED.sub(ell, value)
    if fixed != value:
        repairs.append(f"suggestion: I' -> {ell}' (an elided article)")
    return fixed


# A word opening on a Q that no u follows ("Qlivier", "QLLIVIER")
_Q_OPENING = re.compile(r"(?<![^\W\d_])[Qq](?=[^\W\d_uU])")


def o_for_q(value: str, repairs: list[str]) -> str:
    """"Qllivier" -> "Ollivier": French writes q only before u, and an O with a
    speck or a tail is read as one."""
    fixed = _Q_OPENING.sub(lambda m: "O" if m.group(0) == "Q" else "o", value)
    if fixed != value:
        repairs.append("suggestion: Q -> O (no u after it)")
    return fixed


def capitalised_start(value: str, repairs: list[str]) -> str:
    """A structure or a job title read with a small first letter, with its capital
    ("conseil général de l'Allier"): a misread capital far more often than a
    writer's choice."""
    if not value[:1].islower():
        return value
    repairs.append(f"suggestion: {value[0]} -> {value[0].upper()} (the first letter)")
    return value[0].upper() + value[1:]


def capitalised_way(value: str, repairs: list[str]) -> str:
    """An address opening on a street type in small letters, with no number before
    it, gets its capital ("place de la Mairie" -> "Place de la Mairie")."""
    m = re.match(r"\s*([^\W\d_]+)", value)
    if not m or not m.group(1).islower() or fold(m.group(1)).lower() not in _STREET_KEYS:
        return value
    repairs.append(f"suggestion: {m.group(1)} -> {m.group(1).capitalize()} (an address's "
                   "first word)")
    return value[:m.start(1)] + m.group(1).capitalize() + value[m.end(1):]


def capitalised_surnames(value: str, repairs: list[str]) -> str:
    """A surname read in small letters after a first name, with its capital ("Jean Jaurès")."""
    for m in reversed(small_surnames(value)):
        word = m.group(2)
        repairs.append(f"suggestion: {word} -> {word.capitalize()} (a name, after {m.group(1)})")
        value = value[:m.start(2)] + word.capitalize() + value[m.end(2):]
    return value


# A last token of one letter in punctuation ("Maire ;Ç"): specks, one read as a letter
_SPECK_LETTER = re.compile(r"\s+(?:[^\w\s]+[^\W\d_][^\w\s]*|[^\W\d_][^\w\s]+)$")


def without_junk(value: str, repairs: list[str]) -> str:
    """`value` without tokens that are neither words nor numbers ("Brioude, '"), nor a
    last one of a letter in punctuation ("Maire ;Ç")."""
    text = " ".join(JUNK_TOKEN.sub(" ", value).split()).strip(" ,")
    text = _SPECK_LETTER.sub("", text)
    text = re.sub(r"\s+,", ",", text)
    if text != value.strip() and value.strip():
        repairs.append("suggestion: specks read as characters left out")
    return text


def _known_token(token: str, fid: str) -> bool | None:
    """Whether every word of a token is known (None: no word of two letters or more).

    Letters and digits mixed ("R10m", "B4") are a misreading of one or the other.
    """
    if _MIXED.search(token):
        return False
    words = [w for w in _LETTERS.findall(token) if len(w) >= 2]
    if not words:
        return None
    if fid == "prenom":
        return all(fold(w) in lexicon.first_names() for w in words)
    return all(spelling.known_word(w) for w in words)


def _token_key(token: str) -> str:
    return fold(token).lower().strip(".,;:")


def _pick(mine: str, theirs: str, fid: str, caps: bool, accents: bool) -> str | None:
    """The other engine's token where it is surely the better reading, else None.

    `accents`: `mine` is the second engine's, which reads none, and `theirs` is
    Tesseract's: the same letters with accents are taken as Tesseract read them.
    """
    if mine == theirs:
        return None
    if accents and fold(mine, case=False) == fold(theirs, case=False):
        restored = _accents_from(theirs, mine)
        return restored if restored != mine else None
    if theirs.isdigit() and not mine.isdigit() and mine.translate(AS_DIGIT) == theirs:
        return theirs  # "SO ter" / "50 ter"
    if (not _WORDLIKE.fullmatch(theirs) or _known_token(mine, fid) is not False
            or not _known_token(theirs, fid)):
        return None
    theirs = theirs.upper() if caps else theirs
    accented = _accents_from(mine, theirs)
    return accented if _known_token(accented, fid) else theirs


def _accents_from(mine: str, theirs: str) -> str:
    """`theirs` with the accents `mine` has on the same letters (the second engine
    reads none): "CONSEULÈRE" / "CONSEILLERE" -> "CONSEILLÈRE"."""
    out = list(theirs)
    plain = fold(mine, case=False)
    if len(plain) != len(mine):  # a ligature folded to two letters ("œ")
        return theirs
    for block in SequenceMatcher(None, plain, theirs, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            out[block.b + k] = mine[block.a + k]
    return "".join(out)


def combine(fid: str, value: str, other: str, repairs: list[str], caps: bool = False,
            accents: bool = False) -> str:
    """`value` with each unknown word the other engine read as a known word taken from it.

    The engines slip on different letters ("missipoo" / "mission", "maîrie" /
    "mairie"). With `accents` (`value` is the second engine's), Tesseract's
    accents are put back ("Jaures" / "Jaurès"). Words are paired where the two
    readings, accents folded, line up one for one;
    surnames are left alone (nearly every spelling is somebody's name).
    """
    if not value or not other or fid == "nom" or VOCABULARY.get(fid) is None:
        return value
    mine, theirs = value.split(), other.split()
    matcher = SequenceMatcher(None, [_token_key(t) for t in mine],
                              [_token_key(t) for t in theirs], autojunk=False)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag not in ("equal", "replace") or i2 - i1 != j2 - j1:
            out.extend(mine[i1:i2])
            continue
        for a, b in zip(mine[i1:i2], theirs[j1:j2], strict=True):
            took = _pick(a, b, fid, caps, accents)
            if took is not None:
                repairs.append(f"suggestion: {a} -> {took} (as the other engine read it)")
            out.append(a if took is None else took)
    return " ".join(out)


def fitting_postcode(value: str, repairs: list[str]) -> str:
    """An address whose postcode is not in its commune's region, or is of a department
    whose prefecture lies far from the commune: one department digit read again."""
    code, commune = validate.postcode_and_commune(value)
    if not code:
        return value
    likely = postcodes.likely_code(code, commune)
    if likely is not None:
        repairs.append(f"suggestion: postcode {code} -> {likely} ({commune} is not in "
                       f"{postcodes.departments()[code[:2]].name})")
    elif (likely := postcodes.nearer_code(code, commune)) is not None:
        repairs.append(f"suggestion: postcode {code} -> {likely} ({commune} lies far "
                       f"nearer {postcodes.departments()[likely[:2]].name})")
    else:
        return value
    at = value.rfind(code)
    return value[:at] + likely + value[at + len(code):]


def _phone_digits(text: str) -> str:
    """The digits of a reading when they make a French number (ten, from 0), else ""."""
    digits = "".join(c for c in text if c.isdigit())
    return digits if len(digits) == 10 and digits[0] == "0" else ""


def phone_suggestion(ev: TextEvidence, value: str, repairs: list[str]) -> str:
    """A handwritten number in review: read digit by digit, the line readers' digits as hints.

    Line readers trained on print slip on most hand-drawn digits; the digit
    classifier reads them one at a time and slips elsewhere. Together they
    are right more often than either: on two generated sets, 45 % and 43 % of
    handwritten numbers in review, against 26 % and 22 % for the line readers'
    best. Never accepted: where the classifier and the second engine agreed,
    one in twelve was still wrong.
    """
    if not ev.crops or ev.crops[0].size == 0:
        return value
    hints = [_phone_digits(ev.raw(TESS))]
    if ev.ran_second:
        hints.append(_phone_digits(ev.raw(SECOND)))
    d = handdigits.read_phone(ev.crops[0], hints=tuple(hints))
    if not d.text:
        return value
    checked = validate.check_value(FieldKind.PHONE, d.text)
    if checked.ok and checked.value != value:
        repairs.append(f"suggestion: read digit by digit as {checked.value}")
        return checked.value
    return value


# What a handwritten digit is read as ("/SIDO SAINT-FLOUR", "©3500 GANNAT")
_HAND_DIGITS = {**dict.fromkeys("OoQD@©", "0"), **dict.fromkeys("()/\\|!Il", "1"),
                **dict.fromkeys("Zz", "2"), **dict.fromkeys("Ss", "5"),
                **dict.fromkeys("Gb", "6"), "B": "8", **dict.fromkeys("qg", "9")}
_AS_HAND_DIGIT = str.maketrans(_HAND_DIGITS)
# five of them (not all letters) before the commune's name
_POSTCODE_PLACE = re.compile(
    rf"(?<![\w@])([\d{re.escape(''.join(_HAND_DIGITS))}]{{5}})(?=\s+[^\W\d_]{{2}})")


def lookalike_postcode(value: str, repairs: list[str]) -> str:
    """A handwritten address with no postcode read: five characters before the
    commune, digits and what digits are read as, taken as the postcode when that
    puts it in the commune's region ("/SIDO SAINT-FLOUR" -> "15100")."""
    if validate.postcode_and_commune(value)[0]:
        return value
    found = []
    for m in _POSTCODE_PLACE.finditer(value):
        code = m.group(1).translate(_AS_HAND_DIGIT)
        commune = value[m.end(1):].strip(" ,")
        if (not m.group(1).isalpha() and code.isdigit()
                and postcodes.fits(code, commune)):
            found.append((m, code))
    if len(found) != 1:
        return value
    m, code = found[0]
    repairs.append(f"suggestion: postcode {m.group(1)!r} read as {code}")
    return value[:m.start(1)] + code + value[m.end(1):]


def postcode_suggestion(ev: TextEvidence, value: str, repairs: list[str]) -> str:
    """A handwritten address in review: its postcode read digit by digit.

    Tesseract reads a handwritten postcode right about one time in eight
    ("43/3D", "(3140"); the digit reader, told where the line's reading shows
    digits, about four times in ten (generated sets); but not one that puts
    the commune in another region. Only ever a suggestion.
    """
    code, _ = validate.postcode_and_commune(value)
    best, line = handdigits.DigitReading("", 0.0), -1
    for i, (crop, text) in enumerate(zip(ev.crops, ev.t_lines, strict=False)):
        if crop.size:
            r = handdigits.find_postcode(crop, text=text)
            if r.confidence > best.confidence:
                best, line = r, i
    if not best.text or best.text == code:
        return value
    if code:  # in the value chosen (either engine's), where its postcode was read
        at = value.rfind(code)
        suggested = value[:at] + best.text + value[at + len(code):]
    else:  # none read: where Tesseract's line shows digits
        span = handdigits.postcode_span(ev.t_lines[line])
        if span is None:
            return value
        lines = list(ev.t_lines)
        text = lines[line]
        lines[line] = f"{text[:span[0]].rstrip()} {best.text} {text[span[1]:].lstrip()}".strip()
        suggested = canonical(FieldKind.ADDRESS, "\n".join(lines), ev.words).value
    if (not suggested or best.text not in suggested or suggested == value
            or postcodes.address_fits(suggested) is False):
        return value
    repairs.append(f"suggestion: postcode read digit by digit as {best.text}")
    return suggested

"""The reviewer's pre-filled value: the reading, with what is surely misread put right.

Typed or handwritten, where the two engines read a word differently and only
one of their words is known, that one is taken ("missipoo" / "mission"); specks
left out, a split word joined, a surname given its capital, accents as the
writer puts them (`accents`). By hand, unknown words are offered as the
nearest known ones (`vocabulary`), a phone number is read again digit by digit
(`handdigits`), and the page as a whole says whether it is in capitals.
Addresses: `addresssuggest`; e-mails: `mailsuggest`. Nothing here is ever
accepted unseen: it only pre-fills a field already sent to review, with a note.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np
from rapidfuzz.distance import Levenshtein

from pipeline import accents, handdigits, spelling, validate
from pipeline.addresssuggest import (
    box_number,
    capitalised_way,
    fitting_postcode,
    house_number_suggestion,
    la_mairie,
    lookalike_postcode,
    place_suggestion,
    postcode_suggestion,
    street_type,
)
from pipeline.imaging import marks_above
from pipeline.template import FieldKind
from pipeline.trust import lexicon
from pipeline.trust.evidence import (
    JUNK_TOKEN,
    SECOND,
    TESS,
    TextEvidence,
    mostly_capitals,
    small_surnames,
)
from pipeline.trust.lexicon import fold
from pipeline.vocabulary import (
    VOCABULARY,
    compound_place,
    field_head,
    field_words,
    known_words,
    lookalike_letters,
)


@dataclass(frozen=True)
class PageHand:
    """How the page is written, as all its fields together show it."""

    capitals: bool = False  # block capitals throughout (or typed so)
    accents: bool | None = None  # accents on capitals: yes, no, or not told (`accents.habit`)
    commune: str = ""  # the commune its address names, if a known one


CAPITALS_SHARE = 0.8  # of a page's letters, read as capitals: a page in block capitals
# (development pages: block 263 of 264 at 0.8 or more, mixed and typed none above 0.79)


def page_hand(texts: Sequence[str], address: str = "",
              crops: Sequence[np.ndarray] = ()) -> PageHand:
    """`PageHand` from Tesseract's readings of a page's names, titles and address
    (with their line `crops`: the ink over capitals, where the readings do not
    tell the accents)."""
    letters = [c for t in texts for c in t if c.isalpha()]
    capitals = len(letters) >= 20 and sum(c.isupper() for c in letters) >= (
        CAPITALS_SHARE * len(letters))
    _, commune = validate.postcode_and_commune(" ".join(address.split()))
    commune = commune if commune and lexicon.is_commune(commune) else ""
    marks = (lambda: sum(marks_above(c) for c in crops)) if capitals and crops else None
    return PageHand(capitals, accents.habit(texts, marks), commune)


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
    value = joined_words(o_for_q(without_junk(value, repairs), repairs), repairs)
    if ev.words and len(value) == 1:
        repairs.append(f"suggestion: '{value}' alone is no word (a speck)")
        return ""
    value = combine(ev.field, value, other, repairs, caps=hand and mostly_capitals(value),
                    accents=chosen != TESS)
    if ev.words:
        value = capitalised_surnames(elided_l(value, repairs), repairs)
        value = misread_connective(glued_elision(value, repairs), repairs)
    if ev.field in ("structure", "fonction"):
        value = capitalised_start(value, repairs)
    if ev.kind == FieldKind.ADDRESS:
        value = la_mairie(capitalised_way(street_type(value, repairs), repairs), repairs)
        if hand:
            value = postcode_suggestion(ev, house_number_suggestion(ev, value, repairs), repairs)
            value = box_number(value, repairs)
            # (a postcode read digit by digit replaces the digits of a token, not its specks)
            value = without_junk(value, repairs)
        if hand or mostly_capitals(value):
            value = lookalike_postcode(value, repairs)
        value = place_suggestion(fitting_postcode(value, repairs), repairs, page.accents,
                                 page.capitals)
    if hand or mostly_capitals(value):  # neat block capitals can pass for type
        value = compound_place(ev.field, lookalike_letters(ev.field, value, repairs), repairs)
        value = town_hall(ev.field, field_head(ev.field, value, repairs), repairs,
                          page.commune)
        value, changes = known_words(ev.field, value)
        repairs.extend(f"suggestion: {c}" for c in changes)
        if page.capitals and not value.isupper():
            value = value.upper()
            repairs.append("suggestion: case: block capitals throughout")
        if ev.words:  # once more, on the words as snapped and in capitals ("oU" -> "OU")
            value = misread_connective(glued_elision(value, repairs), repairs)
        value = bare_town_hall(ev.field, value, repairs)
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


# "I'Allier": French elides "le"/"la", never an "I", before a vowel or h
_I_ELIDED = re.compile(r"(?<![^\W\d_])I(?=['’][aeiouyhàâäéèêëîïôöûüAEIOUYHÀÂÄÉÈÊËÎÏÔÖÛÜ])")


def joined_words(value: str, repairs: list[str]) -> str:
    """Two neighbours, not both words, that make a known word joined ("DÉVELOPPE MENT",
    "MIS SION"): one word the reading split. (A name split by a reader, "AN NA", is
    the handwriting readers' and the lists' to tell: `trust.handnames`.)"""
    out: list[str] = []
    for t in value.split(" "):
        if out and (joined := _joined(out[-1], t)):
            repairs.append(f"suggestion: {out[-1]} {t} -> {joined} (one word)")
            out[-1] = joined
        else:
            out.append(t)
    return " ".join(out)


def _joined(a: str, b: str) -> str | None:
    if (not (_WORDLIKE.fullmatch(a) and _WORDLIKE.fullmatch(b)) or a[-1] in ",.'’"
            or len(b) < 2 or _ELIDED.match(b)):
        return None  # "place d'Armes", "de l'Allier": an elision starts a word
    joined = a + (b if a.isupper() else b.lower())
    known = spelling.known_word
    # the pieces that meet: "PUY" of "DU PUY-DE-DOME", not the whole name
    left, right = re.split(r"[-'’]", a)[-1], re.split(r"[-'’]", b.strip(",."))[0]
    titles = field_words()
    if fold(left + right).lower() in titles and not (
            fold(left).lower() in titles or fold(right).lower() in titles):
        return joined  # "MIS SION": two short words, but one a title is made of
    if min(len(left), len(right)) < 4 and known(left) and known(right):
        return None  # "en cours", "du Puy", "DE SOUSA", though "Dupuy" is a name too
    parts = [p for p in re.split(r"[-'’]", joined.strip(",.")) if p]
    return joined if all(known(p) for p in parts) else None


# A word opening on an elided article or preposition ("d'Armes", "L'ALLIER")
_ELIDED = re.compile(r"[^\W\d_]['’]")


# "Mairie de Royat", "MAIRIE D'AURILLAC": what follows is a commune's name
_TOWN_HALL = re.compile(r"^\s*(?:mairie|ville)\s+(?:de\s+|d['’]\s*|du\s+)", re.IGNORECASE)


# a town hall and a commune opening on a vowel, the "d'" between them not read
_TOWN_HALL_BARE = re.compile(r"^(\s*mairie\s+)(?=[aeiouyhàâéèêîô])", re.IGNORECASE)


def bare_town_hall(fid: str, value: str, repairs: list[str]) -> str:
    """"MAIRIE AURILLAC" -> "MAIRIE D'AURILLAC": a town hall before a commune opening
    on a vowel, its "d'", a small mark, lost."""
    bare = _TOWN_HALL_BARE.match(value) if fid == "structure" else None
    if not bare or not lexicon.is_commune(value[bare.end():].strip()):
        return value
    elision = "D'" if value[bare.end():].isupper() else "d'"
    repairs.append(f"suggestion: {elision} put back after {bare.group(1).strip()}")
    return value[:bare.end()] + elision + value[bare.end():].lstrip()


def town_hall(fid: str, value: str, repairs: list[str], commune: str = "") -> str:
    """A town hall's structure whose commune is no place, as the commune of the page's
    address if it is that a few letters off ("Mairie de foyat" above "63130 Royat"),
    else the one commune a letter or two off."""
    m = _TOWN_HALL.match(value) if fid == "structure" else None
    if not m or not (read := value[m.end():].strip()) or lexicon.is_commune(read):
        return value
    key = lexicon.fold_key(read)
    if commune and Levenshtein.distance(key, lexicon.fold_key(commune)) <= max(
            1, round(0.4 * len(key))):
        official = lexicon.commune_names().get(lexicon.fold_key(commune), commune)
        name: str | None = official.upper() if read.isupper() else official
    else:
        name = spelling.nearest_commune(read)
    if name is None:
        return value
    repairs.append(f"suggestion: {read} -> {name} (a commune, after {m.group(0).strip()})")
    return value[:m.end()] + name


def elided_l(value: str, repairs: list[str]) -> str:
    """"de I'Allier" -> "de l'Allier": an I before an apostrophe is an l (L in capitals)."""
    ell = "L" if mostly_capitals(value) else "l"
    fixed = _I_ELIDED.sub(ell, value)
    if fixed != value:
        repairs.append(f"suggestion: I' -> {ell}' (an elided article)")
    return fixed


# An elided article run into its word ("DAUVERGNE", "lEglise"): the apostrophe lost
_GLUED_ELISION = re.compile(r"(?<![^\s(])([DdLl])([AEIOUYHÀÂÉÈÊÎÔaeiouyhàâéèêîô][^\W\d_]{3,})"
                            r"(?![^\s),.\-])")


def glued_elision(value: str, repairs: list[str]) -> str:
    """"PARC DES VOLCANS DAUVERGNE" -> "D'AUVERGNE": a word no lexicon knows that is
    "d" or "l" before a known word or place opening on a vowel (the apostrophe,
    a small mark, was not read)."""
    def fix(m: re.Match[str]) -> str:
        word, rest = m.group(0), m.group(2)
        # (a word, or a commune: "LAVAL" is no "L'AVAL")
        if spelling.known(word.lower()) or lexicon.is_commune(word) or not spelling.known(
                rest.capitalize(), names=False):
            return word
        repairs.append(f"suggestion: {word} -> {m.group(1)}'{rest} (an elided article)")
        return f"{m.group(1)}'{rest}"

    return _GLUED_ELISION.sub(fix, value)


# Between two words in capitals, "DE" or "DU" with its D read as a round or barred
# letter ("FOYERS RURAUX OU PUY-DE-DÔME", "MAIRIE PE THIERS")
_CONNECTIVE = re.compile(r"(?<=[^\W\d_] )([OQPVB0])([EÉUÙ])(?= [^\W\d_])")


def misread_connective(value: str, repairs: list[str]) -> str:
    """In block capitals, a two-letter word between two others that is "DE" or "DU"
    with another first letter: the D; even where that makes a word ("OU", "VU"),
    as names of bodies and titles join their words with "de" and "du"."""
    if not mostly_capitals(value):
        return value

    def fix(m: re.Match[str]) -> str:
        meant = "DE" if m.group(2) in "EÉ" else "DU"
        repairs.append(f"suggestion: {m.group(0)} -> {meant} (between two words)")
        return meant

    return _CONNECTIVE.sub(fix, value)


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

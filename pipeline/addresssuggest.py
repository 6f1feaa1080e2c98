"""A handwritten or typed address in review: its way, its postcode, read again.

A street type a letter off ("PLAGE DE LA MAIRIE"); a postcode read as look-alikes
("/SIDO SAINT-FLOUR"), or read again digit by digit by `handdigits`; a postcode
whose department is not where its commune lies ("93000 Moulins" -> "03000").
Only ever suggestions: `suggest.prefill` calls these for fields in review.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from pipeline import handdigits, validate
from pipeline.nearby import CharCounts
from pipeline.template import FieldKind
from pipeline.trust import lexicon, postcodes
from pipeline.trust.evidence import TextEvidence, canonical, mostly_capitals
from pipeline.trust.lexicon import fold
from pipeline.vocabulary import ACCENTED, as_written

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
    near = _near_street_types(key)
    if len(near) != 1 or len(key) < 3:
        return value
    found = as_written(near[0], word, accents=bool(ACCENTED.search(value)))
    repairs.append(f"suggestion: {word} -> {found} (a street type)")
    return value[:m.start(1)] + found + value[m.end(1):]


def _near_street_types(key: str) -> list[str]:
    """The street types a folded word is a letter (two in a long one) off."""
    return [t for t in STREET_TYPES
            if Levenshtein.distance(key, fold(t)) <= (2 if len(key) >= 6 else 1)]


# no street is named after a Marie with an article: it is the town hall's square
_LA_MARIE = re.compile(r"\b(de la|DE LA|De La) (marie|MARIE|Marie)\b")


def la_mairie(value: str, repairs: list[str]) -> str:
    """"PLACE DE LA MARIE" -> "PLACE DE LA MAIRIE": a town hall read a letter short
    (a first name and a word too, so no spelling check questions it)."""
    def fix(m: re.Match[str]) -> str:
        meant = {"marie": "mairie", "MARIE": "MAIRIE"}.get(m.group(2), "Mairie")
        repairs.append(f"suggestion: {m.group(2)} -> {meant} (a street by the town hall)")
        return f"{m.group(1)} {meant}"

    return _LA_MARIE.sub(fix, value)


def capitalised_way(value: str, repairs: list[str]) -> str:
    """An address opening on a street type in small letters, with no number before
    it, gets its capital ("place de la Mairie" -> "Place de la Mairie")."""
    m = re.match(r"\s*([^\W\d_]+)", value)
    if not m or not m.group(1).islower() or fold(m.group(1)).lower() not in _STREET_KEYS:
        return value
    repairs.append(f"suggestion: {m.group(1)} -> {m.group(1).capitalize()} (an address's "
                   "first word)")
    return value[:m.start(1)] + m.group(1).capitalize() + value[m.end(1):]


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
        text = ev.t_lines[line]
        read = text[span[0]:span[1]].strip()

        def put(s: str, start: int, end: int) -> str:
            return f"{s[:start].rstrip()} {best.text} {s[end:].lstrip()}".strip()

        if read and value.count(read) == 1:
            # in the value as suggested so far (its house number, its street's name)
            at = value.index(read)
            mended = put(value, at, at + len(read))
        else:  # the value no longer shows it as read: Tesseract's lines, mended there
            lines = list(ev.t_lines)
            lines[line] = put(text, *span)
            mended = "\n".join(lines)
        suggested = canonical(FieldKind.ADDRESS, mended, ev.words).value
    if (not suggested or best.text not in suggested or suggested == value
            or postcodes.address_fits(suggested) is False):
        return value
    repairs.append(f"suggestion: postcode read digit by digit as {best.text}")
    return suggested


# the first words of a way read: what the house number's place holds, then the word after
_NUMBER_SLOT = re.compile(r"^\s*([^\s,]{1,3}),?\s+([^\W\d_]+)")
_HOUSE_SUFFIXES = frozenset(("bis", "ter", "quater"))
_ARTICLES = frozenset(("le", "la", "les", "l", "au", "aux", "du", "de", "des", "en", "d"))


def house_number_suggestion(ev: TextEvidence, value: str, repairs: list[str]) -> str:
    """A handwritten address in review: its house number read again, digit by digit.

    Tesseract reads a handwritten house number as letters as often as not
    ("LD ROUTE", "YO, IMPASSE", "CI, AVENUE") or a digit off ("17" for "12").
    Where the address starts with something of a number's length before a
    street type or "bis"/"ter", the first word of ink on the first line is
    read by the digit classifier. Where Tesseract read digits, only as many
    digits replace them: on development pages, longer readings took a comma
    or the next word's first letter for a digit ("60" -> "617") more often
    than they found a lost one.
    """
    m = _NUMBER_SLOT.match(value)
    if not m or not ev.crops or not ev.crops[0].size or not ev.t_lines[0].strip():
        return value
    token, after = m.group(1), fold(m.group(2)).lower()
    way = (after in _STREET_KEYS or after in STREET_ABBREVIATIONS or after in _HOUSE_SUFFIXES
           or (len(after) >= 3 and bool(_near_street_types(after))))
    if (not way or "'" in token or "’" in token or re.search(r"\d-\d", token)
            or fold(token).lower() in _ARTICLES or fold(token).lower() in STREET_ABBREVIATIONS):
        return value
    hint = token if token.isdigit() else ""
    read = handdigits.find_house_number(ev.crops[0], ev.t_lines[0], hint).text
    if not read or read == token or (hint and len(read) != len(hint)):
        return value
    repairs.append(f"suggestion: house number {token!r} read digit by digit as {read}")
    return value[:m.start(1)] + read + value[m.end(1):]


# a box number's place: what follows "BP" or "CS"
_BOX_NUMBER = re.compile(r"\b(BP|CS)(\s+)([^\s,]{1,4})(?=[\s,]|$)", re.IGNORECASE)


def box_number(value: str, repairs: list[str]) -> str:
    """A handwritten box number with a digit read as its look-alike ("BP (4" -> "BP 14"):
    where the look-alikes as digits make the token a number."""
    def fix(m: re.Match[str]) -> str:
        token = m.group(3)
        digits = token.translate(_AS_HAND_DIGIT)
        if token.isdigit() or not digits.isdigit() or not any(c.isdigit() for c in token):
            return m.group(0)
        repairs.append(f"suggestion: box number {token!r} read as {digits}")
        return f"{m.group(1)}{m.group(2)}{digits}"

    return _BOX_NUMBER.sub(fix, value)


# Read in a commune's name for the letter it looks like ("15S01RE" for ISSOIRE)
_AS_HAND_LETTER = str.maketrans({"0": "o", "1": "i", "5": "s", "8": "b"})
# a box number before the postcode on the commune's line, kept as written
_BOX = re.compile(r"^(.*\b(?:BP|CS|TSA)\s*\S+\s*(?:-\s*)?)(.*)$", re.IGNORECASE)
PLACE_SIMILARITY = 70  # how like the commune read a commune's name must be (0-100) ...
PLACE_SIMILARITY_WITH_CODE = 55  # ... or, with CODE_AGREES of its postcode's digits read
CODE_AGREES = 4
DIGIT_WEIGHT = 8  # a postcode digit read right is worth this much name similarity ...
# ... and ten times as many inhabitants this much: mail comes from where people are.
# (A digit read right is about 9 to 1 evidence, as is a tenfold population; taken at
# two thirds of that, as the mail of one seminar is not the country's.)
POPULATION_WEIGHT = 5
PLACE_MARGIN = 6  # over the next likeliest place, else no suggestion
PLACE_POOL = 30  # names looked at for each way of reading the line


@dataclass(frozen=True)
class _PlaceGuess:
    score: float
    similarity: float
    agree: int
    code: str
    name: str


def _as_code(read: str) -> str:
    """The characters read for a postcode, look-alikes as their digit, without spaces."""
    return "".join(read.translate(_AS_HAND_DIGIT).split())


def _code_agreement(read: str, code: str) -> int:
    """How many of a postcode's digits the characters read for it (`_as_code`) show,
    in place: the read is slid along the code (a digit lost, or a stroke read as one)
    and the best placement kept.
    """
    if not read:
        return 0
    if len(read) >= len(code):
        return max(sum(a == b for a, b in zip(read[i:i + len(code)], code, strict=True))
                   for i in range(len(read) - len(code) + 1))
    return max(sum(a == b for a, b in zip(read, code[i:], strict=False))
               for i in range(len(code) - len(read) + 1))


def _splits(line: str) -> list[tuple[str, str]]:
    """(code read, commune read) for each way of cutting a commune's line into a
    postcode and a name: between words, or after the fifth character of a first
    word the two are run into ("L3S4OROMAGNAT")."""
    out = [("", line)]
    out += [(line[:t.start()], line[t.start():]) for t in list(re.finditer(r"\S+", line))[1:]]
    first = line.split()[0] if line.split() else ""
    if len(first) > 7 and not first[:5].isalpha():
        out.append((first[:5], line.lstrip()[5:]))
    return out


@cache
def _place_index() -> tuple[list[str], CharCounts]:
    keys = list(postcodes.places())
    return keys, CharCounts(keys)


def _similar_places(key: str) -> dict[str, float]:
    """The PLACE_POOL places whose key is likest `key`, at PLACE_SIMILARITY_WITH_CODE or
    more: `process.extract` over only the places of the 33,000 that could reach it
    (`nearby`; the same places and scores, at a fraction of the time)."""
    keys, counts = _place_index()
    could = counts.within_ratio(key, PLACE_SIMILARITY_WITH_CODE)
    found = process.extract(key, [keys[i] for i in could], scorer=fuzz.ratio, limit=PLACE_POOL,
                            score_cutoff=PLACE_SIMILARITY_WITH_CODE)
    return {name: sim for name, sim, _ in found}


def _place_guesses(line: str) -> list[_PlaceGuess]:
    guesses: dict[tuple[str, str], _PlaceGuess] = {}
    for code_read, name_read in _splits(line):
        key = postcodes.place_key(re.sub(r"[^\w\s'-]", "", name_read.translate(_AS_HAND_LETTER)))
        if len(key.replace(" ", "")) < 3:
            continue
        # the names most like the one read, and those its postcode, if read, serves
        # ("63220 MSLANC": Arlanc is no nearer than thirty other names)
        found_names = _similar_places(key)
        digits = _as_code(code_read)
        # what is left before the name must look like a postcode: more than a stray
        # mark besides its five digits costs as much as a digit wrong
        extra = max(0, len("".join(code_read.split())) - 6)
        for i in range(len(digits) - 4):
            for found, _ in postcodes.places_by_code().get(digits[i:i + 5], ()):
                if found not in found_names:
                    sim = fuzz.ratio(key, found)
                    if sim >= PLACE_SIMILARITY_WITH_CODE:
                        found_names[found] = sim
        for found, sim in found_names.items():
            for code, name in postcodes.places()[found]:
                agree = _code_agreement(digits, code)
                prior = POPULATION_WEIGHT * math.log10(postcodes.population(code, name))
                g = _PlaceGuess(sim + DIGIT_WEIGHT * (agree - extra) + prior, sim, agree,
                                code, name)
                if (code, name) not in guesses or g.score > guesses[code, name].score:
                    guesses[code, name] = g
    return sorted(guesses.values(), key=lambda g: -g.score)


def place_suggestion(value: str, repairs: list[str], writes_accents: bool | None = None,
                     all_capitals: bool = False) -> str:
    """An address whose postcode and commune are no pair France's postcode table
    knows: the pair most like what was read, where one stands out.

    The commune's name is matched loosely, and each of its postcodes scored by
    the digits read for it ("ITSOO MASSUC" -> "15500 MASSIAC"); a name read
    nearly right with a garbled code takes the name's code. Only ever a
    suggestion, and not for a CEDEX address (its code is a company's own).
    """
    head, sep, line = value.rpartition(", ")
    if not sep or postcodes.is_cedex(value):
        return value
    code, commune = validate.postcode_and_commune(line)
    pair = postcodes.known_pair(code, commune) if code and commune else False
    if pair or (pair is None and lexicon.is_commune(commune)):
        return value  # a pair the table knows, or a place it does not list (an old commune)
    # a box number ("BP 234 - "), or what was read of one ("272 - "), kept as written
    box = _BOX.match(line) or re.match(r"^(.*\d{2}\s*-\s+)(.*)$", line)
    kept, line = (box.group(1), box.group(2)) if box else ("", line)
    guesses = _place_guesses(line)
    if not guesses:
        return value
    best = guesses[0]
    rival = guesses[1].score if len(guesses) > 1 else 0.0  # (one guess per place)
    if best.score - rival < PLACE_MARGIN or not (
            best.similarity >= PLACE_SIMILARITY
            or (best.similarity >= PLACE_SIMILARITY_WITH_CODE and best.agree >= CODE_AGREES)):
        return value
    name = best.name
    if mostly_capitals(line):
        name = name.upper()
        # capitals' accents as the page writes them; a page all in capitals that
        # does not tell, as this address does (a mixed page's accents show elsewhere)
        if writes_accents is False or (writes_accents is None and all_capitals
                                       and not ACCENTED.search(value)):
            name = fold(name, case=False)
    suggested = f"{head}, {kept}{best.code} {name}"
    if canonical(FieldKind.ADDRESS, suggested, False).value == canonical(
            FieldKind.ADDRESS, value, False).value:
        return value
    repairs.append(f"suggestion: {line.strip()!r} -> {best.code} {name} (the likeliest "
                   "postcode and commune of France's postcode table)")
    return suggested

"""A handwritten or typed address in review: its way, its postcode, read again.

A street type a letter off ("PLAGE DE LA MAIRIE"); a postcode read as look-alikes
("/SIDO SAINT-FLOUR"), or read again digit by digit by `handdigits`; a postcode
whose department is not where its commune lies ("93000 Moulins" -> "03000").
Only ever suggestions: `suggest.prefill` calls these for fields in review.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

from pipeline import handdigits, validate
from pipeline.template import FieldKind
from pipeline.trust import postcodes
from pipeline.trust.evidence import TextEvidence, canonical
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
    near = [t for t in STREET_TYPES
            if Levenshtein.distance(key, fold(t)) <= (2 if len(key) >= 6 else 1)]
    if len(near) != 1 or len(key) < 3:
        return value
    found = as_written(near[0], word, accents=bool(ACCENTED.search(value)))
    repairs.append(f"suggestion: {word} -> {found} (a street type)")
    return value[:m.start(1)] + found + value[m.end(1):]


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
        lines = list(ev.t_lines)
        text = lines[line]
        lines[line] = f"{text[:span[0]].rstrip()} {best.text} {text[span[1]:].lstrip()}".strip()
        suggested = canonical(FieldKind.ADDRESS, "\n".join(lines), ev.words).value
    if (not suggested or best.text not in suggested or suggested == value
            or postcodes.address_fits(suggested) is False):
        return value
    repairs.append(f"suggestion: postcode read digit by digit as {best.text}")
    return suggested

"""Validate and normalise OCR readings before anything reaches a reviewer.

Every checker returns a `Checked`: the normalised value, whether it is valid,
the repairs made (so a reviewer can see that the machine changed what it read)
and, when invalid, why. Repairs are only kept when they turn the reading into a
valid value: a repair that does not help would just hide what was read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberFormat, ValidationResult
from publicsuffixlist import PublicSuffixList

from pipeline.models import Reason
from pipeline.template import FieldKind, Template

PHONE_REGION = "FR"
PARTICIPATES = "participera"  # the lunch rule: one cannot lunch without attending
LUNCHES = "dejeunera"
YES = "oui"


@dataclass(frozen=True)
class Checked:
    value: str  # normalised value, '' when empty
    ok: bool  # passes validation; an empty value is ok (required-ness is a form rule)
    repairs: tuple[str, ...] = ()  # what was repaired, in words a reviewer understands
    problem: str | None = None  # why the value is invalid, for the reviewer
    # False when a repair chose between readings the image cannot tell apart ('I' or
    # 'l'): a suggestion for a reviewer, never a value to accept unseen.
    sure: bool = True


# --- text ----------------------------------------------------------------------------

# Runs of the printed dotted leader (or typed substitutes) that OCR reads with the writing.
_LEADER_RUN = r"(?:[.…_:·\-–—]{2,}|…)"
# A single punctuation mark standing alone at an end: a speck, a border, a label's colon.
_STRAY = r"[.,;:_\-–—·'\"`|*~…]"
_END_JUNK = [
    re.compile(rf"^\s*{_LEADER_RUN}\s*"),
    re.compile(rf"\s*{_LEADER_RUN}\s*$"),
    re.compile(rf"^{_STRAY}\s+"),  # ": Dupont"
    re.compile(rf"\s+{_STRAY}$"),  # "Dupont ."
    re.compile(r"^[.,;:_]+"),  # ".Dupont" - nothing legitimately starts so
    re.compile(r"[,;:_]+$"),  # "Dupont:" - a final '.' is kept: it may end an abbreviation
    re.compile(r"(?<=[^\W\d_])[!|]+$"),  # "Cantal!": a border or speck read with the word
    # a last "word" with no letter or digit in it: fax specks, a border ("Massiac
    # ' | ; | (", "Riom '°"); a closing bracket is kept. (Not a first one: "| place"
    # is more likely a street number misread than a speck.)
    re.compile(r"\s+[^\w\s)]{1,3}$"),
]


# A leader dot fused to a word: "Maire.", "du. Bassin", "Auvergne.Active". A real
# abbreviation is short ("Bd.", "St.", "M.") and keeps its dot.
_WORD3 = r"[^\W\d_]{4}"
_FUSED_DOTS = [
    (re.compile(rf"(?<={_WORD3})\.(?=\s+[a-zà-ÿ])"), ""),  # "du. Bassin" is no sentence end
    (re.compile(rf"(?<={_WORD3})\.(?=[^\W\d_]{{3}})"), " "),  # "Auvergne.Active"
    (re.compile(rf"(?<={_WORD3})\.(?=[a-zà-ÿ]{{1,2}}\s)"), " "),  # "entreprises.en charge"
    (re.compile(rf"(?<={_WORD3})\.$"), ""),  # "Maire."
    # French small words are never abbreviated: "de. la", "du. Bassin", "de.Riom"
    (re.compile(r"\b(de|du|des|la|le|les|au|aux|et|en|sur|sous)\.(?=\s)", re.IGNORECASE), r"\1"),
    (re.compile(r"\b(de|du|des|la|le|les|au|aux|et|en|sur|sous)\.(?=[^\W\d_])", re.IGNORECASE),
     r"\1 "),
    # a one-line field holds no sentence end, and an abbreviation is short: "programme. LEADER"
    (re.compile(r"(?<=[^\W\d_]{5})\.(?=\s+[^\W\d_])"), ""),
]
# Thin brackets read as slashes: "(pôle attractivité)" as "/pôle attractivité/".
_SLASHED = re.compile(r"(?<![^\s])/([^\W\d_][^/()]*[^\W\d_])/(?![^\s,])")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'"})


def _clean(raw: str) -> str:
    """NFC, one space between words, straight apostrophes, no leader residue or stray marks."""
    text = " ".join(unicodedata.normalize("NFC", raw).translate(_APOSTROPHES).split())
    previous = None
    while text != previous:
        previous = text
        for pattern in _END_JUNK:
            text = pattern.sub("", text).strip()
        for pattern, repl in _FUSED_DOTS:
            text = pattern.sub(repl, text)
    return _SLASHED.sub(r"(\1)", text)


# A hyphen with a space on one side only: a compound the reading split ("Fouquet -Hardy").
_HALF_SPACED_HYPHEN = re.compile(r"(?<=[^\W\d_]) -(?=[^\W\d_])|(?<=[^\W\d_])- (?=[^\W\d_])")


def check_text(raw: str) -> Checked:
    """Names, structure, fonction: cleaned, case kept as written; never invents letters."""
    text = _clean(raw)
    joined = _HALF_SPACED_HYPHEN.sub("-", text)
    if joined != text:  # likely, but the writer may have meant a dash: a reviewer decides
        return Checked(joined, ok=True, repairs=("joined a hyphenated word split by a space",),
                       sure=False)
    return Checked(text, ok=True)


# --- e-mail --------------------------------------------------------------------------

_EDGE_JUNK = re.compile(r"^[\s.,;:'\"`<>()\[\]{}|*~_…-]+|[\s.,;:'\"`<>()\[\]{}|*~_…-]+$")


def _normal_email(address: str) -> str:
    """Lower-cased normal form; raises EmailNotValidError. No DNS: scans are read offline.

    The domain stays in ASCII (punycode, xn--...): shown as Unicode, xn--pypal-4ve.com
    would read as a look-alike of paypal.com.
    """
    info = validate_email(address, check_deliverability=False)
    domain = (info.ascii_domain or info.domain).lower()
    normal = f"{info.local_part}@{domain}".lower()
    if _suffixes().publicsuffix(domain) is None:
        raise EmailNotValidError(f"the domain ends in '.{domain.rpartition('.')[2]}', "
                                 "which no real address does")
    return normal


@cache
def _suffixes() -> PublicSuffixList:
    """The Public Suffix List shipped with the package; unknown endings are not suffixes."""
    return PublicSuffixList(accept_unknown=False)


_ONE_GAP = re.compile(r"^[\w-]+ [\w-]+$")
# What a lost or misread '@' leaves: a letter that looks like it, in its place.
AT_LOOKALIKES = "q©®&Qw8"  # what an "@" is read as


# Endings a lost '.' is put back before: the ones French addresses use. Not any real
# one: "orange" is no "oran.ge".
COMMON_ENDINGS = ("fr", "com", "net", "org", "eu", "info", "be", "ch")


def ending_dot(domain: str) -> str | None:
    """"cci-montluconfr" -> "cci-montlucon.fr": the domain with the '.' put back before
    the usual ending its last part runs into, if it does."""
    head, dot, last = domain.rpartition(".")
    for ending in sorted(COMMON_ENDINGS, key=len, reverse=True):  # gmail.com, not gmailc.om
        stem = last[: -len(ending)]
        if last.endswith(ending) and len(stem) >= 2:
            return f"{head}{dot}{stem}.{ending}"
    return None


def dotted_domain(domain: str) -> str | None:
    """A domain with no "." given the one before its usual ending, lost ("beaumontfr")
    or read as a "-" ("beaumont-fr"); None if it has one or runs into no ending."""
    fixed = ending_dot(domain) if "." not in domain else None
    return fixed.replace("-.", ".") if fixed else None


def _lost_suffix_dot(address: str) -> str | None:
    """"x@cci-montluconfr": the '.' before a usual ending lay on a printed dot and went."""
    local, _, domain = address.rpartition("@")
    fixed = ending_dot(domain)
    return f"{local}@{fixed}" if fixed else None


def _lost_at(address: str) -> str | None:
    """The one place where an '@' read as a look-alike makes a valid address, if only one."""
    found = []
    for i, c in enumerate(address):
        if c in AT_LOOKALIKES:
            candidate = f"{address[:i]}@{address[i + 1:]}"
            try:
                found.append(_normal_email(candidate))
            except EmailNotValidError:
                continue
    return found[0] if len(found) == 1 else None


def check_email(raw: str) -> Checked:
    """Syntax-checked (no DNS), lower-cased; obvious OCR slips repaired if that makes it valid.

    A capital 'I' in an address otherwise written in lower case is most likely an
    'l' (the two are one glyph in many fonts): read as 'l', but not sure.
    """
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    if not text:
        return Checked("", ok=True)
    read = text
    repairs: list[str] = []
    sure = True
    if "I" in text and not any(c.isupper() for c in text.replace("I", "")):
        text = text.replace("I", "l")
        repairs.append("read 'I' as 'l' (the same shape in many fonts)")
        sure = False
    try:  # a valid reading is never "repaired"
        return Checked(_normal_email(text), ok=True, repairs=tuple(repairs), sure=sure)
    except EmailNotValidError:
        pass
    candidate = _EDGE_JUNK.sub("", text)
    if candidate != text:
        repairs.append("removed punctuation at the start or end")
    head, _, tail = candidate.partition(" ")
    if "@" in head and tail and "@" not in tail:
        # "henryb@orange.fr....... .. ll": leader residue read after the address
        try:
            return Checked(_normal_email(_EDGE_JUNK.sub("", head)), ok=True, sure=False,
                           repairs=(*repairs, "dropped what was read after the address"))
        except EmailNotValidError:
            pass
    if ".." in candidate:  # no address has two dots in a row: one is a leader dot
        candidate = re.sub(r"\.{2,}", ".", candidate)
        repairs.append("read '..' as one '.'")
        sure = False
    spaced = candidate
    candidate = re.sub(r"\s*([@.\-])\s*", r"\1", candidate)
    if candidate != spaced:
        repairs.append("removed spaces around '@', '.' or '-'")
    local, at, domain = candidate.rpartition("@")
    if at and "," in domain:
        candidate = f"{local}@{domain.replace(',', '.')}"
        repairs.append("replaced ',' with '.' in the domain")
    local, at, domain = candidate.rpartition("@")
    if at and _ONE_GAP.match(local):
        # "adelaide marchand@": the "." lay on a printed dot and went with it
        candidate = f"{local.replace(' ', '.')}@{domain}"
        repairs.append("a gap in the name part read as the '.' it held")
    try:
        return Checked(_normal_email(candidate), ok=True, repairs=tuple(repairs), sure=sure)
    except EmailNotValidError as exc:
        problem = str(exc).strip() or "not a valid e-mail address"
    if "@" not in candidate and (found := _lost_at(candidate)):
        return Checked(found, ok=True, sure=False,
                       repairs=(*repairs, "read a look-alike of '@' as '@'"))
    if "@" in candidate and (found := _lost_suffix_dot(candidate.lower())):  # "ORANGEFR" too
        try:
            value = _normal_email(found)
        except EmailNotValidError:
            pass
        else:
            ending = value.rpartition(".")[2]
            return Checked(value, ok=True, sure=False,
                           repairs=(*repairs, f"put back the '.' before '{ending}'"))
    # The reviewer sees what was read; the reason is about what is left once repaired.
    return Checked(read, ok=False, problem=problem)


# --- phone ---------------------------------------------------------------------------

_PHONE_CHARS = re.compile(r"^\+?[\d\s.\-/()]+$")
_LOOKALIKE_CHARS = {"O": "0", "o": "0", "l": "1", "I": "1", "|": "1", "S": "5", "B": "8"}
_DIGIT_LOOKALIKES = str.maketrans(_LOOKALIKE_CHARS)
_PHONE_REASONS = {
    ValidationResult.TOO_SHORT: "too short for a phone number",
    ValidationResult.TOO_LONG: "too long for a phone number",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.INVALID_LENGTH: "wrong number of digits for a phone number",
}


def _parse_phone(text: str) -> tuple[phonenumbers.PhoneNumber | None, str]:
    """(number, '') when `text` is a valid phone number, else (None, why)."""
    if not _PHONE_CHARS.match(text):
        return None, "not a phone number (unexpected characters)"
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        why = re.sub(r"^\(\d+\)\s*", "", str(exc)).rstrip(".")
        return None, f"not a phone number ({why[:1].lower()}{why[1:]})"
    if phonenumbers.is_valid_number(number):
        return number, ""
    reason = phonenumbers.is_possible_number_with_reason(number)
    return None, _PHONE_REASONS.get(reason, "not a valid phone number")


def _format_phone(number: phonenumbers.PhoneNumber) -> str:
    """French numbers as a French person writes them; others in international format."""
    if phonenumbers.region_code_for_number(number) == PHONE_REGION:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def check_phone(raw: str) -> Checked:
    """Region FR; letters OCR confuses with digits are repaired only if the result is valid."""
    text = _clean(raw)
    if not text:
        return Checked("", ok=True)
    number, problem = _parse_phone(text)
    repairs: list[str] = []
    if number is None:
        swapped = text.translate(_DIGIT_LOOKALIKES)
        if swapped != text:
            repaired, _ = _parse_phone(swapped)
            if repaired is not None:
                number = repaired
                seen = sorted({c for c in text if c in _LOOKALIKE_CHARS})
                repairs.append("read " + ", ".join(f"'{c}' as {_LOOKALIKE_CHARS[c]}" for c in seen))
    if number is None:
        return Checked(text, ok=False, problem=problem)
    digits = re.sub(r"\D", "", text.translate(_DIGIT_LOOKALIKES))
    if (not text.startswith("+") and len(digits) == 9 and digits[0] != "0"
            and phonenumbers.region_code_for_number(number) == PHONE_REGION):
        repairs.append("added the leading 0 missing from a 9-digit number")
    return Checked(_format_phone(number), ok=True, repairs=tuple(repairs))


# --- address -------------------------------------------------------------------------

# A French postcode: five digits, 01000-98999, not glued to letters ("CS60017") or digits.
_POSTCODE = re.compile(r"(?<![\w])(?!00)(?!99)(\d{5})(?!\w)")
_COMMUNE_AFTER = re.compile(r"\s*([^\W\d_][^,]*)")
_CEDEX = re.compile(r"(?:\s+cedex(?:\s+\d{1,3})?|\s+france)\s*$", re.IGNORECASE)


def _commune(words: str) -> str:
    """Commune as written, without a trailing 'CEDEX 1' or country."""
    previous = None
    while words != previous:
        previous = words
        words = _clean(_CEDEX.sub("", words))
    return words


def _postcode_and_commune(address: str) -> tuple[str, str]:
    found = list(_POSTCODE.finditer(address))
    for m in found:  # preferred: the postcode followed by its commune ("63000 Clermont-Ferrand")
        after = _COMMUNE_AFTER.match(address, m.end())
        if after and (commune := _commune(after.group(1))):
            return m.group(1), commune
    for m in found:  # "Clermont-Ferrand 63000": the commune alone before it, after a comma
        before = address[: m.start()].rsplit(",", 1)[-1].strip()
        if before and not re.search(r"\d", before):
            return m.group(1), _commune(before)
    return (found[0].group(1), "") if found else ("", "")


def postcode_and_commune(address: str) -> tuple[str, str]:
    """(code_postal, commune) found in an address, '' for what is not found."""
    return _postcode_and_commune(address)


def postcode_department_ok(code: str) -> bool:
    """A postcode of a real department: 01-95 (20 for Corsica), 971-976 overseas."""
    dept = int(code[:2])
    return (1 <= dept <= 95) or (code[:3] in ("971", "972", "973", "974", "975", "976"))


_COMMA_AFTER_NUMBER = re.compile(r"(\b\d+(?:\s?(?:bis|ter|[A-Da-d]))?)\s*,\s*(?=[^\W\d_])")


def canonical_address(address: str) -> str:
    """One spelling per address: "5, rue X 63000 Riom" and "5 rue X, 63000 Riom" alike.

    No periods (leader residue: "45.ter.avenue"), no comma after a house number,
    always ", " before the postcode that precedes the commune. Leader-dot
    cleaning can take a comma written on the dotted line for a dot; stored and
    compared in this form, an eaten comma cannot make a value wrong.
    """
    text = re.sub(r"(?<=\d)\.(?=\d)", "", address)  # leader residue; no address needs dots
    text = " ".join(text.replace(".", " ").split())
    text = re.sub(r"\b(BP|CS|TSA)\s*(?=\d)", r"\1 ", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*-\s+|\s+-\s*", " - ", text)  # a separating dash, not a hyphen
    text = re.sub(r"\s+,", ",", text)
    text = _COMMA_AFTER_NUMBER.sub(r"\1 ", text)
    code, commune = _postcode_and_commune(text)
    if code and commune:
        m = re.search(rf"(\w)\s*,?\s*(?<!\d){code}(?=\s*{re.escape(commune[:1])})", text)
        if m:
            text = f"{text[:m.end(1)]}, {text[m.end(1):].lstrip(' ,')}"
    return text


# Five characters in a postcode's place, digits or what a "0" or "1" is read as
# ("Q3800 Gannat", "@3300 Thiers"): the leader's dots and a scan's noise alter them.
_POSTCODE_LOOKALIKE = re.compile(r"(?<![\w@])([\dOoQD@Il|]{5})(?=\s+[^\W\d_])")
_POSTCODE_DIGITS = str.maketrans({"O": "0", "o": "0", "Q": "0", "D": "0", "@": "0",
                                  "I": "1", "l": "1", "|": "1"})
# ... or its five digits split by gaps the reading made ("631 50 La Bourboule",
# "6 313 0 Royat", "6332 0 Champeix")
_POSTCODE_SPLIT = re.compile(r"(?<![\w@])(\d{1,4}(?: \d{1,4}){1,4})(?=\s+[^\W\d_])")


def _lookalike_postcode(address: str) -> tuple[str, str] | None:
    """(as read, as digits) of the one postcode look-alike before a word, if any."""
    found = [m.group(1) for m in _POSTCODE_LOOKALIKE.finditer(address)
             if sum(c.isdigit() for c in m.group(1)) >= 3]
    found += [m.group(1) for m in _POSTCODE_SPLIT.finditer(address)
              if sum(c.isdigit() for c in m.group(1)) == 5]
    if len(found) != 1:
        return None
    return found[0], found[0].translate(_POSTCODE_DIGITS).replace(" ", "")


def check_address(line1: str, line2: str) -> tuple[Checked, str, str]:
    """Both lines joined as "line1, line2", plus (code_postal, commune) when a postcode is found.

    A postcode read with a look-alike in it ("Q3800") is read as digits, but
    never accepted unseen: the reviewer confirms it.
    """
    parts = [p for p in (_clean(line1), _clean(line2)) if p]
    address = ", ".join(parts)
    code_postal, commune = _postcode_and_commune(address)
    if not code_postal and (found := _lookalike_postcode(address)):
        read, digits = found
        fixed = re.sub(rf"(?<![\w@]){re.escape(read)}", digits, address, count=1)
        code_postal, commune = _postcode_and_commune(fixed)
        if code_postal:
            return (Checked(fixed, ok=True, sure=False,
                            repairs=(f"read the postcode '{read}' as '{digits}'",)),
                    code_postal, commune)
        return (Checked(address, ok=False, problem=f"the postcode '{read}' is not five digits"),
                "", "")
    return Checked(address, ok=True), code_postal, commune


# --- dispatch and form rules ---------------------------------------------------------


def check_value(kind: FieldKind, raw: str) -> Checked:
    """Check one written field; an address's two lines arrive joined by a newline."""
    if kind == FieldKind.TEXT:
        return check_text(raw)
    if kind == FieldKind.EMAIL:
        return check_email(raw)
    if kind == FieldKind.PHONE:
        return check_phone(raw)
    if kind == FieldKind.ADDRESS:
        line1, _, line2 = raw.partition("\n")
        return check_address(line1, line2)[0]
    raise ValueError(f"{kind} fields are read from boxes, not checked as text")


def form_inferences(template: Template, values: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Values one answer implies for another: {field: (value, why)}.

    Déjeunera ticked with Participera left blank: the person obviously comes
    (one lunches at the seminar), so participera is "oui", not the "non" an
    unticked box means; the rules below still send both to a reviewer.
    """
    ids = set(template.field_ids)
    if ({PARTICIPATES, LUNCHES} <= ids and values.get(LUNCHES, "") == YES
            and values.get(PARTICIPATES, "") != YES):
        return {PARTICIPATES: (YES, f"{YES}: implied by {LUNCHES} ticked")}
    return {}


def form_rules(template: Template, values: Mapping[str, str]) -> dict[str, list[Reason]]:
    """Rules across a whole form: required fields filled, no lunch without attending.

    `values` are normalised per-field values ('' = empty or undecided). Only fields
    that break a rule appear in the result.
    """
    reasons: dict[str, list[Reason]] = {}
    for f in template.fields:
        if f.required and not values.get(f.id, "").strip():
            reasons.setdefault(f.id, []).append(Reason.MISSING_REQUIRED)
    ids = set(template.field_ids)
    if ({PARTICIPATES, LUNCHES} <= ids and values.get(LUNCHES, "") == YES
            and values.get(PARTICIPATES, "") != YES):
        for field_id in (PARTICIPATES, LUNCHES):
            reasons.setdefault(field_id, []).append(Reason.INCONSISTENT)
    return reasons

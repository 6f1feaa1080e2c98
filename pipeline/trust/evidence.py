"""Evidence that a field's reading is right: two engines, validators, lexicons, other fields.

Every signal becomes a number in a feature vector; the calibrated model
(`pipeline.trust.calibrate`) turns the vector into the probability that a
candidate value is right. A field has up to two candidates: Tesseract's reading
and the second engine's. Where the two agree once accents, spaces and case
are folded, Tesseract's text is kept (it has the accents the second engine's
alphabet lacks).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from rapidfuzz.distance import Levenshtein

from pipeline import spelling, validate
from pipeline.imaging import Wobble
from pipeline.template import FieldKind
from pipeline.trust import lexicon, postcodes
from pipeline.trust.lexicon import fold

TESS = "tess"
SECOND = "ppocr"
SOURCES = (TESS, SECOND)
# Characters Tesseract may read that the second engine's alphabet cannot produce.
NOT_IN_SECOND = set("çÇêÊôÔâÂîÎùÙœŒûÛëïüÿ")

FEATURES = (
    "bias", "tconf", "rconf", "ran2", "agree", "agree_case", "sim", "valid", "repaired",
    "lex", "cross", "domain", "glued", "accent_loss", "implausible", "empty", "caps", "len",
    "dots", "page_tconf", "page_agree", "page_wobble", "reg", "alone",
)
# A slash or bar between two letters: a misread "I" or "l", never written in a name or title
_STROKE_IN_WORD = re.compile(r"[^\W\d_][/|\\][^\W\d_]")
# A token of no letter or digit: a speck, a leader dot's or the box's edge read as
# "]", "{" or a quote. Dashes, "&", "/" and brackets are writing.
JUNK_TOKEN = re.compile(r"(?<!\S)[^\w\s\-&/()+]+(?!\S)")
RUNNING_TEXT = ("fonction",)  # fields of ordinary words, where a capital is the exception
CAPITAL_FIELDS = ("nom", "prenom", "structure")  # a name, and a structure's, start with a capital


@dataclass
class TextEvidence:
    """What was read in one text field, line by line, before any decision."""

    field: str
    kind: FieldKind
    t_lines: list[str]
    t_confs: list[float]
    r_lines: list[str] = field(default_factory=list)  # empty when the second engine did not run
    r_confs: list[float] = field(default_factory=list)
    dots_in_text: int = 0
    ink_px: int = 0  # writing found in the field's area, whatever was read from it
    words: bool = False  # ordinary words, where a dictionary may undo dot-caused letter swaps
    wobble: list[Wobble] = field(default_factory=list)  # per line: baseline_wobble, if measurable
    alone: bool = False  # Tesseract was sure enough of typed text: no second reading
    crops: list = field(default_factory=list)  # cleaned line images, for the second engine
    boxes: tuple = ()  # an e-mail's characters as Tesseract placed them (TextReading.boxes)
    t_words: list = field(default_factory=list)  # per line: TextReading.words

    @property
    def ran_second(self) -> bool:
        return bool(self.r_lines)

    def raw(self, source: str) -> str:
        lines = self.t_lines if source == TESS or not self.ran_second else self.r_lines
        return "\n".join(lines) if self.kind == FieldKind.ADDRESS else (lines[0] if lines else "")

    @property
    def tconf(self) -> float:
        confs = [c for c, t in zip(self.t_confs, self.t_lines, strict=True) if t]
        return min(confs) if confs else 1.0

    @property
    def rconf(self) -> float:
        confs = [c for c, t in zip(self.r_confs, self.r_lines, strict=True) if t]
        return min(confs) if confs else (1.0 if self.ran_second else 0.0)


def canonical(kind: FieldKind, raw: str, words: bool = False,
              names: Sequence[str] = (), structure: str = "",
              first_name: bool = False) -> validate.Checked:
    """The validated value in the form it is stored, for any kind of text field.

    `words`: undo dot-caused letter swaps with the dictionary; `names` and
    `structure` (the page's readings, for an e-mail): with those and the
    mailbox providers' domains.
    """
    checked = validate.check_value(kind, raw)
    value, changes, guessed = checked.value, [], []
    if words and value:
        value, changes = spelling.correct(value)
        value, guessed = spelling.guess_words(value)
        changes += guessed
    elif first_name and value:
        value, guessed = spelling.guess_first_name(value)
        changes += guessed
    elif kind == FieldKind.EMAIL and names and value:
        value, changes = spelling.correct_email(value, list(names), structure)
        value, guessed = spelling.guess_email(value, list(names))
        changes += guessed
    if changes:
        # a mended e-mail is checked again: a restored dot can make it valid
        again = validate.check_email(value) if kind == FieldKind.EMAIL else \
            validate.Checked(value, checked.ok, (), checked.problem)
        checked = replace(again, sure=checked.sure and again.sure and not guessed,
                          repairs=(*checked.repairs, *again.repairs,
                                   *(f"spelling: {c}" for c in changes)))
    if kind == FieldKind.ADDRESS and checked.value:
        address, guessed = spelling.guess_commune(validate.canonical_address(checked.value))
        return replace(checked, value=address, sure=checked.sure and not guessed,
                       repairs=(*checked.repairs, *(f"spelling: {c}" for c in guessed)))
    return checked


_ELIDED = re.compile(r"\b([dljnsmtcDLJNSMTC]|qu|Qu|[Il1|])['’]|\b([dljnsmt]|qu)(?=[A-ZÀ-Ý])")


def _elided(m: re.Match[str]) -> str:
    head = m.group(1) or m.group(2)
    return ("l" if head in "Il1|" else head.lower()) + "\u2019"


def agree_key(text: str, fold_case: bool, kind: FieldKind | None = None) -> str:
    """What two engines must both have read to agree: no accents, no spaces, maybe no case.

    A comma counts in names and titles ("PNR, Livradois": leader residue). In an
    e-mail a gap between two letters is kept: it is where a "." lying on a
    printed dot was lost, and a reading without it must not agree with one
    that never saw it ("adelaide marchand@" against "adelaidemarchand@").
    """
    if kind != FieldKind.EMAIL:
        # An elided article's apostrophe, which the second engine drops or reads
        # after a bar: "dYzeure", "I'Artisanat" for "d'Yzeure", "l'Artisanat".
        text = _ELIDED.sub(_elided, text)
    text = fold(text, case=fold_case)
    if kind == FieldKind.EMAIL:
        text = re.sub(r"\s*([@.])\s*", r"\1", text.strip())
        return re.sub(r"\s+", "\u2423", re.sub(r"[,;:]", "", text))
    if kind == FieldKind.TEXT:  # a comma in a name or a title is read, not eaten
        return re.sub(r"[\s;:]", "", text)
    return re.sub(r"[\s,;:]", "", text)


def second_text(evidence: TextEvidence) -> str:
    """The second engine's candidate: its reading, or Tesseract's when they agree (accents)."""
    t, r = evidence.raw(TESS), evidence.raw(SECOND)
    if agree_key(t, True, evidence.kind) == agree_key(r, True, evidence.kind):
        return t
    return r


_TOKEN = re.compile(r"[^\W\d_]{3,}")


_GLUED_DOT = re.compile(r"[^\W\d_]\.(?:[^\W\d_]|$)")
# A hyphen with a space on one side only, or a lone letter after one: a word split
# by the reading ("RENAUD -CORDIER", "Livradois-F orez").
_SPLIT_HYPHEN = re.compile(r"[^\W\d_] -[^\W\d_]|[^\W\d_]- [^\W\d_]|-[^\W\d_] [^\W\d_]")


_SMALL_WORDS = ("de", "du", "des", "la", "le", "les", "et", "en", "au", "aux", "sur")
_LETTERS = re.compile(r"^[^\W\d_]+$")


def split_word(text: str) -> bool:
    """Two neighbours, not both words, that make one when joined ("dévelop pement")."""
    tokens = text.split()
    for a, b in itertools.pairwise(tokens):
        if len(a) < 2 or len(b) < 2 or not (_LETTERS.match(a) and _LETTERS.match(b)):
            continue
        if min(len(a), len(b)) < 4 and spelling.known_word(a) and spelling.known_word(b):
            continue  # "en cours", though "encours" is a word too
        if spelling.known_word(a + (b if a.isupper() else b.lower())):
            return True
    return False


def glued_small_word(text: str) -> bool:
    """An unknown word that is a known one with "de", "la"... stuck to it ("Chefde").

    Not for people's names: Delaunay, Lecoq, Bonneau are all spelt so.
    """
    for t in text.split():
        if len(t) < 5 or not _LETTERS.match(t) or spelling.known_word(t):
            continue
        low = t.lower()
        for small in _SMALL_WORDS:
            rest = len(t) - len(small)
            if rest < 3:
                continue
            if low.endswith(small) and spelling.known_word(t[:rest]):
                return True
            if low.startswith(small) and spelling.known_word(
                    t[len(small):] if t.isupper() or t.islower() else t[len(small):].capitalize()):
                return True
    return False


# Letters whose capital is the small one drawn bigger: in handwriting, size is all
# that tells "Maire" from "maire".
_CASE_BY_SIZE = frozenset("CKMOPSUVWXZ")


def case_by_size(text: str) -> bool:
    """A word of running text ("Adjoint au Maire") whose capital may be a big small letter.

    Only for handwriting, and for fields of running text (a job title): in a
    structure's name, capitals after "de" or "du" are the rule.
    """
    for a, b in itertools.pairwise(text.split()):
        if (len(b) > 1 and b[0] in _CASE_BY_SIZE and b[1:].islower() and a.islower()
                and b.lower() in lexicon.french_words()):
            return True
    return False


def mixed_case_word(text: str) -> bool:
    """A word whose letters after the first change case ("CoSTE", "BAUDRy"): a small
    letter read for a capital of the same shape, or the reverse."""
    return any(len(w) >= 3 and not (w[1:].islower() or w[1:].isupper())
               for w in _LETTER_RUNS.findall(text))


_LETTER_RUNS = re.compile(r"[^\W\d_]+")


def mostly_capitals(text: str, min_letters: int = 4) -> bool:
    """Written in block capitals: three letters in four at least are capitals."""
    letters = [c for c in text if c.isalpha()]
    return (len(letters) >= min_letters
            and sum(c.isupper() for c in letters) >= 0.75 * len(letters))


# A capitalised word, then one of small letters ("Jean jaurès")
_NAME_THEN_WORD = re.compile(r"(?<![\w'’-])([A-ZÀ-Ý][a-zà-ÿ]+)\s+([a-zà-ÿœ]{3,})(?![\w'’-])")
_JOINING = frozenset({"des", "les", "sur", "aux", "sous", "lès", "lez", "et"})
COMMON_FIRST = 1000  # a first name this common (by rank) is a first name ("Maire" is 11,112th)


def small_surnames(text: str) -> list[re.Match[str]]:
    """Each first name followed by a word in small letters ("rue Jean jaurès"): in a
    street's or a structure's name, what follows a first name is a surname, which
    takes a capital; both engines can miss one (a serif "J", a worn "C").
    The word is the match's group 2."""
    names = lexicon.first_names()
    return [m for m in _NAME_THEN_WORD.finditer(text)
            if names.get(fold(m.group(1)), COMMON_FIRST + 1) <= COMMON_FIRST
            and m.group(2) not in _JOINING]


_LONG_WORD = re.compile(r"[^\W\d_]{4,}")


def unknown_word(text: str) -> bool:
    """A word of four letters or more no lexicon knows, with or without its accents or
    capital: by hand, a letter misread into a non-word ("ANIMAIRICE"), which both
    engines can share."""
    return any(not (spelling.known_word(w) or spelling.known_word(w.capitalize())
                    or fold(w) in lexicon.accented_folds())
               for w in _LONG_WORD.findall(text))


def small_initial(text: str, fid: str, style: str) -> bool:
    """A name or a structure read with a small initial, or handwriting that starts with a
    letter whose capital is only a bigger small one ("conseillère" for "Conseillère")."""
    first = text[:1]
    return first.islower() and (fid in CAPITAL_FIELDS
                                or (style == "hand" and first.upper() in _CASE_BY_SIZE))


def odd_accent(text: str) -> bool:
    """A word spelt with accents no spelling of it has ("Chargê" for "Chargé"), or
    without the ones it always has ("Saint-Pourcain"): the second engine cannot
    see accents, so only the dictionary and the place names can."""
    words, places = lexicon.french_words(), lexicon.place_words()
    accented = lexicon.accented_folds()
    return any(w.lower() not in words and w.lower() not in places
               and lexicon.fold(w) in accented for w in _TOKEN.findall(text))


# French writes q only before u, or ending a word ("cinq", "coq")
Q_WITHOUT_U = re.compile(r"[qQ](?=[^\W\d_uU])")


def impossible_spelling(text: str, fid: str = "") -> bool:
    """Readings no careful person writes, left by OCR slips or leader residue.

    A ç before e, i or a consonant or starting a word (a dot under a plain c); a
    dot glued between two words or ending a word ("services.en", "Élu.": leader
    residue); a q followed by a letter other than u ("Qlivier": an O); a hyphen
    spaced on one side only ("RENAUD -CORDIER"); a word
    split in two or glued to a small word ("dévelop pement", "Chefde"); a name
    without the accents of its usual spelling ("Gregoire"), with only some of
    them ("Adélaide"), or with a cedilla it never has ("Luças").
    """
    if spelling.ODD_CEDILLA.search(text):
        return True
    if fid != "mail" and Q_WITHOUT_U.search(text):
        return True
    if fid != "mail" and _SPLIT_HYPHEN.search(text):
        return True
    if fid in ("nom", "prenom", "structure", "fonction") and _GLUED_DOT.search(text):
        return True
    if fid != "mail" and split_word(text):
        return True
    if fid in ("structure", "fonction", "adresse") and glued_small_word(text):
        return True
    return fid in ("nom", "prenom") and (lexicon.lost_accents(text) or lexicon.odd_cedilla(text)
                                         or lexicon.partial_accents(text))


def has_duplicate_word(text: str) -> bool:
    """A word followed by a near-twin: a crossed-out word and its rewrite read together."""
    words = [w.lower() for w in _TOKEN.findall(fold(text))]
    for a, b in itertools.pairwise(words):
        if a != b and len(a) >= 4 and Levenshtein.distance(a, b) <= 2:
            return True
    return False


def _mail_parts(mail: str) -> tuple[str, str]:
    local, _, domain = fold(mail).partition("@")
    return re.sub(r"[^a-z0-9]", "", local), domain


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


def cross_evidence(fid: str, value: str, page: Mapping[str, str]) -> tuple[float, float]:
    """(name evidence, domain evidence) between `value` and the page's other readings.

    The e-mail's local part usually holds the prénom and the nom; its domain
    often echoes the structure (ville-riom.fr, cc-ambert.fr).
    """
    mail = page.get("mail", "")
    if fid == "mail":
        local, domain = _mail_parts(value)
        names = [_slug(page.get(k, "")) for k in ("nom", "prenom")]
        hits = sum(1 for n in names if len(n) >= 3 and n in local)
        struct = [w for w in re.findall(r"[a-z]{4,}", fold(page.get("structure", "")))]
        dom = float(any(w in domain.replace("-", "") for w in struct)) if struct else 0.0
        return hits / 2, dom
    if fid in ("nom", "prenom") and mail:
        local, _ = _mail_parts(mail)
        v = _slug(value)
        return float(len(v) >= 3 and v in local), 0.0
    if fid == "structure" and mail:
        _, domain = _mail_parts(mail)
        words = re.findall(r"[a-z]{4,}", fold(value))
        return 0.0, float(any(w in domain.replace("-", "") for w in words))
    return 0.0, 0.0


def glued_names(fid: str, value: str, page: Mapping[str, str]) -> float:
    """1 when an e-mail's name part is the prénom and nom with nothing between them.

    Some people's addresses are; but it is also what an address looks like once
    the "." between the names, lying on a printed dot, is lost by both engines.
    """
    if fid != "mail":
        return 0.0
    local = fold(value).partition("@")[0]
    p, n = _slug(page.get("prenom", "")), _slug(page.get("nom", ""))
    if len(p) < 3 or len(n) < 3:
        return 0.0
    return float(p + n in local or n + p in local)


def lexicon_score(fid: str, kind: FieldKind, value: str, words: bool = False) -> float:
    """How much of the reading the lexicons know: a name's rank, a postcode and its
    commune, the share of known words in ordinary text (`words`)."""
    if fid == "prenom":
        return lexicon.first_name_score(value)
    if fid == "nom":
        return lexicon.surname_score(value)
    if kind == FieldKind.ADDRESS:
        return 0.5 * postcode_commune_score(value) + 0.5 * known_share(value)
    return known_share(value) if words else 0.0


def known_share(text: str) -> float:
    """Share of the words (3+ letters) that are in the dictionary, places or first names.

    Ordinary text is made of known words; a misreading rarely is ("Cammunauté").
    """
    tokens = _TOKEN.findall(text)
    if not tokens:
        return 0.0
    return sum(map(spelling.known_word, tokens)) / len(tokens)


def postcode_commune_score(address: str) -> float:
    """1 when the address ends in a real department's postcode and a known commune.

    0.5 for a plausible postcode with a commune the lexicon does not know
    (a lieu-dit, a misreading), 0 when no postcode is found.
    """
    code, commune = validate.postcode_and_commune(address)
    if not code:
        return 0.0
    if not validate.postcode_department_ok(code):
        return 0.0
    return 1.0 if commune and lexicon.is_commune(commune) else 0.5


@dataclass(frozen=True)
class Candidate:
    source: str
    raw: str
    checked: validate.Checked
    x: dict[str, float]


def page_context(evs: Sequence[TextEvidence]) -> dict[str, float]:
    """Page-wide signals that say how the form was filled (typed or by hand)."""
    filled = [e for e in evs if any(e.t_lines)]
    confs = sorted(e.tconf for e in filled)
    # a field Tesseract was sure enough of alone counts as agreed: it passed a higher bar
    agree = [e.alone or agree_key(e.raw(TESS), True) == agree_key(e.raw(SECOND), True)
             for e in filled if e.ran_second or e.alone]
    # the median letter's line: long lines count for more than a short, noisy "Maire"
    wobble = sorted(w for e in filled for w in e.wobble)
    letters = np.cumsum([w.letters for w in wobble])
    return {
        "page_tconf": confs[len(confs) // 2] if confs else 0.0,
        "page_agree": sum(agree) / len(agree) if agree else 0.0,
        # no measurable line: count it as handwriting (it is never what lowers a bar)
        "page_wobble": (wobble[int(np.searchsorted(letters, letters[-1] / 2))].value
                        if wobble else 1.0),
    }


def implausible(ev: TextEvidence, raw: str, checked: validate.Checked, style: str) -> bool:
    """A reading no one should accept unseen, however sure the engines are.

    A crossed-out word and its rewrite; a spelling no careful writer uses; nothing
    read from an area with writing in it; a repair that had to guess; a name
    starting with a small letter; and, by hand, a letter whose capital is only
    a bigger small one ("c", "o", "s"...) where its case matters: a capital in
    running text, or a field's first letter read small; or an e-mail domain
    not made of known words ("muirie-chatel-guyon.fr": both engines misread it).
    An address without a postcode ("6 313 0 Royat": a split one is repaired, and
    so unsure), or with one of another region than its commune's ("93000
    Moulins"); a stroke inside a word ("SECRETA/RE", "Ma|rie"); a token of no
    letter or digit ("] avenue Victor Hugo"); a first name then a word in small
    letters ("chemin Jean jaurès"); by hand or in capitals (neat block capitals
    can pass for type), a word no lexicon knows ("ANIMAIRICE"); a word whose
    letters change case after the first ("CoSTE").
    """
    value = checked.value
    return (has_duplicate_word(raw) or impossible_spelling(value, ev.field)
            or (not value and ev.ink_px > 0) or not checked.sure
            or (style == "hand" and ev.field in RUNNING_TEXT and case_by_size(value))
            or (ev.kind == FieldKind.TEXT and small_initial(value, ev.field, style))
            or (ev.words and odd_accent(value))
            or (style == "hand" and mostly_capitals(value, 2) and lexicon.unsure_accents(value))
            or (style == "hand" and ev.kind == FieldKind.EMAIL and bool(value)
                and not spelling.domain_of_words(value))
            or (ev.kind == FieldKind.ADDRESS and bool(value)
                and (not validate.postcode_and_commune(value)[0]
                     or postcodes.address_fits(value) is False))
            or (ev.kind == FieldKind.TEXT and bool(_STROKE_IN_WORD.search(value)))
            or (ev.kind in (FieldKind.TEXT, FieldKind.ADDRESS) and bool(JUNK_TOKEN.search(value)))
            or (ev.kind in (FieldKind.TEXT, FieldKind.ADDRESS) and mixed_case_word(value))
            or (ev.words and bool(small_surnames(value)))
            or (ev.words and (style == "hand" or mostly_capitals(value))
                and unknown_word(value)))


def candidates(ev: TextEvidence, page_values: Mapping[str, str], ctx: Mapping[str, float],
               reg_quality: float, style: str = "typed") -> list[Candidate]:
    """Tesseract's candidate, and the second engine's when it ran, with their features."""
    t_raw = ev.raw(TESS)
    r_raw = ev.raw(SECOND) if ev.ran_second else ""
    raws = [(TESS, t_raw)] + ([(SECOND, second_text(ev))] if ev.ran_second else [])
    names = [page_values.get("nom", ""), page_values.get("prenom", "")]
    checks = [canonical(ev.kind, raw, ev.words, names, page_values.get("structure", ""),
                        first_name=ev.field == "prenom") for _, raw in raws]
    # The same value once each reading is checked and mended the same way counts as
    # agreement too: "04.73.55.10.20" and "0473551020"; an e-mail's dot swap undone.
    agree = ev.ran_second and (
        agree_key(t_raw, True, ev.kind) == agree_key(r_raw, True, ev.kind)
        or (all(c.ok and c.value for c in checks)
            and fold(checks[0].value) == fold(checks[1].value)))
    agree_case = ev.ran_second and agree_key(t_raw, False) == agree_key(r_raw, False)
    sim = (1.0 - Levenshtein.normalized_distance(agree_key(t_raw, True),
                                                 agree_key(r_raw, True))
           if ev.ran_second else 0.0)
    out = []
    for (source, raw), checked in zip(raws, checks, strict=True):
        value = checked.value
        letters = [c for c in value if c.isalpha()]
        cross, domain = cross_evidence(ev.field, value, page_values)
        x = {
            "bias": 1.0, "tconf": ev.tconf, "rconf": ev.rconf, "ran2": float(ev.ran_second),
            "agree": float(agree), "agree_case": float(agree_case), "sim": sim,
            "valid": float(checked.ok), "repaired": float(bool(checked.repairs)),
            "lex": lexicon_score(ev.field, ev.kind, value, ev.words),
            "cross": cross, "domain": domain, "glued": glued_names(ev.field, value, page_values),
            "accent_loss": float(source == SECOND and any(c in NOT_IN_SECOND for c in t_raw)),
            "implausible": float(implausible(ev, raw, checked, style)),
            "empty": float(not value),
            "caps": float(bool(letters) and all(c.isupper() for c in letters)),
            "len": math.log1p(len(value)), "dots": float(ev.dots_in_text > 0),
            "page_tconf": ctx.get("page_tconf", 0.0), "page_agree": ctx.get("page_agree", 0.0),
            "page_wobble": min(ctx.get("page_wobble", 1.0) * 20, 4.0),  # 1 = 0.05
            "reg": reg_quality, "alone": float(ev.alone),
        }
        out.append(Candidate(source, raw, checked, x))
    return out

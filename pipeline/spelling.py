"""Undo the letter swaps that printed dots cause in typed words, with a dictionary.

A leader dot fused under a typed letter turns "o" into "a", "c" into "ç", "b"
into "h", "p" into "n". In ordinary words (a structure, a job title, a street)
such a reading is rarely a word, and exactly one word lies one or two of those
swaps away: "loçal" -> "local", "Livradais" -> "Livradois". Only those swaps are
tried, and only when the result is unique, so a word the dictionary does not
know (a surname, a lieu-dit) is left as read. Names are never corrected; an
e-mail only from the words on its own page and the big mailbox providers.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from pipeline.cache import cached
from pipeline.nearby import CharCounts
from pipeline.trust import lexicon
from pipeline.validate import COMMON_ENDINGS, dotted_domain, postcode_and_commune

# What Tesseract reads -> what the letter was, for the swaps a dot under it causes.
SWAPS = {
    "a": "o", "â": "ô", "ç": "c", "h": "b", "n": "pu", "u": "n", "g": "qo", "q": "g",
    "R": "D", "B": "H",
}
MAX_SWAPS = 2
_WORD = re.compile(r"[^\W\d_]{3,}")
# A ç before e, i or a consonant, or starting a word: a dot under a "c".
ODD_CEDILLA = re.compile(r"\b[çÇ]|[çÇ](?![aouâôûAOUÂÔÛ])")
# "12 his": the "b" of a street number's "bis" with a dot under it.
_HIS = re.compile(r"(?<=\d )his\b")


@cache
def places() -> frozenset[str]:
    """Folded words of French place names."""
    return frozenset(w for key in lexicon.communes() for w in key.split())


@cache
def _proper() -> frozenset[str]:
    """Folded words of places and people's names: known, though not in the dictionary."""
    words = set(places())
    words.update(k for k in lexicon.first_names() if " " not in k)
    words.update(k for k in lexicon.surnames() if " " not in k)
    return frozenset(words)


def known(word: str, names: bool = True) -> bool:
    """In the dictionary, or (capitalised) a place or, with `names`, a person's name.

    A capitalised word is known without its accents but not with a cedilla
    where French never writes one (before e or i, or first: a dot under a
    "c"); a lower-case one in running text must be an ordinary word ("his" is
    a surname too).
    """
    if word.lower() in lexicon.french_words():
        return True
    if not word[0].isupper() or ODD_CEDILLA.search(word):
        return False
    return lexicon.fold(word) in (_proper() if names else places())


def known_word(word: str) -> bool:
    """A dictionary word, a place or a first name. Not a surname: that list holds
    nearly every spelling, misreadings included ("Loike", "Deyrat")."""
    return known(word, names=False) or lexicon.fold(word) in lexicon.first_names()


def _variants(word: str) -> set[str]:
    # A capital takes only the capitals' swaps: the lower-case ones come from the
    # shapes of small letters ("CAUE" is not "CANE").
    spots = [i for i, c in enumerate(word) if c in SWAPS]
    out: set[str] = set()
    for n in range(1, MAX_SWAPS + 1):
        for where in itertools.combinations(spots, n):
            choices = []
            for i in where:
                c = word[i]
                choices.append(list(SWAPS[c]))
            for pick in itertools.product(*choices):
                chars = list(word)
                for i, s in zip(where, pick, strict=True):
                    chars[i] = s
                out.add("".join(chars))
    return out


def correct(text: str) -> tuple[str, list[str]]:
    """`text` with each unknown word replaced by its only known swap-variant, and the changes."""
    changes: list[str] = []
    if not lexicon.french_words():
        return text, changes

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if known(word):
            return word
        # The surname list knows almost any spelling ("Blotin" for the street
        # "Blatin"): a correction must land on a word or a place.
        hits = {v for v in _variants(word) if known(v, names=False)}
        # one place or word, with or without a swap that only moves an accent
        # ("Montluçon", "Montlucon"): the fewest swaps
        if len({lexicon.fold(v) for v in hits}) != 1:
            return word
        best = min(hits, key=lambda v: (sum(a != b for a, b in zip(v, word, strict=True)), v))
        changes.append(f"{word} -> {best}")
        return best

    text = _WORD.sub(fix, text)
    if _HIS.search(text):
        text = _HIS.sub("bis", text)
        changes.append("his -> bis (after a street number)")
    return text, changes


# The big French and international mailbox providers: a misread letter in one
# of these domains is a swap away from the real one ("wanadao.fr").
WEBMAIL = (
    "wanadoo.fr", "orange.fr", "free.fr", "laposte.net", "gmail.com", "yahoo.fr", "yahoo.com",
    "hotmail.fr", "hotmail.com", "sfr.fr", "neuf.fr", "aol.com", "outlook.fr", "outlook.com",
    "live.fr", "club-internet.fr", "numericable.fr", "bbox.fr", "icloud.com", "voila.fr",
)


def domain_of_words(mail: str) -> bool:
    """Is an e-mail's domain a mailbox provider, or made of known words and places?

    "mairie-chatel-guyon.fr", "hauteloire.cci.fr" (haute + loire), "parcdesvolcans.fr"
    are; "muirie-chatel-guyon.fr" is not. Pieces of three letters or fewer
    ("cc", "cci", "pnr") pass: acronyms no lexicon holds.
    """
    domain = mail.rpartition("@")[2].lower()
    if domain in WEBMAIL:
        return True
    pieces = re.split(r"[.\-_\d]+", domain.rpartition(".")[0])
    return all(len(p) <= 3 or _segments(lexicon.fold(p)) for p in pieces)


# Short words a glued domain holds ("parcdesvolcans", "paysdelapalisse"); any
# other piece must be a known word of four letters or more, or short words
# would let nearly any misreading through ("muirie" = "mu" + "irie").
_GLUE = frozenset({"d", "l", "de", "du", "des", "la", "le", "les", "en", "et", "sur", "sous",
                   "au", "aux", "st", "ste", "val"})


# Pieces of French public bodies' domains no dictionary holds: chambers of
# agriculture ("puy-de-dome.chambagri.fr"), of trades, urban communities
INSTITUTIONS = frozenset({"chambagri", "agglo", "metropole", "cma", "ccas", "sdis", "caue",
                          "pnr", "gal", "cci", "epci", "syndicat", "smad", "sictom"})


def _segments(word: str) -> bool:
    """Can `word` be cut into known words (see _GLUE)?"""
    ok = [True] + [False] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 30), end):
            piece = word[start:end]
            if ok[start] and (piece in _GLUE or piece in INSTITUTIONS
                              or (len(piece) >= 4 and piece in _domain_words())):
                ok[end] = True
                break
    return ok[-1]


@cache
def _domain_words() -> frozenset[str]:
    """Folded words a domain is made of: the dictionary, places, first names."""
    return cached(f"spelling-domain-words-{lexicon.sources()}.pickle", lambda: frozenset(
        {lexicon.fold(w) for w in lexicon.french_words()} | places()
        | set(lexicon.first_names())))


def _swapped(read: str, meant: str) -> int:
    """How many dot swaps turn `read` into `meant` (same length), or -1 when none can."""
    if len(read) != len(meant):
        return -1
    n = 0
    for r, m in zip(read, meant, strict=True):
        if r != m:
            if m not in SWAPS.get(r, ""):
                return -1
            n += 1
    return n if n <= MAX_SWAPS else -1


def _slug(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z]+", lexicon.fold(text)) if len(w) >= 3]


def correct_email(mail: str, names: list[str], structure: str = "") -> tuple[str, list[str]]:
    """`mail` with dot swaps undone where the page's own words or a mailbox provider say so.

    The e-mail is read from a crop that keeps the dots fused under letters (its
    own "." must survive), so its letters are swapped more often than the
    names': "c.lecog@..." next to the nom "Lecoq" is "c.lecoq@...", and
    "@cambrailles.com" next to the structure "... des Combrailles" is
    "@combrailles.com". A domain without any "." that ends in a top-level
    domain lost its "." to the leader-dot cleaning ("free" + "fr").
    """
    local, at, domain = mail.rpartition("@")
    if not at:
        return mail, []
    changes: list[str] = []
    # Only a name the lexicons know can correct the e-mail: a misread name must
    # not spoil a well-read address.
    words = {w for n in names for w in _slug(n) if w in _proper()}
    words |= {w for w in _slug(structure) if len(w) >= 5 and known(w.capitalize(), names=False)}
    for w in sorted(words, key=len, reverse=True):
        for i in range(len(local) - len(w) + 1):
            part = local[i:i + len(w)]
            if part != w and part not in _proper() and _swapped(part, w) > 0:
                local = local[:i] + w + local[i + len(w):]
                changes.append(f"{part} -> {w} (as written elsewhere on the form)")
        for i in range(len(domain) - len(w) + 1):
            part = domain[i:i + len(w)]
            if part != w and not known(part.capitalize(), names=False) and _swapped(part, w) > 0:
                domain = domain[:i] + w + domain[i + len(w):]
                changes.append(f"{part} -> {w} (as written elsewhere on the form)")
    if fixed := dotted_domain(domain):  # "beaumont-fr", "beaumontfr"
        changes.append(f"{domain} -> {fixed} (a domain needs its dot)")
        domain = fixed
    head, dot, tld = domain.rpartition(".")
    if dot and any(ch.isdigit() for ch in tld):  # "63.0rg": no top-level domain has digits
        fixed = tld.translate(str.maketrans("015", "ols"))
        if fixed in COMMON_ENDINGS:
            changes.append(f"{tld} -> {fixed} (a top-level domain has no digits)")
            domain = f"{head}.{fixed}"
    if domain not in WEBMAIL:
        near = [d for d in WEBMAIL if _swapped(domain, d) > 0]
        if len(near) == 1:
            changes.append(f"{domain} -> {near[0]} (a mailbox provider)")
            domain = near[0]
    return f"{local}@{domain}", changes


_A_AS_O = str.maketrans("âÂ", "ôÔ")
_ANY_WORD = re.compile(r"[^\W\d_]+")


def guess_words(text: str) -> tuple[str, list[str]]:
    """Likelier words for a reviewer to confirm: a word with â that is also a word with ô
    ("pâle" for "pôle", a slip Tesseract makes); in a structure's name or a job title
    the ô word is far the likelier, but both are French, so it is only a guess."""
    changes: list[str] = []

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        twin = word.translate(_A_AS_O)
        if twin != word and known_word(twin) and known_word(word):
            changes.append(f"{word} -> {twin} (likelier here)")
            return twin
        return word

    return _ANY_WORD.sub(fix, text), changes


def guess_first_name(text: str) -> tuple[str, list[str]]:
    """A first name no one is called, a dot's swap away from one that people are
    ("Calette" -> "Colette"): the printed dot under the "o" made it an "a", in both
    engines' crops alike. A guess for a reviewer: rare names exist."""
    changes: list[str] = []
    names = lexicon.first_names()

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if len(word) < 4 or lexicon.fold(word) in names:
            return word
        found = {v for v in _variants(word) if lexicon.fold(v) in names}
        if len(found) != 1:
            return word
        (name,) = found
        changes.append(f"{word} -> {name} (a first name)")
        return name

    return _ANY_WORD.sub(fix, text), changes


def guess_commune(address: str) -> tuple[str, list[str]]:
    """The address with its commune, if no place is so called, as the one place a letter
    or two away ("Arpaion-sur-Cère" -> "Arpajon-sur-Cère"): a guess, for a reviewer."""
    _, commune = postcode_and_commune(address)
    name = nearest_commune(commune)
    if name is None:
        return address, []
    at = address.rfind(commune)
    return (address[:at] + name + address[at + len(commune):],
            [f"{commune} -> {name} (the nearest commune)"])


def nearest_commune(read: str) -> str | None:
    """The one commune a letter or two off `read` (5 letters at least), if `read` is
    none; in capitals if it was written so ("AVBIERE" -> "AUBIÈRE")."""
    key = lexicon.fold_key(read)
    if len(key) < 5 or lexicon.is_commune(read):
        return None
    found = nearest_key(key, _commune_keys(), 1 if len(key) < 10 else 2)
    if found is None:
        return None
    name = lexicon.commune_names()[found]
    return name.upper() if read.isupper() else name  # capitals, as on envelopes


def nearest_key(key: str, choices: Mapping[int, tuple[Sequence[str], CharCounts]],
                limit: int) -> str | None:
    """The one choice within `limit` edits of `key` nearer than every other, if any.

    `choices` are grouped by length (`by_length`): a word more than `limit`
    letters longer or shorter is further than `limit` edits, so only the lengths
    around `key`'s are searched, and there only the words whose letters could
    be that near (`nearby`; the same answer, several times faster).
    """
    near: list[str] = []
    for n in range(len(key) - limit, len(key) + limit + 1):
        if n in choices:
            words, counts = choices[n]
            near += [words[i] for i in counts.within_edits(key, limit)]
    hits = process.extract(key, near, scorer=Levenshtein.distance, score_cutoff=limit, limit=2)
    if not hits or (len(hits) > 1 and hits[1][1] == hits[0][1]):
        return None
    return hits[0][0]


def by_length(words: Iterable[str]) -> dict[int, tuple[tuple[str, ...], CharCounts]]:
    """The words grouped by length, each group with its character counts (`nearby`)."""
    grouped: dict[int, list[str]] = {}
    for w in words:
        grouped.setdefault(len(w), []).append(w)
    return {n: (tuple(ws), CharCounts(ws)) for n, ws in grouped.items()}


@cache
def _commune_keys() -> dict[int, tuple[tuple[str, ...], CharCounts]]:
    return by_length(lexicon.commune_names())


def guess_email(mail: str, names: list[str]) -> tuple[str, list[str]]:
    """Likelier spellings of an e-mail's parts, for a reviewer to confirm, never to accept.

    A part of the name that is one letter (two in a long one) off a name on the
    same page ("jerome.lquis" beside "Louis"), and a domain a letter or two off
    one mailbox provider ("oranae.fr"), are most likely misread. But an address
    may really differ from the name written above it, so these are guesses.
    """
    local, at, domain = mail.rpartition("@")
    if not at:
        return mail, []
    changes: list[str] = []
    words = {w for n in names for w in _slug(n) if len(w) >= 4 and w in _proper()}
    parts = re.split(r"([.\-_])", local)
    for i, part in enumerate(parts):
        if len(part) < 4 or part in words or part in _proper():
            continue
        near = [w for w in words if len(w) == len(part)
                and Levenshtein.distance(part, w) <= (2 if len(w) >= 7 else 1)]
        if len(near) == 1:
            changes.append(f"{part} -> {near[0]} (a name on the form)")
            parts[i] = near[0]
    if domain not in WEBMAIL:
        near = sorted((Levenshtein.distance(domain, d), d) for d in WEBMAIL)
        if near[0][0] <= 2 and near[1][0] > near[0][0] and len(domain) >= 6:
            changes.append(f"{domain} -> {near[0][1]} (a mailbox provider)")
            domain = near[0][1]
        else:
            domain = _guess_domain_places(domain, changes)
    return f"{''.join(parts)}@{domain}", changes


# What heads a town's own domain, before the commune's name ("mairie-riom.fr")
TOWN_HEADS = ("mairie", "ville")


def _guess_domain_places(domain: str, changes: list[str]) -> str:
    """A part of the domain one letter off a commune's name ("ville-brioqude"), or
    off a public body's acronym or word ("cantal.ccl.fr", "chambagarl"); a town's
    domain headed by a word two letters off "mairie" or "ville", though a word
    itself ("maire-courpiere.fr", "marie-souvigny.fr")."""
    labels = re.split(r"([.\-])", domain)
    for i, label in enumerate(labels):
        if len(label) < 3 or label in INSTITUTIONS or known(label.capitalize(), names=False):
            continue
        if len(label) >= 6 and label not in _glued_commune_set():
            found = nearest_key(label, _glued_communes(), 1)
            if found is not None:
                changes.append(f"{label} -> {found} (a commune)")
                labels[i] = found
                continue
        near = [w for w in INSTITUTIONS
                if Levenshtein.distance(label, w) <= (2 if len(w) >= 7 else 1)]
        if len(near) == 1:
            changes.append(f"{label} -> {near[0]} (a public body's domain)")
            labels[i] = near[0]
    town = "".join(labels[2:]).rpartition(".")[0].replace("-", "")
    if len(labels) > 3 and labels[1] == "-" and labels[0] not in TOWN_HEADS and (
            town in _glued_commune_set()):
        near = [h for h in TOWN_HEADS if Levenshtein.distance(labels[0], h) <= len(h) // 3]
        if len(near) == 1:
            changes.append(f"{labels[0]} -> {near[0]} (a town's domain)")
            labels[0] = near[0]
    return "".join(labels)


@cache
def _glued_commune_set() -> frozenset[str]:
    """Commune names as domains write them: "saint-flour" is "saintflour" or parts of it."""
    return frozenset({k.replace(" ", "") for k in lexicon.communes()} | places())


@cache
def _glued_communes() -> dict[int, tuple[tuple[str, ...], CharCounts]]:
    return by_length(sorted(_glued_commune_set()))

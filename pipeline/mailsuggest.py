"""An e-mail in review: the likeliest address, for a reviewer to confirm.

Of the two engines' readings, the one whose slips the other explains; an "@"
read as a look-alike or lost ("perrin.fredericQwanadoo.fr", "REYAORANGE.FR");
an ending a letter off the usual ones ("cc-saint-flour.fk"); a name part a few
letters off the names on the form ("marcelebecker" beside Marcelle Becker);
and, typed, a "." between the names that went with the printed dot under it,
found by the gap it left. Each change is noted; none is ever accepted unseen:
the reader sends a changed address to review.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein

from pipeline import spelling, validate
from pipeline.suggest import AS_DIGIT
from pipeline.trust import lexicon
from pipeline.trust.evidence import mostly_capitals
from pipeline.trust.lexicon import fold

MAIL_NAME_EDITS = 3  # letters an e-mail's name part may be off the names' spelling


def likelier_mail(value: str, other: str, repairs: list[str]) -> str:
    """Of the two engines' e-mails, the one the other's slips explain: a "." or "-"
    that only one read, between names or initials, or a "-" between words of the
    domain (a lost one is far commoner than an invented one), or a domain only one read
    as known words ("yille-thiers" / "ville-thiers")."""
    if not other or other == value or "@" not in other:
        return value
    local, _, domain = value.rpartition("@")
    o_local, _, o_domain = other.rpartition("@")
    bare = str.maketrans("", "", ".-_")
    names_ok = local == o_local or all(
        len(p) == 1 or p.isdigit() or _known_name(p, KNOWN_NAME)
        for p in re.split(r"[.\-_]", o_local))
    # in the domain, only a "-": a "." there makes another domain ("parcdes.volcans.fr")
    domain_ok = domain == o_domain or (domain == o_domain.replace("-", "")
                                       and spelling.domain_of_words(other))
    if (value.translate(bare) == other.translate(bare) and len(other) > len(value)
            and local.translate(bare) == o_local.translate(bare) and names_ok and domain_ok):
        repairs.append(f"suggestion: {other} (a separator only the other engine read)")
        return other
    if (re.match(r"\d[.\-_]", local) and re.match(r"[a-z][.\-_]", o_local)
            and local[1:] == o_local[1:]):
        # an initial is a letter: "1.thomas" / "l.thomas"
        repairs.append(f"suggestion: initial {o_local[0]!r} (as the other engine read it)")
        return f"{o_local[0]}{value[1:]}"
    o_domain = _with_dot(re.sub(r"\.{2,}", ".", o_domain))  # "gannat..fr", "gannatfr"
    if (local and domain != o_domain and "." in o_domain and not spelling.domain_of_words(value)
            and spelling.domain_of_words(f"{local}@{o_domain}")):
        # the domain from the other reading, whatever its name part ("ville-sennet.fr"
        # / "ville-gannat.fr"): the engines slip on different letters
        repairs.append(f"suggestion: domain {o_domain} (made of known words, as the "
                       "other engine read it)")
        return f"{local}@{o_domain}"
    return value


# What an "@" is read as, between an address's name and its domain; in block
# capitals an "O" too (in small letters an "o" is far too common to guess from)
_AT_LOOKALIKES = validate.AT_LOOKALIKES + "GP"
_AT_IN_CAPITALS = "O0C"


def _known_domain(domain: str) -> int:
    """2 for a mailbox provider, 1 for a domain of known words, 0 otherwise."""
    if domain in spelling.WEBMAIL:
        return 2
    labels = re.split(r"[.\-]", domain.rpartition(".")[0])
    return int(max(map(len, labels)) >= 4 and spelling.domain_of_words("@" + domain))


def _with_dot(domain: str) -> str:
    """"yahoofr" -> "yahoo.fr": the "." before a usual ending, lost."""
    return domain if "." in domain else (validate.ending_dot(domain) or domain)


def without_spaces(value: str, repairs: list[str]) -> str:
    """An e-mail has no spaces: one read is a gap between letters ("a uvergne-active.org");
    nor a "." beside its "@" or another "." ("edith@.cc-hautlignon.fr": a printed dot)."""
    tidy = re.sub(r"\.*@\.*", "@", re.sub(r"\.{2,}", ".", "".join(value.split())))
    if tidy != value:
        repairs.append("suggestion: spaces and dots no address has left out")
    return tidy


_USUAL_ENDINGS = ("fr", "com", "net", "org")


def usual_ending(value: str, repairs: list[str]) -> str:
    """An e-mail ending a letter off one usual ending, and on none ("cc-saint-flour.fk",
    "gmail.con", "mairie-riom.f", "volcans-com", "FOYERSRURAUX63.ORG1"): on a French
    form, the usual one is meant. In capitals too: an address's case does not matter."""
    local, at, domain = value.rpartition("@")
    if at and (dotted := validate.dotted_domain(domain.lower())):  # "cc-hautlignonfr"
        repairs.append(f"suggestion: the '.' put back in {dotted}")
        return f"{local}@{dotted}"
    head, dot, ending = value.rpartition(".")
    ending = ending.lower()
    if not dot or "@" not in head or ending in validate.COMMON_ENDINGS:
        return value
    # a letter off ("fk", "con"), the last one lost ("mairie-riom.f"), a stroke after it
    near = [e for e in _USUAL_ENDINGS if (len(e) == len(ending) and Levenshtein.distance(
        e, ending) == 1) or (len(e) == len(ending) + 1 and e.startswith(ending))
        or (len(ending) == len(e) + 1 and ending.startswith(e) and not ending[-1].isalpha())]
    if len(near) != 1:
        return value
    repairs.append(f"suggestion: '.{ending}' read for '.{near[0]}'")
    return f"{head}.{near[0]}"


def capital_r(value: str, repairs: list[str], capitals: bool = False) -> str:
    """An e-mail in capitals (read so, or on a page in `capitals`) with a "K" where the
    hand wrote an "R" (French writes few K): the domain where that makes it known
    words ("LEGKANDCLEKMONT.COM"), a piece of the name where that makes a name no
    list has a known first name or surname ("GEKALDINE", "lagakde")."""
    local, at, domain = value.rpartition("@")
    if not at or "K" not in value.upper() or not (capitals or mostly_capitals(value)):
        return value
    if "k" in domain.lower() and not spelling.domain_of_words(value):
        swapped = domain.replace("K", "R").replace("k", "r")
        if spelling.domain_of_words(f"x@{swapped}"):
            repairs.append(f"suggestion: {domain} -> {swapped} (a capital R read as K)")
            domain = swapped
    lists = (lexicon.first_names(), lexicon.surnames())

    def piece(m: re.Match[str]) -> str:
        word = m.group(0)
        swapped = word.replace("K", "R").replace("k", "r")
        if (word == swapped or any(fold(word) in names for names in lists)
                or not any(fold(swapped) in names for names in lists)):
            return word
        repairs.append(f"suggestion: {word} -> {swapped} (a capital R read as K)")
        return swapped

    return re.sub(r"[^\W\d_]+", piece, local) + "@" + domain


def at_sign(value: str, repairs: list[str]) -> str:
    """An e-mail whose "@" was read as a look-alike ("perrin.fredericQwanadoo.fr",
    "FRANCKDUPONTOYAHOOFR"), as the one letter of the other case
    ("e.alexandreMallier.chambagri.fr", "LAMY.AUGUSTEeCOMBRAILLES.COM"), twice, or
    not at all before a mailbox provider ("REYAORANGE.FR"): where exactly one reading
    puts a known domain after it (of two, the longer)."""
    if "@@" in value:
        repairs.append("suggestion: '@@' read as one '@'")
        return re.sub("@+", "@", value)
    if "@" in value:
        return value
    capitals = mostly_capitals(value)
    lookalikes = _AT_LOOKALIKES + (_AT_IN_CAPITALS if capitals else "")
    # address: (known domain, the letter of the other case, "@" misread not lost,
    # the domain's length: of two known ones, the longer is more words read right)
    found: dict[str, tuple[int, int, int, int]] = {}
    # the one letter of the other case ("e.alexandreMallier.chambagri.fr",
    # "LAMY.AUGUSTEeCOMBRAILLES.COM"), whatever its domain
    other = [i for i, c in enumerate(value) if c.isalpha() and c.isupper() != capitals]
    lone = other[0] if len(other) == 1 and "." in value[other[0]:] else -1
    for i, c in enumerate(value):
        if i >= 2 and (c in lookalikes or i == lone):
            domain = _with_dot(value[i + 1:].lower())
            if known := max(_known_domain(domain), int(i == lone)):
                found[f"{value[:i].lower()}@{domain}"] = (known, int(i == lone), 1, len(domain))
    text = value.lower()
    for provider in spelling.WEBMAIL:  # the "@" not read at all
        for end in (provider, provider.replace(".", "")):
            if text.endswith(end) and len(text) - len(end) >= 2:
                found.setdefault(f"{text[:-len(end)]}@{provider}", (2, 0, 0, len(provider)))
    best = max(found.values(), default=(0, 0, 0, 0))
    top = [m for m, k in found.items() if k == best]
    if len(top) != 1:
        return value
    repairs.append(f"suggestion: the '@' put back ({top[0]})")
    return top[0]

def _mail_slugs(name: str) -> set[str]:
    """A name as an address writes it: 'Jean-François' -> 'jean-francois', 'jeanfrancois'."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")
    return {slug, slug.replace("-", "")} if slug else set()


# A name part of an address this common (lexicon score) is taken as written, whatever
# the names on the form ("jouis" is 0.31: rather "louis" misread)
KNOWN_NAME = 0.4


def _known_name(word: str, common: float = 0.0) -> bool:
    score = max(lexicon.first_name_score(word), lexicon.surname_score(word))
    return score >= common if common else score > 0


def mail_name_suggestion(value: str, names: Sequence[str], repairs: list[str]) -> str:
    """An e-mail's name part as the names on the form write it.

    Most addresses are built from the person's names ("helene.dupont",
    "hdupont", "dupont.h", "helene.dupont63"), which are read far better than
    the address itself (by hand, the second engine's names; typed, a doubled
    letter both engines merge). Where the name part read is a few letters off
    exactly one such spelling of names the lexicons know, and is not itself
    made of known names, that spelling is suggested; digits after it and the
    domain are left as read. The reader never accepts such an address.
    """
    local, at, domain = value.lower().rpartition("@")
    m = re.fullmatch(r"(.*?)(\d*)", local)
    head, digits = (m.group(1), m.group(2)) if m else (local, "")
    known = [n for n in names if n and _known_name(n)]  # the form's names: any known one
    pieces = [p for p in re.split(r"[^a-z]+", head) if p]
    initials = {fold(n)[:1] for n in known}
    common = [p in initials if len(p) == 1 else _known_name(p, KNOWN_NAME) for p in pieces]
    if not at or not head or len(known) < 2 or (pieces and all(common)):
        return value
    shapes: set[str] = set()
    for x, y in ((known[0], known[1]), (known[1], known[0])):
        for a in _mail_slugs(x):
            for b in _mail_slugs(y):
                shapes |= {f"{a}{sep}{b}" for sep in (".", "", "-")}
                shapes |= {f"{a[0]}{sep}{b}" for sep in (".", "")}
                shapes |= {f"{b}{sep}{a[0]}" for sep in (".", "")}
    scored = sorted((Levenshtein.distance(head, s), s) for s in shapes)
    (d, best) = scored[0]
    runner = scored[1][0] if len(scored) > 1 else None
    if d == 0 or d > MAIL_NAME_EDITS or d > 0.4 * len(best) or runner == d:
        return value
    tail = head[len(best):] if head.startswith(best) else ""
    if tail and tail.translate(AS_DIGIT).isdigit():
        # "corinne.brunetgo": the name right, and digits after it read as letters
        digits = tail.translate(AS_DIGIT) + digits
        repairs.append(f"suggestion: '{tail}' after the name read as digits, {digits}")
        return f"{best}{digits}@{domain}"
    repairs.append(f"suggestion: name part read as '{best}', from the names on the form")
    return f"{best}{digits}@{domain}"


DOT_GAP = 4.0  # a gap this many times the typical one between typed characters ...
DOT_GAP_HEIGHT = 0.12  # ... and this share of their height held a "."


def dot_in_gap(value: str, boxes: Sequence[tuple[str, int, int, int]], names: Sequence[str],
               repairs: list[str]) -> str:
    """A typed e-mail whose name part is two names glued, read with a gap between
    them where a "." stood: it lay on a printed dot and was cleaned away with it.

    Glued names are common ("bernarddijoux"), so the gap decides: between typed
    letters it is a few pixels; a "." and its spacing leave several times that.
    On the fit sets' typed e-mails: 6 lost dots found of 6, none put into 30
    glued addresses.
    """
    local, at, domain = value.partition("@")
    chars = "".join(c for c, *_ in boxes)
    if not at or "@" not in chars or chars[:chars.index("@")].lower() != local:
        return value
    if re.search(r"[^a-z0-9]", local) or len(names) < 2 or len(boxes) < 4:
        return value
    splits = {len(a) for x, y in ((names[0], names[1]), (names[1], names[0]))
              for a in (*_mail_slugs(x), fold(x)[:1]) for b in _mail_slugs(y)
              if a and local == a + b}
    gaps = [boxes[i + 1][1] - boxes[i][2] for i in range(len(boxes) - 1)]
    typical = max(1.0, float(np.median(gaps)))
    height = float(np.median([h for *_, h in boxes]))
    for k in sorted(splits):
        g = gaps[k - 1]
        if g >= DOT_GAP * typical and g >= DOT_GAP_HEIGHT * height:
            repairs.append(f"suggestion: a '.' between '{local[:k]}' and '{local[k:]}', "
                           "where a gap shows it was")
            return f"{local[:k]}.{local[k:]}@{domain}"
    return value

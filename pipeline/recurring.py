"""What colleagues' forms share: a garbled reading offered as the batch's clean one.

Several people of one structure come to a seminar: their forms name the same
structure, often the same job title, and their e-mails the same domain. One
form may be typed and accepted while a colleague's handwriting reads "CCI
DV CANTAI"; the accepted "CCI du Cantal" is then the likeliest suggestion. A
field's `shared` (in the template) says what its forms share.

Only for fields in review that no one has decided yet, and only for a reading
with a word no lexicon knows (a domain not made of known words): a reading of
real words ("Mairie de Riom") is left alone, however like a batch value it
is ("Mairie de Royat"). The page's own suggestion stays in `machine_value`;
the batch's goes into `value`, which the reviewer sees pre-filled, with a
note saying where it came from. Re-run after every batch, from
`machine_value`: the same workspace gives the same suggestions.
"""

from __future__ import annotations

import re
from collections import Counter

from rapidfuzz import fuzz, process

from pipeline import spelling
from pipeline.models import Status
from pipeline.store import Workspace
from pipeline.template import Template
from pipeline.trust.evidence import mostly_capitals
from pipeline.trust.lexicon import fold
from pipeline.vocabulary import ACCENTED, as_written

SIMILARITY = 80  # how like the batch's value a reading must be (rapidfuzz ratio, 0-100) ...
MARGIN = 5  # ... and how much more than like any other of the batch's values
NOTE = "batch suggestion: "  # how this module's notes start: a re-run replaces its own
# what a person decided or the machine accepted: values to offer to the rest
_SETTLED = (Status.ACCEPTED.value, Status.CONFIRMED.value, Status.CORRECTED.value)


def _words(text: str) -> list[str]:
    """A value's words as written, parted at spaces and punctuation."""
    return re.sub(r"[-'’.(),]", " ", text).split()


def _key(text: str) -> str:
    """How values are compared: their words, folded."""
    return " ".join(fold(w) for w in _words(text))


def _piece(shared: str, value: str) -> tuple[str, str]:
    """(what stays, what is shared) of a value: the e-mail's "name@" and its domain."""
    if shared == "domain":
        head, at, domain = value.rpartition("@")
        return (head + at, domain) if at else (value, "")
    return "", value


# French words of one letter, and the elided ones before an apostrophe ("D'", "L'")
_ONE_LETTER = frozenset("aàydljnstmc")


def _garbled(word: str) -> bool:
    """A word no lexicon knows, or no word at all ("\\es", "CANTAI", "ppécrle", the "E"
    of "AGENT E")."""
    if len(word) == 1:
        return word.lower() not in _ONE_LETTER
    return not word.isalpha() or (len(word) >= 3 and not spelling.known_word(word))


CORE_SIMILARITY = 40  # how alike what differs between two values must still be


def _shared_ends(a: list[str], b: list[str]) -> tuple[int, int]:
    """How many words two values share at their start, and then at their end."""
    n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
             min(len(a), len(b)))
    ra, rb = a[n:][::-1], b[n:][::-1]
    m = next((i for i, (x, y) in enumerate(zip(ra, rb, strict=False)) if x != y),
             min(len(ra), len(rb)))
    return n, m


def suggestion(shared: str, read: str, known: dict[str, str]) -> tuple[str, str] | None:
    """(the value, the batch value it follows) for a reading, if one batch value is
    far likelier than the rest; None when the reading should stay as it is.

    What would change must be alike and garbled: a long common qualifier ("...
    (pôle attractivité et services à la population)") makes "CAUE du
    Puy-de-Dôme" and "Mairie de Thiers" look alike as a whole, and a word no
    lexicon knows in it is no reason to change their heads.
    """
    keep, piece = _piece(shared, read)
    written = _words(piece)
    words = [fold(w) for w in written]
    key = " ".join(words)
    if not piece or not known or key in known:
        return None
    if shared == "domain" and spelling.domain_of_words(f"x@{piece}"):
        return None
    hits = process.extract(key, list(known), scorer=fuzz.ratio, limit=2)
    if not hits or hits[0][1] < SIMILARITY or (len(hits) > 1
                                               and hits[0][1] - hits[1][1] < MARGIN):
        return None
    theirs = hits[0][0].split()
    n, m = _shared_ends(words, theirs)
    core, their_core = " ".join(words[n:len(words) - m]), " ".join(theirs[n:len(theirs) - m])
    written = written[n:len(words) - m]
    # (an acronym among small letters is one: "CAUE du Puy-de-Dôme")
    capitals = mostly_capitals(piece)
    if shared == "value" and not any(_garbled(w) for w in written
                                     if capitals or not (w.isupper() and len(w) <= 5)):
        return None
    if fuzz.ratio(core, their_core) < CORE_SIMILARITY:
        return None
    found = known[hits[0][0]]
    return keep + (found.lower() if shared == "domain"
                   else as_written(found, piece, accents=bool(ACCENTED.search(piece)))), found


def known_values(ws: Workspace, template: Template) -> dict[str, dict[str, str]]:
    """{field: {key: the commonest spelling}} of what the batch has settled, per shared field."""
    shared = {f.id: f.shared for f in template.fields if f.shared}
    seen: dict[str, Counter[str]] = {fid: Counter() for fid in shared}
    for r in ws.field_rows():
        if r["field"] in shared and r["status"] in _SETTLED and r["value"]:
            piece = _piece(shared[r["field"]], r["value"])[1]
            if piece:
                seen[r["field"]][piece] += 1
    out: dict[str, dict[str, str]] = {}
    for fid, counts in seen.items():
        table: dict[str, str] = {}
        for value, _ in counts.most_common():
            table.setdefault(_key(value), value)
        out[fid] = table
    return out


def apply(ws: Workspace, template: Template) -> int:
    """Offer the batch's values to the shared fields still waiting for a reviewer;
    returns how many pre-filled values changed."""
    shared = {f.id: f.shared for f in template.fields if f.shared}
    if not shared:
        return 0
    known = known_values(ws, template)
    changed = 0
    with ws.transaction() as db:
        rows = db.execute(
            "SELECT id, field, machine_value, value, repairs FROM fields "
            f"WHERE status = ? AND version = 0 AND field IN ({','.join('?' * len(shared))})",
            (Status.REVIEW.value, *shared),
        ).fetchall()
        for r in rows:
            notes = [n for n in r["repairs"].split(";") if n and not n.startswith(NOTE)]
            found = suggestion(shared[r["field"]], r["machine_value"], known[r["field"]])
            value = r["machine_value"]
            if found is not None:
                value = found[0]
                notes.append(f"{NOTE}as another form of this batch writes it ({found[1]!r})")
            repairs = ";".join(notes)
            if value != r["value"] or repairs != r["repairs"]:
                db.execute("UPDATE fields SET value = ?, repairs = ? WHERE id = ? AND version = 0",
                           (value, repairs, r["id"]))
                changed += value != r["value"]
    return changed

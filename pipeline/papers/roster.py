"""Who is coming, as the workspace has them now: the one source every paper is drawn from.

A person whose form still has a field waiting for a reviewer stays in the
roster, with that field named in `pending`, so every paper can mark the row
as not final instead of printing it as if it were.
"""

from __future__ import annotations

import csv
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache
from pathlib import Path

from pipeline.errors import TemplateError
from pipeline.export import attendees_table
from pipeline.store import Workspace
from pipeline.template import Event, Template, default_template

DEPARTEMENTS = Path(__file__).resolve().parent.parent / "trust" / "departements.csv"


class Payment(StrEnum):
    """A lunch's payment, as the organiser records it; unrecorded means to collect."""

    PAID = "paid"
    TO_COLLECT = "to_collect"
    EXEMPT = "exempt"

    @property
    def label(self) -> str:
        return {"paid": "Payé", "to_collect": "À encaisser", "exempt": "Exonéré"}[self.value]


@dataclass(frozen=True)
class Person:
    """One form's final values (a reviewer's where one decided), as the papers print them."""

    source_file: str
    page: int
    nom: str
    prenom: str
    structure: str
    fonction: str
    agent: str  # oui, non, or "" when not (yet) known
    adresse: str
    code_postal: str
    commune: str
    mail: str
    telephone: str
    participera: str
    dejeunera: str
    payment: Payment | None  # None: no lunch
    receipt: int | None  # the lunch receipt's number, once one was printed
    pending: tuple[str, ...] = ()  # fields still waiting for a reviewer

    @property
    def needs_review(self) -> bool:
        return bool(self.pending)

    @property
    def comes(self) -> bool:
        """On the sign-in sheet: said they take part, or that answer is still in review."""
        return self.participera == "oui" or "participera" in self.pending

    @property
    def lunches(self) -> bool:
        return self.dejeunera == "oui"

    @property
    def surname(self) -> str:
        return self.nom.upper()

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.prenom) if p)

    @property
    def departement(self) -> str:
        """The postcode's département code (2A/2B for Corsica, 971... overseas), or ''."""
        return departement_of(self.code_postal)

    def sort_key(self) -> tuple[str, str, str]:
        """By surname then first name, as a French reader alphabetises (É with E)."""
        return (fold(self.nom), fold(self.prenom), fold(self.structure))


@dataclass(frozen=True)
class Roster:
    """Everyone on the workspace's forms (merged duplicates left out), and the seminar."""

    event: Event
    people: tuple[Person, ...]  # sorted by surname

    @property
    def coming(self) -> tuple[Person, ...]:
        return tuple(p for p in self.people if p.comes)

    @property
    def lunching(self) -> tuple[Person, ...]:
        return tuple(p for p in self.people if p.lunches)

    @property
    def price(self) -> int:
        return self.event.lunch.price_eur

    def count(self, payment: Payment) -> int:
        return sum(p.payment == payment for p in self.lunching)

    @property
    def due_eur(self) -> int:
        return (len(self.lunching) - self.count(Payment.EXEMPT)) * self.price

    @property
    def collected_eur(self) -> int:
        return self.count(Payment.PAID) * self.price


def fold(text: str) -> str:
    """Case and accents folded, for sorting and grouping names as people read them."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def departement_of(code_postal: str) -> str:
    code = code_postal.strip()
    if len(code) != 5 or not code.isdigit():
        return ""
    if code.startswith("97"):
        return code[:3]
    if code.startswith("20"):
        return "2A" if code < "20200" else "2B"
    return code[:2]


@cache
def departement_names() -> dict[str, str]:
    """Metropolitan départements by code, from the table the address checks use."""
    with DEPARTEMENTS.open(encoding="utf-8") as f:
        names = {row["code"]: row["name"] for row in csv.DictReader(f)}
    names.setdefault("2A", "Corse-du-Sud")
    names.setdefault("2B", "Haute-Corse")
    return names


def event_of(template: Template) -> Event:
    if template.event is None:
        raise TemplateError(
            f"template {template.form!r} has no `event` (the seminar's title, date, place and "
            "lunch price): the organiser's papers need it; see schemas/inscription-2015.yaml")
    return template.event


def pending_fields(ws: Workspace) -> dict[tuple[str, int], tuple[str, ...]]:
    """(source_file, page) -> the fields of that form still waiting for a reviewer."""
    out: dict[tuple[str, int], list[str]] = {}
    for r in ws.field_rows():
        if r["status"] == "review":
            out.setdefault((r["source_file"], r["page"]), []).append(r["field"])
    return {k: tuple(v) for k, v in out.items()}


def build(ws: Workspace, template: Template | None = None) -> Roster:
    """The roster from the workspace's final values and the organiser's payments."""
    template = template or default_template()
    event = event_of(template)
    table = attendees_table(ws, template)
    pending = pending_fields(ws)
    receipts = {k: receipt for k, (_state, receipt) in ws.payments().items()}
    people = []
    for row in table.to_dict("records"):
        key = (row["source_file"], int(row["page"]))
        if not any(row[f] for f in ("nom", "prenom")) and not pending.get(key):
            continue  # a form without a name and nothing left to decide: nobody to list
        people.append(Person(
            source_file=key[0], page=key[1],
            **{f: str(row[f]).strip() for f in (
                "nom", "prenom", "structure", "fonction", "adresse", "code_postal", "commune",
                "mail", "telephone", "participera", "dejeunera")},
            agent=str(row["agent_collectivite"]),
            payment=Payment(row["paiement"]) if row["paiement"] else None,
            receipt=receipts.get(key) if row["dejeunera"] == "oui" else None,
            pending=pending.get(key, ()),
        ))
    people.sort(key=Person.sort_key)
    return Roster(event=event, people=tuple(people))


def number_receipts(ws: Workspace, roster: Roster) -> Roster:
    """Give every lunch without a receipt number the next ones, in surname order.

    A number, once printed on a justificatif, stays that person's: a form that
    arrives later gets the next free number instead of shifting everyone's.
    """
    ids = [ws.page_id(p.source_file, p.page) for p in roster.lunching if p.receipt is None]
    ws.number_receipts([i for i in ids if i is not None])
    numbers = {k: n for k, (_s, n) in ws.payments().items()}
    return Roster(roster.event, tuple(
        replace(p, receipt=numbers.get((p.source_file, p.page))) if p.lunches else p
        for p in roster.people))


def by_structure(people: Iterable[Person]) -> list[tuple[str, int]]:
    """(structure as most often written, people) most first; case and accent variants together."""
    groups: dict[str, Counter[str]] = {}
    for p in people:
        name = p.structure or "(structure non indiquée)"
        groups.setdefault(fold(name), Counter())[name] += 1
    # the spelling most people wrote; on a tie, one in mixed case over one in capitals
    rows = [(max(c, key=lambda n: (c[n], n != n.upper())), sum(c.values()))
            for c in groups.values()]
    return sorted(rows, key=lambda r: (-r[1], fold(r[0])))


def by_departement(people: Iterable[Person]) -> list[tuple[str, str, int]]:
    """(code, name, people) most first; '' for an address without a usable postcode."""
    names = departement_names()
    counts = Counter(p.departement for p in people)
    rows = [(code, names.get(code, code or "Non indiqué"), n)
            for code, n in counts.items()]
    return sorted(rows, key=lambda r: (-r[2], r[0] == "", r[0]))

"""Every paper and export the organiser can take away, by name: for the CLI, the web and demo.

One list, so the summary page links to exactly what `formscan papers` writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline import export
from pipeline.papers import badges, catering, receipts, roster, signin, xlsx
from pipeline.papers.roster import Roster
from pipeline.store import Workspace
from pipeline.template import Template

Make = Callable[[Workspace, Roster, Template], bytes]


@dataclass(frozen=True)
class Paper:
    key: str  # the URL's and the CLI's name for it
    filename: str
    mimetype: str
    title: str  # as the summary page lists it
    make: Make
    whole_list: bool = False  # holds every attendee's data: counts as an export for purge
    numbers_receipts: bool = False
    paper: bool = True  # False: a CSV `formscan export` already writes; only the web offers it


def _csv(table: Callable[[Workspace], pd.DataFrame]) -> Make:
    def make(ws: Workspace, _r: Roster, _t: Template) -> bytes:
        return (export.write_csv(table(ws), None) or "").encode("utf-8")
    return make


PAPERS: tuple[Paper, ...] = (
    Paper("xlsx", "inscrits.xlsx",
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "Classeur (inscrits, déjeuner, traiteur, totaux, en attente)",
          lambda ws, r, t: xlsx.render(ws, r), whole_list=True),
    Paper("signin", "emargement.pdf", "application/pdf",
          "Feuille d'émargement (et liste du déjeuner)", lambda ws, r, t: signin.render(r, t)),
    Paper("badges", "badges.pdf", "application/pdf", "Badges",
          lambda ws, r, t: badges.render(r, t)),
    Paper("receipts", "justificatifs.pdf", "application/pdf", "Justificatifs de déjeuner",
          lambda ws, r, t: receipts.render(r, t), numbers_receipts=True),
    Paper("caterer", "traiteur.txt", "text/plain; charset=utf-8", "Comptage pour le traiteur",
          lambda ws, r, t: catering.count(r).text().encode("utf-8")),
    Paper("attendees", "attendees.csv", "text/csv; charset=utf-8", "Inscrits (CSV)",
          _csv(export.attendees_table), whole_list=True, paper=False),
    Paper("fields", "fields.csv", "text/csv; charset=utf-8", "Tous les champs (CSV)",
          _csv(export.fields_table), whole_list=True, paper=False),
    Paper("pages", "pages.csv", "text/csv; charset=utf-8", "Toutes les pages reçues (CSV)",
          _csv(export.pages_table), paper=False),
)
BY_KEY = {p.key: p for p in PAPERS}


def make(ws: Workspace, paper: Paper, template: Template) -> bytes:
    """`paper` drawn from the workspace as it is now."""
    if paper.whole_list:
        ws.record_export("attendees")  # before reading, as `formscan export attendees` does
    r = roster.build(ws, template)
    if paper.numbers_receipts:
        r = roster.number_receipts(ws, r)
    return paper.make(ws, r, template)


def write_all(ws: Workspace, out: Path, template: Template) -> list[tuple[Paper, Path]]:
    """Every paper (not the CSVs, which `formscan export` writes) into folder `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for paper in (p for p in PAPERS if p.paper):
        path = out / paper.filename
        path.write_bytes(make(ws, paper, template))
        written.append((paper, path))
    return written

"""The organiser's workbook: attendees, the lunch, the caterer's count, totals, what waits.

Cells carry real types (numbers, booleans, euros) so sorting and sums work in
Excel or LibreOffice; text that a spreadsheet would run as a formula is made
plain exactly as in the CSV export. Every sheet has a frozen header, filters
and columns as wide as their contents; rows still waiting for a reviewer are
highlighted and say which fields.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.export import neutralise_formulas
from pipeline.papers import catering
from pipeline.papers.roster import Payment, Person, Roster
from pipeline.store import Workspace

EUROS = '#,##0.00 "€"'
PENDING_FILL = PatternFill("solid", fgColor="FFF3C4")
HEAD_FILL = PatternFill("solid", fgColor="E6E6E6")
MAX_WIDTH = 60
SHEETS = ("Inscrits", "Déjeuner", "Traiteur", "Totaux", "En attente")


def _bool(value: str) -> bool | None:
    return {"oui": True, "non": False}.get(value)


def _due(roster: Roster, p: Person) -> int:
    return roster.price if p.lunches and p.payment != Payment.EXEMPT else 0


def attendees_frame(roster: Roster) -> pd.DataFrame:
    rows = [{
        "nom": p.nom, "prenom": p.prenom, "structure": p.structure, "fonction": p.fonction,
        "agent_collectivite": _bool(p.agent), "adresse": p.adresse,
        "code_postal": p.code_postal, "commune": p.commune, "departement": p.departement,
        "mail": p.mail, "telephone": p.telephone, "participera": _bool(p.participera),
        "dejeunera": _bool(p.dejeunera), "paiement": p.payment.value if p.payment else "",
        "montant_du": _due(roster, p), "recu": p.receipt,
        "needs_review": p.needs_review, "a_verifier": ", ".join(p.pending),
        "source_file": p.source_file, "page": p.page,
    } for p in roster.people]
    return pd.DataFrame(rows)


def lunch_frame(roster: Roster) -> pd.DataFrame:
    rows = [{
        "nom": p.nom, "prenom": p.prenom, "structure": p.structure,
        "paiement": p.payment.value if p.payment else "", "montant_du": _due(roster, p),
        "encaisse": roster.price if p.payment == Payment.PAID else 0, "recu": p.receipt,
        "needs_review": p.needs_review, "a_verifier": ", ".join(p.pending),
    } for p in roster.lunching]
    return pd.DataFrame(rows, columns=["nom", "prenom", "structure", "paiement", "montant_du",
                                       "encaisse", "recu", "needs_review", "a_verifier"])


def caterer_frame(roster: Roster) -> pd.DataFrame:
    c = catering.count(roster)
    rows = [{"structure": s, "repas": n} for s, n in c.per_structure]
    rows.append({"structure": "TOTAL", "repas": c.total})
    return pd.DataFrame(rows, columns=["structure", "repas"])


def totals_frame(roster: Roster) -> pd.DataFrame:
    people, lunching = roster.people, roster.lunching
    rows = [
        ("formulaires (personnes)", len(people)),
        ("participants (émargement)", len(roster.coming)),
        ("agents de collectivité", sum(p.agent == "oui" for p in people)),
        ("déjeuners", len(lunching)),
        ("prix du déjeuner (€)", roster.price),
        ("déjeuners payés", roster.count(Payment.PAID)),
        ("déjeuners à encaisser", roster.count(Payment.TO_COLLECT)),
        ("déjeuners exonérés", roster.count(Payment.EXEMPT)),
        ("montant dû (€)", roster.due_eur),
        ("encaissé (€)", roster.collected_eur),
        ("reste à encaisser (€)", roster.due_eur - roster.collected_eur),
        ("formulaires en attente de vérification", sum(p.needs_review for p in people)),
        ("réponses au déjeuner à vérifier (non comptées)",
         sum("dejeunera" in p.pending and not p.lunches for p in people)),
    ]
    return pd.DataFrame(rows, columns=["total", "valeur"])


def pending_frame(ws: Workspace) -> pd.DataFrame:
    """Every field still waiting for a reviewer, worst first, with the form's name."""
    merged = ws.merged_pages()  # not on the attendee list: nothing the organiser waits for
    rows = [r for r in ws.field_rows() if (r["source_file"], r["page"]) not in merged]
    names: dict[tuple[str, int], dict[str, str]] = {}
    for r in rows:
        if r["field"] in ("nom", "prenom"):
            names.setdefault((r["source_file"], r["page"]), {})[r["field"]] = r["value"]
    out = [{
        "source_file": r["source_file"], "page": r["page"],
        "nom": names.get((r["source_file"], r["page"]), {}).get("nom", ""),
        "prenom": names.get((r["source_file"], r["page"]), {}).get("prenom", ""),
        "field": r["field"], "value": r["value"], "confidence": round(r["confidence"], 3),
        "reasons": r["reasons"].replace(";", ", "),
    } for r in rows if r["status"] == "review"]
    frame = pd.DataFrame(out, columns=["source_file", "page", "nom", "prenom", "field", "value",
                                       "confidence", "reasons"])
    return frame.sort_values(["confidence", "source_file", "page"], kind="stable")


def _shape(sheet: Worksheet, frame: pd.DataFrame, euros: tuple[str, ...] = ()) -> None:
    """Frozen header, filters, fitting widths, euro format, pending rows highlighted."""
    sheet.freeze_panes = "A2"
    if len(frame.columns):
        sheet.auto_filter.ref = (f"A1:{get_column_letter(len(frame.columns))}"
                                 f"{max(len(frame) + 1, 2)}")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
    for i, col in enumerate(frame.columns, 1):
        cells = [str(col), *("" if pd.isna(v) else str(v) for v in frame[col])]
        # a filter's button sits over the header's right end: leave it room
        width = max(len(cells[0]) + 3, *(len(v) for v in cells[1:])) if len(cells) > 1 \
            else len(cells[0]) + 3
        sheet.column_dimensions[get_column_letter(i)].width = min(width + 2, MAX_WIDTH)
        if col in euros:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = EUROS
    if "needs_review" in frame.columns:
        for row, pending in enumerate(frame["needs_review"], 2):
            if pending:
                for cell in sheet[row]:
                    cell.fill = PENDING_FILL


def write(ws: Workspace, roster: Roster, out: Path | io.BytesIO) -> None:
    """The workbook to `out` (a path or a buffer)."""
    frames = {
        "Inscrits": (attendees_frame(roster), ("montant_du",)),
        "Déjeuner": (lunch_frame(roster), ("montant_du", "encaisse")),
        "Traiteur": (caterer_frame(roster), ()),
        "Totaux": (totals_frame(roster), ()),
        "En attente": (pending_frame(ws), ()),
    }
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for name, (frame, euros) in frames.items():
            safe = neutralise_formulas(frame)
            safe.to_excel(writer, sheet_name=name, index=False)
            _shape(writer.sheets[name], safe, euros)
        caterer = writer.sheets["Traiteur"]
        for cell in caterer[caterer.max_row]:
            cell.font = Font(bold=True)


def render(ws: Workspace, roster: Roster) -> bytes:
    buf = io.BytesIO()
    write(ws, roster, buf)
    return buf.getvalue()

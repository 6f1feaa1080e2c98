"""The sign-in sheet (feuille d'émargement): who signs in at the door, and who at lunch.

Participants sorted by surname, with their structure and room to sign; a row
whose form still waits for a reviewer is highlighted and says which field, so
nobody takes it for final. Each list ends with its count and a few blank rows
for people who register on the day.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)

from pipeline.papers import pdf
from pipeline.papers.roster import Person, Roster
from pipeline.template import Template, default_template

WALK_IN_ROWS = 4  # blank rows at the end of each list, for people registering on the day
ROW_MM = 11  # tall enough to sign in
FIELD_NAMES = {"nom": "nom", "prenom": "prénom", "structure": "structure",
               "fonction": "fonction", "agent_collectivite": "agent", "adresse": "adresse",
               "mail": "mail", "telephone": "téléphone", "participera": "participera",
               "dejeunera": "déjeunera"}


def pending_words(p: Person) -> str:
    return "à vérifier : " + ", ".join(FIELD_NAMES.get(f, f) for f in p.pending)


def _name_cell(p: Person, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    cell: list[Flowable] = [Paragraph(f"<b>{pdf.text(p.surname)}</b>", st["base"])]
    if p.needs_review:
        cell.append(Paragraph(pdf.text(pending_words(p)), st["pending"]))
    return cell


def _table(people: Sequence[Person], st: dict[str, ParagraphStyle], lunch: bool) -> Table:
    head = ["N°", "Nom", "Prénom", "Structure"] + (["Paiement"] if lunch else []) + ["Signature"]
    widths = ([9, 38, 29, 54, 20, 30] if lunch else [9, 42, 32, 60, 43])
    rows: list[list[object]] = [[Paragraph(h, st["head"]) for h in head]]
    for i, p in enumerate(people, 1):
        row: list[object] = [str(i), _name_cell(p, st), Paragraph(pdf.text(p.prenom), st["base"]),
                             Paragraph(pdf.text(p.structure), st["small"])]
        if lunch:
            row.append(Paragraph(p.payment.label if p.payment else "", st["small"]))
        rows.append([*row, ""])
    rows += [[""] * len(head) for _ in range(WALK_IN_ROWS)]
    # A person's row grows with what it holds (a long structure, the fields to check);
    # its padding makes a one-line row as tall as a blank one, room enough to sign.
    pad = (ROW_MM * mm - st["base"].leading) / 2
    table = Table(rows, colWidths=[w * mm for w in widths],
                  rowHeights=[7 * mm] + [None] * len(people) + [ROW_MM * mm] * WALK_IN_ROWS,
                  repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, -1), st["base"].fontName, 9),
        ("TOPPADDING", (0, 1), (-1, len(people)), pad),
        ("BOTTOMPADDING", (0, 1), (-1, len(people)), pad),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (0, -1), "RIGHT"),
    ]
    style += [("BACKGROUND", (0, i), (-1, i), pdf.PENDING_FILL)
              for i, p in enumerate(people, 1) if p.needs_review]
    table.setStyle(TableStyle(style))
    return table


def _count(people: Sequence[Person], what: str) -> str:
    pending = sum(p.needs_review for p in people)
    line = f"Total : {len(people)} {what}"
    return line + (f" (dont {pending} à vérifier)" if pending else "")


def _section(roster: Roster, people: Sequence[Person], heading: str, what: str,
             st: dict[str, ParagraphStyle], lunch: bool) -> list[Flowable]:
    parts = pdf.seminar_header(roster.event, st, heading)
    parts.append(_table(people, st, lunch))
    parts.append(Paragraph(pdf.text(_count(people, what)), st["total"]))
    if lunch:
        price = roster.price
        parts.append(Paragraph(pdf.text(
            f"Participation : {price} € par déjeuner, à l'ordre de "
            f"{roster.event.lunch.payable_to}. Dû : {roster.due_eur} € ; "
            f"encaissé : {roster.collected_eur} €."), st["base"]))
    if any(p.needs_review for p in people):
        parts.append(Paragraph(pdf.text(pdf.PENDING_NOTE), st["pending"]))
    return parts


def render(roster: Roster, template: Template | None = None) -> bytes:
    """The sign-in sheet as PDF bytes: the day's list, then the lunch's on a new page."""
    f = pdf.fonts(template or default_template())
    st = pdf.styles(f)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=14 * mm, bottomMargin=16 * mm,
                            title="Feuille d'émargement", author=roster.event.lunch.payable_to)
    story = _section(roster, roster.coming, "Feuille d'émargement", "participants", st, False)
    story.append(PageBreak())
    story += _section(roster, roster.lunching, "Émargement du déjeuner", "déjeuners", st, True)
    footer = f"Feuille d'émargement · {roster.event.when}"
    doc.build(story, canvasmaker=pdf.numbered_canvas(f.regular, footer))
    return buf.getvalue()

"""Lunch receipts: the form promises "Un justificatif vous sera remis sur place".

One numbered justificatif per lunch, three to an A4 page with dashed lines to
cut along: the issuer and the price are the form's (`event.lunch`), the number
is the one the workspace gave that lunch for good (`roster.number_receipts`).
A lunch still to collect gets a receipt with an empty "reçu le" line to fill
in at the desk; one still waiting for a reviewer is printed PROVISOIRE.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

from pipeline.papers import pdf
from pipeline.papers.roster import Payment, Person, Roster
from pipeline.papers.signin import pending_words
from pipeline.template import Template, default_template

PER_PAGE = 3
MARGIN = 15 * mm


def euros(amount: int) -> str:
    """20 -> '20,00 €', as amounts are written in France."""
    return f"{amount:,}".replace(",", "\u202f") + ",00 €"


def receipt_number(roster: Roster, n: int | None) -> str:
    return f"{roster.event.day.year}-{n:04d}" if n is not None else "(sans numéro)"


def _receipt(c: canvas.Canvas, p: Person, roster: Roster, f: pdf.Fonts, top: float,
             height: float, styles: dict) -> None:
    width = A4[0] - 2 * MARGIN
    lunch = roster.event.lunch
    y = top - 12 * mm
    c.setFillColorRGB(0, 0, 0)
    c.setFont(f.bold, 13)
    c.drawString(MARGIN, y, "JUSTIFICATIF DE PAIEMENT — DÉJEUNER")
    c.drawRightString(MARGIN + width, y, f"N° {receipt_number(roster, p.receipt)}")
    c.setFont(f.regular, 8.5)
    c.setFillColor(pdf.GREY)
    for i, line in enumerate((roster.event.title, roster.event.organiser,
                              f"{roster.event.when} · {roster.event.place}")):
        c.drawString(MARGIN, y - (5 + 4 * i) * mm, line)
    c.setFillColorRGB(0, 0, 0)
    body = (
        f"<b>{pdf.text(lunch.payable_to)}</b> atteste avoir reçu de "
        f"<b>{pdf.text(' '.join(x for x in (p.prenom, p.surname) if x))}</b>"
        + (f", {pdf.text(p.structure)}," if p.structure else "")
        + f" la somme de <b>{euros(roster.price)}</b> au titre de la participation au "
        f"déjeuner du {pdf.text(roster.event.when.split(' - ')[0])}, "
        f"règlement à l'ordre de {pdf.text(lunch.payable_to)}."
    )
    if p.payment == Payment.EXEMPT:
        body = (f"<b>{pdf.text(' '.join(x for x in (p.prenom, p.surname) if x))}</b>"
                + (f" ({pdf.text(p.structure)})" if p.structure else "")
                + " est exonéré(e) de la participation au déjeuner : aucune somme n'est due.")
    para = Paragraph(body, styles["body"])
    _w, h = para.wrap(width, 30 * mm)
    para.drawOn(c, MARGIN, y - 22 * mm - h)
    if p.needs_review:  # under the text it qualifies, wrapped: it can name many fields
        note = Paragraph(pdf.text(f"PROVISOIRE — {pending_words(p)} (formulaire en attente "
                                  "de vérification)"), styles["provisional"])
        _w, nh = note.wrap(width, 15 * mm)
        note.drawOn(c, MARGIN, y - 25 * mm - h - nh)
    state = p.payment.label if p.payment else ""
    c.setFont(f.bold, 10)
    c.drawString(MARGIN, top - height + 24 * mm, f"Paiement : {state}")
    c.setFont(f.regular, 9)
    if p.payment != Payment.EXEMPT:
        c.drawString(MARGIN, top - height + 16 * mm,
                     "Reçu le : ........................    Mode : espèces / chèque")
    c.drawString(MARGIN + width * 0.62, top - height + 16 * mm,
                 f"Pour {lunch.payable_to}, signature :")


def render(roster: Roster, template: Template | None = None,
           people: Sequence[Person] | None = None) -> bytes:
    """One receipt per lunch, in the order of their numbers (then surname for unnumbered)."""
    f = pdf.fonts(template or default_template())
    base = pdf.styles(f)["base"]
    styles = {"body": base.clone("body", fontSize=10.5, leading=14),
              "provisional": base.clone("provisional", fontName=f.bolditalic, fontSize=9,
                                        leading=11, textColor=pdf.PENDING_INK)}
    people = sorted(roster.lunching if people is None else people,
                    key=lambda p: (p.receipt is None, p.receipt or 0, p.sort_key()))
    height = A4[1] / PER_PAGE
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(f"Justificatifs déjeuner · {roster.event.when}")
    pages = max(1, -(-len(people) // PER_PAGE))
    for page in range(pages):
        chunk = people[page * PER_PAGE:(page + 1) * PER_PAGE]
        for i, p in enumerate(chunk):
            top = A4[1] - i * height
            _receipt(c, p, roster, f, top, height, styles)
            if i:
                c.setDash(3, 3)
                c.setStrokeColorRGB(0.5, 0.5, 0.5)
                c.setLineWidth(0.4)
                c.line(8 * mm, top, A4[0] - 8 * mm, top)
                c.setDash()
        c.setFont(f.regular, 7)
        c.setFillColorRGB(0.4, 0.4, 0.4)
        c.drawRightString(A4[0] - 8 * mm, 4 * mm,
                          f"{len(people)} justificatif{'' if len(people) == 1 else 's'} · "
                          f"page {page + 1} / {pages}")
        c.showPage()
    c.save()
    return buf.getvalue()

"""Name badges on A4 sheets: eight 90 x 60 mm badges a page, with cut marks between them.

The surname is as large as fits, the first name under it, then the structure;
the seminar's title and date sit at the top. A badge whose form still waits
for a reviewer says so in its corner, so it is checked before it is handed out.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

from pipeline.papers import pdf
from pipeline.papers.roster import Person, Roster
from pipeline.template import Template, default_template

BADGE_W, BADGE_H = 90 * mm, 60 * mm
COLS, ROWS = 2, 4
GAP = 8 * mm  # between badges: room for the cut marks and for the scissors
MARK = 4 * mm  # length of a cut mark
PER_PAGE = COLS * ROWS


def _origins() -> Iterator[tuple[float, float]]:
    """Bottom-left corner of each badge on the page, left to right, top to bottom."""
    page_w, page_h = A4
    x0 = (page_w - COLS * BADGE_W - (COLS - 1) * GAP) / 2
    top = page_h - (page_h - ROWS * BADGE_H - (ROWS - 1) * GAP) / 2
    for r in range(ROWS):
        for c in range(COLS):
            yield x0 + c * (BADGE_W + GAP), top - (r + 1) * BADGE_H - r * GAP


def _cut_marks(c: canvas.Canvas, x: float, y: float) -> None:
    """Short lines outside each corner, along the badge's edges: where to cut."""
    c.setLineWidth(0.3)
    c.setStrokeColorRGB(0, 0, 0)
    off = 1 * mm
    for cx, dx in ((x, -1), (x + BADGE_W, 1)):
        for cy, dy in ((y, -1), (y + BADGE_H, 1)):
            c.line(cx + dx * off, cy, cx + dx * (off + MARK), cy)  # the horizontal edge
            c.line(cx, cy + dy * off, cx, cy + dy * (off + MARK))  # the vertical edge


def _badge(c: canvas.Canvas, p: Person, roster: Roster, f: pdf.Fonts, x: float,
           y: float, styles: dict) -> None:
    inner = BADGE_W - 10 * mm
    cx = x + BADGE_W / 2
    c.setFillColorRGB(0.35, 0.35, 0.35)
    title = roster.event.title.strip("«» ").split(",")[0]
    size = pdf.fit_size(f.regular, title, inner, 8, 6, stringWidth)
    c.setFont(f.regular, size)
    c.drawCentredString(cx, y + BADGE_H - 7 * mm, title)
    c.setFont(f.regular, 7)
    venue = roster.event.place.split(",")[0]
    c.drawCentredString(cx, y + BADGE_H - 11 * mm,
                        " · ".join(x for x in (roster.event.when, venue) if x))
    c.setStrokeColorRGB(0.75, 0.75, 0.75)
    c.setLineWidth(0.5)
    c.line(x + 12 * mm, y + BADGE_H - 13.5 * mm, x + BADGE_W - 12 * mm, y + BADGE_H - 13.5 * mm)

    c.setFillColorRGB(0, 0, 0)
    surname = p.surname or "—"
    size = pdf.fit_size(f.bold, surname, inner, 26, 12, stringWidth)
    c.setFont(f.bold, size)
    c.drawCentredString(cx, y + BADGE_H - 29 * mm, surname)
    size = pdf.fit_size(f.regular, p.prenom, inner, 18, 10, stringWidth)
    c.setFont(f.regular, size)
    c.drawCentredString(cx, y + BADGE_H - 38 * mm, p.prenom)
    if p.structure:
        para = Paragraph(pdf.text(p.structure), styles["structure"])
        _w, h = para.wrap(inner, 14 * mm)
        para.drawOn(c, x + 5 * mm, y + 16 * mm - h)
    if p.needs_review:
        c.setFillColor(pdf.PENDING_INK)
        c.setFont(f.italic, 6.5)
        c.drawRightString(x + BADGE_W - 3 * mm, y + 2.5 * mm, "à vérifier avant remise")
    _cut_marks(c, x, y)


def render(roster: Roster, template: Template | None = None,
           people: Sequence[Person] | None = None) -> bytes:
    """Badges for `people` (default: everyone on the sign-in sheet), in surname order."""
    f = pdf.fonts(template or default_template())
    base = pdf.styles(f)["base"]
    styles = {"structure": base.clone("structure", fontSize=10, leading=12, alignment=1,
                                      textColor=pdf.GREY)}
    people = roster.coming if people is None else people
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(f"Badges · {roster.event.when}")
    origins = list(_origins())
    for start in range(0, max(len(people), 1), PER_PAGE):
        for p, (x, y) in zip(people[start:start + PER_PAGE], origins, strict=False):
            _badge(c, p, roster, f, x, y, styles)
        c.setFont(f.regular, 7)
        c.setFillColorRGB(0.4, 0.4, 0.4)
        c.drawRightString(A4[0] - 11 * mm, 6 * mm,
                          f"{len(people)} badges · page {start // PER_PAGE + 1} / "
                          f"{max(1, -(-len(people) // PER_PAGE))}")
        c.showPage()
    c.save()
    return buf.getvalue()

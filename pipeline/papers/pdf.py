"""What the organiser's PDFs share: the form's font, the seminar's header, page numbers.

The font is the form's own (Liberation Sans, as `schemas/` names it), which has
every French accent; user text goes into reportlab paragraphs escaped, since a
structure's name could hold `<` or `&`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph, Spacer

from pipeline.render import pdf_fonts
from pipeline.template import Event, Template

PENDING_FILL = colors.HexColor("#fff3c4")  # rows still waiting for a reviewer
PENDING_INK = colors.HexColor("#8a5a00")
GREY = colors.HexColor("#555555")
PENDING_NOTE = ("Les lignes surlignées portent une donnée encore en attente de vérification "
                "(formscan serve) : elles ne sont pas définitives.")


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    italic: str
    bolditalic: str


def fonts(template: Template) -> Fonts:
    return Fonts(**pdf_fonts(template.font.regular))


def text(value: str) -> str:
    """User text made safe for a reportlab paragraph."""
    return escape(value)


def styles(f: Fonts) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=f.regular, fontSize=9.5, leading=11.5)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=10),
        "pending": ParagraphStyle("pending", parent=base, fontName=f.italic, fontSize=7,
                                  leading=8.5, textColor=PENDING_INK),
        "head": ParagraphStyle("head", parent=base, fontName=f.bold, fontSize=9.5),
        "title": ParagraphStyle("title", parent=base, fontName=f.bold, fontSize=14,
                                leading=17, alignment=1),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, leading=13,
                                   alignment=1),
        "heading": ParagraphStyle("heading", parent=base, fontName=f.bold, fontSize=16,
                                  leading=20, alignment=1, spaceBefore=4 * mm,
                                  spaceAfter=4 * mm),
        "total": ParagraphStyle("total", parent=base, fontName=f.bold, fontSize=11,
                                leading=14, spaceBefore=4 * mm),
    }


def seminar_header(event: Event, st: dict[str, ParagraphStyle], heading: str) -> list[Flowable]:
    """The invitation's header (title, organiser, date and hours, place), then `heading`."""
    parts: list[Flowable] = [Paragraph(text(event.title), st["title"])]
    parts += [Paragraph(text(line), st["subtitle"])
              for line in (event.organiser, event.when, event.place) if line]
    parts += [Spacer(1, 2 * mm), Paragraph(text(heading), st["heading"])]
    return parts


def numbered_canvas(font: str, footer: str) -> type[canvas.Canvas]:
    """A canvas that writes `footer` and "page n / total" at the foot of every page."""

    class Numbered(canvas.Canvas):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self._pages: list[dict[str, object]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                width = self._pagesize[0]
                self.setFont(font, 8)
                self.setFillColor(GREY)
                self.drawString(15 * mm, 9 * mm, footer)
                self.drawRightString(width - 15 * mm, 9 * mm,
                                     f"page {self._pageNumber} / {total}")
                super().showPage()
            super().save()

    return Numbered


def fit_size(name: str, value: str, width: float, largest: float, smallest: float,
             measure: Callable[[str, str, float], float]) -> float:
    """The largest font size from `largest` down to `smallest` at which `value` fits `width`."""
    size = largest
    while size > smallest and measure(value, name, size) > width:
        size -= 0.5
    return size

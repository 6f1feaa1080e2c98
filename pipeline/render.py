"""Draw the blank form from its template: a printable PDF with a real text layer, and rasters.

The reader registers scans against the raster this module makes, and the
sample generator fills it in, so the page people print and the page formscan
expects are one and the same drawing.
"""

from __future__ import annotations

import io
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from pipeline.errors import MissingDependencyError
from pipeline.template import Template, TextLine

_STYLES = {"regular": "Regular", "bold": "Bold", "italic": "Italic", "bolditalic": "BoldItalic"}
_FALLBACK_DIRS = ("/usr/share/fonts/truetype/liberation", "/usr/share/fonts/truetype/liberation2")
BOX_LINE_MM = 0.25


def _font_file(family: str, style: str) -> Path:
    """Find the TTF of `family` in `style` with fontconfig, or in Debian's usual place."""
    pattern = f"{family}:style={_STYLES[style].replace('BoldItalic', 'Bold Italic')}"
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, check=True
        ).stdout.strip()
        if out.endswith(".ttf") and family.split()[0].lower() in Path(out).name.lower():
            return Path(out)
    except (OSError, subprocess.CalledProcessError):
        pass
    stem = family.replace(" ", "")
    for d in _FALLBACK_DIRS:
        p = Path(d) / f"{stem}-{_STYLES[style]}.ttf"
        if p.exists():
            return p
    raise MissingDependencyError(
        f"font {family!r} ({style}) not found: install it "
        "(Debian: apt-get install fonts-liberation)"
    )


@cache
def _register_fonts(family: str) -> dict[str, str]:
    names = {}
    for style in _STYLES:
        name = f"{family.replace(' ', '')}-{style}"
        pdfmetrics.registerFont(TTFont(name, str(_font_file(family, style))))
        names[style] = name
    return names


def label_width_mm(template: Template, text: str, size_pt: float | None = None) -> float:
    fonts = _register_fonts(template.font.regular)
    return pdfmetrics.stringWidth(text, fonts["regular"], size_pt or template.font.size_pt) / mm


def render_pdf(template: Template) -> bytes:
    """The blank form as a one-page PDF: text as text, leaders as periods, boxes as vectors."""
    fonts = _register_fonts(template.font.regular)
    page_h = template.page.height_mm
    buf = io.BytesIO()
    c = canvas.Canvas(
        buf, pagesize=(template.page.width_mm * mm, page_h * mm), pageCompression=1
    )
    c.setTitle(template.title)
    c.setAuthor("formscan")
    c.setFillGray(0)
    c.setStrokeGray(0)

    def y(v: float) -> float:  # template y grows downwards, PDF y upwards
        return (page_h - v) * mm

    for block in template.print:
        c.setFont(fonts[block.style], block.size_pt)
        for i, text in enumerate(block.lines):
            yy = y(block.y_mm + i * block.leading_mm)
            if block.align == "center":
                c.drawCentredString(block.x_mm * mm, yy, text)
            else:
                c.drawString(block.x_mm * mm, yy, text)

    size = template.font.size_pt
    c.setFont(fonts["regular"], size)
    dot_w = pdfmetrics.stringWidth(".", fonts["regular"], size) / mm

    def label(t: TextLine) -> None:
        c.drawString(t.x_mm * mm, y(t.y_mm), t.text)

    for f in template.fields:
        if f.label:
            label(f.label)
        for line in f.lines:
            ld = line.leader
            # Whole periods, spaced so the run ends exactly at `to_mm`.
            n = int((ld.to_mm - ld.x_mm) / dot_w)
            spare = (ld.to_mm - ld.x_mm) - n * dot_w
            c.drawString(ld.x_mm * mm, y(ld.y_mm), "." * n, charSpace=spare / (n - 1) * mm)
        for o in f.options:
            label(o.label)
            c.setLineWidth(BOX_LINE_MM * mm)
            s = o.box.size_mm
            c.rect(o.box.x_mm * mm, y(o.box.y_mm + s), s * mm, s * mm, stroke=1, fill=0)
    c.showPage()
    c.save()
    return buf.getvalue()


def rasterize_pdf(pdf: bytes, dpi: int) -> np.ndarray:
    """First page of `pdf` as an 8-bit grey image."""
    from pdf2image import convert_from_bytes
    from pdf2image.exceptions import PDFInfoNotInstalledError

    try:
        img = convert_from_bytes(pdf, dpi=dpi, grayscale=True, first_page=1, last_page=1)[0]
    except PDFInfoNotInstalledError:
        raise MissingDependencyError(
            "poppler is not installed (Debian: apt-get install poppler-utils)"
        ) from None
    return np.asarray(img.convert("L"))


_BLANKS: dict[tuple[str, int], np.ndarray] = {}


def blank_form(template: Template, dpi: int = 300) -> np.ndarray:
    """The blank page at `dpi`, grey, read-only; rendered once per process."""
    key = (template.fingerprint, dpi)
    if key not in _BLANKS:
        img = rasterize_pdf(render_pdf(template), dpi)
        img.setflags(write=False)
        _BLANKS[key] = img
    return _BLANKS[key]


def write_blank_form(template: Template, out_dir: Path, dpi: int = 300) -> tuple[Path, Path]:
    """Write `<form>.pdf` and `<form>.png` (at `dpi`) into `out_dir`."""
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    pdf_path = out_dir / f"{template.form}.pdf"
    png_path = out_dir / f"{template.form}.png"
    pdf = render_pdf(template)
    pdf_path.write_bytes(pdf)
    Image.fromarray(rasterize_pdf(pdf, dpi)).save(png_path, dpi=(dpi, dpi), optimize=True)
    return pdf_path, png_path


def pdf_fonts(family: str) -> dict[str, str]:
    """`family`'s four styles registered with reportlab: {style: font name} (the papers use it)."""
    return _register_fonts(family)

"""A workspace with a realistic review queue, built without the OCR pipeline.

Pages are the blank form at 150 dpi with handwriting-like text and ticks drawn
on them; field images are crops of those pages, so what reviewers see looks like
a real scan. Box fields are stored without their own image, as the app must then
crop them from the page. Shared by test_review.py and test_review_browser.py.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.models import (
    FieldResult,
    MarkReading,
    MarkState,
    PageKind,
    PageRef,
    PageResult,
    Reason,
    Status,
)
from pipeline.render import blank_form
from pipeline.store import Workspace
from pipeline.template import FormField, Rect, default_template

DPI = 150
XSS = "<script>alert(1)</script>"
HAND_FONTS = (
    "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf",
)


@dataclass(frozen=True)
class F:
    """One field as the machine left it: `written` is what the person wrote (drawn)."""

    value: str
    conf: float = 0.96
    status: Status = Status.ACCEPTED
    reasons: tuple[Reason, ...] = ()
    raw: str | None = None
    written: str | None = None
    marks: tuple[tuple[str, float, MarkState], ...] = ()


R = Status.REVIEW
LOW, BAD, AMB = Reason.LOW_CONFIDENCE, Reason.INVALID_FORMAT, Reason.AMBIGUOUS_MARK
M, A, E = MarkState.MARKED, MarkState.AMBIGUOUS, MarkState.EMPTY

# (source_file, page, batch, fields); eight fields wait for review, worst (0.30) first.
FORMS: list[tuple[str, int, str, dict[str, F]]] = [
    ("scan-001.pdf", 1, "lot-1", {
        "nom": F("Dupont"), "prenom": F("Jeanne"),
        "structure": F(XSS, 0.30, R, (LOW,), written="<script>alert(1)</script>"),
        "fonction": F("Chargée de mission"),
        "agent_collectivite": F("", 0.45, R, (AMB,), marks=(("oui", 0.16, A), ("non", 0.0, E))),
        "adresse": F("8 place de la Mairie, 63200 Riom"),
        "mail": F("jeanne.dupont@exemple", 0.62, R, (BAD,), written="jeanne.dupont@exemple.fr"),
        "telephone": F("04 73 38 00 00"),
        "participera": F("oui", marks=(("oui", 0.41, M),)),
        "dejeunera": F("oui", marks=(("oui", 0.38, M), ("non", 0.01, E))),
    }),
    ("scan-002.pdf", 1, "lot-1", {
        "nom": F("Martin", 0.58, R, (LOW,)), "prenom": F("Paul"),
        "structure": F("Parc naturel régional Livradois-Forez"), "fonction": F("Directeur"),
        "agent_collectivite": F("non", marks=(("oui", 0.0, E), ("non", 0.44, M))),
        "adresse": F("Maison du Parc, 63880 Saint-Gervais-sous-Meymont"),
        "mail": F("p.martin@parc-livradois-forez.org"),
        "telephone": F("04 73 12 34 56", 0.70, R, (LOW,)),
        "participera": F("oui", marks=(("oui", 0.47, M),)),
        "dejeunera": F("oui", 0.9, marks=(("oui", 0.09, M), ("non", 0.0, E))),
    }),
    ("scan-003.pdf", 1, "lot-2", {
        "nom": F("Bernard"), "prenom": F("Lucle", 0.40, R, (LOW,), written="Lucie"),
        "structure": F("Mairie de Thiers"), "fonction": F("Secrétaire générale"),
        "agent_collectivite": F("oui", marks=(("oui", 0.52, M), ("non", 0.0, E))),
        "adresse": F("Hôtel de ville, 63300 Thiers"), "mail": F("l.bernard@thiers.fr"),
        "telephone": F("04 73 80 00 00"),
        "participera": F("oui", marks=(("oui", 0.5, M),)),
        "dejeunera": F("non", marks=(("oui", 0.0, E), ("non", 0.43, M))),
    }),
    ("scan-003.pdf", 2, "lot-2", {
        "nom": F("Roux"), "prenom": F("Marc"), "structure": F("ARDTA"),
        "fonction": F("Chargé d'études"),
        "agent_collectivite": F("non", marks=(("oui", 0.0, E), ("non", 0.5, M))),
        "adresse": F("12 rue Blatin, 63000 Clermont-Ferrand", 0.66, R, (LOW,)),
        "mail": F("m.roux@ardta.fr"), "telephone": F("06 12 34 56 78"),
        "participera": F("", 0.5, R, (AMB,), marks=(("oui", 0.15, A),)),
        "dejeunera": F("", marks=(("oui", 0.0, E), ("non", 0.0, E))),
    }),
]
PENDING = 8


def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in HAND_FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, px)
    return ImageFont.load_default(size=px)


def _px(v_mm: float) -> int:
    return round(v_mm * DPI / 25.4)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _union(spec: FormField) -> Rect:
    rects = [line.area for line in spec.lines]
    x0, y0 = min(r.x_mm for r in rects), min(r.y_mm for r in rects)
    return Rect(x_mm=x0, y_mm=y0, w_mm=max(r.x1_mm for r in rects) - x0,
                h_mm=max(r.y1_mm for r in rects) - y0)


def _fill_page(fields: dict[str, F]) -> Image.Image:
    """The blank form with the person's writing and ticks on it."""
    tpl = default_template()
    page = Image.fromarray(np.array(blank_form(tpl, DPI))).convert("L")
    draw = ImageDraw.Draw(page)
    font = _font(_px(6.5))
    for spec in tpl.fields:
        f = fields[spec.id]
        if spec.is_box:
            for option, fill, _state in f.marks:
                if fill <= 0:
                    continue
                box = next(o.box for o in spec.options if o.value == option)
                x0, y0 = _px(box.x_mm), _px(box.y_mm)
                x1, y1 = _px(box.x_mm + box.size_mm), _px(box.y_mm + box.size_mm)
                width = 4 if fill > 0.3 else 2
                draw.line((x0 + 3, y0 + 3, x1 - 3, y1 - 3), fill=20, width=width)
                if fill > 0.3:
                    draw.line((x0 + 3, y1 - 3, x1 - 3, y0 + 3), fill=20, width=width)
            continue
        text = f.value if f.written is None else f.written
        lines = text.split(", ", 1) if spec.kind == "address" else [text]
        for line, area in zip(lines, spec.lines, strict=False):
            draw.text((_px(area.leader.x_mm + 2), _px(area.leader.y_mm - 1)), line, font=font,
                      fill=35, anchor="ls")
    return page


def _crop(page: Image.Image, r: Rect) -> bytes:
    return _png(page.crop((_px(r.x_mm), _px(r.y_mm), _px(r.x1_mm), _px(r.y1_mm))))


def build_workspace(root: Path) -> Path:
    """Fill `root` with the four form pages of FORMS; returns the workspace folder."""
    tpl = default_template()
    with Workspace(root) as ws:
        file_ids: dict[str, int] = {}
        for source, page_no, batch, fields in FORMS:
            if source not in file_ids:
                sha = hashlib.sha256(source.encode()).hexdigest()
                file_ids[source] = ws.add_file(sha, source, f"/scans/{source}", batch).id
            page = _fill_page(fields)
            results = []
            for spec in tpl.fields:
                f = fields[spec.id]
                results.append(FieldResult(
                    field=spec.id, value=f.value, raw=f.value if f.raw is None else f.raw,
                    confidence=f.conf, status=f.status, reasons=f.reasons,
                    image=b"" if spec.is_box else _crop(page, _union(spec)),
                    marks=tuple(MarkReading(o, fill, st, 0.5 if st == A else 0.95)
                                for o, fill, st in f.marks),
                ))
            ws.save_page(file_ids[source], PageResult(
                ref=PageRef(source, page_no),
                sha256=hashlib.sha256(f"{source}#{page_no}".encode()).hexdigest(),
                kind=PageKind.FORM, detail="", fields=tuple(results), image=_png(page),
            ))
    return root

"""Workspace images for reviewers: safe lookup, box crops and field areas in page pixels.

Page images are registered to the reference page, so a template position in mm
maps to pixels by one scale factor: image width over page width.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image

from pipeline.store import IMAGES_DIR
from pipeline.template import FormField, Rect, Template

CHAR_MM = 2.1  # rough width of a character of an 11 pt label: enough to show the word
MARGIN_MM = 2.0


@dataclass(frozen=True)
class Area:
    """A rectangle in page pixels."""

    x: int
    y: int
    w: int
    h: int


def resolve_image(root: Path, rel: str) -> Path | None:
    """The file at `rel` under workspace/images, or None if it is missing or outside it.

    Resolving first defeats `..`, absolute paths and symlinks pointing elsewhere.
    """
    base = (root / IMAGES_DIR).resolve()
    try:
        path = (base / rel).resolve()
    except (OSError, ValueError):
        return None
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path


def workspace_image(root: Path, stored: str | None) -> Path | None:
    """Resolve an image path as stored in the database (relative to the workspace root)."""
    if not stored:
        return None
    prefix = IMAGES_DIR + "/"
    return resolve_image(root, stored.removeprefix(prefix)) if stored.startswith(prefix) else None


@lru_cache(maxsize=8)
def _load(path: Path, mtime: float) -> Image.Image:
    img = Image.open(path)
    img.load()
    return img


def load_page(path: Path) -> Image.Image:
    return _load(path, path.stat().st_mtime)


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as img:
        return img.size


def _mm_rects(spec: FormField) -> list[Rect]:
    """Where a field lives on the page: its writing lines, or each box with its word."""
    if not spec.is_box:
        return [line.area for line in spec.lines]
    return [option_rect(spec, o.value) for o in spec.options]


def option_rect(spec: FormField, option: str) -> Rect:
    """A box and the word printed after it, so a crop says which option it is."""
    for o in spec.options:
        if o.value == option:
            b = o.box
            right = max(b.x_mm + b.size_mm, o.label.x_mm + len(o.label.text) * CHAR_MM)
            return Rect(x_mm=b.x_mm - MARGIN_MM, y_mm=b.y_mm - MARGIN_MM,
                        w_mm=right - b.x_mm + 2 * MARGIN_MM, h_mm=b.size_mm + 2 * MARGIN_MM)
    raise KeyError(f"{spec.id} has no option {option!r}")


def field_areas(template: Template, spec: FormField, page_width_px: int) -> list[Area]:
    k = page_width_px / template.page.width_mm
    return [
        Area(round(r.x_mm * k), round(r.y_mm * k), round(r.w_mm * k), round(r.h_mm * k))
        for r in _mm_rects(spec)
    ]


def _union(rects: list[Rect]) -> Rect:
    x0 = min(r.x_mm for r in rects)
    y0 = min(r.y_mm for r in rects)
    return Rect(x_mm=x0, y_mm=y0, w_mm=max(r.x1_mm for r in rects) - x0,
                h_mm=max(r.y1_mm for r in rects) - y0)


def crop_png(template: Template, page: Path, rect: Rect) -> bytes:
    img = load_page(page)
    k = img.width / template.page.width_mm
    box = (max(0, round(rect.x_mm * k)), max(0, round(rect.y_mm * k)),
           min(img.width, round(rect.x1_mm * k)), min(img.height, round(rect.y1_mm * k)))
    buf = io.BytesIO()
    img.crop(box).save(buf, format="PNG")
    return buf.getvalue()


def field_crop(template: Template, spec: FormField, page: Path) -> bytes:
    """The field's whole area cut from the page, for fields stored without their own image."""
    return crop_png(template, page, _union(_mm_rects(spec)))


def option_crop(template: Template, spec: FormField, option: str, page: Path) -> bytes:
    return crop_png(template, page, option_rect(spec, option))

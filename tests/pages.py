"""Small filled pages for tests, drawn directly on the rendered blank form.

Deliberately simple (one typed font, plain crosses): the generator in
pipeline.synth makes the realistic, varied pages; these isolate the reader.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.render import blank_form
from pipeline.template import MM_PER_INCH, Template

PX = 300 / MM_PER_INCH
FONT = "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"

PERSON = {
    "nom": "Dupont",
    "prenom": "Hélène",
    "structure": "Mairie de Riom",
    "fonction": "Chargée de mission",
    "adresse": ("5 rue Gilbert Romme", "63200 Riom"),
    "mail": "h.dupont@ville-riom.fr",
    "telephone": "04 73 38 99 12",
}
MARKS = {"agent_collectivite": "oui", "participera": "oui", "dejeunera": "non"}


def filled_page(template: Template, values: dict | None = None,
                marks: dict | None = None, lift_mm: float = 1.0) -> np.ndarray:
    """The blank form at 300 dpi with typed values `lift_mm` above the leaders and crossed boxes.

    At 0 the letters sit right on the dots, as a typewriter puts them.
    """
    values = PERSON if values is None else values
    marks = MARKS if marks is None else marks
    img = Image.fromarray(blank_form(template, 300).copy())
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 44)
    for fid, v in values.items():
        lines = template.field(fid).lines
        texts = v if isinstance(v, tuple) else (v,)
        for line, text in zip(lines, texts, strict=False):
            x = (line.leader.x_mm + 2) * PX
            y = (line.leader.y_mm - lift_mm) * PX
            d.text((x, y), text, font=font, fill=0, anchor="ls")
    for fid, value in marks.items():
        for o in template.field(fid).options:
            if o.value == value:
                b = o.box
                x0, y0 = (b.x_mm + 0.6) * PX, (b.y_mm + 0.6) * PX
                x1, y1 = (b.x_mm + b.size_mm - 0.6) * PX, (b.y_mm + b.size_mm - 0.6) * PX
                d.line((x0, y0, x1, y1), fill=20, width=6)
                d.line((x0, y1, x1, y0), fill=20, width=6)
    return np.asarray(img)


def transform(img: np.ndarray, angle: float = 0, scale: float = 1.0, dx: float = 0,
              dy: float = 0, upside_down: bool = False, seed: int = 0) -> np.ndarray:
    """A scanner's view: rotated, scaled, shifted, a little noisy."""
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += (dx, dy)
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=250)
    if upside_down:
        out = out[::-1, ::-1]
    noise = np.random.default_rng(seed).normal(0, 6, out.shape)
    return np.clip(out + noise, 0, 255).astype(np.uint8)


def photo(img: np.ndarray, seed: int = 0) -> np.ndarray:
    """A phone photo: the page in perspective on a darker table, a bit smaller."""
    h, w = img.shape
    rng = np.random.default_rng(seed)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(-0.04, 0.04, (4, 2)) * [w, h]
    dst = np.float32([[0.08 * w, 0.06 * h], [0.92 * w, 0.05 * h], [0.95 * w, 0.95 * h],
                      [0.05 * w, 0.94 * h]]) + jitter.astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(img, m, (w, h), borderValue=90)
    shade = np.linspace(0.85, 1.0, w)[None, :]
    return np.clip(out * shade + rng.normal(0, 5, out.shape), 0, 255).astype(np.uint8)


def bomb_png(path: Path) -> Path:
    """A real PNG whose header claims 50 000 x 50 000 pixels (a decompression bomb)."""
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = struct.pack(">II", 50_000, 50_000) + data[24:29]
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    path.write_bytes(bytes(data))
    return path

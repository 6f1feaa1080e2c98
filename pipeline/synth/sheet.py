"""A printed page plus layers of ink, composited the way ink sits on toner and paper.

Ink multiplies the paper's reflectance (blue over the black dots stays black),
which is what a scanner sees; each colour has its own alpha layer.
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.render import rasterize_pdf, render_pdf
from pipeline.synth.handwriting import Ink
from pipeline.template import Template

_BLANKS: dict[tuple[str, int], np.ndarray] = {}

Colour = tuple[int, int, int]


def blank_page(template: Template, dpi: int = 300) -> np.ndarray:
    """The blank form, grey, rendered once per process (templates are not hashable)."""
    key = (template.model_dump_json(), dpi)
    if key not in _BLANKS:
        img = rasterize_pdf(render_pdf(template), dpi)
        img.setflags(write=False)
        _BLANKS[key] = img
    return _BLANKS[key]


class Sheet:
    def __init__(self, base: np.ndarray) -> None:
        self.base = base  # grey (H, W) or RGB (H, W, 3)
        self.layers: dict[Colour, np.ndarray] = {}

    @property
    def shape(self) -> tuple[int, int]:
        return self.base.shape[0], self.base.shape[1]

    def layer(self, colour: Colour) -> np.ndarray:
        if colour not in self.layers:
            self.layers[colour] = np.zeros(self.shape, np.uint8)
        return self.layers[colour]

    def paste(self, colour: Colour, ink: Ink, x: int, top: int) -> None:
        """Put `ink` with its top-left corner at (x, top), clipped to the page."""
        layer = self.layer(colour)
        h, w = self.shape
        x0, y0 = max(0, x), max(0, top)
        x1, y1 = min(w, x + ink.width), min(h, top + ink.height)
        if x1 <= x0 or y1 <= y0:
            return
        region = layer[y0:y1, x0:x1]
        np.maximum(region, ink.alpha[y0 - top: y1 - top, x0 - x: x1 - x], out=region)

    def render(self) -> np.ndarray:
        """RGB uint8 page with every layer applied."""
        base = self.base if self.base.ndim == 3 else cv2.cvtColor(self.base, cv2.COLOR_GRAY2RGB)
        out = base.copy()
        for colour, layer in self.layers.items():
            # bounding box of the ink, from a column-subsampled look (strokes are > 3 px)
            rows = np.flatnonzero(layer[:, ::3].any(axis=1))
            if rows.size == 0:
                continue
            ys = slice(rows.min(), rows.max() + 1)
            cols = np.flatnonzero(layer[ys][::3].any(axis=0))
            xs = slice(max(0, cols.min() - 3), cols.max() + 4)
            a = layer[ys, xs]
            chans = []
            for ch, c in enumerate(colour):
                # reflectance left by the ink: 255 where no ink, `c` under full ink
                tint = cv2.convertScaleAbs(a, alpha=-(255 - c) / 255, beta=255)
                chans.append(cv2.multiply(out[ys, xs, ch], tint, scale=1 / 255))
            out[ys, xs] = cv2.merge(chans)
        return out

"""Marks people put in boxes: crosses, ticks, fills, scribbles, pencil, typed X.

Marks are drawn as pen strokes (curved, uneven, overshooting the box) so a
reader's fill thresholds meet the shapes real forms carry.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from pipeline.synth import fonts
from pipeline.synth.handwriting import typed

PEN_MARKS = ("cross", "cross", "cross", "tick", "tick", "fill", "scribble")


def _stroke(p: np.ndarray, q: np.ndarray, rng: np.random.Generator, bend: float) -> np.ndarray:
    """Points of a slightly curved pen stroke from p to q."""
    t = np.linspace(0, 1, 24)[:, None]
    d = q - p
    normal = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-6)
    curve = np.sin(np.pi * t) * bend * rng.normal(0, 1)
    return p + d * t + normal * curve + rng.normal(0, 0.4, (24, 2))


def _draw(layer: np.ndarray, pts: list[np.ndarray], thick: int) -> None:
    polys = [np.round(p * 16).astype(np.int32) for p in pts]
    cv2.polylines(layer, polys, False, 255, thick, cv2.LINE_AA, shift=4)


def draw_mark(layer: np.ndarray, box_px: tuple[int, int, int, int], kind: str,
              rng: np.random.Generator, px_per_mm: float, offset: bool) -> None:
    """Draw `kind` into `layer` (a page-sized alpha) over the box (x0, y0, x1, y1) in px."""
    x0, y0, x1, y1 = box_px
    s = x1 - x0
    c = np.array([(x0 + x1) / 2, (y0 + y1) / 2], dtype=float)
    if offset:
        ang = rng.uniform(0, 2 * math.pi)
        c += np.array([math.cos(ang), math.sin(ang)]) * rng.uniform(0.5, 1.5) * px_per_mm
    pencil = kind.startswith("pencil")
    thick = max(2, round(px_per_mm * (rng.uniform(0.18, 0.3) if pencil else rng.uniform(0.3, 0.6))))
    shape = kind.removeprefix("pencil_")
    if shape == "cross":
        r = s / 2 * rng.uniform(0.7, 1.35)
        tilt = rng.normal(0, 0.15)
        strokes = []
        for a in (math.pi / 4 + tilt, 3 * math.pi / 4 + tilt * rng.uniform(0.5, 1.5)):
            v = np.array([math.cos(a), math.sin(a)]) * r * rng.uniform(0.85, 1.15, 2)
            strokes.append(_stroke(c - v, c + v, rng, s * 0.06))
        _draw(layer, strokes, thick)
    elif shape == "tick":
        k = s * rng.uniform(0.8, 1.1)
        a = c + np.array([-0.42, 0.0]) * k + rng.normal(0, s * 0.05, 2)
        b = c + np.array([-0.1, 0.4]) * k + rng.normal(0, s * 0.05, 2)
        e = c + np.array([rng.uniform(0.45, 0.8), rng.uniform(-0.85, -0.5)]) * k
        _draw(layer, [np.vstack([_stroke(a, b, rng, s * 0.03), _stroke(b, e, rng, s * 0.08)])],
              thick)
    elif shape == "fill":
        if rng.random() < 0.4:  # inked in solid, edges not quite straight
            h = s / 2 * rng.uniform(0.85, 1.1)
            corners = np.array([[-h, -h], [h, -h], [h, h], [-h, h]])
            corners = corners + rng.normal(0, s * 0.05, (4, 2))
            cv2.fillPoly(layer, [np.round((c + corners) * 16).astype(np.int32)], 255,
                         cv2.LINE_AA, shift=4)
        else:  # hatched back and forth until the box is dark
            n = int(rng.integers(6, 11))
            ys = np.linspace(-0.45, 0.45, n) * s
            xs = np.where(np.arange(n) % 2 == 0, -0.48, 0.48) * s
            jx, jy = rng.normal(0, s * 0.05, n), rng.normal(0, s * 0.03, n)
            pts = c + np.stack([xs + jx, ys + jy], 1)
            _draw(layer, [pts], max(thick, round(s / n * 1.2)))
    else:  # scribble: loops over the box
        n = int(rng.integers(2, 5))
        t = np.linspace(0, 2 * math.pi * n, 40 * n)
        r = s * rng.uniform(0.25, 0.5) * (1 + 0.25 * np.sin(t * rng.uniform(0.2, 0.7)))
        drift = np.linspace(-0.25, 0.25, t.size) * s
        jy = rng.normal(0, 1, t.size)
        pts = c + np.stack([r * np.cos(t) + drift, r * 0.8 * np.sin(t) + jy], 1)
        _draw(layer, [pts], thick)


def typed_x(layer: np.ndarray, box_px: tuple[int, int, int, int], size_px: int,
            rng: np.random.Generator) -> None:
    """An 'X' typed over the box before printing: the word processor's cross."""
    path = fonts.typed_fonts()[0]
    ink = typed("X", path, size_px)
    x0, y0, x1, y1 = box_px
    cx = (x0 + x1) // 2 - ink.width // 2 + int(rng.integers(-3, 4))
    cy = (y0 + y1) // 2 - ink.height // 2 + int(rng.integers(-3, 4))
    region = layer[cy: cy + ink.height, cx: cx + ink.width]
    np.maximum(region, ink.alpha[: region.shape[0], : region.shape[1]], out=region)

"""Marks people put in boxes: crosses, ticks, fills, scribbles, pencil, typed X, and
the marks made beside the box: overflowing it, on its border, next to it, the
option word circled or underlined, a box scribbled out for the other one.

Marks are drawn as pen strokes (curved, uneven, overshooting the box) so a
reader's fill thresholds meet the shapes real forms carry. The styles come in
two sets (see `behaviours`): the development one, and a held-out one that no
fitting, tuning or test uses, of the same habits drawn another way.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from pipeline.synth import behaviours, fonts
from pipeline.synth.handwriting import typed

PEN_MARKS = ("cross", "cross", "cross", "tick", "tick", "fill", "scribble")
# (style, weight): a form's main style is drawn from its set. In the box: cross, tick,
# fill, scribble (dev); v, slash, dot (held out). Overflowing it or on its border:
# overflow_cross, border_tick (dev); overflow_tick, corner_cross (held out). Beside
# it: beside (above or left of the box, dev); after_word (held out). The word
# instead of the box: circled, underlined (dev); boxed_word, wavy_underline (held out).
STYLES = {
    "default": (("cross", 24), ("tick", 16), ("fill", 5), ("scribble", 4),
                ("overflow_cross", 6), ("border_tick", 4), ("beside", 4), ("circled", 5),
                ("underlined", 4)),
    "held-out": (("v", 16), ("slash", 10), ("dot", 6), ("cross", 10), ("overflow_tick", 7),
                 ("corner_cross", 5), ("after_word", 5), ("boxed_word", 5),
                 ("wavy_underline", 4)),
}
IN_BOX = {"cross", "tick", "fill", "scribble", "v", "slash", "dot", "overflow_cross",
          "overflow_tick", "corner_cross"}
WORD_STYLES = {"circled", "underlined", "boxed_word", "wavy_underline"}
# A correction: the wrong box scribbled over (dev) or blacked in (held out).
CORRECTIONS = {"default": "scribble_out", "held-out": "black_out"}
# Pencil greys (RGB of full pressure): a pencil (dev) and a light one barely darker
# than the paper on a grey scan; held out, others of each.
PENCILS = {"default": ((120, 120, 125), (178, 178, 182)),
           "held-out": ((135, 133, 128), (190, 189, 185))}


def pick_style(rng: np.random.Generator) -> str:
    """A mark style of the active behaviour set, by how often people use it."""
    styles, weights = zip(*STYLES[behaviours.active()], strict=True)
    w = np.array(weights, float)
    return str(rng.choice(styles, p=w / w.sum()))


def correction_style() -> str:
    return CORRECTIONS[behaviours.active()]


def pencils() -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    return PENCILS[behaviours.active()]


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
              rng: np.random.Generator, px_per_mm: float, offset: bool,
              word_px: tuple[int, int, int, int] | None = None) -> None:
    """Draw `kind` into `layer` (a page-sized alpha) for the box (x0, y0, x1, y1) in px.

    `word_px` is the option word's box, for the styles that mark the word (or go
    after it) instead of the box.
    """
    x0, y0, x1, y1 = box_px
    s = x1 - x0
    c = np.array([(x0 + x1) / 2, (y0 + y1) / 2], dtype=float)
    if offset:
        ang = rng.uniform(0, 2 * math.pi)
        c += np.array([math.cos(ang), math.sin(ang)]) * rng.uniform(0.5, 1.5) * px_per_mm
    pencil = kind.startswith("pencil")
    thick = max(2, round(px_per_mm * (rng.uniform(0.18, 0.3) if pencil else rng.uniform(0.3, 0.6))))
    shape = kind.removeprefix("pencil_")
    if shape in WORD_STYLES:
        if word_px is None:
            raise ValueError(f"mark style {shape!r} needs the option word's place")
        _word(layer, word_px, shape, rng, px_per_mm, thick)
        return
    if shape == "overflow_cross":
        shape, r = "cross", s / 2 * rng.uniform(1.6, 2.3)
    elif shape == "corner_cross":
        corner = np.array([rng.choice([-1, 1]), rng.choice([-1, 1])]) * s / 2
        c, shape, r = c + corner, "cross", s / 2 * rng.uniform(0.55, 0.8)
    else:
        r = s / 2 * rng.uniform(0.7, 1.35)
    if shape == "border_tick":  # its body on the top or right border, half inside
        c = c + (np.array([s / 2, rng.uniform(-0.2, 0.2) * s]) if rng.random() < 0.5
                 else np.array([rng.uniform(-0.2, 0.2) * s, -s / 2]))
        shape, s = "tick", s * rng.uniform(0.6, 0.8)
    elif shape == "beside":  # just above the box, or to its left
        if rng.random() < 0.6:
            c = c + np.array([rng.uniform(-0.3, 0.3) * s, -rng.uniform(1.0, 1.15) * s])
        else:
            c = c + np.array([-rng.uniform(1.05, 1.25) * s, rng.uniform(-0.15, 0.15) * s])
        shape, s = str(rng.choice(["tick", "cross"])), s * rng.uniform(0.7, 0.85)
        r = s / 2 * rng.uniform(0.8, 1.0)
    elif shape == "after_word":  # a tick right after the option word
        if word_px is None:
            raise ValueError("mark style 'after_word' needs the option word's place")
        wx1, wy0, wy1 = word_px[2], word_px[1], word_px[3]
        c = np.array([wx1 + rng.uniform(0.7, 1.0) * s, (wy0 + wy1) / 2])
        shape, s = "tick", s * rng.uniform(0.7, 0.9)
    if shape == "cross":
        tilt = rng.normal(0, 0.15)
        strokes = []
        for a in (math.pi / 4 + tilt, 3 * math.pi / 4 + tilt * rng.uniform(0.5, 1.5)):
            v = np.array([math.cos(a), math.sin(a)]) * r * rng.uniform(0.85, 1.15, 2)
            strokes.append(_stroke(c - v, c + v, rng, s * 0.06))
        _draw(layer, strokes, thick)
    elif shape in ("tick", "overflow_tick"):
        k = s * rng.uniform(0.8, 1.1)
        a = c + np.array([-0.42, 0.0]) * k + rng.normal(0, s * 0.05, 2)
        b = c + np.array([-0.1, 0.4]) * k + rng.normal(0, s * 0.05, 2)
        reach = rng.uniform(1.6, 2.4) if shape == "overflow_tick" else 1.0
        e = b + (np.array([rng.uniform(0.55, 0.9), rng.uniform(-1.25, -0.9)]) * k) * reach
        _draw(layer, [np.vstack([_stroke(a, b, rng, s * 0.03), _stroke(b, e, rng, s * 0.08)])],
              thick)
    elif shape == "v":  # two strokes meeting at the bottom, like a check without the hook
        h = s * rng.uniform(0.32, 0.45)
        a = c + np.array([-h, -h]) + rng.normal(0, s * 0.04, 2)
        b = c + np.array([rng.normal(0, s * 0.05), h]) + rng.normal(0, s * 0.04, 2)
        e = c + np.array([h, -h * rng.uniform(0.9, 1.4)]) + rng.normal(0, s * 0.04, 2)
        _draw(layer, [np.vstack([_stroke(a, b, rng, s * 0.04), _stroke(b, e, rng, s * 0.05)])],
              thick)
    elif shape == "slash":
        v = np.array([1.0, -rng.uniform(0.7, 1.4)])
        v = v / np.linalg.norm(v) * s * rng.uniform(0.5, 0.75)
        _draw(layer, [_stroke(c - v, c + v, rng, s * 0.05)], thick + 1)
    elif shape == "dot":  # a blob pressed in the middle
        rx, ry = s * rng.uniform(0.18, 0.3), s * rng.uniform(0.16, 0.28)
        cv2.ellipse(layer, (round(c[0] * 16), round(c[1] * 16)), (round(rx * 16), round(ry * 16)),
                    float(rng.uniform(0, 180)), 0, 360, 255, -1, cv2.LINE_AA, shift=4)
    elif shape == "fill":
        if rng.random() < 0.4:  # inked in solid, edges not quite straight
            h = s / 2 * rng.uniform(0.85, 1.1)
            corners = np.array([[-h, -h], [h, -h], [h, h], [-h, h]])
            corners = corners + rng.normal(0, s * 0.05, (4, 2))
            cv2.fillPoly(layer, [np.round((c + corners) * 16).astype(np.int32)], 255,
                         cv2.LINE_AA, shift=4)
        else:  # hatched back and forth until the box is dark
            _hatch(layer, c, s, rng, thick, int(rng.integers(6, 11)))
    elif shape == "black_out":  # a correction: the box inked over, past its edges
        h = s / 2 * rng.uniform(1.0, 1.2)
        corners = np.array([[-h, -h], [h, -h], [h, h], [-h, h]]) + rng.normal(0, s * 0.04, (4, 2))
        cv2.fillPoly(layer, [np.round((c + corners) * 16).astype(np.int32)], 255,
                     cv2.LINE_AA, shift=4)
    elif shape == "scribble_out":  # a correction: scribbled over until it is dark
        _hatch(layer, c, s * rng.uniform(1.0, 1.15), rng, max(thick, round(s / 8)),
               int(rng.integers(9, 14)))
        _scribble(layer, c, s * 0.9, rng, thick, 3)
    else:  # scribble: loops over the box
        _scribble(layer, c, s, rng, thick, int(rng.integers(2, 5)))


def _hatch(layer: np.ndarray, c: np.ndarray, s: float, rng: np.random.Generator, thick: int,
           n: int) -> None:
    ys = np.linspace(-0.45, 0.45, n) * s
    xs = np.where(np.arange(n) % 2 == 0, -0.48, 0.48) * s
    jx, jy = rng.normal(0, s * 0.05, n), rng.normal(0, s * 0.03, n)
    pts = c + np.stack([xs + jx, ys + jy], 1)
    _draw(layer, [pts], max(thick, round(s / n * 1.2)))


def _scribble(layer: np.ndarray, c: np.ndarray, s: float, rng: np.random.Generator, thick: int,
              n: int) -> None:
    t = np.linspace(0, 2 * math.pi * n, 40 * n)
    r = s * rng.uniform(0.25, 0.5) * (1 + 0.25 * np.sin(t * rng.uniform(0.2, 0.7)))
    drift = np.linspace(-0.25, 0.25, t.size) * s
    jy = rng.normal(0, 1, t.size)
    pts = c + np.stack([r * np.cos(t) + drift, r * 0.8 * np.sin(t) + jy], 1)
    _draw(layer, [pts], thick)


def _word(layer: np.ndarray, word_px: tuple[int, int, int, int], shape: str,
          rng: np.random.Generator, px_per_mm: float, thick: int) -> None:
    """The option word marked instead of its box: ringed, boxed or underlined."""
    x0, y0, x1, y1 = word_px
    c = np.array([(x0 + x1) / 2, (y0 + y1) / 2], dtype=float)
    w, h = x1 - x0, y1 - y0
    if shape == "circled":
        a = w / 2 + px_per_mm * rng.uniform(1.0, 2.2)
        b = h / 2 + px_per_mm * rng.uniform(0.9, 1.8)
        start = rng.uniform(0, 2 * math.pi)
        t = np.linspace(start, start + 2 * math.pi + rng.uniform(0.15, 0.6), 90)
        wob = 1 + rng.normal(0, 0.02, t.size).cumsum() * 0.3
        rot = rng.normal(0, 0.05)
        px, py = a * np.cos(t) * wob, b * np.sin(t) * wob
        pts = c + np.stack([px * math.cos(rot) - py * math.sin(rot),
                            px * math.sin(rot) + py * math.cos(rot)], 1)
        _draw(layer, [pts], thick)
    elif shape == "boxed_word":
        mx, my = px_per_mm * rng.uniform(0.8, 1.8), px_per_mm * rng.uniform(0.7, 1.5)
        corners = [c + np.array(v) for v in ((-w / 2 - mx, -h / 2 - my), (w / 2 + mx, -h / 2 - my),
                                             (w / 2 + mx, h / 2 + my), (-w / 2 - mx, h / 2 + my))]
        strokes = []
        for i in range(4):
            p, q = corners[i], corners[(i + 1) % 4]
            d = (q - p) / np.linalg.norm(q - p) * px_per_mm * rng.uniform(0.2, 0.8)
            strokes.append(_stroke(p - d, q + d, rng, px_per_mm * 0.3))
        _draw(layer, strokes, thick)
    else:
        y = y1 + px_per_mm * rng.uniform(0.5, 1.5)
        xa = x0 - px_per_mm * rng.uniform(0, 1.0)
        xb = x1 + px_per_mm * rng.uniform(-0.5, 1.5)
        if shape == "wavy_underline":
            t = np.linspace(0, 1, 60)
            waves = rng.uniform(2.5, 4.5)
            pts = np.stack([xa + (xb - xa) * t,
                            y + np.sin(t * 2 * math.pi * waves) * px_per_mm * 0.45], 1)
            _draw(layer, [pts], thick)
        else:
            end = np.array([xb, y + rng.normal(0, px_per_mm * 0.3)])
            strokes = [_stroke(np.array([xa, y]), end, rng, px_per_mm * 0.2)]
            if rng.random() < 0.3:  # underlined twice
                y2 = y + px_per_mm * rng.uniform(0.8, 1.2)
                strokes.append(_stroke(np.array([xa + px_per_mm, y2]), np.array([xb, y2]), rng,
                                       px_per_mm * 0.2))
            _draw(layer, strokes, thick)


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

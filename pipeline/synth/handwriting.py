"""Text as ink: handwriting from fonts with per-glyph jitter, MNIST digits, and typed text.

Everything returns an `Ink`: an alpha bitmap plus the row of its baseline, so a
line can be measured, squeezed and placed on a writing line before it touches
the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from pipeline.synth import fonts
from pipeline.synth.digits import DigitBank


@dataclass(frozen=True)
class Ink:
    alpha: np.ndarray  # uint8, 255 = full ink
    baseline: int  # row of the baseline in `alpha`

    @property
    def width(self) -> int:
        return self.alpha.shape[1]

    @property
    def height(self) -> int:
        return self.alpha.shape[0]


@dataclass(frozen=True)
class Hand:
    """One writer: the font that stands in for their letters and how they move the pen."""

    font: fonts.FontChoice
    cap_px: float  # height of a capital
    slant_deg: float
    size_jitter: float  # relative s.d. of glyph size
    rot_jitter: float  # s.d. of glyph rotation, degrees
    wobble: float  # baseline wobble amplitude, fraction of cap height
    spacing: float  # extra letter spacing, fraction of cap height
    weight: int  # extra stroke thickness in px
    pressure: float  # peak ink opacity


def make_hand(rng: np.random.Generator, mixed_case: bool, dpi: int = 300) -> Hand:
    choices = fonts.hand_fonts(mixed_case)
    f = choices[rng.integers(len(choices))]
    k = dpi / 25.4
    return Hand(
        font=f,
        cap_px=float(rng.uniform(3.0, 4.8)) * k,
        slant_deg=float(rng.normal(0, 6)),
        size_jitter=float(rng.uniform(0.02, 0.06 if f.cursive else 0.1)),
        rot_jitter=0.0 if f.cursive else float(rng.uniform(1, 5)),
        wobble=float(rng.uniform(0.02, 0.12)),
        spacing=float(rng.uniform(-0.02, 0.12)) if not f.cursive else 0.0,
        weight=int(rng.choice([0, 0, 1, 1, 2])),
        pressure=float(rng.uniform(0.8, 1.0)),
    )


@cache
def _glyph(path: Path, size: int, ch: str) -> tuple[np.ndarray, int, int, float]:
    """(alpha, left, top relative to pen on baseline, advance) for one character."""
    f = fonts.font(path, size)
    x0, y0, x1, y1 = f.getbbox(ch, anchor="ls")
    w, h = max(1, x1 - x0), max(1, y1 - y0)
    img = Image.new("L", (w + 2, h + 2), 0)
    ImageDraw.Draw(img).text((1 - x0, 1 - y0), ch, font=f, fill=255, anchor="ls")
    a = np.asarray(img)
    a.setflags(write=False)
    return a, x0 - 1, y0 - 1, f.getlength(ch)


def _accent(g: np.ndarray, top: int, kind: str, cap: float, rng: np.random.Generator
            ) -> tuple[np.ndarray, int]:
    """Draw an accent the font lacks, the way a hand adds it: a quick stroke or two dots."""
    pad = round(cap * 0.45)
    h, w = g.shape
    out = np.zeros((h + 2 * pad, w), np.uint8)
    out[pad: pad + h] = g
    th = max(2, round(cap * 0.09))
    cx = w / 2 + rng.normal(0, cap * 0.04)
    ys = np.nonzero(g.max(axis=1) > 80)[0]
    gy0 = pad + (ys.min() if ys.size else 0)
    y = gy0 - cap * 0.12
    s = cap * 0.16

    def line(p: tuple[float, float], q: tuple[float, float]) -> None:
        cv2.line(out, (round(p[0] * 16), round(p[1] * 16)), (round(q[0] * 16), round(q[1] * 16)),
                 255, th, cv2.LINE_AA, shift=4)

    if kind == "acute":
        line((cx - s * 0.4, y), (cx + s * 0.5, y - s))
    elif kind == "grave":
        line((cx + s * 0.4, y), (cx - s * 0.5, y - s))
    elif kind == "circumflex":
        line((cx - s * 0.7, y), (cx, y - s * 0.9))
        line((cx, y - s * 0.9), (cx + s * 0.7, y))
    elif kind == "diaeresis":
        for dx in (-s * 0.5, s * 0.5):
            cv2.circle(out, (round(cx + dx), round(y - s * 0.3)), th, 255, -1, cv2.LINE_AA)
    elif kind == "cedilla":
        yb = pad + (ys.max() if ys.size else h)
        line((cx, yb), (cx + s * 0.3, yb + s * 0.6))
        line((cx + s * 0.3, yb + s * 0.6), (cx - s * 0.3, yb + s * 0.9))
    return out, top - pad


def write(text: str, hand: Hand, rng: np.random.Generator,
          digits: DigitBank | None = None) -> Ink:
    """Handwrite one line of `text`: glyph size, angle and baseline vary like a real hand."""
    path = hand.font.path
    size = round(hand.cap_px / fonts.cap_ratio(path))
    cap = hand.cap_px
    h = round(cap * 3.4)
    base = round(cap * 2.1)
    width = round(len(text) * cap * 1.5 + cap * 4)
    canvas = np.zeros((h, width), np.uint8)
    period = rng.uniform(8, 20) * cap
    phase = rng.uniform(0, 2 * math.pi)
    drift = rng.normal(0, 0.012)
    x = cap * 0.5
    space = fonts.font(path, size).getlength(" ") or cap * 0.4
    for ch in text:
        if ch == " ":
            x += max(space, cap * 0.35) * rng.uniform(0.8, 1.4)
            continue
        s = 1 + rng.normal(0, hand.size_jitter)
        if digits is not None and ch.isdigit():
            g = digits.glyph(int(ch), cap * s * rng.uniform(0.85, 1.05), rng)
            left, top = 0, -g.shape[0]
            adv = g.shape[1] + cap * rng.uniform(0.08, 0.3)
            s = 1.0
        else:
            base_ch, accent = ch, ""
            if not fonts.has_glyph(path, ch):
                base_ch, accent = fonts.decompose(ch)
                if not fonts.has_glyph(path, base_ch):
                    continue
            g, left, top, adv = _glyph(path, size, base_ch)
            if accent:
                g, top = _accent(g, top, accent, cap, rng)
        rot = rng.normal(0, hand.rot_jitter) if hand.rot_jitter else 0.0
        if abs(s - 1) > 0.01 or abs(rot) > 0.3:
            gh, gw = g.shape
            m = cv2.getRotationMatrix2D((-left, -top), rot, s)  # about the pen point
            g = cv2.warpAffine(g, m, (round(gw * 1.3) + 2, round(gh * 1.3) + 2))
        dy = (hand.wobble * cap * math.sin(2 * math.pi * x / period + phase) + drift * x
              + rng.normal(0, hand.wobble * cap * 0.25))
        gx, gy = round(x + left), round(base + top + dy)
        gh, gw = g.shape
        if gx < 0 or gy < 0 or gy + gh > h or gx + gw > width:
            pad = max(gh, gw)
            canvas = np.pad(canvas, ((pad, pad), (0, pad)))
            base, gy, h, width = base + pad, gy + pad, h + 2 * pad, width + pad
            gx = max(gx, 0)
        region = canvas[gy: gy + gh, gx: gx + gw]
        np.maximum(region, g, out=region)
        x += adv * s + hand.spacing * cap + (0 if hand.font.cursive else rng.normal(0, cap * 0.03))
    ink = Ink(canvas, base)
    ink = shear(ink, hand.slant_deg)
    if hand.weight:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (hand.weight + 1, hand.weight + 1))
        ink = Ink(cv2.dilate(ink.alpha, k), ink.baseline)
    return crop(texture(ink, hand.pressure, rng))


def typed(text: str, path: Path, size_px: int) -> Ink:
    """Text as a word processor prints it: no jitter at all."""
    f = fonts.font(path, size_px)
    x0, y0, x1, y1 = f.getbbox(text, anchor="ls")
    img = Image.new("L", (max(1, x1 - x0) + 4, max(1, y1 - y0) + 4), 0)
    ImageDraw.Draw(img).text((2 - x0, 2 - y0), text, font=f, fill=255, anchor="ls")
    return Ink(np.asarray(img).copy(), 2 - y0)


def shear(ink: Ink, slant_deg: float) -> Ink:
    """Lean the line right (positive) about its baseline, as slanted writing does."""
    t = math.tan(math.radians(slant_deg))
    if abs(t) < 1e-3:
        return ink
    h, w = ink.alpha.shape
    extra = math.ceil(abs(t) * h) + 2
    ox = extra if t > 0 else 0
    m = np.float32([[1, -t, ox + t * ink.baseline], [0, 1, 0]])
    return Ink(cv2.warpAffine(ink.alpha, m, (w + extra, h)), ink.baseline)


def texture(ink: Ink, pressure: float, rng: np.random.Generator) -> Ink:
    """Ballpoint ink is not flat: opacity varies slowly along the line."""
    h, w = ink.alpha.shape
    n = rng.uniform(0.75, 1.0, size=(max(2, h // 24), max(2, w // 24))).astype(np.float32)
    n = cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC)
    a = ink.alpha.astype(np.float32) * n * pressure
    return Ink(np.clip(a, 0, 255).astype(np.uint8), ink.baseline)


def crop(ink: Ink, pad: int = 1) -> Ink:
    ys, xs = np.nonzero(ink.alpha > 8)
    if ys.size == 0:
        return Ink(np.zeros((1, 1), np.uint8), 0)
    y0, y1 = max(0, ys.min() - pad), ys.max() + 1 + pad
    x0, x1 = max(0, xs.min() - pad), xs.max() + 1 + pad
    return Ink(ink.alpha[y0:y1, x0:x1].copy(), ink.baseline - y0)


def scale(ink: Ink, sx: float, sy: float) -> Ink:
    h, w = ink.alpha.shape
    nw, nh = max(1, round(w * sx)), max(1, round(h * sy))
    a = cv2.resize(ink.alpha, (nw, nh), interpolation=cv2.INTER_AREA)
    return Ink(a, round(ink.baseline * sy))


def hstack(parts: list[Ink], gaps: list[int]) -> Ink:
    """Join inks left to right on a common baseline, `gaps[i]` px after part i."""
    above = max(p.baseline for p in parts)
    below = max(p.height - p.baseline for p in parts)
    w = sum(p.width for p in parts) + sum(gaps[: len(parts) - 1])
    out = np.zeros((above + below, w), np.uint8)
    x = 0
    for i, p in enumerate(parts):
        y = above - p.baseline
        region = out[y: y + p.height, x: x + p.width]
        np.maximum(region, p.alpha, out=region)
        x += p.width + (gaps[i] if i < len(gaps) else 0)
    return Ink(out, above)


def strike(ink: Ink, rng: np.random.Generator, thickness: int) -> Ink:
    """Cross a word out: one to three strokes through it, or a zigzag over it."""
    a = ink.alpha.copy()
    h, w = a.shape
    ys = np.nonzero(a.max(axis=1) > 60)[0]
    top, bot = (ys.min(), ys.max()) if ys.size else (0, h - 1)
    mid = (top + min(bot, ink.baseline)) / 2
    if rng.random() < 0.7:
        for _ in range(int(rng.integers(1, 4))):
            y0 = mid + rng.normal(0, (bot - top) * 0.12)
            y1 = y0 + rng.normal(0, (bot - top) * 0.15)
            p = (round(rng.uniform(-4, 4) * 16), round(y0 * 16))
            q = (round((w - 1 + rng.uniform(-4, 4)) * 16), round(y1 * 16))
            cv2.line(a, p, q, 255, thickness, cv2.LINE_AA, shift=4)
    else:
        n = max(3, round(w / max(6, (bot - top) * 0.35)))
        xs = np.linspace(0, w - 1, n)
        yv = np.where(np.arange(n) % 2 == 0, top + (bot - top) * 0.2, bot - (bot - top) * 0.2)
        pts = np.stack([xs, yv + rng.normal(0, 2, n)], axis=1) * 16
        cv2.polylines(a, [pts.astype(np.int32)], False, 255, thickness, cv2.LINE_AA, shift=4)
    return Ink(a, ink.baseline)

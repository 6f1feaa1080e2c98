"""Turn a clean 300-dpi page into what a scanner, a fax or a phone camera delivers.

A `Scanner` is one device with its settings, shared by the pages of a batch;
per page it adds skew, shift, scaling, light, blur, noise, JPEG damage or
upside-down feeding, and records each in words the truth file keeps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.synth import behaviours, fonts
from pipeline.synth.handwriting import typed

SRC_DPI = 300
SHEETFED_SHARE = 0.25  # of office scans: a copier's sheet feeder, 200 dpi grey or 1-bit
LOW_TONER_SHARE = 0.06  # pages printed on a printer low on toner
STAMP_SHARE = 0.06  # pages stamped on arrival, over the text


@dataclass(frozen=True)
class Scanner:
    kind: str  # flatbed | fax | photo
    dpi: int  # output resolution (photo: nominal)
    colour: bool
    clean: bool  # a well-kept office scanner: few artefacts
    header: str = ""  # fax sender line
    bilevel: bool = False  # a sheet-fed office scanner set to black and white
    vdpi: int = 0  # a fax's vertical resolution when it differs (standard mode: ~100)


@dataclass(frozen=True)
class Scan:
    image: np.ndarray  # uint8: (H, W) grey or 1-bit as 0/255, or (H, W, 3) RGB
    dpi: int
    mode: str  # RGB | L | 1
    artefacts: tuple[str, ...]


def make_scanner(rng: np.random.Generator, kind: str | None = None) -> Scanner:
    if kind is None:
        kind = str(rng.choice(["flatbed", "flatbed", "flatbed", "flatbed", "fax", "photo"]))
    if kind == "fax":
        when = f"{int(rng.integers(2, 13)):02d}/02/2015 {int(rng.integers(8, 19)):02d}:" \
               f"{int(rng.integers(0, 60)):02d}"
        who = str(rng.choice(["MAIRIE", "CC PAYS", "SECRETARIAT", "ACCUEIL", "DIRECTION"]))
        num = f"04 7{rng.integers(0, 4)} {rng.integers(10, 99)} {rng.integers(10, 99)} " \
              f"{rng.integers(10, 99)}"
        # held out: standard resolution, half the lines (204 x 98 dpi)
        vdpi = 100 if behaviours.held_out() and rng.random() < 0.6 else 0
        return Scanner("fax", 200, False, False, f"{when}   {num}   {who}", vdpi=vdpi)
    if kind == "photo":
        return Scanner("photo", 0, True, False)
    if rng.random() < SHEETFED_SHARE:
        # an office copier's sheet feeder at 200 dpi, grey or black and white (held
        # out: at 150 dpi)
        dpi = 150 if behaviours.held_out() else 200
        return Scanner("flatbed", dpi, False, bool(rng.random() < 0.5),
                       bilevel=bool(rng.random() < 0.5))
    return Scanner("flatbed", int(rng.choice([150, 200, 200, 300])), bool(rng.random() < 0.4),
                   bool(rng.random() < 0.45))


def scan(page: np.ndarray, scanner: Scanner, rng: np.random.Generator,
         post_room: bool = True) -> Scan:
    """Scan one RGB 300-dpi `page` with `scanner`; with `post_room`, what may happen to
    a sheet's front before it (a date stamp, a printer low on toner)."""
    if scanner.kind == "photo":
        return _photo(page, rng)
    arts: list[str] = []
    img = page if scanner.colour else cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    if post_room:
        img = _post_room(img, rng, arts)
    if scanner.kind == "fax" and scanner.header:
        img = _fax_header(img, scanner.header, rng)
        arts.append("fax_header")
    img = _geometry(img, scanner, rng, arts)
    quiet = scanner.clean and rng.random() < 0.8
    if not quiet and rng.random() < 0.25:
        img = _uneven_light(img, rng, arts)
    if not quiet and rng.random() < 0.18:
        sigma = float(rng.uniform(0.8, 1.8))
        img = cv2.GaussianBlur(img, (0, 0), sigma)
        arts.append(f"blur:{sigma:.1f}")
    k = scanner.dpi / SRC_DPI
    if k != 1:
        img = cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    strong = not quiet and rng.random() < 0.25
    sigma = float(rng.uniform(4, 10) if strong else rng.uniform(0.8, 2.2))
    img = _noise(img, sigma, rng)
    if strong:
        arts.append(f"noise:{sigma:.0f}")
    if scanner.kind == "fax":
        return _fax(img, rng, arts, scanner.vdpi)
    if scanner.bilevel:
        thr = float(rng.uniform(140, 190))
        arts.append("bilevel")
        return Scan(np.where(img > thr, 255, 0).astype(np.uint8), scanner.dpi, "1", tuple(arts))
    if scanner.clean or rng.random() < 0.5:
        # most office scanners set the paper's white point: the background becomes pure white
        white = float(rng.uniform(215, 240))
        img = cv2.convertScaleAbs(img, alpha=255 / white, beta=0)
    if not quiet and rng.random() < 0.15:
        q = int(rng.integers(18, 45))
        img = jpeg_roundtrip(img, q)
        arts.append(f"jpeg:{q}")
    return Scan(img, scanner.dpi, "RGB" if img.ndim == 3 else "L", tuple(arts))


def jpeg_roundtrip(img: np.ndarray, quality: int) -> np.ndarray:
    bgr = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
    out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return out if out.ndim == 2 else cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


def _post_room(img: np.ndarray, rng: np.random.Generator, arts: list[str]) -> np.ndarray:
    """What happens to a page before the scanner: a printer low on toner, a date stamp."""
    if rng.random() < LOW_TONER_SHARE:
        f = float(rng.uniform(0.4, 0.65))  # print this much as dark as it should be
        if behaviours.held_out():  # a worn drum: light vertical streaks as well
            cols = np.clip(1 - rng.uniform(0, 0.35) * (rng.random(img.shape[1]) < 0.08), 0, 1)
            streak = cv2.GaussianBlur(cols[None, :].astype(np.float32), (0, 0), 6)[0]
        else:
            streak = np.ones(img.shape[1], np.float32)
        fade = (f * streak).astype(np.float32)
        fade = fade[None, :, None] if img.ndim == 3 else fade[None, :]
        img = (255 - (255 - img.astype(np.float32)) * fade).astype(np.uint8)
        arts.append("low_toner")
    if rng.random() < STAMP_SHARE:
        k = SRC_DPI / 25.4
        # over the name lines, or the address and mail lines: never on the boxes
        y = int(rng.uniform(62, 90) if rng.random() < 0.5 else rng.uniform(135, 150)) * k
        x = int(rng.uniform(90, 145) * k)
        grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        stamped = grey.copy()
        stamp(stamped, rng, (x, round(y)))
        img = np.minimum(img, stamped[:, :, None]) if img.ndim == 3 else stamped
        arts.append("stamp")
    return img


def stamp(page: np.ndarray, rng: np.random.Generator, at: tuple[int, int]) -> None:
    """A post room's date stamp, inked in grey over `page` (grey, any dtype), with its
    top-left corner at `at` (px at 300 dpi). Held out: an oval one."""
    x, y = at
    w, h = 560, 230
    mask = np.zeros(page.shape[:2], np.uint8)
    if behaviours.held_out():
        cv2.ellipse(mask, (x + w // 2, y + h // 2), (w // 2, h // 2), 0, 0, 360, 255, 5)
    else:
        cv2.rectangle(mask, (x, y), (x + w, y + h), 255, 6)
    day = int(rng.integers(2, 12))
    cv2.putText(mask, "ARDTA - RECU LE", (x + 50, y + 85), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 255, 4)
    cv2.putText(mask, f"{day:02d} FEV. 2015", (x + 80, y + 175), cv2.FONT_HERSHEY_SIMPLEX, 1.8,
                255, 5)
    tone = float(rng.uniform(90, 150))
    page[mask > 0] = np.minimum(page[mask > 0], tone)


def _noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Sensor noise (uniform with s.d. `sigma`: fast, and no reader relies on its shape)."""
    a = max(1, round(sigma * 1.732))
    n = rng.integers(-a, a + 1, img.shape[:2], dtype=np.int8)
    if img.ndim == 3:
        n = cv2.merge([n, n, n])
    return cv2.add(img, n, dtype=cv2.CV_8U)


def _geometry(img: np.ndarray, scanner: Scanner, rng: np.random.Generator,
              arts: list[str]) -> np.ndarray:
    """Skew, shift, 'fit to page' scaling and upside-down feeding, in one resampling."""
    h, w = img.shape[:2]
    k = SRC_DPI / 25.4
    r = rng.random()
    if scanner.clean:
        angle = float(rng.normal(0, 0.35))
    elif r < 0.45:
        angle = float(rng.normal(0, 0.4))
    elif r < 0.85:
        angle = float(rng.choice([-1, 1]) * rng.uniform(0.5, 3))
    else:
        angle = float(rng.choice([-1, 1]) * rng.uniform(3, 7))
    if abs(angle) >= 0.5:
        arts.append(f"skew:{angle:.1f}")
    dx = dy = 0.0
    if rng.random() < (0.15 if scanner.clean else 0.35):
        dx, dy = (float(v) for v in rng.uniform(-5, 5, 2))
        arts.append(f"shift:{dx:.1f},{dy:.1f}")
    s = 1.0
    if rng.random() < 0.12:
        s = float(rng.uniform(0.92, 0.97))
        arts.append(f"scale:{s:.2f}")
    if rng.random() < 0.05:
        angle += 180
        arts.append("upside_down")
    if abs(angle) < 0.05 and dx == dy == 0 and s == 1:
        return img
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, s)
    m[:, 2] += (dx * k, dy * k)
    lid = int(rng.integers(225, 256))
    border = (lid, lid, lid) if img.ndim == 3 else lid
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def _light_field(h: int, w: int, rng: np.random.Generator, arts: list[str]) -> np.ndarray:
    """A smooth multiplier: a gradient across the page, sometimes a lid shadow at an edge."""
    sh, sw = max(8, h // 16), max(8, w // 16)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    a = rng.uniform(0, 2 * math.pi)
    t = (xx / sw * math.cos(a) + yy / sh * math.sin(a))
    t = (t - t.min()) / (t.max() - t.min() + 1e-6)
    field = 1 - t * rng.uniform(0.08, 0.25)
    arts.append("uneven_light")
    if rng.random() < 0.5:
        edge = int(rng.integers(4))
        d = [xx, yy, sw - 1 - xx, sh - 1 - yy][edge] / (sw if edge % 2 == 0 else sh)
        width = rng.uniform(0.02, 0.08)
        field = field * (1 - rng.uniform(0.3, 0.6) * np.exp(-((d / width) ** 2)))
        arts.append("shadow")
    return cv2.resize(field.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)


def _uneven_light(img: np.ndarray, rng: np.random.Generator, arts: list[str]) -> np.ndarray:
    return _times(img, _light_field(img.shape[0], img.shape[1], rng, arts))


def _times(img: np.ndarray, field: np.ndarray) -> np.ndarray:
    """img * field (float32, H x W), in uint8 without a float copy of the page."""
    f8 = cv2.convertScaleAbs(field, alpha=255)
    if img.ndim == 3:
        f8 = cv2.merge([f8, f8, f8])
    return cv2.multiply(img, f8, scale=1 / 255)


def _fax_header(img: np.ndarray, header: str, rng: np.random.Generator) -> np.ndarray:
    ink = typed(header + f"   P.{int(rng.integers(1, 4))}", fonts.typed_fonts()[-1], 30)
    out = img.copy()
    x, y = int(rng.integers(60, 200)), 25
    region = out[y: y + ink.height, x: x + ink.width]
    np.minimum(region, 255 - ink.alpha[: region.shape[0], : region.shape[1]], out=region)
    return out


def _fax(img: np.ndarray, rng: np.random.Generator, arts: list[str], vdpi: int = 0) -> Scan:
    """Binarise like a fax machine, then sprinkle the line noise of a phone line.

    At standard resolution (`vdpi` about 100) every other line is missing, and
    the receiving end doubles each line it got.
    """
    if vdpi:
        h = img.shape[0]
        img = cv2.resize(img, (img.shape[1], h * vdpi // 200), interpolation=cv2.INTER_AREA)
        img = cv2.resize(img, (img.shape[1], h), interpolation=cv2.INTER_NEAREST)
        arts.append("fax_standard")
    thr = float(rng.uniform(135, 185))
    bw = np.where(img > thr, 255, 0).astype(np.uint8)
    p = float(rng.uniform(0.0005, 0.003))
    flips = rng.random(bw.shape, dtype=np.float32) < p
    bw[flips] = 255 - bw[flips]
    arts += ["fax", "salt_pepper"]
    return Scan(bw, 200, "1", tuple(arts))


def _table(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A desk under the page: wood, laminate or dark cloth, with a little texture."""
    base = np.array([(125, 88, 58), (78, 76, 80), (160, 150, 135), (45, 40, 38),
                     (100, 70, 45)][rng.integers(5)], np.float32)
    grain = rng.normal(0, 1, (max(4, h // 40), max(4, w // 4), 1)) * 0.07 + 1
    small = np.clip(base[None, None, :] * grain, 0, 255).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _photo(page: np.ndarray, rng: np.random.Generator) -> Scan:
    """A phone photo: the page in perspective on a table, lit from one side, JPEG'd later."""
    arts = ["photo", "perspective"]
    out_h = int(rng.integers(2200, 3000))
    out_w = round(out_h * 0.75)
    ph, pw = page.shape[:2]
    fill = rng.uniform(0.78, 0.93)
    hh = out_h * fill
    ww = hh * pw / ph
    cx, cy = out_w / 2 + rng.normal(0, out_w * 0.02), out_h / 2 + rng.normal(0, out_h * 0.02)
    rot = math.radians(rng.normal(0, 2.5))
    corners = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        x, y = sx * ww / 2, sy * hh / 2
        xr = x * math.cos(rot) - y * math.sin(rot)
        yr = x * math.sin(rot) + y * math.cos(rot)
        corners.append((cx + xr, cy + yr))
    dst = np.float32(corners)
    # tilt: one side nearer the lens looks wider
    tilt = rng.uniform(-0.06, 0.06) * ww
    dst[0, 0] -= tilt
    dst[1, 0] += tilt
    dst += rng.normal(0, out_w * 0.008, dst.shape).astype(np.float32)
    # keep the whole page in the frame: people centre what they photograph
    lo, hi = dst.min(axis=0), dst.max(axis=0)
    margin = np.float32([out_w * 0.02, out_h * 0.02])
    dst += np.maximum(0, margin - lo) - np.maximum(0, hi - (np.float32([out_w, out_h]) - margin))
    upside = rng.random() < 0.05
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    if upside:
        src = src[[2, 3, 0, 1]]
        arts.append("upside_down")
    m = cv2.getPerspectiveTransform(src, dst)
    canvas = _table(out_h, out_w, rng)
    cv2.warpPerspective(page, m, (out_w, out_h), dst=canvas, flags=cv2.INTER_AREA,
                        borderMode=cv2.BORDER_TRANSPARENT)
    field = _light_field(out_h, out_w, rng, [])
    yy, xx = np.mgrid[0:out_h:8, 0:out_w:8].astype(np.float32)
    vig = 1 - 0.25 * (((xx / out_w - 0.5) ** 2 + (yy / out_h - 0.5) ** 2) * 2)
    vig = cv2.resize(vig, (out_w, out_h))
    cast = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 0.97)])
    img = _times(canvas, field * vig * np.float32(rng.uniform(0.85, 1.0)))
    img = cv2.multiply(img, np.full(img.shape, 255 * cast, np.uint8), scale=1 / 255)
    arts.append("uneven_light")
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.1))
    img = _noise(img, float(rng.uniform(2, 5)), rng)
    return Scan(img, 0, "RGB", tuple(arts))

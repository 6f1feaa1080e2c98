"""Find where the blank form lies in a scan, whatever its orientation, skew, scale or shift.

ORB features are rotation-invariant, so one match against the reference page
recovers 0/90/180/270 orientation and skew together. The model is constrained
(a similarity first, then a full affine or a homography only when it clearly
fits better and stays close), because a free homography once went 27 px wrong.
Registration reports its own quality; every field read through it inherits it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.imaging import shrink
from pipeline.models import Registration
from pipeline.render import blank_form
from pipeline.template import MM_PER_INCH, Template

WORK_DPI = 100  # features are matched at this resolution: fast, and plenty for A4 print
N_FEATURES = 3000  # on the reference page
N_SCAN_FEATURES = 1500  # on each scan: matching cost grows with both
RATIO = 0.8
MIN_INLIERS = 25  # below this the page is not this form
INLIER_PX = 2.0  # at WORK_DPI: 0.5 mm


@dataclass(frozen=True)
class _RefFeatures:
    keypoints: np.ndarray  # (n, 2) at WORK_DPI
    descriptors: np.ndarray
    shape: tuple[int, int]
    matcher: cv2.FlannBasedMatcher  # LSH index over `descriptors`: faster than brute force


def _orb() -> cv2.ORB:
    return cv2.ORB_create(nfeatures=N_FEATURES, scaleFactor=1.2, nlevels=8, edgeThreshold=15,
                          patchSize=31, fastThreshold=12)


def _detect(img: np.ndarray, n: int = N_FEATURES,
            spread: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """ORB keypoints and descriptors; with `spread`, the strongest in each cell of the
    page's 3 x 4 grid rather than over the whole page, where a bold, well-lit header
    can take them all and leave a photo's darker half unmatched."""
    orb = _orb()
    if not spread:
        orb.setMaxFeatures(n)
        kps, desc = orb.detectAndCompute(img, None)
    else:
        orb.setMaxFeatures(2 * n)
        found = orb.detect(img, None)
        kps, desc = orb.compute(img, _per_cell(found, img.shape, n)) if found else ((), None)
    pts = np.array([k.pt for k in kps], dtype=np.float32).reshape(-1, 2)
    return pts, desc


def _per_cell(kps: Sequence[cv2.KeyPoint], shape: tuple[int, ...], n: int) -> list:
    """Up to n / 12 of the strongest keypoints per cell of a 3 x 4 grid."""
    h, w = shape[:2]
    pts = np.array([k.pt for k in kps], dtype=np.float32)
    strength = np.array([k.response for k in kps], dtype=np.float32)
    cell = ((pts[:, 0] * 3 // w).clip(0, 2) * 4 + (pts[:, 1] * 4 // h).clip(0, 3)).astype(int)
    order = np.lexsort((-strength, cell))  # by cell, strongest first
    first = np.searchsorted(cell[order], cell[order], side="left")
    rank = np.arange(len(order)) - first
    return [kps[i] for i in order[rank < n // 12]]


_REFS: dict[str, _RefFeatures] = {}


def _reference(template: Template) -> _RefFeatures:
    key = template.fingerprint
    if key not in _REFS:
        ref = blank_form(template, WORK_DPI)
        pts, desc = _detect(ref, N_FEATURES)
        assert desc is not None
        # 4 hash tables of 14 bits: registrations as good as with 6 of 12 bits (as
        # many inliers on the hardest photos, the same residuals, 678 dev pages) in
        # 60 % of the time. The tables are drawn at random: another draw moves the
        # readings of a few fields as much as this change does.
        matcher = cv2.FlannBasedMatcher(
            {"algorithm": 6, "table_number": 4, "key_size": 14, "multi_probe_level": 1},
            {"checks": 50},
        )
        matcher.add([desc])
        matcher.train()
        _REFS[key] = _RefFeatures(pts, desc, ref.shape, matcher)
    return _REFS[key]


def _normalise(img: np.ndarray, template: Template) -> tuple[np.ndarray, float]:
    """Scale a scan so an A4 page in it is about WORK_DPI; returns (image, factor)."""
    long_px = max(img.shape)
    target = max(template.size_px(WORK_DPI))
    k = target / long_px
    small = shrink(img, k)
    if k >= 1:
        k = 1.0
    return _flatten(small), k


def _flatten(img: np.ndarray) -> np.ndarray:
    """Even out the light and lift faint print before detecting corners; the paper's
    level is estimated at 1/8 scale, where a median is cheap."""
    if min(img.shape) <= 64:
        return img
    tiny = cv2.resize(img, None, fx=0.125, fy=0.125, interpolation=cv2.INTER_AREA)
    bg = cv2.resize(cv2.medianBlur(tiny, 5), (img.shape[1], img.shape[0]),
                    interpolation=cv2.INTER_LINEAR)
    return cv2.divide(img, bg, scale=255)


def _residuals(m: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    pts = cv2.perspectiveTransform(src.reshape(-1, 1, 2), m).reshape(-1, 2)
    return np.linalg.norm(pts - dst, axis=1)


def _as3x3(a: np.ndarray) -> np.ndarray:
    return np.vstack([a, [0, 0, 1]]) if a.shape == (2, 3) else a


@dataclass(frozen=True)
class _Fit:
    matrix: np.ndarray  # 3x3, input image -> reference at WORK_DPI
    model: str
    inliers: int
    residual_mm: float
    spread: float

    @property
    def quality(self) -> float:
        """Enough agreeing points, a small residual, points spread over the page."""
        q_inl = min(1.0, (self.inliers - MIN_INLIERS) / 80.0 + 0.4)
        q_res = float(np.clip(1.0 - (self.residual_mm - 0.25) / 1.0, 0.0, 1.0))
        return round(float(min(q_inl, q_res, self.spread)), 3)


def _fit(img: np.ndarray, ref: _RefFeatures, gate: float | None = None,
         spread: bool = False) -> _Fit | None:
    """Match `img` to the reference and fit the most constrained model that explains it.

    `gate` (px) keeps only matches already that close to their place: for a
    second pass on a page the first pass has roughly put in place. `spread`:
    keypoints taken cell by cell (see `_detect`).
    """
    pts, desc = _detect(img, N_SCAN_FEATURES, spread)
    if desc is None or len(pts) < MIN_INLIERS:
        return None
    pairs = ref.matcher.knnMatch(desc, k=2)
    # (LSH may find fewer than two neighbours, or none, for a descriptor)
    good = [p[0] for p in pairs if len(p) >= 2 and p[0].distance < RATIO * p[1].distance]
    src = np.float32([pts[m.queryIdx] for m in good]).reshape(-1, 2)
    dst = np.float32([ref.keypoints[m.trainIdx] for m in good]).reshape(-1, 2)
    if gate is not None and len(src):
        near = np.linalg.norm(src - dst, axis=1) < gate
        src, dst = src[near], dst[near]
    if len(src) < MIN_INLIERS:
        return None

    sim, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0, maxIters=4000, confidence=0.999
    )
    if sim is None or mask is None or int(mask.sum()) < MIN_INLIERS:
        return None
    best = _as3x3(sim)
    if not 0.3 <= math.hypot(sim[0, 0], sim[1, 0]) <= 3.0:
        return None
    model = "similarity"
    inl = _residuals(best, src, dst) < INLIER_PX

    # A looser model when the page is warped (a phone photo): taken only when it
    # explains more matches and still maps the page onto a sane quadrilateral.
    near = _residuals(best, src, dst) < 25.0
    for subset in (np.ones(len(src), bool), near):
        if subset.sum() < 2 * MIN_INLIERS:
            continue
        h, _ = cv2.findHomography(src[subset], dst[subset], cv2.RANSAC, INLIER_PX,
                                  maxIters=3000)
        if h is not None and _sane(h, ref.shape):
            hin = _residuals(h, src, dst) < INLIER_PX
            if hin.sum() > 1.05 * inl.sum() + 5:
                best, model, inl = h, "homography", hin
    # Least squares on the inliers for the final estimate.
    if model == "homography":
        refined, _ = cv2.findHomography(src[inl], dst[inl], 0)
        if refined is not None and _sane(refined, ref.shape):
            best = refined
    else:
        refined, _ = cv2.estimateAffinePartial2D(src[inl], dst[inl], method=cv2.LMEDS)
        if refined is not None:
            best = _as3x3(refined)
    inl = _residuals(best, src, dst) < INLIER_PX
    n_in = int(inl.sum())
    if n_in < MIN_INLIERS:
        return None
    res = _residuals(best, src[inl], dst[inl])
    residual_mm = float(np.sqrt(np.mean(res**2)) * MM_PER_INCH / WORK_DPI)
    return _Fit(best, model, n_in, residual_mm, _spread(dst[inl], ref.shape))


def _scale(m: np.ndarray) -> float:
    return float(math.sqrt(abs(np.linalg.det(m[:2, :2]))))


def register(img: np.ndarray, template: Template, out_dpi: int = 300) -> Registration | None:
    """Map `img` (grey scan) onto the reference page at `out_dpi`; None when it is not this form.

    A second pass runs when the first one leaves doubt (a photo, a warped or
    badly lit page): the scan is put roughly in place, at the reference's
    scale, and matched again with every match required to be near its place.
    """
    ref = _reference(template)
    small, k = _normalise(img, template)
    first = _fit(small, ref)
    if first is not None and first.spread < 1.0:
        # Matches bunched in part of the page: look for keypoints everywhere.
        spread_out = _fit(small, ref, spread=True)
        if spread_out is not None and spread_out.quality > first.quality:
            first = spread_out
    if first is None or (not 0.6 <= _scale(first.matrix) * k <= 1.6 and not (
        0.6 <= _scale(first.matrix) <= 1.6
    )):
        return None
    to_ref = first.matrix @ np.diag([k, k, 1.0])  # full-res scan -> reference at WORK_DPI
    fit = first
    model = first.model
    for gate in (60.0, 20.0):  # coarse, then fine
        if fit.quality >= 0.95 and model == "similarity" and 0.85 <= _scale(to_ref) / k <= 1.15:
            break
        s = min(1.0, _scale(to_ref))  # so that the page is at about WORK_DPI before warping
        pre = shrink(img, s)
        rh, rw = ref.shape
        placed = cv2.warpPerspective(pre, to_ref @ np.diag([1 / s, 1 / s, 1.0]), (rw, rh),
                                     flags=cv2.INTER_LINEAR, borderValue=255)
        again = _fit(_flatten(placed), ref, gate=gate, spread=fit.spread < 1.0)
        if again is None or again.quality < fit.quality:
            break
        to_ref = again.matrix @ to_ref
        model = "homography" if "homography" in (model, again.model) else model
        fit = again

    up = out_dpi / WORK_DPI
    full = np.diag([up, up, 1.0]) @ to_ref
    rot = math.degrees(math.atan2(to_ref[1, 0], to_ref[0, 0]))
    return Registration(
        matrix=full,
        inliers=fit.inliers,
        residual_mm=round(fit.residual_mm, 3),
        quality=fit.quality,
        rotation_deg=round(rot, 2),
        scale=round(_scale(first.matrix), 4),
        model=model,
    )


def _sane(h: np.ndarray, shape: tuple[int, int]) -> bool:
    """Does the reference page, seen through `h`'s inverse, look like a page in a photo?"""
    rh, rw = shape
    corners = np.float32([[0, 0], [rw, 0], [rw, rh], [0, rh]])
    try:
        quad = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), np.linalg.inv(h)).reshape(4, 2)
    except np.linalg.LinAlgError:
        return False
    if not cv2.isContourConvex(quad.astype(np.float32)):
        return False
    for i in range(4):
        a, b, c = quad[i - 1], quad[i], quad[(i + 1) % 4]
        u, v = a - b, c - b
        cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-9))
        if abs(cos) > 0.5:  # corner angles between 60° and 120°
            return False
    return True


def _spread(pts: np.ndarray, shape: tuple[int, int]) -> float:
    """1.0 when matched points cover the page's four quadrants-ish; lower when bunched."""
    h, w = shape
    cols = (pts[:, 0] * 3 // w).astype(int)
    rows = (pts[:, 1] * 4 // h).astype(int)
    cells = set(zip(cols, rows, strict=True))
    return float(min(1.0, len(cells) / 5.0))


def warp(img: np.ndarray, reg: Registration, template: Template, dpi: int = 300,
         rows_mm: tuple[float, float] | None = None) -> np.ndarray:
    """The scan resampled onto the reference page at `dpi` (white where the scan had nothing).

    With `rows_mm`, only that horizontal band is resampled (the rest stays white):
    the fields need a third of the page, and warping is paid per output pixel.
    """
    w, h = template.size_px(dpi)
    m = reg.matrix
    if dpi != 300:
        s = dpi / 300
        m = np.diag([s, s, 1.0]) @ m
    y0, y1 = 0, h
    if rows_mm is not None:
        k = dpi / MM_PER_INCH
        y0, y1 = max(0, int(rows_mm[0] * k)), min(h, int(np.ceil(rows_mm[1] * k)))
        m = np.array([[1, 0, 0], [0, 1, -y0], [0, 0, 1]], dtype=float) @ m
    if reg.model == "homography":
        band = cv2.warpPerspective(img, m, (w, y1 - y0), flags=cv2.INTER_LINEAR,
                                   borderValue=255)
    else:
        band = cv2.warpAffine(img, m[:2], (w, y1 - y0), flags=cv2.INTER_LINEAR,
                              borderValue=255)
    if (y0, y1) == (0, h):
        return band
    out = np.full((h, w), 255, np.uint8)
    out[y0:y1] = band
    return out

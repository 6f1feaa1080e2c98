"""Small image helpers shared by the reader's stages."""

from __future__ import annotations

import numpy as np


def percentiles_u8(img: np.ndarray, qs: tuple[float, ...]) -> tuple[float, ...]:
    """Percentiles of an 8-bit image via a histogram: exact, and fast."""
    hist = np.bincount(img.ravel(), minlength=256)
    cum = np.cumsum(hist)
    total = cum[-1]
    if total == 0:
        return tuple(0.0 for _ in qs)
    return tuple(float(np.searchsorted(cum, q / 100.0 * total)) for q in qs)

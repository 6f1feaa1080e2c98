"""Page triage before registration: is there anything on this page at all?"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.imaging import shrink

BLANK_INK_SHARE = 0.002  # share of dark pixels below which a page is a blank back side
WORK_LONG_SIDE = 1000


def ink_share(img: np.ndarray) -> float:
    """Share of pixels clearly darker than the paper around them.

    Measured against a local background so that uneven light, a grey fax and
    faint show-through of the other side do not count as writing.
    """
    k = WORK_LONG_SIDE / max(img.shape)
    small = shrink(img, k)
    small = cv2.medianBlur(small, 3)
    bg = cv2.dilate(small, np.ones((15, 15), np.uint8))  # paper level, ink removed
    dark = (bg.astype(np.int16) - small.astype(np.int16)) > 70
    # Ignore a thin frame: scanner edges and photo borders are not writing.
    m = max(2, int(0.03 * min(dark.shape)))
    return float(dark[m:-m, m:-m].mean())


def is_blank(img: np.ndarray) -> tuple[bool, float]:
    share = ink_share(img)
    return share < BLANK_INK_SHARE, share

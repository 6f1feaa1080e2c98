"""Real handwritten digits from MNIST (IDX files), limited to images 0-4999.

Images 5000-9999 are kept for an independent evaluation of formscan, so the
bank refuses them: a generator that drew on them would leak the test set.
The rest is split in two: formscan's digit reader learns from images 0-2499
(READER_IMAGES) and the generator writes with 2500-4999 (GENERATOR_IMAGES),
so no generated form shows the reader a digit it was trained on.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import cv2
import numpy as np

from pipeline.errors import InputError

ALLOWED = 5000  # images [0, ALLOWED) may be used
READER_IMAGES = range(0, 2500)
GENERATOR_IMAGES = range(2500, ALLOWED)
IMAGES = "t10k-images-idx3-ubyte.gz"
LABELS = "t10k-labels-idx1-ubyte.gz"


def read_idx(path: Path, limit: int | None = None) -> np.ndarray:
    """An IDX array (gz or raw), at most `limit` items along the first axis."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        zero, dtype, ndim = struct.unpack(">HBB", fh.read(4))
        if zero != 0 or dtype != 0x08:
            raise ValueError(f"{path}: not an unsigned-byte IDX file")
        dims = list(struct.unpack(f">{ndim}I", fh.read(4 * ndim)))
        if limit is not None:
            dims[0] = min(dims[0], limit)
        count = int(np.prod(dims))
        data = np.frombuffer(fh.read(count), dtype=np.uint8)
    if data.size != count:
        raise ValueError(f"{path}: truncated IDX file")
    return data.reshape(dims)


class DigitBank:
    """Digit images by label, read from a folder holding the two t10k IDX files."""

    def __init__(self, folder: Path, images: range = GENERATOR_IMAGES) -> None:
        if images.start < 0 or images.stop > ALLOWED:
            raise IndexError(f"MNIST images {images.start}-{images.stop - 1} include reserved ones")
        self.folder = Path(folder)
        try:
            self.images = read_idx(self.folder / IMAGES, ALLOWED)
            self.labels = read_idx(self.folder / LABELS, ALLOWED)
        except (OSError, ValueError) as exc:
            raise InputError(
                f"{self.folder}: cannot read the MNIST digits ({exc}); the folder must hold "
                f"{IMAGES} and {LABELS}, or leave --digits out to write digits with fonts"
            ) from None
        n = min(len(self.images), len(self.labels), images.stop)
        used = np.arange(images.start, max(images.start, n))
        self.by_label = {d: used[self.labels[used] == d] for d in range(10)}

    def image(self, index: int) -> np.ndarray:
        """Image `index` (28 x 28, white ink on black); refuses the evaluation half."""
        if not 0 <= index < ALLOWED:
            raise IndexError(f"MNIST image {index} is reserved: use images 0-{ALLOWED - 1} only")
        return self.images[index]

    def glyph(self, digit: int, height_px: float, rng: np.random.Generator) -> np.ndarray:
        """One random writer's `digit`, cropped, scaled to `height_px`, as ink alpha (0-255)."""
        pool = self.by_label[digit]
        if pool.size == 0:
            raise ValueError(f"no image of digit {digit} in {self.folder}")
        img = self.image(int(pool[rng.integers(pool.size)]))
        ys, xs = np.nonzero(img > 40)
        img = img[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
        h, w = img.shape
        k = height_px / h
        out = cv2.resize(img, (max(2, round(w * k)), max(2, round(h * k))),
                         interpolation=cv2.INTER_CUBIC)
        # MNIST strokes are felt-pen thick: thin them towards a ballpoint line
        thin = max(1, round(height_px / 16))
        out = cv2.erode(out, np.ones((thin, thin), np.uint8))
        return np.clip(out.astype(np.float32) * 1.3, 0, 255).astype(np.uint8)

"""A second, independent recogniser: PP-OCRv4 recognition (the model in rapidocr-onnxruntime).

Tesseract is sometimes confidently wrong on a real word ("Ja" for "la"); a
reading from a differently trained network that agrees with it is strong
evidence, one that disagrees sends the field to a reviewer. Only the
recognition network runs (the crop is already one cleaned line), with one
ONNX Runtime session per worker on one thread: processes give the parallelism.

The model's alphabet is Chinese plus ASCII and a few accents (no ç ê ô â î ù œ);
its output is restricted to Latin characters, and comparisons fold accents.
The package is located without importing it, so its `opencv-python`
requirement never matters: only the model file and onnxruntime are used.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import cv2
import numpy as np

from pipeline.models import TextReading
from pipeline.trust.fastgraph import fast_model

PACKAGE = "rapidocr_onnxruntime"
REC_MODEL = "models/ch_PP-OCRv4_rec_infer.onnx"
HEIGHT = 48
MIN_WIDTH = 96  # PaddleOCR pads to 320; padding short names only costs time (~25 %)
# Characters a form field may hold; everything else (the Chinese alphabet) is masked out.
LATIN = set(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " .,;:'\"-_@/()+&éèàÉÈÀëïüöäÿÊÔÂÎçÇêôâîùœ"
)


class SecondEngineUnavailable(RuntimeError):
    """The model package or onnxruntime is missing: the reader falls back to one engine."""


def model_path() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SecondEngineUnavailable(
            f"{PACKAGE} is not installed (make install adds it with --no-deps)")
    path = Path(next(iter(spec.submodule_search_locations))) / REC_MODEL
    if not path.exists():
        raise SecondEngineUnavailable(f"{path} is missing from the {PACKAGE} package")
    return path


class RapidRecogniser:
    """Recognition only, one reused ONNX session, one thread."""

    name = "ppocr"

    def __init__(self, path: Path | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise SecondEngineUnavailable(f"onnxruntime is not importable ({exc})") from None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # the same network, rewritten to run about a third faster (see fastgraph)
        self._sess = ort.InferenceSession(fast_model(path or model_path()), opts,
                                          providers=["CPUExecutionProvider"])
        self._input = self._sess.get_inputs()[0].name
        meta = self._sess.get_modelmeta().custom_metadata_map
        chars = ["<blank>", *meta["character"].splitlines(), " "]
        keep = [i for i, c in enumerate(chars) if i == 0 or c in LATIN]
        self._keep = np.array(keep)
        self._chars = [chars[i] for i in keep]

    def read_line(self, img: np.ndarray, whitelist: str | None = None) -> TextReading:
        """Read one grey line (dark ink on white); confidence = the weakest character's."""
        h, w = img.shape[:2]
        if h == 0 or w == 0:
            return TextReading("", 0.0, self.name)
        rw = max(1, math.ceil(HEIGHT * w / h))
        width = max(MIN_WIDTH, rw)
        x = cv2.resize(img, (rw, HEIGHT), interpolation=cv2.INTER_AREA if h > HEIGHT
                       else cv2.INTER_LINEAR).astype(np.float32) / 127.5 - 1.0
        batch = np.zeros((1, 3, HEIGHT, width), np.float32)
        batch[0, :, :, :rw] = x[None]
        probs = self._sess.run(None, {self._input: batch})[0][0][:, self._keep]
        best = probs.argmax(1)
        p = probs[np.arange(len(best)), best]
        text, confs, prev = [], [], 0
        for k, pk in zip(best, p, strict=True):
            if k != 0 and k != prev:
                ch = self._chars[k]
                if whitelist is None or ch in whitelist:
                    text.append(ch)
                    confs.append(float(pk))
            prev = k
        out = " ".join("".join(text).split())
        return TextReading(out, min(confs) if confs and out else 0.0, self.name)

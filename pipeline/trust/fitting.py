"""Fit the model on generated sets: read every form page, label each candidate against truth.

Never fit on the benchmark's sets (seed 90210, and 77777 the README reports)
or the samples' (2016): a model tuned on the set it is scored on would report
the bound it was tuned to hold.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from pipeline.bench import normalise
from pipeline.template import FieldKind, default_template
from pipeline.trust.calibrate import BIN, BOUND, MARGIN, NEVER, STYLES, Counts, Model, fit_logistic
from pipeline.trust.evidence import FEATURES, SOURCES

FORBIDDEN_SEEDS = {90210, 77777, 2016}
Example = dict  # field, kind, style (true), guess, source, x, ok, chosen, set


def _pages(folder: Path) -> Iterator[tuple[str, int, str, dict]]:
    for tf in sorted(folder.glob("*.truth.json")):
        t = json.loads(tf.read_text(encoding="utf-8"))
        if int(t.get("seed", -1)) in FORBIDDEN_SEEDS:
            raise ValueError(f"{tf}: seed {t['seed']} is reserved (benchmark or samples)")
        for p in t["pages"]:
            if p["kind"] == "form":
                yield str(tf.parent / t["file"]), int(p["page"]), t["file"], p


def _read_one(task: tuple[str, int, str, dict, str]) -> list[Example]:
    from pipeline.ingest import Document
    from pipeline.ocr import make_engine
    from pipeline.reader import read_page

    global _ENGINE
    path, page_no, name, truth, set_name = task
    if "_ENGINE" not in globals():
        _ENGINE = make_engine("tesserocr")
    template = default_template()
    doc = Document(Path(path), name)
    result = read_page(doc.page(page_no - 1), template, _ENGINE)
    kinds = {f.id: f.kind for f in template.fields}
    needs = set(truth.get("needs_human", []))
    out = []
    read = {fr.field: fr.raw for fr in result.fields}
    names_unread = not (read.get("nom") and read.get("prenom"))
    for fr in result.fields:
        ev = fr.evidence
        if not ev or fr.field in needs:
            continue
        want = normalise(kinds[fr.field], truth["fields"].get(fr.field, ""))
        if kinds[fr.field] == FieldKind.ADDRESS:
            from pipeline.validate import canonical_address
            want = canonical_address(want)
        for source, c in ev["candidates"].items():
            if "x" not in c:  # a handwriting reader's: its decision is not the model's
                continue
            got = normalise(kinds[fr.field], c["value"])
            out.append({"field": fr.field, "style": truth.get("style", "?"),
                        "guess": ev["style"], "source": source, "x": c["x"],
                        "ok": got == want, "set": set_name, "page": f"{name}#{page_no}",
                        "value": c["value"], "truth": want, "names_unread": names_unread})
    return out


def collect(folders: list[Path], workers: int | None = None,
            log: Callable[[str], None] = print) -> list[Example]:
    tasks = [(p, n, name, t, f.name) for f in folders for p, n, name, t in _pages(f)]
    log(f"reading {len(tasks)} form pages from {len(folders)} generated sets ...")
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1,
                             mp_context=multiprocessing.get_context("spawn")) as ex:
        rows = [r for chunk in ex.map(_read_one, tasks, chunksize=4) for r in chunk]
    return rows


def _matrix(rows: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[r["x"][f] for f in FEATURES] for r in rows], dtype=float)
    y = np.array([float(r["ok"]) for r in rows])
    return x, y


def _fit_coef(rows: list[Example]) -> dict[str, dict[str, list[float]]]:
    coef: dict[str, dict[str, list[float]]] = {}
    for fid in sorted({r["field"] for r in rows}):
        for source in SOURCES:
            sub = [r for r in rows if r["field"] == fid and r["source"] == source]
            if len(sub) < 20:
                continue
            x, y = _matrix(sub)
            coef.setdefault(fid, {})[source] = [round(float(w), 5) for w in fit_logistic(x, y)]
    return coef


def _chosen(model: Model, rows: list[Example]) -> list[tuple[Example, float]]:
    """Per field reading, the candidate the reader would pick, with its probability."""
    by_key: dict[tuple[str, str, str], list[Example]] = {}
    for r in rows:
        by_key.setdefault((r["set"], r["page"], r["field"]), []).append(r)
    out = []
    for cands in by_key.values():
        scored = [(model.probability(r["field"], r["source"], r["x"]), -i, r)
                  for i, r in enumerate(sorted(cands, key=lambda r: SOURCES.index(r["source"])))]
        p, _, best = max(scored, key=lambda t: (t[0], t[1]))
        out.append((best, p))
    return out


def eligible(r: Example) -> bool:
    """The reader's gates before any threshold: valid, engines agree (or Tesseract was
    sure enough alone), no crossing-out, and no empty value on a page whose names
    were not read."""
    x = r["x"]
    if r.get("names_unread") and x["empty"] == 1.0:
        return False
    both = (x["agree"] == 1.0 and x["ran2"] == 1.0) or x.get("alone") == 1.0
    return x["valid"] == 1.0 and both and x["implausible"] == 0.0


def pooled_thresholds(base: dict[str, dict[str, Counts]]) -> dict[str, dict[str, float]]:
    """Per field and style: its own threshold where its examples suffice, else the pooled one.

    A field with enough examples of its own (MIN_ACCEPTED above its threshold)
    gets the threshold they show. Otherwise the bound is established on all
    fields' examples pooled (the probabilities are already per field), and the
    field's threshold is then raised until its own examples hold BOUND / MARGIN.
    """
    out: dict[str, dict[str, float]] = {f: {} for f in base}
    for s in STYLES:
        pooled = Counts()
        for d in base.values():
            pooled = pooled.merged(d.get(s, Counts()))
        t0 = pooled.threshold()
        for f, d in base.items():
            c = d.get(s, Counts())
            own = c.threshold()
            if own < NEVER:
                out[f][s] = own
                continue
            t = t0
            while t < NEVER:
                n, w = c.accepted_at(t)
                if not n or w / n <= BOUND / MARGIN:
                    break
                t = round(t + BIN, 6)
            out[f][s] = min(t, NEVER)
    return out


def fit(rows: list[Example], folds: int = 2) -> Model:
    """Coefficients on all rows; thresholds from out-of-fold probabilities (no self-scoring)."""
    sets = sorted({r["set"] for r in rows})
    base: dict[str, dict[str, Counts]] = {}
    for k in range(folds):
        held = {s for i, s in enumerate(sets) if i % folds == k}
        train = [r for r in rows if r["set"] not in held]
        test = [r for r in rows if r["set"] in held]
        m = Model(FEATURES, _fit_coef(train), {}, {})
        for r, p in _chosen(m, test):
            if eligible(r):
                base.setdefault(r["field"], {}).setdefault(r["guess"], Counts()).add(p, r["ok"])
            else:
                base.setdefault(r["field"], {}).setdefault(r["guess"], Counts())
    thresholds = pooled_thresholds(base)
    info = {"examples": len(rows), "sets": sets}
    return Model(FEATURES, _fit_coef(rows), thresholds, base, info)


def main(argv: list[str] | None = None) -> None:
    """`python -m pipeline.trust.fitting OUT SET...`: read the generated sets, fit, save."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("out", type=Path, help="where to write the model (pipeline/trust/model.json)")
    ap.add_argument("sets", type=Path, nargs="+", help="folders made by `formscan synth`")
    ap.add_argument("-j", "--workers", type=int, default=None)
    args = ap.parse_args(argv)
    rows = collect(args.sets, workers=args.workers)
    model = fit(rows)
    model.save(args.out)
    print(f"{len(rows)} examples from {len(args.sets)} sets; thresholds:")
    for f, by_style in sorted(model.thresholds.items()):
        print(f"  {f:<11} " + "  ".join(f"{s} {t:.3f}" for s, t in sorted(by_style.items())))
    print(f"saved to {args.out}")


if __name__ == "__main__":
    main()

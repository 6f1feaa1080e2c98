"""The benchmark's real-hands column: real people's block capitals in Nom and Prénom.

Generated handwriting flatters a reader; this column does not. A set is
generated with `--real-names` (the benchmark half of the folder, which no
fitting or tuning draws from), processed like any batch, and its names are
scored with case and accents folded (the crops' labels carry no accents).
Beside it, every recogniser reads the same name crops alone, as cut from
their source, and each handwriting reader's own reading of the field the
pipeline cut from the scanned form is scored too: the pipeline is compared
with its best engine on what the engine was given, scan artefacts included.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.trust import lexicon

NAME_FIELDS = ("nom", "prenom")
READERS = ("ppocr5", "ppocr6")  # the handwriting readers, as stored with each field


def _fold(text: str) -> str:
    return lexicon.fold(text, case=True, spaces=True).replace("-", "")


def engines_alone(folder: Path, part: str) -> dict[str, dict[str, float]]:
    """Each recogniser alone on the cleaned name crops of `part`: share read exactly."""
    from pipeline.ocr import make_engine
    from pipeline.synth.realnames import RealNameBank
    from pipeline.trust import second_engine
    from pipeline.trust.handreaders import hand_readers

    bank = RealNameBank(folder, part)
    crops = [(n.text, 255 - np.pad(n.ink.alpha, 6)) for n in bank.first + bank.last]
    engines: dict[str, Any] = {r.name: r for r in hand_readers()}
    second = second_engine()
    if second is not None:
        engines["ppocr4"] = second
    engines["tesseract"] = make_engine()
    out = {}
    for name, engine in engines.items():
        right, t0 = 0, time.perf_counter()
        for text, grey in crops:
            right += _fold(engine.read_line(grey).text) == _fold(text)
        out[name] = {"exact": right / len(crops), "n": len(crops),
                     "ms": 1000 * (time.perf_counter() - t0) / len(crops)}
    return out


def score_names(folder: Path, ws_root: Path) -> dict[str, Any]:
    """Names of a real-hands set: pre-filled right, accepted, wrong among accepted."""
    from pipeline.bench import _load_truth
    from pipeline.store import Workspace

    truth = _load_truth(folder)
    with Workspace(ws_root, create=False) as ws:
        rows = {(r["source_file"], r["page"], r["field"]): r for r in ws.field_rows()}
        stored = {(r[0], r[1]): r[2] for r in ws.db.execute(
            "SELECT field_id, source, value FROM readings")}
    out: dict[str, Any] = {}
    alone: dict[str, int] = {}
    for fid in (*NAME_FIELDS, "all"):
        n = right = accepted = wrong = 0
        for (file, page), t in truth.items():
            if t.get("kind") != "form" or not t.get("real_names"):
                continue
            for f in NAME_FIELDS if fid == "all" else (fid,):
                if f in t.get("needs_human", []):
                    continue
                row = rows.get((file, page, f))
                ok = row is not None and _fold(row["value"]) == _fold(t["fields"][f])
                n += 1
                right += ok
                if fid == "all":  # each handwriting reader's own reading of the same crop
                    for source in READERS:
                        got = stored.get((row["id"], source), "") if row is not None else ""
                        alone[source] = alone.get(source, 0) + (
                            _fold(got) == _fold(t["fields"][f]))
                if row is not None and row["status"] == "accepted":
                    accepted += 1
                    wrong += not ok
        out[fid] = {"n": n, "right": right / n if n else None,
                    "accepted": accepted / n if n else None, "accepted_n": accepted,
                    "wrong_accepted": wrong,
                    "error_among_accepted": wrong / accepted if accepted else None}
        if fid == "all":
            out[fid]["readers_alone"] = {k: v / n if n else None for k, v in alone.items()}
    return out


def run(names: Path, n: int, seed: int, out_dir: Path, digits: Path | None, workers: int,
        part: str = "bench", log: Callable[[str], None] = print) -> dict[str, Any]:
    """Generate `n` forms with real names from `part`, process and score them."""
    from pipeline.bench import _fresh_run
    from pipeline.synth import generate

    data = out_dir / "real-hands-set"
    log(f"generating {n} forms with real handwritten names ({part} half of {names}) ...")
    generate(n, seed, data, digits=digits, real_names=names, names_part=part)
    summary = _fresh_run([data], out_dir / "real-hands-workspace", batch="real-hands",
                         workers=workers)
    log("real handwritten names read by each engine alone ...")
    return {"forms": summary.forms, "seed": seed, "part": part,
            "fields": score_names(data, out_dir / "real-hands-workspace"),
            "engines_alone": engines_alone(names, part)}


def report(r: dict[str, Any]) -> list[str]:
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f} %"

    L = ["## Real hands (real people's block capitals in Nom and Prénom)",
         f"- {r['forms']} forms, seed {r['seed']}, the {r['part']} half of the name crops; "
         "case and accents folded", "",
         "| field | n | pre-filled right | accepted | wrong among accepted |",
         "|---|---:|---:|---:|---:|"]
    for fid, v in r["fields"].items():
        L.append(f"| {fid} | {v['n']} | {pct(v['right'])} | {pct(v['accepted'])} | "
                 f"{v['wrong_accepted']} of {v['accepted_n']} "
                 f"({pct(v['error_among_accepted'])}) |")
    on_form = r["fields"]["all"].get("readers_alone", {})
    L += ["", "| engine alone | on the crops as cut from their source | ms per crop "
          "| on the same fields as the pipeline cut them from the scanned form |",
          "|---|---:|---:|---:|"]
    for name, v in r["engines_alone"].items():
        L.append(f"| {name} | {pct(v['exact'])} | {v['ms']:.0f} | {pct(on_form.get(name))} |")
    L.append("")
    return L

"""The benchmark: a fresh generated set, processed and scored against its ground truth.

Every figure is computed from the truth files written by the generator, never
from formscan's own opinion of itself. Speed baselines run on the same pages in
the same run, so ratios compare like with like.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

from pipeline.template import FieldKind, Template, default_template

BENCH_SEED = 90210  # used by no test and no sample
TEXT_KINDS = {FieldKind.TEXT, FieldKind.ADDRESS, FieldKind.EMAIL, FieldKind.PHONE}


def normalise(field_kind: FieldKind | None, value: str) -> str:
    """What counts as the same value: NFC, folded whitespace; e-mail case; phone digits."""
    v = " ".join(unicodedata.normalize("NFC", value or "").split())
    if field_kind == FieldKind.EMAIL:
        return v.lower()
    if field_kind == FieldKind.PHONE:
        return "".join(ch for ch in v if ch.isdigit())
    return v


@dataclass
class Tally:
    n: int = 0
    right: int = 0
    chars: int = 0
    edits: int = 0

    def add(self, ok: bool, truth: str = "", read: str = "") -> None:
        self.n += 1
        self.right += ok
        self.chars += max(1, len(truth))
        self.edits += Levenshtein.distance(truth, read)

    @property
    def rate(self) -> float:
        return self.right / self.n if self.n else float("nan")

    @property
    def cer(self) -> float:
        return self.edits / self.chars if self.chars else float("nan")


@dataclass
class Scores:
    by_field: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_style: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_artefact: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    boxes: Tally = field(default_factory=Tally)
    triage: Tally = field(default_factory=Tally)
    upside_down: Tally = field(default_factory=Tally)
    # right among accepted fields, by field / style
    accepted: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    # share of text fields accepted, by style
    fields_by_style: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    wrong_flagged: Tally = field(default_factory=Tally)
    needs_human: Tally = field(default_factory=Tally)
    missing_pages: list[str] = field(default_factory=list)
    extra_pages: list[str] = field(default_factory=list)
    confidence_pairs: list[tuple[float, bool]] = field(default_factory=list)


def _load_truth(folder: Path) -> dict[tuple[str, int], dict]:
    truth = {}
    for tf in sorted(folder.glob("*.truth.json")):
        t = json.loads(tf.read_text(encoding="utf-8"))
        for p in t["pages"]:
            truth[(t["file"], int(p["page"]))] = p
    return truth


def score(folder: Path, ws_root: Path, template: Template) -> Scores:
    from pipeline.store import Workspace

    kinds = {f.id: f.kind for f in template.fields}
    truth = _load_truth(folder)
    s = Scores()
    with Workspace(ws_root, create=False) as ws:
        pages = {(r["source_file"], r["page"]): r["kind"] for r in ws.page_rows()}
        rows = ws.field_rows()
    for key in pages:
        if key not in truth:
            s.extra_pages.append(f"{key[0]} p{key[1]}")
    fields: dict[tuple[str, int], dict[str, Any]] = defaultdict(dict)
    for r in rows:
        fields[(r["source_file"], r["page"])][r["field"]] = r
    for key, t in truth.items():
        got_kind = pages.get(key)
        if got_kind is None:
            s.missing_pages.append(f"{key[0]} p{key[1]}")
            continue
        s.triage.add(got_kind == t["kind"])
        if t["kind"] != "form":
            continue
        arte = sorted({a.split(":")[0] for a in t.get("artefacts", [])}) or ["clean"]
        style = t.get("style", "?")
        needs = set(t.get("needs_human", []))
        read = fields.get(key, {})
        if "upside_down" in arte:
            s.upside_down.add(got_kind == "form")
        for fid in template.field_ids:
            kind = kinds[fid]
            want = normalise(kind, t["fields"].get(fid, ""))
            row = read.get(fid)
            got = normalise(kind, row["machine_value"]) if row else ""
            ok = row is not None and got == want
            status = row["status"] if row else "review"
            conf = float(row["confidence"]) if row else 0.0
            if fid in needs:
                s.needs_human.add(status == "review")
                continue  # a human must look: not scored as the machine's accuracy
            if kind in TEXT_KINDS:
                s.by_field[fid].add(ok, want, got)
                s.by_style[style].add(ok, want, got)
                for a in arte:
                    s.by_artefact[a].add(ok, want, got)
                s.fields_by_style[style].add(status == "accepted")
            else:
                s.boxes.add(ok)
                s.by_field[fid].add(ok, want, got)
            s.confidence_pairs.append((conf, ok))
            if status == "accepted":
                s.accepted[fid].add(ok)
                s.accepted["all"].add(ok)
                if kind in TEXT_KINDS:
                    s.accepted[f"style:{style}"].add(ok)
            if not ok:
                s.wrong_flagged.add(status == "review")
    return s


def reliability_plot(pairs: list[tuple[float, bool]], out: Path) -> list[dict]:
    """Confidence bins against observed accuracy; writes a PNG, returns the table."""
    bins = [dict(lo=i / 10, hi=(i + 1) / 10, n=0, right=0) for i in range(10)]
    for conf, ok in pairs:
        b = bins[min(9, int(conf * 10))]
        b["n"] += 1
        b["right"] += ok
    for b in bins:
        b["accuracy"] = b["right"] / b["n"] if b["n"] else None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return bins
    fig, ax = plt.subplots(figsize=(5, 4.2), dpi=110)
    xs = [(b["lo"] + b["hi"]) / 2 for b in bins if b["n"]]
    ys = [b["accuracy"] for b in bins if b["n"]]
    ns = [b["n"] for b in bins if b["n"]]
    ax.plot([0, 1], [0, 1], ls="--", c="#999", lw=1, label="perfectly calibrated")
    ax.plot(xs, ys, marker="o", c="#1f6feb", label="formscan")
    for x, y, n in zip(xs, ys, ns, strict=True):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(0, 6), ha="center",
                    fontsize=7, color="#555")
    ax.set_xlabel("confidence")
    ax.set_ylabel("share of fields read right")
    ax.set_title("Reliability (numbers: fields per bin)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return bins


def _baselines(folder: Path, template: Template, max_pages: int) -> dict[str, float]:
    """Time per form page: formscan's reader, pytesseract per field, full-page OCR."""
    from pipeline.ingest import Document, discover
    from pipeline.ocr import PytesseractEngine, TesserocrEngine, full_page_text
    from pipeline.reader import read_page

    truth = _load_truth(folder)
    files, _ = discover([folder])
    pages = []
    for f in files:
        doc = Document(f.path, f.source_file)
        for i in range(doc.n_pages):
            t = truth.get((f.source_file, i + 1))
            if t and t["kind"] == "form":
                pages.append(doc.page(i))
            if len(pages) >= max_pages:
                break
        if len(pages) >= max_pages:
            break
    if not pages:
        return {}
    out: dict[str, float] = {"pages": len(pages)}
    for name, engine in (("formscan", TesserocrEngine()), ("pytesseract", PytesseractEngine())):
        read_page(pages[0], template, engine)  # warm caches
        t0 = time.perf_counter()
        for p in pages:
            read_page(p, template, engine)
        out[f"{name}_s_per_page"] = (time.perf_counter() - t0) / len(pages)
    t0 = time.perf_counter()
    for p in pages:
        full_page_text(p.image)
    out["fullpage_s_per_page"] = (time.perf_counter() - t0) / len(pages)
    return out


def _fmt(x: float, pct: bool = True) -> str:
    if x != x:  # NaN
        return "n/a"
    return f"{100 * x:.1f} %" if pct else f"{x:.3f}"


def run(n: int, seed: int, out_dir: Path, results_dir: Path, digits: Path | None,
        workers: int | None, baseline_pages: int, log: Callable[[str], None] = print) -> dict:
    """Generate, process, score; write results.{md,json} and reliability.png to `results_dir`."""
    from pipeline.process import process
    from pipeline.store import Workspace
    from pipeline.synth import generate

    template = default_template()
    out_dir.mkdir(parents=True, exist_ok=True)
    data = out_dir / "set"
    ws_root = out_dir / "workspace"
    for d in (data, ws_root):
        if d.exists():
            shutil.rmtree(d)
    log(f"generating {n} forms (seed {seed}) ...")
    t0 = time.perf_counter()
    generate(n, seed, data, digits=digits)
    gen_s = time.perf_counter() - t0
    workers = workers or os.cpu_count() or 1
    log(f"processing with {workers} workers ...")
    with Workspace(ws_root) as ws:
        summary = process([data], ws, workers=workers, batch="bench")
    s = score(data, ws_root, template)
    results_dir.mkdir(parents=True, exist_ok=True)
    bins = reliability_plot(s.confidence_pairs, results_dir / "reliability.png")
    log("baselines ...")
    base = _baselines(data, template, baseline_pages)
    rusage = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                 resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)

    text_ids = [f.id for f in template.fields if f.kind in TEXT_KINDS]
    box_ids = [f.id for f in template.fields if f.kind not in TEXT_KINDS]
    text_all = Tally()
    for fid in text_ids:
        t = s.by_field[fid]
        text_all.n += t.n
        text_all.right += t.right
        text_all.chars += t.chars
        text_all.edits += t.edits
    result = {
        "set": {"forms": n, "seed": seed, "pages": s.triage.n + len(s.missing_pages),
                "generate_s": round(gen_s, 1), "workers": workers},
        "pages": {"accounted": not s.missing_pages and not s.extra_pages,
                  "missing": s.missing_pages, "extra": s.extra_pages,
                  "triage_accuracy": s.triage.rate, "upside_down_read": s.upside_down.rate,
                  "failed": summary.pages_failed},
        "text": {"exact": text_all.rate, "cer": text_all.cer,
                 "by_field": {f: {"exact": s.by_field[f].rate, "cer": s.by_field[f].cer,
                                  "n": s.by_field[f].n} for f in text_ids},
                 "by_style": {k: {"exact": v.rate, "cer": v.cer, "n": v.n}
                              for k, v in sorted(s.by_style.items())},
                 "by_artefact": {k: {"exact": v.rate, "cer": v.cer, "n": v.n}
                                 for k, v in sorted(s.by_artefact.items())}},
        "boxes": {"accuracy": s.boxes.rate, "n": s.boxes.n,
                  "by_field": {f: s.by_field[f].rate for f in box_ids}},
        "review": {
            "accepted_share": (sum(v.n for v in s.fields_by_style.values())
                               and sum(v.right for v in s.fields_by_style.values())
                               / sum(v.n for v in s.fields_by_style.values())),
            "accepted_share_by_style": {k: v.rate for k, v in sorted(s.fields_by_style.items())},
            "error_among_accepted": 1 - s.accepted["all"].rate if s.accepted["all"].n else None,
            "accepted_n": s.accepted["all"].n,
            "error_among_accepted_by": {k: {"error": 1 - v.rate, "n": v.n}
                                        for k, v in sorted(s.accepted.items()) if k != "all"},
            "wrong_sent_to_review": s.wrong_flagged.rate,
            "needs_human_flagged": s.needs_human.rate, "needs_human_n": s.needs_human.n,
            "reliability": bins,
        },
        "speed": {
            "wall_s": round(summary.seconds, 2),
            "forms_per_s": summary.forms / summary.seconds if summary.seconds else None,
            "pages_per_s": summary.pages / summary.seconds if summary.seconds else None,
            "stage_s_per_page": {k: v / max(1, summary.pages)
                                 for k, v in sorted(summary.timings.items())},
            "baselines": base,
        },
        "memory": {"peak_rss_mb": round(rusage / 1024, 1)},
    }
    (results_dir / "results.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    (results_dir / "results.md").write_text(report(result), encoding="utf-8")
    return result


def report(r: dict) -> str:
    L = []
    st, pg, tx, bx, rv, sp = (r["set"], r["pages"], r["text"], r["boxes"], r["review"],
                             r["speed"])
    L.append(f"# formscan benchmark: {st['forms']} forms, {st['pages']} pages, seed {st['seed']}")
    L.append("")
    L.append("## Pages")
    L.append(f"- accounted for: {'all' if pg['accounted'] else 'NO'}"
             f" (missing {len(pg['missing'])}, extra {len(pg['extra'])}, failed {pg['failed']})")
    L.append(f"- triage right: {_fmt(pg['triage_accuracy'])}; "
             f"upside-down pages read as forms: {_fmt(pg['upside_down_read'])}")
    L.append("")
    L.append("## Text fields (exact match, character error rate)")
    L.append(f"- all: {_fmt(tx['exact'])} exact, CER {_fmt(tx['cer'])}")
    L.append("")
    L.append("| field | n | exact | CER |")
    L.append("|---|---:|---:|---:|")
    for f, v in tx["by_field"].items():
        L.append(f"| {f} | {v['n']} | {_fmt(v['exact'])} | {_fmt(v['cer'])} |")
    L.append("")
    L.append("| fill style | n | exact | CER | auto-accepted |")
    L.append("|---|---:|---:|---:|---:|")
    for k, v in tx["by_style"].items():
        acc = rv["accepted_share_by_style"].get(k, float("nan"))
        L.append(f"| {k} | {v['n']} | {_fmt(v['exact'])} | {_fmt(v['cer'])} | {_fmt(acc)} |")
    L.append("")
    L.append("| scan artefact | n | exact | CER |")
    L.append("|---|---:|---:|---:|")
    for k, v in tx["by_artefact"].items():
        L.append(f"| {k} | {v['n']} | {_fmt(v['exact'])} | {_fmt(v['cer'])} |")
    L.append("")
    L.append("## Boxes")
    L.append(f"- all: {_fmt(bx['accuracy'])} right of {bx['n']}; " + ", ".join(
        f"{k} {_fmt(v)}" for k, v in bx["by_field"].items()))
    L.append("")
    L.append("## Review quality")
    L.append(f"- text fields auto-accepted: {_fmt(rv['accepted_share'])}")
    err = rv["error_among_accepted"]
    L.append(f"- error among accepted fields: {_fmt(err) if err is not None else 'n/a'}"
             f" (of {rv['accepted_n']})")
    L.append(f"- wrong fields sent to review: {_fmt(rv['wrong_sent_to_review'])}")
    L.append(f"- 'needs a human' fields flagged: {_fmt(rv['needs_human_flagged'])}"
             f" (of {rv['needs_human_n']})")
    L.append("- reliability plot: bench/reliability.png")
    L.append("")
    L.append("| accepted, by | n | error |")
    L.append("|---|---:|---:|")
    for k, v in rv["error_among_accepted_by"].items():
        L.append(f"| {k} | {v['n']} | {_fmt(v['error'])} |")
    L.append("")
    L.append("## Speed")
    L.append(f"- end to end, {st['workers']} workers: {sp['forms_per_s']:.2f} forms/s, "
             f"{sp['pages_per_s']:.2f} pages/s ({sp['wall_s']} s)")
    L.append("- time per page by stage (summed over workers): " + ", ".join(
        f"{k} {1000 * v:.0f} ms" for k, v in sp["stage_s_per_page"].items()))
    b = sp["baselines"]
    if b:
        f = b["formscan_s_per_page"]
        L.append(f"- one worker, same {b['pages']} form pages: formscan {1000 * f:.0f} ms/form; "
                 f"pytesseract per field {1000 * b['pytesseract_s_per_page']:.0f} ms/form "
                 f"({b['pytesseract_s_per_page'] / f:.1f}x); full-page OCR "
                 f"{1000 * b['fullpage_s_per_page']:.0f} ms/page "
                 f"({b['fullpage_s_per_page'] / f:.1f}x)")
    L.append(f"- peak resident memory: {r['memory']['peak_rss_mb']} MB")
    return "\n".join(L) + "\n"

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
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from rapidfuzz.distance import Levenshtein

from pipeline.template import FieldKind, Template, default_template

if TYPE_CHECKING:
    from pipeline.process import BatchSummary

BENCH_SEED = 90210  # used by no test and no sample
TEXT_KINDS = {FieldKind.TEXT, FieldKind.ADDRESS, FieldKind.EMAIL, FieldKind.PHONE}


def normalise(field_kind: FieldKind | None, value: str) -> str:
    """What counts as the same value: NFC, folded whitespace; e-mail case; phone digits."""
    v = " ".join(unicodedata.normalize("NFC", value or "").split())
    if field_kind == FieldKind.EMAIL:
        return v.lower()
    if field_kind == FieldKind.PHONE:
        return "".join(ch for ch in v if ch.isdigit())
    if field_kind == FieldKind.ADDRESS:  # stored canonical: "5, rue X" is "5 rue X"
        from pipeline.validate import canonical_address

        return canonical_address(v)
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
    # text fields sent to review: is the pre-filled suggestion exactly right? by style
    suggestion: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    # text fields by (field, style): share accepted; and right among the accepted
    share_by_field_style: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
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
            got = normalise(kind, row["value"]) if row else ""
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
                s.share_by_field_style[f"{fid}/{style}"].add(status == "accepted")
                if status == "review":
                    s.suggestion[style].add(ok)
                    s.suggestion[f"{fid}/{style}"].add(ok)
            else:
                s.boxes.add(ok)
                s.by_field[fid].add(ok, want, got)
            s.confidence_pairs.append((conf, ok))
            if status == "accepted":
                s.accepted[fid].add(ok)
                s.accepted["all"].add(ok)
                if kind in TEXT_KINDS:
                    s.accepted[f"style:{style}"].add(ok)
                    s.accepted[f"{fid}/{style}"].add(ok)
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
        workers: int | None, baseline_pages: int, log: Callable[[str], None] = print,
        scale_pages: int = 0, large: int = 0, font_set: str = "default") -> dict:
    """Generate, process, score; write results.{md,json} and reliability.png to `results_dir`.

    With `scale_pages` / `large`, also the scaling figures (see `scale_figures`).
    """
    from pipeline.synth import generate

    template = default_template()
    out_dir.mkdir(parents=True, exist_ok=True)
    data = out_dir / "set"
    ws_root = out_dir / "workspace"
    if data.exists():
        shutil.rmtree(data)
    log(f"generating {n} forms (seed {seed}, {font_set} fonts) ...")
    t0 = time.perf_counter()
    generate(n, seed, data, digits=digits, font_set=font_set)
    gen_s = time.perf_counter() - t0
    workers = workers or os.cpu_count() or 1
    log(f"processing with {workers} workers ...")
    summary = _fresh_run([data], ws_root, batch="bench", workers=workers)
    s = score(data, ws_root, template)
    log("processing again without the second engine (what it adds to a batch's time) ...")
    alone = one_engine_run(data, out_dir / "workspace-tesseract-alone", workers)
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
        "set": {"forms": n, "seed": seed, "fonts": font_set,
                "pages": s.triage.n + len(s.missing_pages),
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
            "suggestion_exact_in_review": {k: {"exact": v.rate, "n": v.n}
                                           for k, v in sorted(s.suggestion.items())},
            "accepted_share_by_field_style": {k: {"share": v.rate, "n": v.n}
                                              for k, v in sorted(s.share_by_field_style.items())},
            "reliability": bins,
        },
        "speed": {
            "wall_s": round(summary.seconds, 2),
            "forms_per_s": summary.forms / summary.seconds if summary.seconds else None,
            "pages_per_s": summary.pages / summary.seconds if summary.seconds else None,
            "stage_s_per_page": {k: v / max(1, summary.pages)
                                 for k, v in sorted(summary.timings.items())},
            # the trust layer's cost: second engine + evidence + model, per form page
            "trust_s_per_form": ((summary.timings.get("second", 0.0)
                                  + summary.timings.get("trust", 0.0)) / summary.forms
                                 if summary.forms else None),
            "extra_per_form": extra_time(summary, alone),
            "baselines": base,
        },
        "memory": {"peak_rss_mb": round(rusage / 1024, 1)},
    }
    if scale_pages or large:
        result["scale"] = scale_figures(data, out_dir, scale_pages, large, workers, log)
    from pipeline.review import scripted  # issue 26: the scripted reviewer's figures

    result["review_speed"] = scripted.bench(out_dir, log, workers)
    (results_dir / "results.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    (results_dir / "results.md").write_text(report(result), encoding="utf-8")
    return result


def _fresh_run(inputs: list[Path], root: Path, **opts: Any) -> BatchSummary:
    """`process` into a new workspace at `root` (one left by an earlier run is removed)."""
    from pipeline.process import process
    from pipeline.store import Workspace

    if root.exists():
        shutil.rmtree(root)
    with Workspace(root) as ws:
        return process(inputs, ws, **opts)


def one_engine_run(data: Path, root: Path, workers: int) -> BatchSummary:
    """The same set read again with the second engine off, in a fresh workspace."""
    # workers start inside and inherit the setting; it is restored as it was
    with patch.dict(os.environ, {"FORMSCAN_SECOND": "0"}):
        return _fresh_run([data], root, workers=workers, batch="bench-tesseract-alone")


def extra_time(full: BatchSummary, alone: BatchSummary) -> dict[str, float] | None:
    """What the trust layer adds to the time a batch takes, per form, as its user waits.

    The stage timers give one core's time; with several workers a batch takes
    less longer than that, by however well the work spreads over the cores. The
    second engine's share is measured: the same pages, read with and without it.
    The evidence, model and suggestions run in both (nothing is decided without
    them), so theirs is their share of the run's stage time, of its wall time.
    """
    if not full.forms or full.forms != alone.forms:
        return None
    second = (full.seconds - alone.seconds) / full.forms
    staged = sum(alone.timings.values())
    rest = alone.timings.get("trust", 0.0) / staged * alone.seconds / alone.forms if staged else 0.0
    return {"second_s": second, "rest_s": rest, "total_s": second + rest,
            "tesseract_alone_wall_s": round(alone.seconds, 2)}


def report(r: dict) -> str:
    L = []
    st, pg, tx, bx, rv, sp = (r["set"], r["pages"], r["text"], r["boxes"], r["review"],
                             r["speed"])
    fonts = "" if st.get("fonts", "default") == "default" else f", {st['fonts']} fonts"
    L.append(f"# formscan benchmark: {st['forms']} forms, {st['pages']} pages, seed {st['seed']}"
             f"{fonts}")
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
    sug = rv.get("suggestion_exact_in_review", {})
    shares = rv.get("accepted_share_by_field_style", {})
    if sug or shares:
        L.append("| field / fill style | n | auto-accepted | error among accepted "
                 "| in review: suggestion exact |")
        L.append("|---|---:|---:|---:|---:|")
        for k, v in shares.items():
            acc = rv["error_among_accepted_by"].get(k)
            sg = sug.get(k)
            L.append(f"| {k} | {v['n']} | {_fmt(v['share'])} | "
                     f"{_fmt(acc['error']) + ' of ' + str(acc['n']) if acc else '-'} | "
                     f"{_fmt(sg['exact']) + ' of ' + str(sg['n']) if sg else '-'} |")
        L.append("")
        L.append("- in review, pre-filled suggestion exactly right: " + ", ".join(
            f"{k} {_fmt(v['exact'])} (of {v['n']})" for k, v in sug.items() if "/" not in k))
        L.append("")
    L.append("## Speed")
    L.append(f"- end to end, {st['workers']} workers: {sp['forms_per_s']:.2f} forms/s, "
             f"{sp['pages_per_s']:.2f} pages/s ({sp['wall_s']} s)")
    L.append("- time per page by stage (summed over workers): " + ", ".join(
        f"{k} {1000 * v:.0f} ms" for k, v in sp["stage_s_per_page"].items()))
    if sp.get("trust_s_per_form") is not None:
        forms_per_page = st["forms"] / max(1, st["pages"])
        stage = {k: 1000 * v / forms_per_page for k, v in sp["stage_s_per_page"].items()}
        trust = 1000 * sp["trust_s_per_form"]
        # this machine's speed varies by a third from one run to the next; the
        # ratio to Tesseract's own reading of the same fields hardly does
        L.append(f"- trust layer per form, one core's time: {trust:.0f} ms (second engine "
                 f"{stage.get('second', 0):.0f} ms; evidence, model and review suggestions "
                 f"{stage.get('trust', 0):.0f} ms), {trust / max(1e-9, stage.get('ocr', 0)):.2f}"
                 f" of Tesseract's time on the same fields ({stage.get('ocr', 0):.0f} ms)")
    ex = sp.get("extra_per_form")
    if ex:
        L.append(f"- extra time per form for the trust layer, {st['workers']} workers: "
                 f"{1000 * ex['total_s']:.0f} ms: second engine {1000 * ex['second_s']:.0f} ms "
                 f"(the same set read by Tesseract alone took {ex['tesseract_alone_wall_s']} s "
                 f"instead of {sp['wall_s']} s), evidence, model and review suggestions "
                 f"{1000 * ex['rest_s']:.0f} ms (their share of that run's time)")
    b = sp["baselines"]
    if b:
        f = b["formscan_s_per_page"]
        L.append(f"- one worker, same {b['pages']} form pages: formscan {1000 * f:.0f} ms/form; "
                 f"pytesseract per field {1000 * b['pytesseract_s_per_page']:.0f} ms/form "
                 f"({b['pytesseract_s_per_page'] / f:.1f}x); full-page OCR "
                 f"{1000 * b['fullpage_s_per_page']:.0f} ms/page "
                 f"({b['fullpage_s_per_page'] / f:.1f}x)")
    L.append(f"- peak resident memory: {r['memory']['peak_rss_mb']} MB")
    if "scale" in r:
        L.extend(scale_report(r["scale"]))
    if "review_speed" in r:
        from pipeline.review.scripted import bench_report

        L.extend(bench_report(r["review_speed"]))
    return "\n".join(L) + "\n"


# --- scaling: the same pages with 1 worker, all cores and a Dask cluster; memory ----------


def _first_pages(folder: Path, pages: int) -> list[Path]:
    """Whole files from the start of `folder` until they hold at least `pages` pages."""
    from pipeline.ingest import Document, discover

    files, _ = discover([folder])
    chosen: list[Path] = []
    total = 0
    for f in files:
        if total >= pages:
            break
        chosen.append(f.path)
        total += Document(f.path, f.source_file).n_pages
    return chosen


def _same_results(roots: list[Path]) -> bool:
    """Whether the field and page CSVs of these workspaces are byte-identical."""
    from pipeline.export import fields_table, pages_table
    from pipeline.store import Workspace

    seen = set()
    for root in roots:
        with Workspace(root, create=False) as ws:
            seen.add((fields_table(ws).to_csv(index=False), pages_table(ws).to_csv(index=False)))
    return len(seen) == 1


def scale_speed(inputs: list[Path], work: Path, workers: int,
                log: Callable[[str], None] = print) -> dict[str, Any]:
    """Forms per second on the same inputs: 1 worker, `workers` local workers, a Dask LocalCluster.

    The cluster is started after the local runs (an idle cluster in the same
    process slowed the local pool by a third: 2 workers no faster than 1) and
    before its own clock (as an existing cluster would be), with one
    single-threaded worker process per core, so it compares with the local pool.
    """
    out: dict[str, Any] = {"modes": {}}
    roots = [_scale_run(inputs, work / "scale-0", "1 worker", {"workers": 1}, out, log),
             _scale_run(inputs, work / "scale-1", f"{workers} workers", {"workers": workers},
                        out, log)]
    try:
        import distributed
    except ImportError:
        out["dask_missing"] = "install formscan[cluster] for the Dask figure"
    else:
        t0 = time.perf_counter()
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                           processes=True, dashboard_address=":0")
        out["cluster_start_s"] = round(time.perf_counter() - t0, 2)
        try:
            roots.append(_scale_run(inputs, work / "scale-2",
                                    f"Dask LocalCluster, {workers} workers",
                                    {"scheduler": cluster.scheduler_address}, out, log))
        finally:
            cluster.close()
    out["identical"] = _same_results(roots)
    return out


def _scale_run(inputs: list[Path], root: Path, name: str, opts: dict[str, Any],
               out: dict[str, Any], log: Callable[[str], None]) -> Path:
    """One timed run into a fresh workspace at `root`; its figures go to out["modes"][name]."""
    log(f"scaling: {name} ...")
    s = _fresh_run(inputs, root, batch="bench", **opts)
    out["modes"][name] = {"forms": s.forms, "pages": s.pages, "wall_s": round(s.seconds, 2),
                          "forms_per_s": s.forms / s.seconds if s.seconds else None}
    return root


def make_large_pdf(page: Any, n_pages: int, path: Path) -> Path:
    """A PDF of `n_pages` copies of one grey page (one shared JPEG image: small on disk).

    Every page is still decoded, sent and read on its own, which is what the
    memory measurement needs; only the file stays small.
    """
    import io

    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    one = io.BytesIO()
    Image.fromarray(page).save(one, "PDF", resolution=300)
    src = PdfReader(io.BytesIO(one.getvalue())).pages[0]
    writer = PdfWriter()
    for _ in range(n_pages):
        writer.add_page(src)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        writer.write(f)
    return path


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its children (0 when psutil is missing)."""
    import contextlib

    try:
        import psutil
    except ImportError:
        return 0
    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for q in procs:
        with contextlib.suppress(psutil.Error):  # a worker may just have exited
            total += q.memory_info().rss
    return total


def large_batch_memory(page: Any, n_pages: int, work: Path, workers: int = 1,
                       scheduler: str | None = None,
                       log: Callable[[str], None] = print) -> dict[str, Any]:
    """Peak memory of `formscan process` (coordinator + workers) on an `n_pages` PDF.

    It runs as a separate process so nothing else in the benchmark counts. Peaks
    over the first and the second half of the run are reported apart: if pages
    piled up anywhere, the second half would be clearly higher.
    """
    import subprocess
    import sys

    pdf = make_large_pdf(page, n_pages, work / "large" / f"{n_pages} pages.pdf")
    ws = work / "large-workspace"
    if ws.exists():
        shutil.rmtree(ws)
    cmd = [sys.executable, "-m", "pipeline", "process", str(pdf), "-w", str(ws), "-q",
           "-j", str(workers)]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    log(f"memory: {n_pages} pages, {workers} worker(s) ...")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    samples: list[tuple[float, int]] = []
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        samples.append((time.perf_counter() - t0, _tree_rss(proc.pid)))
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    summary = (proc.stdout.read().decode(errors="replace").splitlines() or [""])[0]
    proc.stdout.close()
    half = wall / 2
    first = max((r for t, r in samples if t <= half), default=0)
    second = max((r for t, r in samples if t > half), default=0)
    mb = 1024 * 1024
    return {
        "pages": n_pages, "workers": workers, "scheduler": bool(scheduler),
        "pdf_mb": round(pdf.stat().st_size / mb, 1), "wall_s": round(wall, 1),
        "pages_per_s": n_pages / wall, "exit": proc.returncode, "summary": summary,
        "peak_rss_mb": round(max(first, second) / mb, 1),
        "peak_rss_first_half_mb": round(first / mb, 1),
        "peak_rss_second_half_mb": round(second / mb, 1),
        "coordinator_maxrss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
    }


def _a_form_page(folder: Path) -> Any:
    """The first page of the set whose truth says it is a form, as grey pixels."""
    from pipeline.ingest import Document, discover

    truth = _load_truth(folder)
    files, _ = discover([folder])
    for f in files:
        doc = Document(f.path, f.source_file)
        for i in range(doc.n_pages):
            if truth.get((f.source_file, i + 1), {}).get("kind") == "form":
                return doc.page(i).image
    raise ValueError(f"no form page in {folder}")


def scale_figures(folder: Path, work: Path, pages: int, large: int, workers: int | None = None,
                  log: Callable[[str], None] = print) -> dict[str, Any]:
    """The scaling section: speed on the first `pages` pages of `folder`; memory on `large`."""
    workers = workers or os.cpu_count() or 1
    out: dict[str, Any] = {}
    if pages:
        out["speed"] = scale_speed(_first_pages(folder, pages), work, workers, log)
    if large:
        out["memory"] = large_batch_memory(_a_form_page(folder), large, work, 1, log=log)
    return out


def scale_report(sc: dict[str, Any]) -> list[str]:
    L = ["", "## Scaling"]
    sp = sc.get("speed")
    if sp:
        L.append("| run (same pages) | forms | wall | forms/s |")
        L.append("|---|---:|---:|---:|")
        for name, m in sp["modes"].items():
            fps = f"{m['forms_per_s']:.2f}" if m["forms_per_s"] else "n/a"
            L.append(f"| {name} | {m['forms']} | {m['wall_s']} s | {fps} |")
        L.append("")
        L.append(f"- same CSVs in every run: {'yes' if sp['identical'] else 'NO'}")
        if "cluster_start_s" in sp:
            L.append(f"- Dask LocalCluster start (not timed above): {sp['cluster_start_s']} s")
        if "dask_missing" in sp:
            L.append(f"- Dask: {sp['dask_missing']}")
    m = sc.get("memory")
    if m:
        L.append(f"- large batch: {m['pages']} pages in one PDF, {m['workers']} worker: "
                 f"{m['pages_per_s']:.2f} pages/s; peak memory (coordinator + workers) "
                 f"{m['peak_rss_mb']} MB (first half {m['peak_rss_first_half_mb']} MB, "
                 f"second half {m['peak_rss_second_half_mb']} MB)")
    return L


# --- the held-out-behaviours column (bench --behaviours held-out) -------------------------


def _compact(boxes: float, boxes_accepted_wrong: int, triage: float, text: float,
             typed: float, typed_accepted: float, accepted_share: float,
             error_accepted: float | None, accepted_n: int, forms: int, pages: int) -> dict:
    return {"forms": forms, "pages": pages, "boxes": boxes,
            "boxes_accepted_wrong": boxes_accepted_wrong, "triage": triage, "text_exact": text,
            "typed_exact": typed, "typed_accepted": typed_accepted,
            "text_accepted": accepted_share, "error_among_accepted": error_accepted,
            "accepted_n": accepted_n}


def column_of(result: dict, template: Template | None = None) -> dict:
    """The figures the issue's 'done when' names, from a `run` result."""
    template = template or default_template()
    box_ids = [f.id for f in template.fields if f.kind not in TEXT_KINDS]
    by = result["review"]["error_among_accepted_by"]
    wrong = sum(round(by[f]["error"] * by[f]["n"]) for f in box_ids if f in by)
    typed = result["text"]["by_style"].get("typed", {})
    return _compact(result["boxes"]["accuracy"], wrong, result["pages"]["triage_accuracy"],
                    result["text"]["exact"], typed.get("exact", float("nan")),
                    result["review"]["accepted_share_by_style"].get("typed", float("nan")),
                    result["review"]["accepted_share"], result["review"]["error_among_accepted"],
                    result["review"]["accepted_n"], result["set"]["forms"],
                    result["set"]["pages"])


def behaviours_column(n: int, seed: int, out_dir: Path, digits: Path | None,
                      workers: int | None, log: Callable[[str], None] = print) -> dict:
    """A set drawn with the held-out mark styles, page kinds, capture profiles and fonts
    (see synth.behaviours), processed and scored like the default set."""
    from pipeline.synth import generate

    template = default_template()
    data, ws_root = out_dir / "set-held-out", out_dir / "workspace-held-out"
    if data.exists():
        shutil.rmtree(data)
    log(f"generating {n} forms (seed {seed}, held-out behaviours and fonts) ...")
    generate(n, seed, data, digits=digits, font_set="held-out", behaviour_set="held-out")
    log("processing the held-out set ...")
    summary = _fresh_run([data], ws_root, batch="bench-held-out",
                         workers=workers or os.cpu_count() or 1)
    s = score(data, ws_root, template)
    text = Tally()
    for f in template.fields:
        if f.kind in TEXT_KINDS:
            t = s.by_field[f.id]
            text.n, text.right = text.n + t.n, text.right + t.right
    box_ids = [f.id for f in template.fields if f.kind not in TEXT_KINDS]
    wrong = sum(s.accepted[f].n - s.accepted[f].right for f in box_ids if f in s.accepted)
    shares = s.fields_by_style
    n_text = sum(v.n for v in shares.values())
    acc = s.accepted["all"]
    return _compact(s.boxes.rate, wrong, s.triage.rate, text.rate, s.by_style["typed"].rate,
                    shares["typed"].rate,
                    sum(v.right for v in shares.values()) / n_text if n_text else float("nan"),
                    1 - acc.rate if acc.n else None, acc.n, n,
                    s.triage.n + len(s.missing_pages)) | {"failed": summary.pages_failed}


def columns_report(default: dict, held_out: dict) -> str:
    """The default and the held-out-behaviours columns side by side."""
    rows = [("forms / pages", lambda c: f"{c['forms']} / {c['pages']}"),
            ("boxes right", lambda c: _fmt(c["boxes"])),
            ("accepted wrong boxes", lambda c: str(c["boxes_accepted_wrong"])),
            ("pages triaged right", lambda c: _fmt(c["triage"])),
            ("text exact", lambda c: _fmt(c["text_exact"])),
            ("typed text exact", lambda c: _fmt(c["typed_exact"])),
            ("typed text accepted", lambda c: _fmt(c["typed_accepted"])),
            ("text accepted", lambda c: _fmt(c["text_accepted"])),
            ("error among accepted", lambda c: "n/a" if c["error_among_accepted"] is None
             else f"{_fmt(c['error_among_accepted'])} of {c['accepted_n']}")]
    lines = ["", "## Default and held-out behaviours",
             "Held out: mark styles, page kinds, capture profiles and fonts that no fitting, "
             "tuning or test uses.", "",
             "| | default | held-out behaviours |", "|---|---:|---:|"]
    lines += [f"| {name} | {f(default)} | {f(held_out)} |" for name, f in rows]
    return "\n".join(lines) + "\n"

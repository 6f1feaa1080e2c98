"""`formscan calibrate`: refit acceptance thresholds from reviewers' decisions.

Every confirmation and correction is a labelled example: the machine's value
was right (confirmed, or corrected to the same value) or wrong. Together with
the synthetic base shipped in model.json they give new per-field thresholds.
The expected effect (accepted share, error among accepted) is printed first;
nothing is saved unless the user confirms or passes --yes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from pipeline.trust.calibrate import (
    NEVER,
    STYLES,
    Counts,
    Model,
    load_model,
)

# A workspace's own refit, used when $FORMSCAN_TRUST_MODEL names it.
WORKSPACE_MODEL = "trust-model.json"


@dataclass(frozen=True)
class Decided:
    field: str
    confidence: float
    ok: bool


def _same(kind: str, a: str, b: str) -> bool:
    from pipeline.bench import normalise
    from pipeline.template import FieldKind

    k = FieldKind(kind) if kind in FieldKind.__members__.values() else None
    return normalise(k, a) == normalise(k, b)


def history(root: Path) -> tuple[list[Decided], list[tuple[str, float, str, str]]]:
    """(reviewed examples, every text field as (field, confidence, status, reasons))."""
    from pipeline.store import Workspace
    from pipeline.template import default_template

    kinds = {f.id: f.kind.value for f in default_template().fields if not f.is_box}
    with Workspace(root, create=False) as ws:
        rows = ws.db.execute(
            "SELECT field, confidence, status, reasons, machine_value, value FROM fields"
        ).fetchall()
    decided, every = [], []
    for r in rows:
        if r["field"] not in kinds:
            continue
        every.append((r["field"], float(r["confidence"]), r["status"], r["reasons"]))
        gates_only = set(filter(None, r["reasons"].split(";"))) <= {"low_confidence"}
        if r["status"] in ("confirmed", "corrected") and gates_only:
            ok = r["status"] == "confirmed" or _same(kinds[r["field"]], r["machine_value"],
                                                     r["value"])
            decided.append(Decided(r["field"], float(r["confidence"]), ok))
    return decided, every


def refit(model: Model, decided: list[Decided]) -> Model:
    """New thresholds from the synthetic base plus the reviewers' examples.

    A reviewed example counts against both guessed styles of its field: the
    workspace does not record the style, and counting it twice only errs on
    the side of reviewing more.
    """
    extra: dict[str, Counts] = {}
    for d in decided:
        extra.setdefault(d.field, Counts()).add(d.confidence, d.ok)
    thresholds: dict[str, dict[str, float]] = {}
    fields = set(model.thresholds) | set(extra)
    for f in sorted(fields):
        thresholds[f] = {}
        for s in STYLES:
            base = model.base.get(f, {}).get(s, Counts())
            thresholds[f][s] = base.merged(extra.get(f, Counts())).threshold()
    info = {**model.info, "reviewed_examples": len(decided)}
    return Model(model.features, model.coef, thresholds, model.base, info)


def effect(model: Model, decided: list[Decided],
           every: list[tuple[str, float, str, str]]) -> list[tuple[str, float, float, float, str]]:
    """Per field: (threshold, share of the workspace's fields it accepts, expected error)."""
    out = []
    for f in sorted({e[0] for e in every}):
        rows = [e for e in every if e[0] == f]
        thr = min(model.threshold(f, s) for s in STYLES)
        eligible = [e for e in rows
                    if set(filter(None, e[3].split(";"))) <= {"low_confidence"}]
        share = sum(1 for e in eligible if e[1] >= thr) / len(rows) if rows else 0.0
        counts = Counts()
        for s in STYLES:
            counts = counts.merged(model.base.get(f, {}).get(s, Counts()))
        for d in decided:
            if d.field == f:
                counts.add(d.confidence, d.ok)
        n, w = counts.accepted_at(thr)
        err = w / n if n else float("nan")
        out.append((f, thr, share, err, f"{n} examples above"))
    return out


def _fmt_thr(t: float) -> str:
    return "never" if t >= NEVER else f"{t:.3f}"


@click.command()
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Workspace whose review history to learn from.")
@click.option("--yes", "-y", is_flag=True, help="Save without asking.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Where to save (default: WORKSPACE/{WORKSPACE_MODEL}).")
def calibrate(workspace: Path, yes: bool, out: Path | None) -> None:
    """Refit the acceptance thresholds from the reviewers' confirmations and corrections."""
    current = load_model()
    decided, every = history(workspace)
    wrong = sum(not d.ok for d in decided)
    click.echo(f"{len(decided)} reviewed text fields ({wrong} where the machine was wrong), "
               f"{len(every)} text fields in the workspace")
    new = refit(current, decided)
    before = {r[0]: r for r in effect(current, decided, every)}
    after = effect(new, decided, every)
    click.echo("")
    click.echo(f"{'field':<12} {'threshold':>19} {'accepted here':>17} {'expected error':>18}")
    for f, thr, share, err, _ in after:
        b = before[f]
        click.echo(f"{f:<12} {_fmt_thr(b[1]):>8} -> {_fmt_thr(thr):<8} "
                   f"{100 * b[2]:6.1f} -> {100 * share:5.1f} % "
                   f"{100 * b[3]:6.2f} -> {100 * err:5.2f} %")
    n = len(every) or 1
    acc_b = sum(r[2] for r in before.values()) / max(1, len(before))
    acc_a = sum(r[2] for r in after) / max(1, len(after))
    click.echo(f"\nexpected accepted share (mean over fields): {100 * acc_b:.1f} % -> "
               f"{100 * acc_a:.1f} % of {n} fields")
    target = out or workspace / WORKSPACE_MODEL
    if not yes and not click.confirm(f"Save the new thresholds to {target}?", default=False):
        click.echo("Nothing saved.")
        return
    new.save(target)
    click.echo(f"saved to {target}; use it with FORMSCAN_TRUST_MODEL={target}")

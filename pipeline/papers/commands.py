"""`formscan papers`, `payment list|set`, `export xlsx|caterer`: the organiser's commands.

Errors are raised as FormscanError subclasses for the main CLI to print.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import click

from pipeline.papers import bundle, catering, payments, roster
from pipeline.papers.roster import Payment
from pipeline.store import Workspace
from pipeline.template import default_template

_workspace = click.option(
    "--workspace", "-w", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="The workspace folder given to `formscan process`.",
)


@click.command("papers")
@_workspace
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write them into.")
def papers(workspace: Path, out: Path) -> None:
    """Write the organiser's papers: workbook, sign-in sheet, badges, lunch receipts, caterer."""
    tpl = default_template()
    with Workspace(workspace, create=False) as ws:
        written = bundle.write_all(ws, out, tpl)
        r = roster.build(ws, tpl)
    for paper, path in written:
        click.echo(f"{paper.title:<58} {path}")
    pending = sum(p.needs_review for p in r.people)
    click.echo(f"{len(r.coming)} on the sign-in sheet, {len(r.lunching)} lunches, "
               f"{r.due_eur} € due, {r.collected_eur} € collected")
    if pending:
        click.secho(f"warning: {pending} of {len(r.people)} forms still have fields to review: "
                    "their rows are marked «à vérifier» on every paper", fg="yellow", err=True)


@click.group("payment")
def payment() -> None:
    """The lunches' payments: paid, to_collect or exempt."""


@payment.command("list")
@_workspace
def list_cmd(workspace: Path) -> None:
    """Every lunch: source file, page, name, structure, payment, receipt number."""
    with Workspace(workspace, create=False) as ws:
        r = roster.build(ws)
    for p in r.lunching:
        mark = "  (à vérifier)" if p.needs_review else ""
        number = f"n° {p.receipt}" if p.receipt else ""
        click.echo(f"{p.source_file}\t{p.page}\t{p.full_name}\t{p.structure}\t"
                   f"{p.payment.value if p.payment else ''}\t{number}{mark}")
    click.echo(f"{len(r.lunching)} lunches: {r.count(Payment.PAID)} paid, "
               f"{r.count(Payment.TO_COLLECT)} to collect, {r.count(Payment.EXEMPT)} exempt; "
               f"{r.collected_eur} of {r.due_eur} € collected", err=True)


@payment.command("set")
@_workspace
@click.argument("source_file")
@click.argument("page", type=click.IntRange(min=1))
@click.argument("state", type=click.Choice([p.value for p in Payment]))
@click.option("--by", default=lambda: os.environ.get("USER") or getpass.getuser(),
              show_default="$USER", help="Who recorded it.")
def set_cmd(workspace: Path, source_file: str, page: int, state: str, by: str) -> None:
    """Record the lunch of SOURCE_FILE page PAGE as paid, to_collect or exempt."""
    with Workspace(workspace, create=False) as ws:
        r = roster.build(ws)
        recorded = payments.set_payment(ws, r, source_file, page, state, by)
        after = roster.build(ws)
    click.echo(f"{source_file} p.{page}: {recorded.value} (by {by}); "
               f"{after.collected_eur} of {after.due_eur} € collected")


@click.command("xlsx")
@_workspace
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The .xlsx file to write.")
def export_xlsx(workspace: Path, output: Path) -> None:
    """The organiser's workbook: attendees, lunch, caterer's count, totals, what is in review."""
    tpl = default_template()
    with Workspace(workspace, create=False) as ws:
        output.write_bytes(bundle.make(ws, bundle.BY_KEY["xlsx"], tpl))
        r = roster.build(ws, tpl)
    pending = sum(p.needs_review for p in r.people)
    if pending:
        click.secho(f"warning: {pending} of {len(r.people)} forms still have fields to review "
                    "(needs_review, highlighted)", fg="yellow", err=True)
    click.echo(f"wrote {output}", err=True)


@click.command("caterer")
@_workspace
def export_caterer(workspace: Path) -> None:
    """The caterer's count: lunches per structure and in total, as text."""
    with Workspace(workspace, create=False) as ws:
        click.echo(catering.count(roster.build(ws)).text(), nl=False)

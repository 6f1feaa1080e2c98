"""`formscan serve` and `formscan review list|set`: the review app and its terminal twin.

Errors are raised as FormscanError subclasses for the main CLI to print; only the
refusal to expose the app without a token is a usage error raised here.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import click

from pipeline.review import queue as q
from pipeline.review.security import check_serve_host
from pipeline.review.server import Limits
from pipeline.store import Workspace

_workspace = click.option(
    "--workspace", "-w", required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The workspace folder given to `formscan process`.",
)


def _run(app: object, host: str, port: int, url: str, limits: Limits | None = None) -> None:
    """Serve until Ctrl+C; a separate function so tests can stand in for the network."""
    from pipeline.review.server import serve as run_server

    def announce(actual: int) -> None:
        shown = url.replace(f":{port}/", f":{actual}/") if port == 0 else url
        click.echo(f"Review app: {shown}  (Ctrl+C stops it)")

    run_server(app, host, port, announce, limits or Limits())  # type: ignore[arg-type]


@click.command("serve")
@_workspace
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but this machine needs reviewer "
                   "accounts (formscan reviewers add).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token", envvar="FORMSCAN_TOKEN", default=None,
              help="A shared secret every request must carry (env FORMSCAN_TOKEN), on this "
                   "machine; reviewer accounts replace it when there are any.")
@click.option("--request-timeout", type=click.FloatRange(1, 3600), default=30.0,
              show_default=True, help="Seconds a connection may stay idle or half-sent.")
def serve(workspace: Path, host: str, port: int, token: str | None,
          request_timeout: float) -> None:
    """Start the reviewers' web app on WORKSPACE."""
    from pipeline.review import accounts as acc
    from pipeline.review.app import create_app

    with Workspace(workspace, create=False) as ws:
        n_accounts = len(acc.accounts(ws))
    problem = check_serve_host(host, token, n_accounts)
    if problem:
        raise click.UsageError(problem)
    shown = f"[{host}]" if ":" in host else host
    if n_accounts:
        if token:
            click.echo("note: --token is not used: each reviewer opens their own link "
                       "(formscan reviewers add NAME)", err=True)
        app = create_app(workspace, accounts=True)
        url = f"http://{shown}:{port}/"
        click.echo(f"{n_accounts} reviewer account{'s' * (n_accounts != 1)}: each opens "
                   f"{url}?token=<their token>", err=True)
    else:
        app = create_app(workspace, reviewer_token=token)
        url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    _run(app, host, port, url, Limits(channel_timeout=request_timeout))


@click.group("reviewers")
def reviewers() -> None:
    """Reviewer accounts: a personal link each, needed to serve beyond this machine."""


@reviewers.command("add")
@_workspace
@click.argument("name")
@click.option("--url", default="http://127.0.0.1:8765/", show_default=True,
              help="The review server's address, for the printed link.")
def reviewers_add(workspace: Path, name: str, url: str) -> None:
    """Create NAME's account (or give it a new token) and print their personal link."""
    from pipeline.review import accounts as acc

    with Workspace(workspace, create=False) as ws:
        token = acc.add(ws, name)
    click.echo(f"{url.rstrip('/')}/?token={token}")
    click.echo(f"the personal link of {' '.join(name.split())}: give it to them only "
               "(it is shown once; `reviewers add` again makes a new one)", err=True)


@reviewers.command("list")
@_workspace
def reviewers_list(workspace: Path) -> None:
    """Reviewer accounts and when they were made."""
    from pipeline.review import accounts as acc

    with Workspace(workspace, create=False) as ws:
        rows = acc.accounts(ws)
    for a in rows:
        click.echo(f"{_printable(a.name, 40)}  {a.created}")
    click.echo(f"{len(rows)} account{'s' * (len(rows) != 1)}", err=True)


@reviewers.command("remove")
@_workspace
@click.argument("name")
def reviewers_remove(workspace: Path, name: str) -> None:
    """Delete NAME's account: their link stops working at once. Their decisions stay."""
    from pipeline.review import accounts as acc

    with Workspace(workspace, create=False) as ws:
        if not acc.remove(ws, name):
            raise acc.AccountError(f"no reviewer account {name!r} (see formscan reviewers list)")
    click.echo(f"removed {name}")


@click.group("review")
def review() -> None:
    """Review doubtful fields from the terminal."""


def _printable(text: str, width: int = 0) -> str:
    """OCR text made safe for a terminal: no escape sequences, newlines shown as ⏎."""
    text = "".join(c if c.isprintable() else ("⏎" if c == "\n" else "�") for c in text)
    if width and len(text) > width:
        text = text[: width - 1] + "…"
    return text


@review.command("list")
@_workspace
def list_cmd(workspace: Path) -> None:
    """Pending fields, worst first: source file, page, field, value, confidence, reasons."""
    with Workspace(workspace, create=False) as ws:
        rows = q.list_pending(ws)
    header = ("source_file", "page", "field", "value", "confidence", "reasons")
    table = [
        (_printable(r.source_file, 40), str(r.page), r.field, _printable(r.value, 40),
         f"{r.confidence:.2f}", ",".join(r.reasons))
        for r in rows
    ]
    widths = [max([len(h), *(len(t[i]) for t in table)]) for i, h in enumerate(header)]
    for line in (header, *table):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    click.echo(f"{len(rows)} field{'' if len(rows) == 1 else 's'} pending", err=True)


@review.command("set")
@_workspace
@click.argument("source_file")
@click.argument("page", type=click.IntRange(min=1))
@click.argument("field")
@click.argument("value")
@click.option("--reviewer", default=lambda: os.environ.get("USER") or getpass.getuser(),
              show_default="$USER", help="Name recorded in the audit trail.")
@click.option("--override", is_flag=True,
              help="Keep VALUE even if it is not valid for the field (recorded as such).")
def set_cmd(workspace: Path, source_file: str, page: int, field: str, value: str,
            reviewer: str, override: bool) -> None:
    """Set FIELD of SOURCE_FILE page PAGE to VALUE, recorded like a reviewer's decision."""
    with Workspace(workspace, create=False) as ws:
        try:
            d = q.set_value(ws, source_file, page, field, value, reviewer, override=override)
        except q.RuleBroken as exc:
            raise q.RuleBroken(f"{field}: {exc.problem} (--override keeps it)",
                               exc.problem) from None
    click.echo(f"{source_file} p.{page} {field}: {_printable(d.old_value, 30)!r} -> "
               f"{_printable(d.new_value)!r} ({d.new_status}, by {reviewer})")
    for name in d.rechecked.to_review:
        click.echo(f"  {name} now disagrees with the form's rules: sent to review")
    for name in d.rechecked.released:
        click.echo(f"  {name} agrees with the form's rules again: no longer to review")


@review.command("duplicates")
@_workspace
def duplicates_cmd(workspace: Path) -> None:
    """Pairs of forms that look like the same person, and what was decided."""
    with Workspace(workspace, create=False) as ws:
        rows = ws.duplicate_rows()
    for r in rows:
        state = r["decision"] or "pending"
        click.echo(f"{_printable(r['b_file'], 40)} p.{r['b_page']}  looks like  "
                   f"{_printable(r['a_file'], 40)} p.{r['a_page']}  ({r['why']})  [{state}]")
    click.echo(f"{len(rows)} possible duplicate{'' if len(rows) == 1 else 's'}", err=True)


def _decide_duplicate(workspace: Path, source_file: str, page: int, decision: str,
                      reviewer: str) -> None:
    from pipeline.review import pairs

    with Workspace(workspace, create=False) as ws:
        page_id = ws.page_id(source_file, page)
        ids = [r[0] for r in ws.db.execute("SELECT id FROM duplicates WHERE page_b = ?",
                                           (page_id,))] if page_id is not None else []
        for pair_id in ids:
            pairs.settle(ws, pair_id, decision, reviewer, again=True)
    if not ids:
        raise q.NotFound(f"{source_file} page {page} is not the later form of a possible "
                         "duplicate (see `formscan review duplicates`)")
    click.echo(f"{source_file} p.{page}: {decision} (by {reviewer})")


_reviewer = click.option("--reviewer", default=lambda: os.environ.get("USER") or getpass.getuser(),
                         show_default="$USER", help="Name recorded with the decision.")


@review.command("merge")
@_workspace
@click.argument("source_file")
@click.argument("page", type=click.IntRange(min=1))
@_reviewer
def merge_cmd(workspace: Path, source_file: str, page: int, reviewer: str) -> None:
    """The form SOURCE_FILE page PAGE is the same person as the earlier one: leave it out."""
    _decide_duplicate(workspace, source_file, page, "merged", reviewer)


@review.command("keep")
@_workspace
@click.argument("source_file")
@click.argument("page", type=click.IntRange(min=1))
@_reviewer
def keep_cmd(workspace: Path, source_file: str, page: int, reviewer: str) -> None:
    """The form SOURCE_FILE page PAGE is another person after all: keep both."""
    _decide_duplicate(workspace, source_file, page, "kept", reviewer)

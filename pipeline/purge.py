"""Retention: once a batch is finished, remove its images and personal data (GDPR).

A batch is finished when none of its files is still being processed, no field
is waiting for a reviewer, and an attendee export was made after its last
change (processing or decision): what goes has been handed over. Purging keeps
every page's row and kind, the counts and the tick-box answers, so `export
pages` still accounts for every page and the lunch summary still adds up; the
names, addresses, e-mails, phone numbers and the images showing them go.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import click

from pipeline.store import IMAGES_DIR, Workspace, now_iso
from pipeline.template import Template, default_template


@dataclass(frozen=True)
class BatchPlan:
    """What purging one batch removes, or why it is kept (`kept` is then the reason)."""

    batch: str
    files: int
    pages: int
    images: tuple[Path, ...] = ()  # existing image files, absolute
    bytes: int = 0
    fields: int = 0  # text fields with personal data to blank
    decisions: int = 0  # reviewers' decisions on them, whose values are blanked too
    kept: str = ""

    @property
    def has_work(self) -> bool:
        return bool(self.images or self.fields or self.decisions)


@dataclass(frozen=True)
class PurgeReport:
    purged: tuple[BatchPlan, ...]
    kept: tuple[BatchPlan, ...]
    journal_cleared: bool = True  # False: a reader held old copies in the WAL


def _text_fields(template: Template) -> set[str]:
    return {f.id for f in template.text_fields()}


def _personal_sql(text: Iterable[str]) -> tuple[str, list[str]]:
    """SQL condition 'this field holds personal data', and its parameters.

    Box answers (oui/non) are kept for the counts; any field the template does
    not know as a box is treated as personal.
    """
    text = sorted(text)
    return f"f.field IN ({','.join('?' * len(text))})", text


def _why_kept(db: sqlite3.Connection, batch: str, before: str | None) -> str:
    """'' if the batch is finished (and old enough), else the reason in a few words."""
    pending = db.execute(
        "SELECT COUNT(*) FROM files WHERE batch = ? AND state = 'pending'", (batch,)
    ).fetchone()[0]
    if pending:
        return f"{pending} files not finished processing"
    review = db.execute(
        "SELECT COUNT(*) FROM fields f JOIN pages p ON p.id = f.page_id "
        "JOIN files fi ON fi.id = p.file_id "
        "WHERE fi.batch = ? AND p.kind = 'form' AND f.status = 'review'",
        (batch,),
    ).fetchone()[0]
    if review:
        return f"{review} fields still to review"
    done_at, last_decision = db.execute(
        "SELECT MAX(fi.done_at), (SELECT COALESCE(MAX(d.id), 0) FROM decisions d "
        "  JOIN fields f ON f.id = d.field_id JOIN pages p ON p.id = f.page_id "
        "  JOIN files x ON x.id = p.file_id WHERE x.batch = ?) "
        "FROM files fi WHERE fi.batch = ?",
        (batch, batch),
    ).fetchone()
    if before and done_at and done_at >= before:
        return f"processed on or after {before}"
    # Strictly a later second than the processing: `at` has second precision.
    exported = db.execute(
        "SELECT 1 FROM exports WHERE kind = 'attendees' AND at > ? AND last_decision >= ?",
        (done_at or "", last_decision),
    ).fetchone()
    if not exported:
        return "not exported since its last change (formscan export attendees)"
    return ""


def _images(ws: Workspace, rows: Iterable[str | None], shared: set[Path]) -> list[Path]:
    """Image files to delete: the folders of the purged rows' images, whole.

    A page's folder (named after its pixels) may also hold images left by an
    interrupted run; they show the same page, so they go too. A folder that a
    kept page uses (the same page in another batch) is left alone.
    """
    root = (ws.root / IMAGES_DIR).resolve()
    out: set[Path] = set()
    for rel in rows:
        if not rel:
            continue
        folder = (ws.root / rel).resolve().parent
        # Never follow a row outside the images folder, nor take the folder itself.
        if folder in shared or not folder.is_relative_to(root) or folder == root:
            continue
        if folder.is_dir():
            out.update(p for p in folder.iterdir() if p.is_file())
    return sorted(out)


def plan(ws: Workspace, before: date | None = None, template: Template | None = None,
         only: set[str] | None = None) -> list[BatchPlan]:
    """Every batch (or those in `only`), with what purging it removes or why it is kept."""
    db = ws.db
    text_cond, text_params = _personal_sql(_text_fields(template or default_template()))
    cutoff = before.isoformat() if before else None
    batches = [
        (batch, n_files, n_pages, _why_kept(db, batch, cutoff))
        for batch, n_files, n_pages in db.execute(
            "SELECT fi.batch, COUNT(DISTINCT fi.id), COUNT(p.id) FROM files fi "
            "LEFT JOIN pages p ON p.file_id = fi.id GROUP BY fi.batch ORDER BY MIN(fi.added_at)")
        if only is None or batch in only
    ]
    going = [b for b, _, _, kept in batches if not kept]
    # Image folders used by pages that stay: the same page may be in two batches.
    marks = ",".join("?" * len(going))
    shared = {(ws.root / r[0]).resolve().parent for r in db.execute(
        f"SELECT p.image FROM pages p JOIN files fi ON fi.id = p.file_id "
        f"WHERE p.image IS NOT NULL AND fi.batch NOT IN ({marks}) UNION "
        f"SELECT f.image FROM fields f JOIN pages p ON p.id = f.page_id "
        f"JOIN files fi ON fi.id = p.file_id "
        f"WHERE f.image IS NOT NULL AND fi.batch NOT IN ({marks})", (*going, *going))}
    in_batch = "SELECT p.id FROM pages p JOIN files fi ON fi.id = p.file_id WHERE fi.batch = ?"
    plans = []
    for batch, n_files, n_pages, kept in batches:
        if kept:
            plans.append(BatchPlan(batch, n_files, n_pages, kept=kept))
            continue
        rows = [r[0] for r in db.execute(
            f"SELECT image FROM pages WHERE id IN ({in_batch}) UNION ALL "
            f"SELECT image FROM fields WHERE page_id IN ({in_batch})", (batch, batch))]
        images = _images(ws, rows, shared)
        shared |= {p.parent for p in images}  # a folder two purged batches share: count it once
        fields = db.execute(
            f"SELECT COUNT(*) FROM fields f WHERE f.page_id IN ({in_batch}) AND {text_cond} "
            "AND (f.raw != '' OR f.machine_value != '' OR f.value != '')",
            (batch, *text_params),
        ).fetchone()[0]
        decisions = db.execute(
            f"SELECT COUNT(*) FROM decisions d JOIN fields f ON f.id = d.field_id "
            f"WHERE f.page_id IN ({in_batch}) AND {text_cond} "
            "AND (d.old_value != '' OR d.new_value != '')",
            (batch, *text_params),
        ).fetchone()[0]
        size = sum(p.stat().st_size for p in images)
        plans.append(BatchPlan(batch, n_files, n_pages, tuple(images), size, fields, decisions))
    return plans


def purge_batches(ws: Workspace, batches: set[str], before: date | None = None,
                  template: Template | None = None) -> PurgeReport:
    """Purge those of `batches` that are (still) finished; one transaction for the database.

    Eligibility is checked again under the write lock, so a batch re-processed or
    reviewed since the plan was shown is kept. Image files go first: if the purge
    is interrupted, the rows still hold the data and a second purge finishes it.
    """
    template = template or default_template()
    text_cond, text_params = _personal_sql(_text_fields(template))
    ws.db.execute("PRAGMA secure_delete = ON")  # overwrite what is removed, not just unlink it
    purged: list[BatchPlan] = []
    with ws.transaction() as db:
        plans = plan(ws, before, template, only=batches)
        for bp in plans:
            if bp.kept or not bp.has_work:
                continue
            for path in bp.images:
                path.unlink(missing_ok=True)
                folder = path.parent
                if not any(folder.iterdir()):
                    folder.rmdir()
            in_batch = (
                "SELECT p.id FROM pages p JOIN files fi ON fi.id = p.file_id WHERE fi.batch = ?"
            )
            db.execute(f"UPDATE pages SET image = NULL WHERE id IN ({in_batch})", (bp.batch,))
            db.execute(
                f"UPDATE fields SET image = NULL, claimed_by = NULL, claimed_until = NULL, "
                f"repairs = '' WHERE page_id IN ({in_batch})", (bp.batch,))
            # The readers' readings of each field are personal data too.
            db.execute(f"DELETE FROM readings WHERE field_id IN (SELECT id FROM fields "
                       f"WHERE page_id IN ({in_batch}))", (bp.batch,))
            # Why two forms looked alike names the person (their e-mail, their name).
            db.execute(
                f"UPDATE duplicates SET why = '' WHERE page_a IN ({in_batch}) "
                f"OR page_b IN ({in_batch})", (bp.batch, bp.batch))
            db.execute(
                f"UPDATE fields AS f SET raw = '', machine_value = '', value = '' "
                f"WHERE f.page_id IN ({in_batch}) AND {text_cond}", (bp.batch, *text_params))
            db.execute(
                f"UPDATE decisions SET old_value = '', new_value = '', "
                f"note = CASE WHEN note LIKE 'undoes #%' THEN note ELSE '' END "
                f"WHERE field_id IN (SELECT f.id FROM fields f "
                f"WHERE f.page_id IN ({in_batch}) AND {text_cond})", (bp.batch, *text_params))
            db.execute(
                "INSERT INTO purges (batch, at, files, images, bytes, fields, decisions) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (bp.batch, now_iso(), bp.files, len(bp.images), bp.bytes, bp.fields,
                 bp.decisions))
            purged.append(bp)
    # The old values also sit in the write-ahead log until it is checkpointed.
    busy = ws.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    kept = tuple(bp for bp in plans if bp.kept)
    return PurgeReport(tuple(purged), kept, journal_cleared=not busy)


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} bytes"
    x = n / 1000
    for unit in ("kB", "MB"):
        if x < 1000:
            return f"{x:.1f} {unit}"
        x /= 1000
    return f"{x:.1f} GB"


def _line(bp: BatchPlan) -> str:
    return (f"batch {bp.batch!r}: {bp.files} files, {bp.pages} pages; {len(bp.images)} images "
            f"({_size(bp.bytes)}), {bp.fields} fields and {bp.decisions} decisions blanked")


def _totals(plans: Iterable[BatchPlan]) -> str:
    ps = list(plans)
    return (f"{len(ps)} batches, {sum(p.files for p in ps)} files, "
            f"{sum(len(p.images) for p in ps)} images ({_size(sum(p.bytes for p in ps))}), "
            f"{sum(p.fields for p in ps)} fields, {sum(p.decisions for p in ps)} decisions")


@click.command()
@click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Folder holding the formscan database and images.")
@click.option("--before", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only batches processed before this day (YYYY-MM-DD, UTC).")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def purge(workspace: Path, before: datetime | None, dry_run: bool, yes: bool) -> None:
    """Remove the images and personal data of finished, exported batches (GDPR retention).

    Pages, their kinds, the counts and the tick-box answers stay, so the pages
    export still lists every page and the summary still adds up. The scans
    themselves, outside the workspace, are not touched.
    """
    day = before.date() if before else None
    with Workspace(workspace, create=False) as ws:
        plans = plan(ws, day)
        todo = [bp for bp in plans if not bp.kept and bp.has_work]
        for bp in plans:
            if bp.kept:
                click.echo(f"kept batch {bp.batch!r}: {bp.kept}")
        if not todo:
            click.echo("nothing to purge")
            return
        if dry_run or not yes:
            for bp in todo:
                click.echo(f"{'would remove' if dry_run else 'to remove'}: {_line(bp)}")
        if dry_run:
            click.echo(f"dry run: would purge {_totals(todo)}")
            return
        if not yes:
            click.confirm(f"Purge {_totals(todo)}? This cannot be undone", abort=True)
        report = purge_batches(ws, {bp.batch for bp in todo}, day)
    for bp in report.purged:
        click.echo(f"purged {_line(bp)}")
    click.echo(f"removed: {_totals(report.purged)}")
    skipped = {bp.batch for bp in todo} - {bp.batch for bp in report.purged}
    for batch in sorted(skipped):
        click.echo(f"not purged: batch {batch!r} changed since it was listed; run purge again")
    if not report.journal_cleared:
        click.echo("note: the review server holds the database open, so old values may remain "
                   "in its journal (formscan.db-wal) until it stops; run purge again then")

"""The `formscan` command: the one place where errors become messages and exit codes."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline.errors import ExitCode, FormscanError

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.store import Workspace

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

WORKSPACE = click.option(
    "--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), required=True,
    help="Folder holding the formscan database and images.",
)


class FormscanGroup(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except FormscanError as exc:
            if ctx.obj and ctx.obj.get("verbose"):
                traceback.print_exc()
            click.secho(f"formscan: {exc}", fg="red", err=True)
            sys.exit(int(exc.exit_code))


@click.group(cls=FormscanGroup)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="formscan")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """formscan: scanned ARDTA inscription forms in, a clean attendee list out.

    \b
    Typical day:
      formscan process scans/ --workspace ws     read a batch of scanned mail
      formscan serve --workspace ws              review doubtful fields in the browser
      formscan export attendees -w ws -o attendees.csv
    """
    ctx.obj = {"verbose": verbose}


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@WORKSPACE
@click.option("--workers", "-j", type=click.IntRange(1, 256), default=None,
              help="Worker processes (default: all cores).")
@click.option("--force", is_flag=True, help="Read files again even if already processed.")
@click.option("--engine", type=click.Choice(["tesserocr", "pytesseract"]), default="tesserocr",
              show_default=True, help="Tesseract binding.")
@click.option("--batch", default=None, help="Batch name shown to reviewers (default: now).")
@click.option("--scheduler", metavar="tcp://HOST:PORT", default=None,
              help="Read pages on this Dask cluster instead of local workers "
                   "(needs formscan[cluster]).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def process(inputs: tuple[Path, ...], workspace: Path, workers: int | None, force: bool,
            engine: str, batch: str | None, scheduler: str | None, quiet: bool) -> None:
    """Read scanned mail (PDF, TIFF, PNG, JPEG, .eml; files or folders) into a workspace.

    On a terminal a progress bar is drawn; when standard error is a file or a pipe,
    a short progress line is written every 30 s instead.
    """
    from pipeline.process import process as run
    from pipeline.progress import progress_for
    from pipeline.store import Workspace

    bar = progress_for(sys.stderr, quiet=quiet)
    with Workspace(workspace) as ws:
        s = run(list(inputs), ws, workers=workers, force=force, engine=engine, batch=batch,
                scheduler=scheduler, on_total=bar.set_total, on_page=lambda r: bar.advance(),
                on_error=lambda msg: bar.error(f"error: {msg}"))
    bar.close()
    click.echo(
        f"{s.files} files ({s.files_skipped} already done, {s.files_failed} failed), "
        f"{s.pages} pages: {s.forms} forms, {s.blank} blank, {s.other} other, "
        f"{s.pages_failed} failed; fields: {s.fields_accepted} accepted, "
        f"{s.fields_review} to review  [{s.seconds:.1f} s]"
    )
    if s.from_batch:
        click.echo(f"{s.from_batch} fields in review pre-filled as colleagues' forms in the "
                   "batch write them")
    if s.duplicates:
        click.echo(f"{s.duplicates} possible duplicate registrations sent to review "
                   "(formscan review duplicates)")
    if s.ignored:
        click.echo(f"ignored {len(s.ignored)} files that are not scans (e.g. {s.ignored[0]})")
    click.echo(f"workspace: {workspace}")
    if s.failed:
        sys.exit(int(ExitCode.INPUT_FAILED))


@main.group()
def export() -> None:
    """Write the workspace's results as CSV.

    \b
    The CSV exports (attendees, fields, pages) are meant for a spreadsheet: a
    value a spreadsheet would run as a formula (=, +, -, @, also full-width or
    after invisible characters) is written with a leading '. Only with --raw
    are values written exactly as stored, for programs. `summary` is plain text.
    """


def _out_option(f):
    f = click.option("--raw", is_flag=True,
                     help="Values exactly as stored, formulas not neutralised "
                          "(for programs, not spreadsheets).")(f)
    return click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                        default=None, help="File to write (default: standard output).")(f)


def _export_table(workspace: Path, output: Path | None, raw: bool,
                  table: Callable[[Workspace], pd.DataFrame]) -> None:
    """Write `table(workspace)` as CSV to `output`, or to standard output."""
    from pipeline.export import write_csv
    from pipeline.store import Workspace

    with Workspace(workspace, create=False) as ws:
        text = write_csv(table(ws), output, raw=raw)
    if text is not None:
        click.echo(text, nl=False)


@export.command("attendees")
@WORKSPACE
@_out_option
@click.option("--excel", is_flag=True, help="For French Excel: ';', UTF-8 with BOM.")
def export_attendees(workspace: Path, output: Path | None, raw: bool, excel: bool) -> None:
    """One row per form, reviewers' corrections applied; then the lunch summary."""
    from pipeline import export as ex
    from pipeline.store import Workspace

    with Workspace(workspace, create=False) as ws:
        ws.record_export("attendees")  # before reading: purge relies on what was exported
        df = ex.attendees_table(ws)
    text = ex.write_csv(df, output, excel=excel, raw=raw)
    if text is not None:
        click.echo(text, nl=False)
    s = ex.summary(df)
    if s.not_final:
        click.secho(f"warning: {s.not_final} of {s.forms} rows still have fields to review "
                    "(needs_review=true)", fg="yellow", err=True)
    for line in s.lines():
        click.echo(line, err=True)
    if output:
        click.echo(f"wrote {output}", err=True)


@export.command("fields")
@WORKSPACE
@_out_option
def export_fields(workspace: Path, output: Path | None, raw: bool) -> None:
    """One row per form page and field: value, confidence, status, reasons."""
    from pipeline.export import fields_table

    _export_table(workspace, output, raw, fields_table)


@export.command("pages")
@WORKSPACE
@_out_option
def export_pages(workspace: Path, output: Path | None, raw: bool) -> None:
    """Every input page exactly once: form, blank, other or error (with the reason)."""
    from pipeline.export import pages_table

    _export_table(workspace, output, raw, pages_table)


@export.command("summary")
@WORKSPACE
def export_summary(workspace: Path) -> None:
    """Forms, attendees, participants, agents, lunches and the amount to collect."""
    from pipeline import export as ex
    from pipeline.store import Workspace

    with Workspace(workspace, create=False) as ws:
        s = ex.summary(ex.attendees_table(ws))
    for line in s.lines():
        click.echo(line)


@main.command()
@click.option("--n", "n", type=click.IntRange(1, 100_000), default=12, show_default=True,
              help="Number of filled forms.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--digits", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Folder with MNIST t10k IDX files, for handwritten digits.")
@click.option("--fonts", "font_set", type=click.Choice(["default", "held-out"]),
              default="default", show_default=True,
              help="held-out: fonts no fitting, tuning or default benchmark set writes with.")
@click.option("--real-names", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Folder of real handwritten name crops (labels.csv: "
              "FILENAME,IDENTITY): every form gets real block capitals in Nom and Prénom.")
@click.option("--names-part", type=click.Choice(["dev", "bench", "all"]), default="all",
              show_default=True, help="Which half of --real-names to draw from: dev (the "
              "first half, for development) or bench (the second, for the benchmark).")
@click.option("--behaviours", "behaviour_set", type=click.Choice(["default", "held-out"]),
              default="default", show_default=True,
              help="held-out: mark styles, non-form pages and capture profiles no fitting, "
                   "tuning, test or default benchmark set uses.")
def synth(n: int, seed: int, out: Path, digits: Path | None, font_set: str,
          real_names: Path | None, names_part: str, behaviour_set: str) -> None:
    """Generate filled, scanned-looking forms with ground truth (for tests and benchmarks)."""
    from tqdm import tqdm

    from pipeline.synth import generate

    with tqdm(total=n, unit="form", file=sys.stderr, dynamic_ncols=True) as bar:
        try:
            files = generate(n, seed, out, digits=digits, progress=lambda k: bar.update(k),
                             font_set=font_set, real_names=real_names, names_part=names_part,
                             behaviour_set=behaviour_set)
        except (FileNotFoundError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {len(files)} files for {n} forms into {out}")


@main.command()
@click.option("--n", "n", type=click.IntRange(1, 100_000), default=200, show_default=True,
              help="Forms to generate.")
@click.option("--seed", type=int, default=None, help="Default: a seed no test or sample uses.")
@click.option("--quick", is_flag=True, help="A few dozen forms, for checking a change.")
@click.option("--digits", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Folder with MNIST t10k IDX files, for handwritten digits.")
@click.option("--workers", "-j", type=click.IntRange(1, 256), default=None)
@click.option("--baseline-pages", type=click.IntRange(1, 1000), default=12, show_default=True,
              help="Form pages timed against the pytesseract and full-page baselines.")
@click.option("--scale-pages", type=click.IntRange(0, 100_000), default=40, show_default=True,
              help="Pages timed with 1 worker, all cores and a Dask LocalCluster (0: skip).")
@click.option("--large", type=click.IntRange(0, 100_000), default=300, show_default=True,
              help="Pages in the large batch whose peak memory is measured (0: skip).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("bench"), show_default=True)
@click.option("--fonts", "font_set", type=click.Choice(["default", "held-out"]),
              default="default", show_default=True,
              help="held-out: a set written with fonts the reader was never fitted or tuned on.")
@click.option("--behaviours", "behaviour_set", type=click.Choice(["default", "held-out"]),
              default="default", show_default=True,
              help="held-out: also a column on a set of held-out mark styles, page kinds, "
                   "capture profiles and fonts, beside the default one.")
@click.option("--real-names", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Folder of real handwritten name crops: adds the real-hands "
              "column (forms carrying the folder's benchmark half in Nom and Prénom).")
@click.option("--real-hands", "real_hands_n", type=click.IntRange(1, 100_000), default=150,
              show_default=True, help="Forms in the real-hands column.")
def bench(n: int, seed: int | None, quick: bool, digits: Path | None, workers: int | None,
          baseline_pages: int, scale_pages: int, large: int, out: Path, font_set: str,
          behaviour_set: str, real_names: Path | None, real_hands_n: int) -> None:
    """Accuracy, review quality, speed and memory on a freshly generated set."""
    from pipeline import bench as b
    from pipeline import bench_realhands

    if quick:
        n = min(n, 36)
        baseline_pages = min(baseline_pages, 6)
        scale_pages, large = min(scale_pages, 12), min(large, 40)
    result = b.run(n, b.BENCH_SEED if seed is None else seed, out / "out", out, digits, workers,
                   baseline_pages, log=lambda m: click.echo(m, err=True),
                   scale_pages=scale_pages, large=large, font_set=font_set)
    click.echo(b.report(result))
    if behaviour_set == "held-out":
        held = b.behaviours_column(n, b.BENCH_SEED if seed is None else seed, out / "out",
                                   digits, workers, log=lambda m: click.echo(m, err=True))
        table = b.columns_report(b.column_of(result), held)
        (out / "results-behaviours.json").write_text(json.dumps(
            {"default": b.column_of(result), "held-out": held}, indent=1))
        with (out / "results.md").open("a", encoding="utf-8") as f:
            f.write(table)
        click.echo(table)
    if real_names is not None:
        hands = bench_realhands.run(
            real_names, min(real_hands_n, 40) if quick else real_hands_n,
            b.BENCH_SEED if seed is None else seed, out / "out", digits,
            workers or os.cpu_count() or 1, log=lambda m: click.echo(m, err=True))
        (out / "results-real-hands.json").write_text(json.dumps(hands, indent=1))
        table = "\n".join(bench_realhands.report(hands))
        with (out / "results.md").open("a", encoding="utf-8") as f:
            f.write(table)
        click.echo(table)
    click.echo(f"written to {out}/results.md, {out}/results.json, {out}/reliability.png")


@main.command("render-form")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("samples/forms"), show_default=True)
@click.option("--dpi", type=click.IntRange(72, 1200), default=300, show_default=True)
def render_form(out: Path, dpi: int) -> None:
    """Draw the blank form from its template: a printable PDF and a PNG."""
    from pipeline.render import write_blank_form
    from pipeline.template import default_template

    pdf, png = write_blank_form(default_template(), out, dpi)
    click.echo(f"wrote {pdf} and {png}")


def _register_optional() -> None:
    """Commands from sub-packages; absent ones simply do not appear."""
    from pipeline.papers.commands import export_caterer, export_xlsx, papers, payment
    from pipeline.purge import purge

    main.add_command(purge)
    main.add_command(papers)
    main.add_command(payment)
    export.add_command(export_xlsx)
    export.add_command(export_caterer)
    try:
        from pipeline.review.commands import review, reviewers, serve
    except ImportError:
        return
    main.add_command(serve)
    main.add_command(review)
    main.add_command(reviewers)
    try:
        from pipeline.trust.commands import calibrate
    except ImportError:
        return
    main.add_command(calibrate)


_register_optional()

if __name__ == "__main__":
    main()

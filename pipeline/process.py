"""Run a batch: find the files, hand their pages to workers, store every result.

The coordinator alone writes the workspace. A file is known by its content
hash, so a re-run adds nothing; a page is committed as soon as it is read, so
a batch killed half-way resumes where it stopped. Every page ends up in the
database exactly once: read, or recorded as an error with the reason.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from pipeline import recurring
from pipeline.errors import InputError
from pipeline.ingest import Document, InputFile, discover, printable
from pipeline.models import PageKind, PageRef, PageResult
from pipeline.ocr import OcrEngine, make_engine
from pipeline.reader import read_page, warm_up
from pipeline.store import Workspace, sha256_file
from pipeline.template import Template, default_template


@dataclass
class BatchSummary:
    files: int = 0
    files_skipped: int = 0  # already processed (same content)
    files_failed: int = 0
    pages: int = 0
    pages_failed: int = 0
    forms: int = 0
    blank: int = 0
    other: int = 0
    fields_accepted: int = 0
    fields_review: int = 0
    ignored: list[str] = field(default_factory=list)  # not scans, found in folders
    errors: list[str] = field(default_factory=list)
    duplicates: int = 0  # new pairs of forms that look like the same person
    from_batch: int = 0  # fields in review pre-filled from a colleague's form
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.files_failed or self.pages_failed)

    def add(self, result: PageResult) -> None:
        self.pages += 1
        if result.kind == PageKind.FORM:
            self.forms += 1
            for f in result.fields:
                if f.status == "accepted":
                    self.fields_accepted += 1
                else:
                    self.fields_review += 1
        elif result.kind == PageKind.BLANK:
            self.blank += 1
        elif result.kind == PageKind.OTHER:
            self.other += 1
        for k, v in result.timings.items():
            self.timings[k] = self.timings.get(k, 0.0) + v


@dataclass(frozen=True)
class PageTask:
    path: str
    source_file: str
    index: int  # 0-based


# --- the worker side -------------------------------------------------------------

# Workers start as fresh interpreters, not forks of this process: a fork inherits
# OpenCV's and onnxruntime's thread pools mid-state and can hang. (Not a fork
# server either: it outlives a killed coordinator, and so would its workers.)
WORKER_CONTEXT = multiprocessing.get_context("spawn")

_engine: OcrEngine | None = None
_template: Template | None = None
_doc: Document | None = None


def _exit_with_coordinator() -> None:
    """Make a pool worker end when its coordinator dies.

    A coordinator killed with SIGKILL (or by the OOM killer) cannot shut its pool
    down, and the workers would wait for work forever, each holding a document and
    an OCR engine; a resumed batch would then run beside them.
    """
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return  # in-process (one worker): nothing to watch

    def watch(ppid: int) -> None:
        while os.getppid() == ppid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, args=(parent.pid,), daemon=True,
                     name="exit-with-coordinator").start()


def _init_worker(engine_name: str, template: Template) -> None:
    global _engine, _template, _doc
    _exit_with_coordinator()
    _doc = None  # in-process, a file may have changed at the same path since the last batch
    os.environ["OMP_THREAD_LIMIT"] = "1"
    cv2.setNumThreads(1)  # parallelism comes from worker processes, not threads
    _engine = make_engine(engine_name)
    _template = template
    warm_up(template)


def run_task(task: PageTask) -> PageResult:
    """Decode and read one page; a page that cannot be read becomes an error result."""
    global _doc
    assert _engine is not None and _template is not None
    ref = PageRef(task.source_file, task.index + 1, task.path)
    try:
        t0 = time.perf_counter()
        if _doc is None or str(_doc.path) != task.path:
            _doc = Document(Path(task.path), task.source_file)
        page = _doc.page(task.index)
        ingest_s = time.perf_counter() - t0
        result = read_page(page, _template, _engine)
        result.timings["ingest"] = ingest_s
        return result
    except InputError as exc:
        return PageResult(ref, "", PageKind.ERROR, str(exc))
    except Exception as exc:
        return PageResult(ref, "", PageKind.ERROR,
                          f"{task.source_file} page {task.index + 1}: "
                          f"internal error ({type(exc).__name__}: {exc})")


# --- the coordinator side ---------------------------------------------------------


def _check_regular(f: InputFile) -> None:
    """Refuse what is not a plain file before opening it.

    Opening a named pipe for reading blocks until someone writes to it: one named
    like a scan in the post-room folder would hang the whole batch.
    """
    mode = f.path.stat().st_mode  # OSError (missing, dangling link) is the caller's
    if stat.S_ISREG(mode):
        return
    kinds = [(stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISDIR, "a folder")]
    what = next((name for test, name in kinds if test(mode)), "not a regular file")
    raise InputError(f"{f.source_file}: not a file that can be read as a scan ({what})")


def _results(
    tasks: Iterator[PageTask], workers: int, engine_name: str, template: Template,
    scheduler: str | None = None,
) -> Iterator[PageResult]:
    """Results in completion order, with at most a few pages in flight per worker.

    With `scheduler`, the pages are read on that Dask cluster instead (see cluster.py).
    """
    if scheduler:
        from pipeline.cluster import dask_results  # `distributed` is an optional extra

        yield from dask_results(tasks, scheduler, engine_name, template)
        return
    if workers <= 1:
        _init_worker(engine_name, template)
        for t in tasks:
            yield run_task(t)
        return
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(engine_name, template),
        mp_context=WORKER_CONTEXT,
    ) as pool:
        pending: set[Future[PageResult]] = set()
        window = 3 * workers
        for t in tasks:
            pending.add(pool.submit(run_task, t))
            if len(pending) >= window:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
        for f in pending:
            yield f.result()


def process(
    inputs: list[Path],
    workspace: Workspace,
    *,
    workers: int | None = None,
    force: bool = False,
    engine: str = "tesserocr",
    template: Template | None = None,
    batch: str | None = None,
    scheduler: str | None = None,
    on_total: Callable[[int], None] = lambda n: None,
    on_page: Callable[[PageResult], None] = lambda r: None,
    on_error: Callable[[str], None] = lambda msg: None,
) -> BatchSummary:
    """Process every page of `inputs` into `workspace`; returns what happened."""
    template = template or default_template()
    workers = workers or os.cpu_count() or 1
    started = time.perf_counter()
    summary = BatchSummary()
    files, ignored = discover(inputs)
    summary.ignored = [str(p) for p in ignored]
    batch = batch or time.strftime("%Y-%m-%d %H:%M")

    plan: list[tuple[int, InputFile, int, set[int]]] = []  # file id, file, n pages, done pages
    planned: set[int] = set()
    total = 0
    for f in files:
        summary.files += 1
        path = printable(f.path)  # a name that is not UTF-8 cannot go into the database
        try:
            _check_regular(f)
            sha = sha256_file(f.path)
        except (OSError, InputError) as exc:
            msg = str(exc) if isinstance(exc, InputError) else (
                f"{f.source_file}: cannot read file ({exc.strerror or exc})")
            row = workspace.add_file(f"unreadable:{path}", f.source_file, path, batch)
            workspace.save_error_page(row.id, 1, msg)
            workspace.finish_file(row.id, msg)
            summary.files_failed += 1
            summary.pages += 1
            summary.pages_failed += 1
            summary.errors.append(msg)
            on_error(msg)
            continue
        workspace.forget_unreadable(path)  # it was unreadable last time: readable now
        row = workspace.add_file(sha, f.source_file, path, batch)
        if row.id in planned:  # the same content twice in this batch: read it once
            summary.files_skipped += 1
            continue
        planned.add(row.id)
        if row.state == "done" and not force:
            summary.files_skipped += 1
            continue
        if force:
            workspace.reset_file(row.id)
        try:
            n = Document(f.path, f.source_file).n_pages
        except InputError as exc:
            workspace.save_error_page(row.id, 1, str(exc))
            workspace.finish_file(row.id, str(exc))
            summary.files_failed += 1
            summary.pages += 1
            summary.pages_failed += 1
            summary.errors.append(str(exc))
            on_error(str(exc))
            continue
        workspace.set_file_pages(row.id, n)
        done = set() if force else workspace.done_pages(row.id)
        plan.append((row.id, f, n, done))
        total += n - len(done)
    on_total(total)

    file_ids = {str(f.path): fid for fid, f, _, _ in plan}
    remaining = {fid: n - len(done) for fid, _, n, done in plan}
    for fid, count in remaining.items():
        if count == 0:
            workspace.finish_file(fid)

    def tasks() -> Iterator[PageTask]:
        for _, f, n, done in plan:
            for i in range(n):
                if i + 1 not in done:
                    yield PageTask(str(f.path), f.source_file, i)

    file_errors: dict[int, str] = {}
    for result in _results(tasks(), workers, engine, template, scheduler):
        fid = file_ids[result.ref.path]
        if result.kind == PageKind.ERROR:
            workspace.save_error_page(fid, result.ref.page, result.detail)
            summary.pages += 1
            summary.pages_failed += 1
            summary.errors.append(result.detail)
            file_errors.setdefault(fid, result.detail)
            on_error(result.detail)
        else:
            t0 = time.perf_counter()
            workspace.save_page(fid, result, force=force)
            result.timings["store"] = time.perf_counter() - t0
            summary.add(result)
        on_page(result)
        remaining[fid] -= 1
        if remaining[fid] == 0:
            workspace.finish_file(fid, file_errors.get(fid))
    summary.files_failed += len(file_errors)
    summary.duplicates = flag_duplicates(workspace, template)
    summary.from_batch = recurring.apply(workspace, template)
    summary.seconds = time.perf_counter() - started
    return summary


def flag_duplicates(workspace: Workspace, template: Template) -> int:
    """Look for the same person registered twice across the whole workspace.

    Runs on the coordinator after each batch (a form sent by post and again by
    e-mail often arrives in another batch); returns how many new pairs it found.
    """
    from pipeline.duplicates import find_duplicates
    from pipeline.export import attendees_table

    table = attendees_table(workspace, template, include_merged=True)
    if len(table) < 2:
        return 0
    new = 0
    for pair in find_duplicates(table):
        a, b = workspace.page_id(*pair.a), workspace.page_id(*pair.b)
        if a is None or b is None:
            continue
        first = pair.a
        if b < a:  # the form that arrived later is the one to check
            a, b, first = b, a, pair.b
        note = f"possible duplicate of {first[0]} page {first[1]} ({pair.why})"
        new += workspace.flag_duplicate(a, b, pair.why, pair.score, note)
    return new

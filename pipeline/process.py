"""Run a batch: find the files, hand their pages to workers, store every result.

The coordinator alone writes the workspace. A file is known by its content
hash, so a re-run adds nothing; a page is committed as soon as it is read, so
a batch killed half-way resumes where it stopped. Every page ends up in the
database exactly once: read, or recorded as an error with the reason.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from pipeline.errors import InputError
from pipeline.ingest import Document, InputFile, discover
from pipeline.models import PageKind, PageRef, PageResult
from pipeline.ocr import OcrEngine, make_engine
from pipeline.reader import read_page
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

_engine: OcrEngine | None = None
_template: Template | None = None
_doc: Document | None = None


def _init_worker(engine_name: str, template: Template) -> None:
    global _engine, _template
    os.environ["OMP_THREAD_LIMIT"] = "1"
    cv2.setNumThreads(1)  # parallelism comes from worker processes, not threads
    _engine = make_engine(engine_name)
    _template = template


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


def _results(
    tasks: Iterator[PageTask], workers: int, engine_name: str, template: Template
) -> Iterator[PageResult]:
    """Results in completion order, with at most a few pages in flight per worker."""
    if workers <= 1:
        _init_worker(engine_name, template)
        for t in tasks:
            yield run_task(t)
        return
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(engine_name, template)
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
    total = 0
    for f in files:
        summary.files += 1
        try:
            sha = sha256_file(f.path)
        except OSError as exc:
            msg = f"{f.source_file}: cannot read file ({exc.strerror})"
            row = workspace.add_file(f"unreadable:{f.path}", f.source_file, str(f.path), batch)
            workspace.save_error_page(row.id, 1, msg)
            workspace.finish_file(row.id, msg)
            summary.files_failed += 1
            summary.errors.append(msg)
            on_error(msg)
            continue
        row = workspace.add_file(sha, f.source_file, str(f.path), batch)
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
    for result in _results(tasks(), workers, engine, template):
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
    summary.seconds = time.perf_counter() - started
    return summary

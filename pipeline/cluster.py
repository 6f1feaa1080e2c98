"""Read pages on an existing Dask distributed cluster instead of local worker processes.

The coordinator keeps everything that touches the user's files and the
workspace: it decodes each page itself (one input file open at a time), ships
the grey pixels as a lossless PNG with the page's identity, and stores the
results. Workers therefore need formscan and Tesseract, never the input files,
and a page reads exactly as it would locally. Only a few pages per worker
thread are in flight at once, so memory stays bounded whatever the batch size.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from pipeline.errors import ExitCode, FormscanError, InputError, MissingDependencyError
from pipeline.ingest import Document
from pipeline.models import PageImage, PageKind, PageRef, PageResult
from pipeline.ocr import OcrEngine, make_engine
from pipeline.reader import read_page, warm_up
from pipeline.template import Template

if TYPE_CHECKING:
    from pipeline.process import PageTask

CONNECT_TIMEOUT_S = 10.0
WORKERS_TIMEOUT_S = 60.0  # a scheduler with no worker would otherwise stall silently
IN_FLIGHT_PER_THREAD = 3  # enough to keep every worker thread busy while results travel
# PNG, fastest zlib level, run-length strategy: measured on scans and photos as fast
# as any lossless option here and smaller than the default strategy.
_PNG = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]


class ClusterError(FormscanError):
    """The Dask scheduler cannot be reached, has no workers, or went away."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class PagePayload:
    """One page as it travels to a worker: compressed pixels plus what identifies it."""

    ref: PageRef
    sha256: str  # of the decoded pixels, computed by the coordinator
    dpi: float
    png: bytes  # lossless, so the worker reads exactly the pixels a local run would


def encode_page(page: PageImage) -> PagePayload:
    ok, buf = cv2.imencode(".png", page.image, _PNG)
    if not ok:
        raise ValueError("cannot encode the page as PNG")
    return PagePayload(page.ref, page.sha256, page.dpi, buf.tobytes())


def decode_page(payload: PagePayload) -> PageImage:
    img = cv2.imdecode(np.frombuffer(payload.png, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None or img.ndim != 2:
        raise ValueError("the page's PNG did not decode to a grey image")
    return PageImage(payload.ref, img, payload.sha256, payload.dpi)


def _internal_error(ref: PageRef, exc: BaseException) -> str:
    """Worded like a local worker's internal error, so reports do not depend on where it ran."""
    return f"{ref.source_file} page {ref.page}: internal error ({type(exc).__name__}: {exc})"


# --- the worker side ----------------------------------------------------------------

_local = threading.local()  # a Dask worker may run several threads; an engine is not shared
_warmed = False


def _engine(name: str) -> OcrEngine:
    """This thread's OCR engine, created on first use and reused for every later page."""
    engines: dict[str, OcrEngine] | None = getattr(_local, "engines", None)
    if engines is None:
        os.environ["OMP_THREAD_LIMIT"] = "1"  # before Tesseract loads; see ocr.py
        cv2.setNumThreads(1)  # parallelism comes from worker threads and processes
        engines = _local.engines = {}
    if name not in engines:
        engines[name] = make_engine(name)
    return engines[name]


def _warm(template: Template) -> None:
    """What reading looks up, loaded before this worker process's first page (as `process` does)."""
    global _warmed
    if not _warmed:
        warm_up(template)
        _warmed = True


def read_payload(payload: PagePayload, template: Template, engine_name: str) -> PageResult:
    """A worker's task: one page in, its result out; a failure becomes an error result."""
    try:
        _warm(template)
        t0 = time.perf_counter()
        page = decode_page(payload)
        decode_s = time.perf_counter() - t0
        result = read_page(page, template, _engine(engine_name))
        result.timings["ingest"] = decode_s
        return result
    except InputError as exc:
        return PageResult(payload.ref, "", PageKind.ERROR, str(exc))
    except Exception as exc:
        return PageResult(payload.ref, "", PageKind.ERROR, _internal_error(payload.ref, exc))


def identity() -> dict[str, str]:
    """What decides a page's reading besides its pixels: formscan's code and the OCR model.

    Dask workers import whatever formscan is installed where they run; a different
    version, or another traineddata file, would quietly give different values.
    """
    import hashlib

    from pipeline.ocr import LANG, tessdata_dir

    root = Path(__file__).resolve().parent
    code = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        code.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    try:
        model = hashlib.sha256((Path(tessdata_dir()) / f"{LANG}.traineddata").read_bytes())
        model_id = model.hexdigest()[:16]
    except (FormscanError, OSError):
        model_id = ""  # the coordinator needs no Tesseract of its own
    return {"code": code.hexdigest()[:16], "model": model_id}


# --- the coordinator side -----------------------------------------------------------


def _check_workers(client: Any, scheduler: str) -> None:
    """ClusterError unless every worker runs this formscan with one and the same OCR model."""
    here = identity()
    try:
        there = client.run(identity)
    except Exception as exc:
        raise ClusterError(
            f"cannot run formscan on the Dask workers at {scheduler} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); install formscan there"
        ) from None
    codes = {w["code"] for w in there.values()}
    models = {w["model"] for w in there.values()} | ({here["model"]} if here["model"] else set())
    if codes != {here["code"]}:
        raise ClusterError(
            f"the Dask workers at {scheduler} run a different formscan than this machine; "
            "install the same version on both, or results would differ from a local run"
        )
    if len(models) != 1 or "" in models:
        raise ClusterError(
            f"the Dask workers at {scheduler} do not all have the same French Tesseract model "
            "as this machine (fra.traineddata); install the same one everywhere"
        )


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise MissingDependencyError(
            "--scheduler needs the Dask `distributed` package: pip install 'formscan[cluster]'"
        ) from None
    return distributed


def _probe(scheduler: str, timeout: float) -> None:
    """Fail fast and in one line on a wrong address, before Dask retries for the full timeout."""
    from distributed.comm import parse_address, parse_host_port

    try:
        protocol, location = parse_address(scheduler)
        if protocol not in ("tcp", "tls"):
            return  # inproc://, ucx://...: let Dask judge
        host, port = parse_host_port(location)
    except ValueError as exc:
        raise ClusterError(
            f"bad scheduler address {scheduler!r} ({exc}); expected tcp://HOST:PORT"
        ) from None
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ClusterError(
            f"cannot reach the Dask scheduler at {scheduler} ({why}); start one with "
            "`dask scheduler` and some workers with `dask worker ADDRESS`, or check the address"
        ) from None


def connect(scheduler: str, timeout: float = CONNECT_TIMEOUT_S) -> Any:
    """A Dask client for `scheduler`, with at least one worker; ClusterError otherwise."""
    distributed = _distributed()
    _probe(scheduler, timeout)
    try:
        client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(f"cannot connect to the Dask scheduler at {scheduler} ({reason})") \
            from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except (TimeoutError, OSError):
        client.close()
        raise ClusterError(
            f"the Dask scheduler at {scheduler} has no workers (waited "
            f"{WORKERS_TIMEOUT_S:.0f} s); start some with `dask worker {scheduler}`"
        ) from None
    try:
        _check_workers(client, scheduler)
    except BaseException:
        client.close()
        raise
    return client


def _window(client: Any) -> int:
    return IN_FLIGHT_PER_THREAD * max(1, sum(client.nthreads().values()))


def dask_results(
    tasks: Iterator[PageTask], scheduler: str, engine_name: str, template: Template
) -> Iterator[PageResult]:
    """Results in completion order, read on the cluster at `scheduler`, a few pages in flight.

    The template goes to every worker once; each page travels as a PNG and comes back
    as its PageResult. A page the coordinator cannot decode, or whose task fails on
    the cluster, becomes an error result naming its file and page.
    """
    distributed = _distributed()
    client = connect(scheduler)
    try:
        template_f = client.scatter(template, broadcast=True, hash=False)
        window = _window(client)
        pending: dict[str, tuple[PageRef, float]] = {}  # task key -> page, coordinator time
        done = distributed.as_completed(loop=client.loop)
        doc: Document | None = None

        def collect(future: Any) -> PageResult:
            ref, coordinator_s = pending.pop(future.key)
            try:
                result: PageResult = future.result()
            except Exception as exc:
                if client.status != "running":
                    raise ClusterError(
                        f"lost the Dask scheduler at {scheduler}; run the same command "
                        "again to resume"
                    ) from None
                result = PageResult(ref, "", PageKind.ERROR, _internal_error(ref, exc))
            finally:
                future.release()
            if result.kind != PageKind.ERROR:
                result.timings["ingest"] = result.timings.get("ingest", 0.0) + coordinator_s
            return result

        for n, task in enumerate(tasks, 1):
            ref = PageRef(task.source_file, task.index + 1, task.path)
            t0 = time.perf_counter()
            try:
                if doc is None or str(doc.path) != task.path:
                    doc = None  # let the previous file's bytes go before reading the next
                    doc = Document(Path(task.path), task.source_file)
                payload = encode_page(doc.page(task.index))
            except InputError as exc:
                yield PageResult(ref, "", PageKind.ERROR, str(exc))
                continue
            except Exception as exc:
                yield PageResult(ref, "", PageKind.ERROR, _internal_error(ref, exc))
                continue
            with warnings.catch_warnings():
                # Each page is sent once, by design; Dask's hint about large graphs is moot.
                warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
                future = client.submit(read_payload, payload, template_f, engine_name,
                                       pure=False)
            del payload
            pending[future.key] = (ref, time.perf_counter() - t0)
            done.add(future)
            if n % 64 == 0:
                window = _window(client)  # workers may have joined or left
            while len(pending) >= window:
                yield collect(next(done))
        doc = None
        for future in done:
            yield collect(future)
    finally:
        client.close()

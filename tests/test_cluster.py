"""Pages read on a Dask cluster give exactly what local workers give."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from pipeline.cli import main
from pipeline.models import PageImage, PageKind, PageRef
from tests.pages import filled_page, transform

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.tesseract


@pytest.fixture(scope="module")
def batch(tmp_path_factory, template) -> Path:
    """Forms, a blank back, a page that is not the form, and pages that fail two ways."""
    d = tmp_path_factory.mktemp("mail")
    form = transform(filled_page(template), angle=2)
    Image.fromarray(form).save(d / "lot du matin.pdf", save_all=True,
                               append_images=[Image.fromarray(np.full_like(form, 248))],
                               resolution=300)
    other = filled_page(template, {"nom": "Martin", "prenom": "Paul"},
                        {"agent_collectivite": "non", "participera": "oui"})
    cv2.imwrite(str(d / "Hélène envoi 2.jpg"), transform(other, angle=-4, upside_down=True),
                [cv2.IMWRITE_JPEG_QUALITY, 70])
    letter = np.full((1200, 900), 250, np.uint8)
    for y in range(150, 1000, 60):
        cv2.putText(letter, "Madame, Monsieur, veuillez trouver", (60, y),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.0, 20, 2)
    Image.fromarray(letter).save(d / "courrier.tif", save_all=True,
                                 append_images=[Image.fromarray(np.full((90, 90), 200, np.uint8))])
    (d / "vide.png").write_bytes(b"")
    return d


@pytest.fixture(scope="module")
def scheduler() -> str:
    # Process workers, as on a real cluster: they start in about a second here.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def _run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def _exports(ws: Path) -> dict[str, str]:
    return {what: _run("export", what, "-w", str(ws))[1]
            for what in ("pages", "fields", "attendees")}


def test_one_worker_two_workers_and_dask_give_identical_csvs(batch, scheduler, tmp_path):
    runs = {"j1": ("-j", "1"), "j2": ("-j", "2"), "dask": ("--scheduler", scheduler)}
    outputs = {}
    for name, opts in runs.items():
        t0 = time.perf_counter()
        code, out, err = _run("process", str(batch), "-w", str(tmp_path / name), "-q", *opts)
        print(f"{name}: {time.perf_counter() - t0:.1f} s")
        assert code == 1, err  # the broken inputs make the batch fail, in every mode
        assert "2 forms, 1 blank, 1 other, 2 failed" in out
        outputs[name] = _exports(tmp_path / name)
    assert outputs["dask"] == outputs["j1"]
    assert outputs["j2"] == outputs["j1"]
    pages = outputs["dask"]["pages"]
    assert 'courrier.tif,2,error,"courrier.tif page 2: image is 90 x 90 pixels' in pages
    assert "vide.png,1,error,vide.png: empty file (0 bytes)" in pages


def test_a_page_that_fails_on_a_worker_is_an_error_naming_it(template) -> None:
    from pipeline.cluster import decode_page, encode_page, read_payload

    ref = PageRef("lot.pdf", 3, "/in/lot.pdf")
    img = transform(filled_page(template), angle=1)
    payload = encode_page(PageImage(ref, img, "abc", 300.0))
    assert np.array_equal(decode_page(payload).image, img)  # lossless: same pixels, same read
    broken = type(payload)(ref, "abc", 300.0, payload.png[:1000])
    r = read_payload(broken, template, "tesserocr")
    assert r.kind == PageKind.ERROR
    assert r.detail.startswith("lot.pdf page 3: internal error")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address, message", [
    ("tcp://127.0.0.1:{port}", "cannot reach the Dask scheduler at tcp://127.0.0.1:{port} "
                               "(Connection refused)"),
    ("127.0.0.1", "bad scheduler address '127.0.0.1'"),
])
def test_an_unreachable_scheduler_is_one_clear_line(batch, tmp_path, address, message):
    port = _free_port()
    t0 = time.perf_counter()
    code, _, err = _run("process", str(batch), "-w", str(tmp_path / "ws"), "-q",
                          "--scheduler", address.format(port=port))
    assert time.perf_counter() - t0 < 15
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 2  # the empty file's error, then the scheduler's
    assert lines[-1].startswith("formscan: " + message.format(port=port))


def test_workers_running_other_code_are_refused() -> None:
    from pipeline.cluster import ClusterError, _check_workers, identity

    class Client:
        def __init__(self, **changed: str) -> None:
            self.ids = {"tcp://w1": identity(), "tcp://w2": {**identity(), **changed}}

        def run(self, fn):
            return self.ids

    _check_workers(Client(), "tcp://s:8786")  # the same everywhere: fine
    with pytest.raises(ClusterError, match="run a different formscan"):
        _check_workers(Client(code="0123"), "tcp://s:8786")
    with pytest.raises(ClusterError, match="same French Tesseract model"):
        _check_workers(Client(model="4567"), "tcp://s:8786")


@pytest.mark.slow
def test_memory_stays_flat_on_a_long_batch(template, tmp_path) -> None:
    from pipeline.bench import large_batch_memory

    page = transform(filled_page(template), angle=1)
    m = large_batch_memory(page, 120, tmp_path, workers=1, log=lambda s: None)
    assert m["exit"] == 0 and "120 forms" in m["summary"]
    # Pages pass through, none pile up: the second half peaks no higher than the first.
    assert m["peak_rss_second_half_mb"] <= m["peak_rss_first_half_mb"] + 40


def test_the_local_pool_is_timed_with_no_dask_cluster_running(monkeypatch, tmp_path) -> None:
    """An idle LocalCluster in the same process slowed the 2-worker pool to the speed of 1:
    the scaling figures time each local run before the cluster exists."""
    distributed = pytest.importorskip("distributed")
    import pipeline.bench as bench
    import pipeline.process

    live: list[bool] = []
    clusters: list[object] = []

    class FakeCluster:
        scheduler_address = "tcp://127.0.0.1:1"

        def __init__(self, **_: object) -> None:
            clusters.append(self)

        def close(self) -> None:
            clusters.remove(self)

    class Summary:
        forms, pages, seconds = 1, 1, 1.0

    def fake_process(inputs, ws, batch, workers=None, scheduler=None):
        live.append(bool(clusters))
        return Summary()

    monkeypatch.setattr(distributed, "LocalCluster", FakeCluster)
    monkeypatch.setattr(pipeline.process, "process", fake_process)
    monkeypatch.setattr(bench, "_same_results", lambda roots: True)
    out = bench.scale_speed([], tmp_path, 2, log=lambda _: None)
    assert list(out["modes"]) == ["1 worker", "2 workers", "Dask LocalCluster, 2 workers"]
    assert live == [False, False, True] and not clusters

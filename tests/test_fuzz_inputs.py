"""No input crashes a batch: broken, hostile and odd files each end as one-line errors.

The corpus is built here from a seed (tests/fuzz_corpus.py): valid PDFs, TIFFs,
PNGs, JPEGs and e-mails, truncated and bit-flipped copies, absurd sizes and frame
counts, nested attachments, and the shapes of the Pillow test images that once
crashed a whole batch. Decoding runs in a child process under a memory limit.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fuzz_corpus import (
    SEEK_TOO_LARGE_TIFF,
    build,
    gif_huge_screen,
    png_text_bomb,
    tiff_missing_dimensions,
)
from PIL import Image

from pipeline.errors import InputError
from pipeline.ingest import Document

ROOT = Path(__file__).resolve().parents[1]
MEMORY_LIMIT = 1_500_000_000  # bytes of address space for the decoding child
PER_FILE_S = 20.0


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "OMP_THREAD_LIMIT": "1", "OPENBLAS_NUM_THREADS": "1"}


def a_page() -> np.ndarray:
    """A plain page at 100 dpi: big enough to be a page, quick to decode."""
    page = np.full((1170, 827), 250, np.uint8)
    page[100:140, 80:700] = 0
    return page


# --- the shapes that crashed a batch ------------------------------------------------------


@pytest.mark.parametrize(("make", "why"), [
    (tiff_missing_dimensions, "Missing dimensions"),
    (lambda: SEEK_TOO_LARGE_TIFF, "Unable to seek to frame"),
    (png_text_bomb, "Decompressed data too large"),
    (gif_huge_screen, "decompression bomb"),
])
def test_a_decoder_failure_is_the_files_one_line_error(tmp_path: Path, make, why: str) -> None:
    path = tmp_path / "courrier.tif"
    path.write_bytes(make())
    with pytest.raises(InputError) as err:
        doc = Document(path, "courrier.tif")
        for i in range(doc.n_pages):
            doc.page(i)
    msg = str(err.value)
    assert msg.startswith("courrier.tif") and why in msg and "\n" not in msg


LIBTIFF_PROBE = """
import io, sys
import numpy as np
from PIL import Image
from pipeline.ingest import Document
from pipeline.errors import InputError
from pathlib import Path
rng = np.random.default_rng(0)
img = Image.fromarray(rng.integers(0, 2, (400, 400), dtype=np.uint8) * 255).convert("1")
buf = io.BytesIO()
img.save(buf, "TIFF", compression="group4")
data = bytearray(buf.getvalue())
for i in range(16, len(data) // 2, 7):
    data[i] = 0xA5  # the fax-coded strip garbled: libtiff complains line by line
path = Path(sys.argv[1])
path.write_bytes(bytes(data))
try:
    Document(path, "fax.tif").page(0)
except InputError as exc:
    print(exc)
"""


def test_libtiff_does_not_flood_the_terminal(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-c", LIBTIFF_PROBE, str(tmp_path / "fax.tif")],
                       capture_output=True, text=True, env=_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", f"{len(r.stderr.splitlines())} lines on stderr: {r.stderr[:200]}"


# --- the corpus, decoded under a memory limit ------------------------------------------------

DECODE_ALL = """
import json, resource, sys, time
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
from pipeline.ingest import Document
from pipeline.errors import InputError
for name in sys.argv[3:]:
    t0, ok, errors = time.monotonic(), 0, []
    try:
        doc = Document(Path(sys.argv[1]) / name, name)
        for i in range(doc.n_pages):
            try:
                doc.page(i)
                ok += 1
            except InputError as exc:
                errors.append(str(exc))
    except InputError as exc:
        errors.append(str(exc))
    print(json.dumps({"name": name, "ok": ok, "errors": errors,
                      "seconds": time.monotonic() - t0}), flush=True)
# VmHWM, not ru_maxrss: the latter starts from the parent's peak (a grown pytest's)
hwm = next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))
print(json.dumps({"maxrss_kb": int(hwm.split()[1])}))
"""


def decode_corpus(d: Path, names: list[str]) -> tuple[dict[str, dict], int]:
    r = subprocess.run(
        [sys.executable, "-c", DECODE_ALL, str(d), str(MEMORY_LIMIT), *names],
        capture_output=True, text=True, env=_env(), timeout=PER_FILE_S * len(names),
    )
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-3000:]
    lines = [json.loads(ln) for ln in r.stdout.splitlines()]
    return {x["name"]: x for x in lines[:-1]}, lines[-1]["maxrss_kb"] * 1024


def check_corpus(d: Path, seed: int, variants: int) -> None:
    entries = build(d, a_page(), seed=seed, variants=variants)
    got, peak = decode_corpus(d, [e.name for e in entries])
    assert set(got) == {e.name for e in entries}, "a file was not accounted for"
    for e in entries:
        r = got[e.name]
        assert r["ok"] >= e.good_pages, f"{e.name}: a good page was lost: {r['errors']}"
        assert r["ok"] or r["errors"], f"{e.name}: neither a page nor an error"
        for msg in r["errors"]:
            assert "\n" not in msg and msg.startswith(e.name), msg
            assert "MemoryError" not in msg, f"{e.name}: hit the memory limit"
        assert r["seconds"] < PER_FILE_S, f"{e.name} took {r['seconds']:.0f} s"
    assert peak < MEMORY_LIMIT / 2, f"decoding peaked at {peak / 1e6:.0f} MB"


def test_fuzzed_files_decode_or_fail_alone_in_bounded_memory(tmp_path: Path) -> None:
    check_corpus(tmp_path / "in", seed=1, variants=2)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 3, 4, 5])
def test_fuzzed_files_more_seeds(tmp_path: Path, seed: int) -> None:
    check_corpus(tmp_path / "in", seed=seed, variants=12)


# --- whole batches -----------------------------------------------------------------------


def run_process(inputs: list[Path], ws: Path, *extra: str,
                timeout: float = 600) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pipeline", "process", *map(str, inputs), "-w", str(ws),
           "-j", "2", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=timeout)


def pages_export(ws: Path) -> list[dict]:
    import csv

    r = subprocess.run([sys.executable, "-m", "pipeline", "export", "pages", "-w", str(ws)],
                       capture_output=True, text=True, env=_env(), check=True)
    return list(csv.DictReader(io.StringIO(r.stdout)))


@pytest.mark.tesseract
def test_a_batch_of_fuzzed_files_reads_every_good_form(tmp_path: Path, template) -> None:
    """The filled form in every container, among the broken files: each form is read."""
    from pages import filled_page

    form = filled_page(template)
    d = tmp_path / "in"
    entries = build(d, form, seed=7, variants=1, half=False, blank_second=True)
    r = run_process([d], tmp_path / "ws")
    assert r.returncode == 1, r.stderr[-2000:]
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    rows = pages_export(tmp_path / "ws")
    by_file: dict[str, list[dict]] = {}
    for row in rows:
        by_file.setdefault(row["source_file"], []).append(row)
    assert set(by_file) == {e.name for e in entries}, "a file was not accounted for"
    for e in entries:
        read = [row for row in by_file[e.name] if row["kind"] != "error"]
        assert len(read) >= e.good_pages, f"{e.name}: {by_file[e.name]}"
    forms = {(row["source_file"], row["page"]) for row in rows if row["kind"] == "form"}
    for name in ("good-page.png", "good-page.jpg", "good-pages.tif", "good-pages.pdf",
                 "mail-forwarded.eml", "mail-good-and-broken.eml",
                 "mail-with-attached-eml.eml"):
        assert (name, "1") in forms, f"{name}: the form was not read as a form"
    # stderr is a pipe here, not a terminal: short progress lines, no bar redraws
    assert "\r" not in r.stderr
    assert "progress:" in r.stderr
    assert max(len(line) for line in r.stderr.splitlines()) < 400


def corpora() -> list[Path]:
    """Pillow's Tests/images and OCRmyPDF's tests/resources, when unpacked (never committed).

    FORMSCAN_CORPORA names a folder holding them; by default /tmp/corpora.
    """
    base = Path(os.environ.get("FORMSCAN_CORPORA", "/tmp/corpora"))
    found = [*base.glob("pillow-*/Tests/images"), *base.glob("ocrmypdf-*/tests/resources")]
    return sorted(p for p in found if p.is_dir())


@pytest.mark.slow
@pytest.mark.tesseract
def test_other_projects_test_files_are_all_accounted_for(tmp_path: Path) -> None:
    dirs = corpora()
    if not dirs:
        pytest.skip("no corpora: pip download --no-deps --no-binary :all: pillow==11.3.0 "
                    "ocrmypdf==16.10.4 -d /tmp/corpora, then unpack them there")
    from pipeline.ingest import discover

    files, _ = discover(dirs)
    r = run_process(dirs, tmp_path / "ws", "-q", timeout=3600)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr[-3000:]
    shown = {row["source_file"] for row in pages_export(tmp_path / "ws")}
    # a file whose bytes are another's is read once, under the other's name
    sha = {f.source_file: hashlib.sha256(f.path.read_bytes()).hexdigest() for f in files}
    read = {sha[name] for name in shown if name in sha}
    missing = [f.source_file for f in files
               if f.source_file not in shown and sha[f.source_file] not in read]
    assert missing == [], f"{len(missing)} files not accounted for: {missing[:5]}"
    assert f"{len(files)} files" in r.stdout
    noise = [ln for ln in r.stderr.splitlines() if not ln.startswith("error: ")]
    assert noise == [], f"{len(noise)} lines of decoder noise, e.g. {noise[:3]}"


def test_corpus_builder_writes_real_files(tmp_path: Path) -> None:
    """The good files of the corpus are what they say they are (a test of the test)."""
    entries = build(tmp_path, a_page(), seed=0, variants=0)
    with Image.open(tmp_path / "good-pages.tif") as im:
        assert im.n_frames == 2
    assert {e.name for e in entries if e.good_pages} >= {"good-page.png", "mail-forwarded.eml"}

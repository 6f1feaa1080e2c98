"""Crashes, re-runs and the post room's worst: every input page ends up in the workspace once.

The batches here run `formscan process` as a real subprocess and kill it with
SIGKILL part-way, as the OOM killer or a pulled plug would, then run it again.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import tracemalloc
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfWriter

from pipeline.cli import main
from pipeline.ingest import Document
from pipeline.store import DB_NAME, Workspace
from tests.pages import FONT, bomb_png, filled_page, transform

pytestmark = pytest.mark.tesseract

BOLD = "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"
A4 = (3508, 2480)  # rows, columns at 300 dpi
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --- inputs ----------------------------------------------------------------------


def other_form() -> np.ndarray:
    """A form that is not ours: a title, labelled lines, tick boxes, a frame."""
    img = Image.new("L", A4[::-1], 252)
    d = ImageDraw.Draw(img)
    d.text((1240, 250), "DEMANDE DE CARTE DE BIBLIOTHÈQUE", font=ImageFont.truetype(BOLD, 80),
           fill=0, anchor="mm")
    font = ImageFont.truetype(FONT, 44)
    y = 500
    for label in ("Nom", "Prénom", "Date de naissance", "Adresse", "", "Ville", "Courriel"):
        d.text((200, y), label, font=font, fill=0, anchor="ls")
        d.line((700, y + 5, 2280, y + 5), fill=0, width=3)
        y += 160
    for i, option in enumerate(("Adulte", "Étudiant", "Enfant")):
        x = 200 + i * 700
        d.rectangle((x, y, x + 60, y + 60), outline=0, width=4)
        d.text((x + 90, y + 50), option, font=font, fill=0, anchor="ls")
    d.rectangle((200, y + 200, 2280, y + 900), outline=0, width=4)
    d.text((240, y + 270), "Cadre réservé à la bibliothèque", font=font, fill=0, anchor="ls")
    return np.asarray(img)


def blank_page(value: int = 250) -> np.ndarray:
    """A blank back at 150 dpi: as much a page as at 300, and quicker to decode."""
    return np.full((A4[0] // 2, A4[1] // 2), value, np.uint8)


def save_pdf(path: Path, pages: list[np.ndarray]) -> Path:
    imgs = [Image.fromarray(p) for p in pages]
    imgs[0].save(path, save_all=True, append_images=imgs[1:], resolution=300)
    return path


def flate_pdf(path: Path, images: list[np.ndarray], order: list[int], dpi: int = 300) -> Path:
    """A PDF whose every page has its own full-page grey image object (Flate).

    Nothing is shared between pages, so a reader that kept what it decoded
    would hold every page at once; written by hand so 500 pages take a second.
    """
    h, w = images[0].shape
    streams = [zlib.compress(np.ascontiguousarray(im).tobytes(), 6) for im in images]
    out = bytearray(b"%PDF-1.4\n")
    offsets: dict[int, int] = {}

    def obj(num: int, body: bytes) -> None:
        offsets[num] = len(out)
        out.extend(b"%d 0 obj\n" % num + body + b"\nendobj\n")

    n = len(order)
    wpt, hpt = w * 72 / dpi, h * 72 / dpi
    kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(n))
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, f"<< /Type /Pages /Count {n} /Kids [{kids}] >>".encode())
    content = f"q {wpt:.2f} 0 0 {hpt:.2f} 0 0 cm /Im0 Do Q".encode()
    for i, k in enumerate(order):
        page, cont, image = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i
        obj(page, (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {wpt:.2f} {hpt:.2f}] "
                   f"/Resources << /XObject << /Im0 {image} 0 R >> >> "
                   f"/Contents {cont} 0 R >>").encode())
        obj(cont, b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        obj(image, (f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} "
                    f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode "
                    f"/Length {len(streams[k])} >>\nstream\n").encode()
            + streams[k] + b"\nendstream")
    xref = len(out)
    total = 3 + 3 * n
    out.extend(f"xref\n0 {total}\n0000000000 65535 f \n".encode())
    out.extend(b"".join(b"%010d 00000 n \n" % offsets[i] for i in range(1, total)))
    out.extend(f"trailer\n<< /Size {total} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    path.write_bytes(bytes(out))
    return path


NON_UTF8 = os.fsdecode(b"Fran\xe7ois scan.png")  # a Latin-1 name, as from an old zip
NON_UTF8_SHOWN = "Fran\\xe7ois scan.png"


def post_room(d: Path, template) -> dict[tuple[str, int], str]:
    """A sprinkling of every bad input among good forms; returns the expected page kinds.

    Bad files fail with errors, pages that are not forms are `other` or `blank`,
    and the forms are read whatever their name or orientation.
    """
    d.mkdir(parents=True, exist_ok=True)
    form = filled_page(template)
    save_pdf(d / "lot du matin.pdf",
             [transform(form, angle=1), blank_page(), other_form(), blank_page(248)])
    cv2.imwrite(str(d / "Hélène Dupré – envoi n°2.jpg"), transform(form, angle=-3),
                [cv2.IMWRITE_JPEG_QUALITY, 80])
    Image.fromarray(transform(form, angle=2, upside_down=True)).save(d / "à l'envers.png")
    Image.fromarray(blank_page(247)).save(d / NON_UTF8)
    Image.fromarray(other_form()).save(d / "autre formulaire.png")
    Image.fromarray(blank_page()).save(d / "page blanche.png")
    (d / "dossier.pdf").mkdir()  # a folder named like a scan is just a folder
    Image.fromarray(blank_page(245)).save(d / "dossier.pdf" / "verso.png")

    (d / "vide.pdf").write_bytes(b"")
    good = save_pdf(d / "tmp.pdf", [blank_page(200)] * 2).read_bytes()
    (d / "tmp.pdf").unlink()
    (d / "tronqué.pdf").write_bytes(good[: len(good) // 3])
    w = PdfWriter()
    w.add_blank_page(595, 842)
    w.encrypt("secret")
    with (d / "protégé.pdf").open("wb") as f:
        w.write(f)
    with (d / "sans pages.pdf").open("wb") as f:
        PdfWriter().write(f)
    (d / "texte.png").write_text("hello, not an image")
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(d / "minuscule.png")
    bomb_png(d / "bombe.png")
    (d / "lien cassé.png").symlink_to(d / "parti ailleurs.png")  # unreadable: dangling link
    os.mkfifo(d / "tube.png")  # unreadable: opening it would wait for a writer forever
    (d / "notes.txt").write_text("not a scan, skipped")

    expected = {
        ("lot du matin.pdf", 1): "form",
        ("lot du matin.pdf", 2): "blank",
        ("lot du matin.pdf", 3): "other",
        ("lot du matin.pdf", 4): "blank",
        ("Hélène Dupré – envoi n°2.jpg", 1): "form",
        ("à l'envers.png", 1): "form",
        (NON_UTF8_SHOWN, 1): "blank",
        ("autre formulaire.png", 1): "other",
        ("page blanche.png", 1): "blank",
        ("dossier.pdf/verso.png", 1): "blank",
    }
    for bad in ("vide.pdf", "tronqué.pdf", "protégé.pdf", "sans pages.pdf", "texte.png",
                "minuscule.png", "bombe.png", "lien cassé.png", "tube.png"):
        expected[(bad, 1)] = "error"
    return expected


# --- running and killing the real command --------------------------------------------


def _env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "OMP_THREAD_LIMIT": "1"}


def _start(inputs: list[Path], ws: Path, *extra: str, capture: bool = False) -> subprocess.Popen:
    """`formscan process` in a subprocess; output only captured for runs that may finish.

    A run that is going to be killed writes nowhere: orphaned workers would hold a
    pipe open and the test would wait on it forever instead of failing.
    """
    cmd = [sys.executable, "-m", "pipeline", "process", *map(str, inputs), "-w", str(ws),
           "-j", "2", "-q", *extra]
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(cmd, stdout=out, stderr=out, env=_env(), text=True)


def _run(inputs: list[Path], ws: Path, *extra: str, timeout: float = 300) -> tuple[int, str]:
    p = _start(inputs, ws, *extra, capture=True)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError(f"formscan process still running after {timeout} s") from None
    return p.returncode, err


def _page_count(ws: Path) -> int:
    if not (ws / DB_NAME).exists():
        return 0
    try:
        with sqlite3.connect(ws / DB_NAME, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_when(p: subprocess.Popen, ws: Path, pages: int, timeout: float = 120) -> int:
    """SIGKILL the coordinator once `pages` pages are committed; its workers must go too."""
    deadline = time.monotonic() + timeout
    while (n := _page_count(ws)) < pages:
        assert p.poll() is None, f"the batch ended before {pages} pages were committed"
        assert time.monotonic() < deadline, "the batch is not making progress"
        time.sleep(0.02)
    workers = _children(p.pid)
    p.send_signal(signal.SIGKILL)
    assert p.wait(timeout=10) == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    orphans = [w for w in workers if _alive(w)]
    for w in orphans:  # do not leave them running after the test
        os.kill(w, signal.SIGKILL)
    assert not orphans, "workers outlived their killed coordinator"
    return n


def _pages_export(ws: Path) -> list[dict]:
    r = CliRunner().invoke(main, ["export", "pages", "-w", str(ws)], catch_exceptions=False)
    assert r.exit_code == 0
    return list(csv.DictReader(io.StringIO(r.stdout)))


def _check_workspace(ws: Path) -> None:
    """The database is sound and nothing is in it twice."""
    with sqlite3.connect(ws / DB_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("SELECT file_id, page FROM pages GROUP BY file_id, page "
                          "HAVING COUNT(*) > 1").fetchall() == []
        assert db.execute("SELECT page_id, field FROM fields GROUP BY page_id, field "
                          "HAVING COUNT(*) > 1").fetchall() == []
        assert db.execute("SELECT COUNT(*) FROM files WHERE state = 'pending'").fetchone()[0] == 0
        n_pages = dict(db.execute(
            "SELECT f.id, f.n_pages FROM files f WHERE f.n_pages IS NOT NULL").fetchall())
        for fid, n in n_pages.items():
            got = [r[0] for r in db.execute(
                "SELECT page FROM pages WHERE file_id = ? ORDER BY page", (fid,))]
            assert got == list(range(1, n + 1))


def _accounted(ws: Path) -> dict[tuple[str, int], str]:
    rows = _pages_export(ws)
    keys = [(r["source_file"], int(r["page"])) for r in rows]
    assert len(keys) == len(set(keys)), "a page is listed twice"
    for r in rows:
        if r["kind"] == "error":  # one line naming the file
            assert r["detail"].startswith(r["source_file"]) and "\n" not in r["detail"]
    return {(r["source_file"], int(r["page"])): r["kind"] for r in rows}


# --- crashes ---------------------------------------------------------------------------


def test_sigkill_mid_batch_then_rerun_finishes_the_rest(tmp_path: Path, template) -> None:
    form = transform(filled_page(template), angle=1)
    pages = [form if i % 5 == 0 else blank_page(250 - i) for i in range(10)]
    (tmp_path / "in").mkdir()
    save_pdf(tmp_path / "in" / "lot.pdf", pages)
    Image.fromarray(transform(form, angle=-2)).save(tmp_path / "in" / "photo.png")
    ws = tmp_path / "ws"

    killed_at = _kill_when(_start([tmp_path / "in"], ws), ws, pages=3)
    assert 3 <= killed_at < 11
    code, err = _run([tmp_path / "in"], ws)
    assert code == 0, err

    _check_workspace(ws)
    expected = {("lot.pdf", i + 1): "form" if i % 5 == 0 else "blank" for i in range(10)}
    expected[("photo.png", 1)] = "form"
    assert _accounted(ws) == expected
    with sqlite3.connect(ws / DB_NAME) as db:
        assert db.execute("SELECT COUNT(*) FROM fields").fetchone()[0] == 3 * 10


def _soak(tmp_path: Path, template, scans: Path | None = None,
          kill_at: tuple[float, float] = (0.0, 0.5)) -> None:
    """Run the post room's batch, kill it twice at different moments, then let it finish.

    `kill_at` gives the two moments as shares of the pages committed (0: as soon
    as the first few are in, while files are still being opened). The generated
    `scans`, if any, must all be read (form, blank or other: which is the reader's
    business), with every page listed once.
    """
    d = tmp_path / "courrier"
    expected = post_room(d, template)
    inputs = [d]
    generated: set[tuple[str, int]] = set()
    if scans is not None:
        inputs.append(scans)
        for truth in scans.glob("*.truth.json"):
            t = json.loads(truth.read_text())
            generated |= {(t["file"], p["page"]) for p in t["pages"]}
    total = len(expected) + len(generated)
    ws = tmp_path / "ws"

    first = _kill_when(_start(inputs, ws), ws, pages=max(3, int(kill_at[0] * total)))
    second = _kill_when(_start(inputs, ws), ws,
                        pages=min(max(first + 2, int(kill_at[1] * total)), total - 1))
    assert first < second < total
    code, err = _run(inputs, ws)

    assert code == 1, err  # the batch finished, and says that some inputs failed
    lines = [ANSI.sub("", ln) for ln in err.splitlines() if ln.strip()]
    assert all(ln.startswith("error: ") for ln in lines), err  # no stray warnings
    for (name, _), kind in expected.items():
        if kind == "error":  # each bad input named on one line of its own
            assert sum(name in ln for ln in lines) == 1, (name, err)
    _check_workspace(ws)
    got = _accounted(ws)
    assert set(got) == set(expected) | generated
    assert {k: got[k] for k in expected} == expected
    assert all(got[k] != "error" for k in generated)

    code, err = _run(inputs, ws)  # once more: nothing new, the same failures reported
    assert code == 1
    assert _accounted(ws) == got


def test_soak_bad_inputs_killed_twice_and_resumed(tmp_path: Path, template) -> None:
    _soak(tmp_path, template)


@pytest.mark.slow
def test_soak_with_generated_scans(tmp_path: Path, template) -> None:
    """The same with realistic generated mail mixed in (cover letters, e-mails, TIFFs)."""
    from pipeline.synth import generate

    generate(16, 2024, tmp_path / "synth")
    _soak(tmp_path, template, tmp_path / "synth", kill_at=(0.25, 0.7))


# --- re-runs -----------------------------------------------------------------------------


def _cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_a_reviewers_correction_survives_force(tmp_path: Path, template) -> None:
    from pipeline.review.queue import set_value

    d = tmp_path / "in"
    d.mkdir()
    Image.fromarray(transform(filled_page(template), angle=1)).save(d / "scan.png")
    ws = tmp_path / "ws"
    assert _cli("process", str(d), "-w", str(ws), "-j", "1", "-q")[0] == 0
    with Workspace(ws) as w:
        set_value(w, "scan.png", 1, "nom", "Durand-Dupont", "claire")
        set_value(w, "scan.png", 1, "participera", "non", "claire")
        before = w.db.execute("SELECT * FROM decisions ORDER BY id").fetchall()

    versions = []
    for force in ((), ("--force",)):
        code, out, _ = _cli("process", str(d), "-w", str(ws), "-j", "1", "-q", *force)
        assert code == 0
        with Workspace(ws) as w:
            rows = {r["field"]: r for r in w.db.execute("SELECT * FROM fields")}
            assert (rows["nom"]["value"], rows["nom"]["status"]) == ("Durand-Dupont", "corrected")
            assert rows["nom"]["machine_value"] == "Dupont"  # the machine's reading, kept apart
            assert (rows["participera"]["value"], rows["participera"]["status"]) == (
                "non", "corrected")
            versions.append(rows["prenom"]["version"])
            assert w.db.execute("SELECT * FROM decisions ORDER BY id").fetchall() == before
    assert "1 pages: 1 forms" in out  # --force did read it again...
    assert versions[1] == versions[0] + 1  # ...and updated the fields nobody decided

    _, out, _ = _cli("export", "attendees", "-w", str(ws))
    (row,) = csv.DictReader(io.StringIO(out))
    assert (row["nom"], row["participera"]) == ("Durand-Dupont", "non")


def test_a_file_changed_in_place_is_read_as_new(tmp_path: Path, template) -> None:
    d = tmp_path / "in"
    d.mkdir()
    scan = d / "scan.png"
    Image.fromarray(blank_page()).save(scan)
    ws = tmp_path / "ws"
    _cli("process", str(d), "-w", str(ws), "-j", "1", "-q")
    Image.fromarray(transform(filled_page(template), angle=1)).save(scan)  # re-scanned, same name
    code, out, _ = _cli("process", str(d), "-w", str(ws), "-j", "1", "-q")
    assert code == 0 and "1 files (0 already done, 0 failed), 1 pages: 1 forms" in out
    with Workspace(ws) as w:
        kinds = [r["kind"] for r in w.page_rows()]
    assert sorted(kinds) == ["blank", "form"]  # the earlier version stays on record


def test_the_same_content_twice_in_a_batch_is_read_once(tmp_path: Path, template) -> None:
    d = tmp_path / "in"
    d.mkdir()
    page = transform(filled_page(template), angle=1)
    Image.fromarray(page).save(d / "a.png")
    Image.fromarray(page).save(d / "a (copie).png")
    code, out, _ = _cli("process", str(d), "-w", str(tmp_path / "ws"), "-j", "2", "-q")
    assert code == 0
    assert "2 files (1 already done, 0 failed), 1 pages: 1 forms" in out
    assert [(r["source_file"], r["kind"]) for r in _pages_export(tmp_path / "ws")] == [
        ("a (copie).png", "form")]


def test_a_file_readable_again_replaces_its_error(tmp_path: Path, template) -> None:
    d = tmp_path / "in"
    d.mkdir()
    target = tmp_path / "elsewhere.png"
    (d / "scan.png").symlink_to(target)
    ws = tmp_path / "ws"
    code, _, err = _cli("process", str(d), "-w", str(ws), "-j", "1", "-q")
    assert code == 1 and "scan.png: cannot read file (No such file or directory)" in err
    Image.fromarray(blank_page()).save(target)  # the share is mounted again
    assert _cli("process", str(d), "-w", str(ws), "-j", "1", "-q")[0] == 0
    assert [(r["source_file"], r["kind"]) for r in _pages_export(ws)] == [("scan.png", "blank")]


def test_odd_files_fail_alone_without_hanging(tmp_path: Path) -> None:
    """A FIFO and a name that is not UTF-8: one error line, and the batch goes on."""
    d = tmp_path / "in"
    d.mkdir()
    os.mkfifo(d / "tube.png")
    Image.fromarray(blank_page()).save(d / NON_UTF8)
    code, err = _run([d], tmp_path / "ws", timeout=60)
    assert code == 1
    assert "tube.png: not a file that can be read as a scan (a named pipe (FIFO))" in err
    assert _accounted(tmp_path / "ws") == {(NON_UTF8_SHOWN, 1): "blank", ("tube.png", 1): "error"}


# --- big files ---------------------------------------------------------------------------


def test_pdf_pages_are_decoded_without_keeping_earlier_ones(tmp_path: Path) -> None:
    """Decoding page after page of a PDF holds one page, not all the pages seen so far."""
    page = np.full((1754, 1240), 250, np.uint8)  # A4 at 150 dpi: 2.2 MB decoded
    pdf = flate_pdf(tmp_path / "lot.pdf", [page], [0] * 60, dpi=150)
    doc = Document(pdf, "lot.pdf")
    tracemalloc.start()
    try:
        for i in range(doc.n_pages):
            doc.page(i)
        gc.collect()  # what is merely waiting for the collector is not held
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 5 * page.nbytes, f"{held / 1e6:.0f} MB still held after 60 pages"


@pytest.mark.slow
def test_a_500_page_pdf_is_processed_in_bounded_memory(tmp_path: Path, template) -> None:
    pdf = flate_pdf(tmp_path / "gros lot.pdf", [filled_page(template), blank_page()],
                    [0 if i % 25 == 0 else 1 for i in range(500)])
    ws = tmp_path / "ws"
    probe = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:])\n"
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    cmd = [sys.executable, "-c", probe, sys.executable, "-m", "pipeline", "process", str(pdf),
           "-w", str(ws), "-j", "2", "-q"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=_env())
    peak_total = 0  # the coordinator and its workers together, sampled
    while p.poll() is None:
        rss = 0
        coordinators = _children(p.pid)
        for pid in coordinators | {w for c in coordinators for w in _children(c)}:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            rss += next((int(ln.split()[1]) for ln in status.splitlines()
                         if ln.startswith("VmRSS:")), 0)
        peak_total = max(peak_total, rss * 1024)
        time.sleep(0.2)
    out, err = p.communicate()
    code, maxrss_kb = map(int, out.split()[-2:])
    assert code == 0, err
    all_pages = 500 * A4[0] * A4[1]  # 4.35 GB: every page decoded at once
    assert maxrss_kb * 1024 < 600e6, f"one process peaked at {maxrss_kb / 1024:.0f} MB"
    assert peak_total < all_pages / 4, f"the batch peaked at {peak_total / 1e6:.0f} MB"
    got = _accounted(ws)
    assert len(got) == 500
    assert sum(k == "form" for k in got.values()) == 20

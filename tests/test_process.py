"""Batches end to end through the CLI: accounting, re-runs, resume, exports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from pipeline.cli import main
from pipeline.export import ATTENDEE_COLUMNS, FIELD_COLUMNS, PAGE_COLUMNS
from pipeline.store import Workspace
from tests.pages import filled_page, transform

pytestmark = pytest.mark.tesseract


@pytest.fixture(scope="module")
def batch(tmp_path_factory, template) -> Path:
    """A small post-room batch: a PDF with a form and its blank back, a photo, junk."""
    d = tmp_path_factory.mktemp("mail")
    form = transform(filled_page(template), angle=2)
    back = np.full_like(form, 248)
    Image.fromarray(form).save(d / "lot du matin.pdf", save_all=True,
                               append_images=[Image.fromarray(back)], resolution=300)
    other = filled_page(template, {"nom": "Martin", "prenom": "Paul"},
                        {"agent_collectivite": "non", "participera": "oui"})
    cv2.imwrite(str(d / "Hélène envoi 2.jpg"), transform(other, angle=-4, upside_down=True),
                [cv2.IMWRITE_JPEG_QUALITY, 70])
    (d / "vide.png").write_bytes(b"")
    (d / "readme.txt").write_text("not a scan")
    return d


def _run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_batch_is_fully_accounted_for(batch: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    code, out, err = _run("process", str(batch), "-w", str(ws), "-j", "1", "-q")
    assert code == 1  # one input failed, and the exit status says so
    assert "vide.png: empty file (0 bytes)" in err
    assert "3 files" in out and "2 forms, 1 blank" in out

    _, out, _ = _run("export", "pages", "-w", str(ws))
    pages = _csv(out)
    assert list(pages[0]) == PAGE_COLUMNS
    got = {(p["source_file"], p["page"]): p["kind"] for p in pages}
    assert got == {
        ("lot du matin.pdf", "1"): "form",
        ("lot du matin.pdf", "2"): "blank",
        ("Hélène envoi 2.jpg", "1"): "form",
        ("vide.png", "1"): "error",
    }

    code, out, err = _run("export", "attendees", "-w", str(ws))
    rows = _csv(out)
    assert list(rows[0]) == ATTENDEE_COLUMNS
    by_file = {r["source_file"]: r for r in rows}
    assert by_file["lot du matin.pdf"]["nom"] == "Dupont"
    assert by_file["lot du matin.pdf"]["telephone"] == "04 73 38 99 12"
    assert by_file["lot du matin.pdf"]["code_postal"] == "63200"
    assert by_file["lot du matin.pdf"]["commune"] == "Riom"
    assert by_file["Hélène envoi 2.jpg"]["nom"] == "Martin"  # read upside down
    assert by_file["Hélène envoi 2.jpg"]["agent_collectivite"] == "non"
    assert "lunches:" in err and "amount to collect" in err

    _, out, _ = _run("export", "fields", "-w", str(ws))
    fields = _csv(out)
    assert list(fields[0]) == FIELD_COLUMNS
    assert len(fields) == 2 * 10


def test_rerun_adds_nothing_and_force_rereads(batch: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _run("process", str(batch), "-w", str(ws), "-j", "1", "-q")
    with Workspace(ws) as w:
        before = w.db.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
        fields_before = w.db.execute("SELECT COUNT(*) FROM fields").fetchone()[0]
    _, out, _ = _run("process", str(batch), "-w", str(ws), "-j", "1", "-q")
    assert "2 already done, 1 failed" in out and "1 pages: 0 forms" in out  # bad one retried
    _, out, _ = _run("process", str(batch), "-w", str(ws), "-j", "1", "-q", "--force")
    assert "4 pages: 2 forms, 1 blank, 0 other, 1 failed" in out
    with Workspace(ws) as w:
        assert w.db.execute("SELECT COUNT(*) FROM pages").fetchone()[0] == before
        assert w.db.execute("SELECT COUNT(*) FROM fields").fetchone()[0] == fields_before


def test_a_changed_file_is_new_and_an_interrupted_file_resumes(batch, tmp_path, template):
    ws_dir = tmp_path / "ws"
    d = tmp_path / "in"
    d.mkdir()
    page = transform(filled_page(template), angle=1)
    blank = np.full_like(page, 250)
    pdf = d / "lot.pdf"
    Image.fromarray(page).save(pdf, save_all=True, append_images=[Image.fromarray(blank)] * 2)
    _run("process", str(d), "-w", str(ws_dir), "-j", "1", "-q")
    with Workspace(ws_dir) as w:
        # Simulate a crash after page 1: forget pages 2-3 and mark the file unfinished.
        w.db.execute("DELETE FROM pages WHERE page > 1")
        w.db.execute("UPDATE files SET state='pending'")
    _, out, _ = _run("process", str(d), "-w", str(ws_dir), "-j", "1", "-q")
    assert "2 pages: 0 forms, 2 blank" in out
    with Workspace(ws_dir) as w:
        rows = w.db.execute("SELECT page, kind FROM pages ORDER BY page").fetchall()
        assert [tuple(r) for r in rows] == [(1, "form"), (2, "blank"), (3, "blank")]
        assert w.db.execute("SELECT state FROM files").fetchone()[0] == "done"

    cv2.imwrite(str(d / "lot.png"), transform(filled_page(template), angle=-2))  # new content
    _, out, _ = _run("process", str(d), "-w", str(ws_dir), "-j", "1", "-q")
    assert "1 pages: 1 forms" in out


def test_parallel_workers_give_the_same_results(batch: Path, tmp_path: Path) -> None:
    _run("process", str(batch), "-w", str(tmp_path / "a"), "-j", "1", "-q")
    _run("process", str(batch), "-w", str(tmp_path / "b"), "-j", "2", "-q")
    a = _run("export", "fields", "-w", str(tmp_path / "a"))[1]
    b = _run("export", "fields", "-w", str(tmp_path / "b"))[1]
    assert a == b


def test_excel_export_is_semicolon_bom_and_formula_safe(batch: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _run("process", str(batch), "-w", str(ws), "-j", "1", "-q")
    with Workspace(ws) as w:
        w.db.execute("UPDATE fields SET value='=HYPERLINK(\"x\")' WHERE field='fonction'")
    out = tmp_path / "attendees.csv"
    _run("export", "attendees", "-w", str(ws), "-o", str(out), "--excel")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("source_file;page;nom")
    assert "'=HYPERLINK" in text


def test_missing_workspace_is_a_clear_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["export", "pages", "-w", str(tmp_path / "nope")])
    assert r.exit_code == 4
    assert "no formscan workspace here" in r.stderr


def test_every_text_field_keeps_a_picture_of_its_area_for_reviewers(batch: Path,
                                                                      tmp_path: Path) -> None:
    from pipeline.reader import FIELD_VIEW_DPI

    ws = tmp_path / "ws"
    _run("process", str(batch), "-w", str(ws), "-j", "1", "-q")
    with Workspace(ws) as w:
        rows = [r for r in w.field_rows() if r["field"] in ("nom", "adresse")]
    assert rows
    for r in rows:
        img = cv2.imread(str(ws / r["image"]), cv2.IMREAD_UNCHANGED)
        assert img is not None and img.ndim == 2
        # the area at the reviewers' resolution: about 8 mm a line, with a margin
        lines = 2 if r["field"] == "adresse" else 1
        assert 0.8 * lines * 8 / 25.4 * FIELD_VIEW_DPI < img.shape[0] < 30 / 25.4 * FIELD_VIEW_DPI

"""`formscan purge`: finished, exported batches lose their images and personal data only."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from pipeline.cli import main
from pipeline.review.queue import decide, get_field, set_value
from pipeline.store import DB_NAME, IMAGES_DIR, Workspace
from tests.pages import filled_page, transform

pytestmark = pytest.mark.tesseract

PERSONAL = (b"Dupont", b"ville-riom", b"Gilbert Romme", b"38 99 12", b"Durand")


def _cli(*args: str, input: str | None = None) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return r.exit_code, r.stdout + r.stderr


@pytest.fixture(scope="module")
def processed(tmp_path_factory, template) -> Path:
    """Three batches: a form; a form and its blank back; the first form's pixels again."""
    root = tmp_path_factory.mktemp("purge")
    page = transform(filled_page(template), angle=1)
    for batch, name, pages in (("lundi", "lundi.png", [page]),
                               ("mardi", "mardi.pdf", [transform(page, angle=0.5, seed=3),
                                                       np.full_like(page, 250)]),
                               ("mercredi", "mercredi.tif", [page])):
        d = root / batch
        d.mkdir()
        imgs = [Image.fromarray(p) for p in pages]
        imgs[0].save(d / name, save_all=len(imgs) > 1, append_images=imgs[1:])
        code, out = _cli("process", str(d), "-w", str(root / "ws"), "-j", "1", "-q",
                         "--batch", batch)
        assert code == 0, out
    return root / "ws"


@pytest.fixture
def ws(processed: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(processed, tmp_path / "ws"))


def _review_all(ws: Path, batch: str) -> None:
    """A reviewer settles every doubtful field of `batch`, keeping the machine's value."""
    with Workspace(ws) as w:
        ids = [r[0] for r in w.db.execute(
            "SELECT f.id FROM fields f JOIN pages p ON p.id = f.page_id "
            "JOIN files fi ON fi.id = p.file_id WHERE fi.batch = ? AND f.status = 'review'",
            (batch,))]
        for fid in ids:
            f = get_field(w, fid)
            decide(w, fid, "claire", f.value, f.version, override=True)


def _processed_long_ago(ws: Path) -> None:
    with Workspace(ws) as w:
        w.db.execute("UPDATE files SET done_at = '2020-01-06T09:00:00+00:00'")


def _image_files(ws: Path) -> set[Path]:
    return {p for p in (ws / IMAGES_DIR).rglob("*") if p.is_file()}


def _pages(ws: Path) -> str:
    return _cli("export", "pages", "-w", str(ws))[1]


def test_purge_removes_images_and_personal_data_once_exported(ws: Path) -> None:
    for batch in ("lundi", "mardi", "mercredi"):
        _review_all(ws, batch)
    with Workspace(ws) as w:
        set_value(w, "lundi.png", 1, "nom", "Durand", "claire")
    _processed_long_ago(ws)
    pages_before = _pages(ws)
    summary_before = _cli("export", "summary", "-w", str(ws))[1]
    images_before = _image_files(ws)
    assert images_before
    outside = ws.parent / "not ours.txt"
    outside.write_text("keep me")
    with Workspace(ws) as w:  # a row pointing outside the images folder is never followed
        w.db.execute("UPDATE pages SET image = '../not ours.txt' WHERE kind = 'blank'")

    code, out = _cli("purge", "-w", str(ws), "--yes")
    assert code == 0
    assert "nothing to purge" in out
    assert "not exported since its last change" in out

    assert _cli("export", "attendees", "-w", str(ws))[0] == 0
    code, out = _cli("purge", "-w", str(ws), "--dry-run")
    assert code == 0 and "would remove: batch 'lundi'" in out and "dry run" in out
    assert _image_files(ws) == images_before  # a dry run changes nothing

    code, out = _cli("purge", "-w", str(ws), "--yes")
    assert code == 0, out
    assert "purged batch 'lundi': 1 files, 1 pages; " in out
    assert "purged batch 'mardi': 1 files, 2 pages; " in out
    assert "removed: 3 batches, 3 files, " in out and "7 fields" in out
    assert _image_files(ws) == set() and outside.exists()

    with Workspace(ws) as w:
        fields = {(r["source_file"], r["field"]): r for r in w.db.execute(
            "SELECT fi.source_file, f.* FROM fields f JOIN pages p ON p.id = f.page_id "
            "JOIN files fi ON fi.id = p.file_id")}
        decisions = w.db.execute("SELECT old_value, new_value FROM decisions "
                                 "WHERE field_id = ?", (fields["lundi.png", "nom"]["id"],))
        assert [tuple(d) for d in decisions] == [("", "")]
        assert w.db.execute("SELECT COUNT(*) FROM purges").fetchone()[0] == 3
    nom = fields["lundi.png", "nom"]
    assert (nom["raw"], nom["machine_value"], nom["value"], nom["image"]) == ("", "", "", None)
    assert nom["status"] == "corrected"  # what happened stays; what was written goes
    assert fields["lundi.png", "dejeunera"]["value"] == "non"  # answers kept for the counts
    assert _pages(ws) == pages_before  # every page still accounted for
    after = _cli("export", "summary", "-w", str(ws))[1]
    assert [ln for ln in after.splitlines() if "lunches" in ln or "forms" in ln] == [
        ln for ln in summary_before.splitlines() if "lunches" in ln or "forms" in ln]

    stored = b"".join(p.read_bytes() for p in ws.glob(DB_NAME + "*"))
    for word in PERSONAL:  # overwritten in the file, not just unlinked from the tables
        assert word not in stored, word

    code, out = _cli("purge", "-w", str(ws), "--yes")
    assert code == 0 and "nothing to purge" in out


def test_unfinished_or_recent_batches_are_kept(ws: Path) -> None:
    _review_all(ws, "lundi")  # whatever the reader left doubtful; one field is reopened below
    _review_all(ws, "mardi")
    _review_all(ws, "mercredi")
    _processed_long_ago(ws)
    with Workspace(ws) as w:
        w.db.execute("UPDATE files SET done_at = '2031-01-01T09:00:00+00:00' "
                     "WHERE batch = 'mercredi'")
        w.db.execute("UPDATE fields SET status = 'review' WHERE field = 'nom' AND page_id IN "
                     "(SELECT p.id FROM pages p JOIN files fi ON fi.id = p.file_id "
                     "WHERE fi.batch = 'lundi')")
    _cli("export", "attendees", "-w", str(ws))
    with Workspace(ws) as w:  # a decision after the export: not exported yet
        set_value(w, "mardi.pdf", 1, "prenom", "Héloïse", "claire")

    code, out = _cli("purge", "-w", str(ws), "--yes", "--before", "2030-12-31")
    assert code == 0
    assert "kept batch 'lundi': 1 fields still to review" in out
    assert "kept batch 'mardi': not exported since its last change" in out
    assert "kept batch 'mercredi': processed on or after 2030-12-31" in out
    assert "nothing to purge" in out

    _cli("export", "attendees", "-w", str(ws))
    code, out = _cli("purge", "-w", str(ws), "--yes", "--before", "2030-12-31")
    assert "purged batch 'mardi'" in out and "removed: 1 batches" in out
    with Workspace(ws) as w:
        kept = w.db.execute("SELECT value FROM fields f JOIN pages p ON p.id = f.page_id "
                            "JOIN files fi ON fi.id = p.file_id "
                            "WHERE fi.batch = 'mercredi' AND f.field = 'nom'").fetchone()[0]
    assert kept == "Dupont"


def test_a_page_shared_with_a_kept_batch_keeps_its_images(ws: Path) -> None:
    """lundi.png and mercredi.tif are the same pixels: their images are one folder."""
    _review_all(ws, "lundi")
    _processed_long_ago(ws)
    with Workspace(ws) as w:  # mercredi still has a field to review
        w.db.execute("UPDATE fields SET status = 'review' WHERE field = 'nom' AND page_id IN "
                     "(SELECT p.id FROM pages p JOIN files fi ON fi.id = p.file_id "
                     "WHERE fi.batch = 'mercredi')")
    _cli("export", "attendees", "-w", str(ws))
    with Workspace(ws) as w:
        shared = w.db.execute("SELECT p.image FROM pages p JOIN files fi ON fi.id = p.file_id "
                              "WHERE fi.batch = 'mercredi'").fetchone()[0]
    code, out = _cli("purge", "-w", str(ws), "--yes")
    assert code == 0
    assert "purged batch 'lundi': 1 files, 1 pages; 0 images" in out
    assert (ws / shared).is_file()


def test_purge_asks_before_removing(ws: Path) -> None:
    for batch in ("lundi", "mardi", "mercredi"):
        _review_all(ws, batch)
    _processed_long_ago(ws)
    _cli("export", "attendees", "-w", str(ws))
    before = _image_files(ws)
    code, out = _cli("purge", "-w", str(ws), input="n\n")
    assert code == 1 and "Purge 3 batches" in out and "Aborted" in out
    assert _image_files(ws) == before
    code, out = _cli("purge", "-w", str(ws), input="y\n")
    assert code == 0 and "removed: 3 batches" in out


def test_purge_needs_an_existing_workspace(tmp_path: Path) -> None:
    code, out = _cli("purge", "-w", str(tmp_path / "nope"), "--yes")
    assert code == 4 and "no formscan workspace here" in out

"""Whatever the post room feeds in: every page is read or reported, with file and page named."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfWriter

from pipeline.errors import InputError
from pipeline.ingest import Document, discover
from tests.pages import bomb_png


def _png(path: Path, w: int = 400, h: int = 600, value: int = 255) -> Path:
    Image.fromarray(np.full((h, w), value, np.uint8)).save(path)
    return path


def _pdf(path: Path, pages: int = 2) -> Path:
    imgs = [Image.fromarray(np.full((700, 500), 200 + i, np.uint8)) for i in range(pages)]
    imgs[0].save(path, save_all=True, append_images=imgs[1:], resolution=150)
    return path


def _write(path: Path, data: bytes | str) -> Path:
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def _error(path: Path) -> str:
    with pytest.raises(InputError) as exc:
        doc = Document(path, path.name)
        list(doc.pages())
    return str(exc.value)


def test_pdf_tiff_png_jpeg_pages(tmp_path: Path) -> None:
    pdf = _pdf(tmp_path / "batch.pdf", 3)
    doc = Document(pdf, "batch.pdf")
    assert doc.n_pages == 3
    pages = list(doc.pages())
    assert [p.ref.page for p in pages] == [1, 2, 3]
    assert len({p.sha256 for p in pages}) == 3
    assert abs(pages[0].dpi - 150) < 1  # the scanner's own image, taken as is

    tif = tmp_path / "scan.tiff"
    frames = [Image.fromarray(np.full((500, 400), v, np.uint8)) for v in (10, 128, 250)]
    frames[0].save(tif, save_all=True, append_images=frames[1:])
    assert [int(p.image.mean()) for p in Document(tif, "scan.tiff").pages()] == [10, 128, 250]

    jpg = tmp_path / "photo.jpg"
    img = Image.fromarray(np.zeros((300, 500, 3), np.uint8))
    exif = img.getexif()
    exif[0x0112] = 6  # camera held sideways: rotate 90° to view
    img.save(jpg, exif=exif)
    (page,) = Document(jpg, "photo.jpg").pages()
    assert page.image.shape == (500, 300)  # EXIF orientation honoured


def test_eml_attachments_become_pages(tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["Subject"] = "Inscription séminaire"
    msg.set_content("Bonjour, voici mon inscription.")
    msg.add_attachment(_pdf(tmp_path / "a.pdf", 2).read_bytes(), maintype="application",
                       subtype="pdf", filename="inscription.pdf")
    msg.add_attachment(_png(tmp_path / "b.png").read_bytes(), maintype="image", subtype="png",
                       filename="photo.png")
    eml = tmp_path / "mail.eml"
    eml.write_bytes(msg.as_bytes())
    doc = Document(eml, "mail.eml")
    assert doc.n_pages == 3
    assert [p.ref.page for p in doc.pages()] == [1, 2, 3]

    bare = EmailMessage()
    bare.set_content("no attachment")
    eml.write_bytes(bare.as_bytes())
    assert "mail.eml: the e-mail has no PDF or image attachment" in _error(eml)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: _write(p.with_suffix(".png"), b""), "empty file (0 bytes)"),
        (lambda p: _write(p.with_suffix(".pdf"), b""), "empty file (0 bytes)"),
        (lambda p: _write(p.with_suffix(".png"), "hello, not an image"),
         "not an image PIL can read"),
        (lambda p: _png(p.with_suffix(".png"), 1, 1), "too small to be a page"),
        (lambda p: bomb_png(p.with_suffix(".png")), "decompression bomb"),
        (lambda p: _write(p.with_suffix(".pdf"), "just text"), "not a PDF"),
    ],
    ids=["empty png", "empty pdf", "text named png", "1x1 image", "bomb", "text named pdf"],
)
def test_bad_files_fail_with_one_clear_line(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path / "bad")
    msg = _error(path)
    assert message in msg
    assert msg.startswith(path.name)
    assert "\n" not in msg


def test_truncated_encrypted_and_empty_pdfs(tmp_path: Path) -> None:
    good = _pdf(tmp_path / "good.pdf", 2).read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(good[: len(good) // 3])
    assert "cut.pdf" in _error(cut)

    w = PdfWriter()
    w.add_blank_page(595, 842)
    w.encrypt("secret")
    enc = tmp_path / "locked.pdf"
    with enc.open("wb") as f:
        w.write(f)
    assert "encrypted with a password" in _error(enc)

    empty = tmp_path / "nopages.pdf"
    with empty.open("wb") as f:
        PdfWriter().write(f)
    assert "the PDF has no pages" in _error(empty)


def test_discover_walks_folders_and_skips_non_scans(tmp_path: Path) -> None:
    (tmp_path / "lot 1" / "sous-dossier").mkdir(parents=True)
    _png(tmp_path / "lot 1" / "Hélène Dupré.png")
    _pdf(tmp_path / "lot 1" / "sous-dossier" / "scan 2.pdf")
    (tmp_path / "lot 1" / "notes.txt").write_text("x")
    (tmp_path / "lot 1" / ".hidden.png").write_bytes(b"")
    files, skipped = discover([tmp_path / "lot 1"])
    assert [f.source_file for f in files] == ["Hélène Dupré.png", "sous-dossier/scan 2.pdf"]
    assert [p.name for p in skipped] == ["notes.txt"]

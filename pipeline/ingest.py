"""Turn what the post room feeds us (files, folders, PDFs, TIFFs, photos, e-mails) into pages.

Pages are counted first and decoded one at a time, so a 500-page PDF never sits
in memory whole, and a page that cannot be decoded fails alone.
"""

from __future__ import annotations

import ctypes
import email
import email.policy
import hashlib
import io
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import InputError
from pipeline.models import PageImage, PageRef

PDF_EXT = {".pdf"}
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}
EML_EXT = {".eml"}
SCAN_EXT = PDF_EXT | IMAGE_EXT | EML_EXT
PDF_DPI = 300
MAX_PIXELS = 80_000_000  # an A4 page at 1200 dpi is 140 M; at 600 dpi 35 M
MIN_SIDE = 200  # px: anything smaller is not a page
MAX_RENDER_LONG_SIDE = 3600  # px: the long side of A4 at ~300 dpi
MAX_PAGES_PER_FILE = 2000  # a file claiming more pages or frames is refused, not read

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# pypdf logs what it repairs ("EOF marker not found") through logging's last-resort
# stderr handler: stray lines between the one-line errors. What matters is in the
# InputError; an application that configures logging still gets pypdf's records.
logging.getLogger("pypdf").addHandler(logging.NullHandler())
logging.getLogger("PIL").addHandler(logging.NullHandler())  # "More samples per pixel than..."


def _quiet_libtiff() -> None:
    """Stop libtiff printing its warnings and errors straight to the terminal.

    libtiff writes "Unknown field with tag ..." or "Invalid Read at loc ..." to stderr
    from C, dozens of lines for one odd TIFF, between formscan's one-line errors. A
    real failure still reaches us as Pillow's exception, which names the file and page.
    """
    try:
        from PIL import _imaging

        lib = ctypes.CDLL(_imaging.__file__)  # dlsym also searches the libtiff it links
        for name in ("TIFFSetWarningHandler", "TIFFSetErrorHandler"):
            setter = getattr(lib, name)
            setter.restype = ctypes.c_void_p
            setter.argtypes = [ctypes.c_void_p]
            setter(None)
    except (OSError, AttributeError, ImportError):
        pass  # a Pillow without libtiff, or a platform without dlsym: only noisier


_quiet_libtiff()


@dataclass(frozen=True)
class InputFile:
    path: Path  # absolute
    source_file: str  # as shown to users: relative to the folder given, or the file name


def printable(path: str | Path) -> str:
    r"""A file name as text that can be shown and stored.

    Names that are not UTF-8 (from an old Windows zip, say) arrive with lone
    surrogates that SQLite and the terminal refuse; their odd bytes become
    visible escapes (H\xe9l\xe8ne.png) that still tell the user which file it is.
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def discover(inputs: list[Path]) -> tuple[list[InputFile], list[Path]]:
    """Files to read, in a stable order, and files skipped in folders (not scans).

    A file named on the command line is always read (and fails loudly if it is
    not a scan); inside folders, only files with a scan's extension are taken.
    """
    found: list[InputFile] = []
    skipped: list[Path] = []
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            for p in sorted(item.rglob("*")):
                if p.is_dir() or any(part.startswith(".") for part in p.relative_to(item).parts):
                    continue
                if p.suffix.lower() in SCAN_EXT:
                    found.append(
                        InputFile(p.resolve(), printable(p.relative_to(item).as_posix()))
                    )
                else:
                    skipped.append(p)
        else:
            found.append(InputFile(item.resolve(), printable(item.name)))
    seen: set[Path] = set()
    unique = []
    for f in found:
        if f.path not in seen:
            seen.add(f.path)
            unique.append(f)
    return unique, skipped


def _kind(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in PDF_EXT:
        return "pdf"
    if ext in EML_EXT:
        return "eml"
    return "image"


# --- PDF -----------------------------------------------------------------------


def _pdf_reader(data: bytes, name: str):
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data:
        raise InputError(f"{name}: empty file (0 bytes)")
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise InputError(f"{name}: not a PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise InputError(
                    f"{name}: the PDF is encrypted with a password; "
                    "save an unprotected copy (e.g. qpdf --decrypt) and add that instead"
                )
        n = len(reader.pages)
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{name}: corrupt or truncated PDF ({_reason(exc)})") from None
    except Exception as exc:  # RecursionError on a looping page tree, and the like
        raise InputError(f"{name}: corrupt PDF ({type(exc).__name__}: {_reason(exc)})") from None
    if n == 0:
        raise InputError(f"{name}: the PDF has no pages")
    if n > MAX_PAGES_PER_FILE:
        raise InputError(f"{name}: the PDF has {n} pages; at most {MAX_PAGES_PER_FILE} are "
                         "read from one file (split it, e.g. with qpdf --split-pages)")
    return reader


def _pdf_embedded_scan(reader, index: int) -> Image.Image | None:
    """The scanner's own image when a page is just one full-page picture (fast, lossless)."""
    page = reader.pages[index]
    try:
        resources = page.get("/Resources") or {}
        if "/Font" in resources:
            return None
        img = _pdf_jpeg(resources)
        if img is None:
            images = page.images
            if len(images) != 1:
                return None
            img = images[0].image
    except Exception:
        return None
    if img is None or min(img.size) < MIN_SIDE or img.size[0] * img.size[1] > MAX_PIXELS:
        return None
    w_pt = float(page.mediabox.width)
    dpi = img.size[0] / (w_pt / 72.0) if w_pt else 300.0
    img.info["dpi"] = (dpi, dpi)
    return img


def _pdf_jpeg(resources) -> Image.Image | None:
    """A page's only image when it is a plain JPEG: decoded straight to grey, no round trip.

    pypdf would decode it to colour pixels and hand them over as a new image; the
    JPEG decoder can produce the grey channel directly, several times faster.
    """
    xobjects = resources.get("/XObject")
    if xobjects is None:
        return None
    objs = [o.get_object() for o in xobjects.get_object().values()]
    imgs = [o for o in objs if o.get("/Subtype") == "/Image"]
    if len(imgs) != 1 or len(objs) != 1:
        return None
    x = imgs[0]
    filters = x.get("/Filter")
    filters = list(filters) if isinstance(filters, list) else [filters]
    if filters != ["/DCTDecode"] or x.get("/ColorSpace") not in ("/DeviceGray", "/DeviceRGB"):
        return None
    raw = getattr(x, "_data", None)
    if not raw:
        return None
    img = Image.open(io.BytesIO(raw))
    img.draft("L", img.size)
    return img


def _render_dpi(reader, index: int) -> float:
    """300 dpi for an A4-sized page; less for a poster-sized one, so memory stays bounded."""
    box = reader.pages[index].mediabox
    long_in = max(float(box.width), float(box.height)) / 72.0
    return min(PDF_DPI, MAX_RENDER_LONG_SIDE / long_in) if long_in > 0 else PDF_DPI


def _pdf_render(data: bytes, index: int, name: str, dpi: float = PDF_DPI) -> Image.Image:
    from pdf2image import convert_from_bytes
    from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError

    try:
        pages = convert_from_bytes(
            data, dpi=dpi, first_page=index + 1, last_page=index + 1, grayscale=True,
            timeout=120,
        )
    except (PDFPageCountError, PDFSyntaxError) as exc:
        raise InputError(f"{name} page {index + 1}: cannot render PDF page ({exc})") from None
    if not pages:
        raise InputError(f"{name} page {index + 1}: the PDF renderer returned nothing")
    img = pages[0]
    img.info["dpi"] = (dpi, dpi)
    return img


# --- images -----------------------------------------------------------------------


def _open_image(data: bytes, name: str) -> Image.Image:
    if not data:
        raise InputError(f"{name}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's "Tag data larger than file" and such
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise InputError(
                    f"{name}: image claims {w} x {h} pixels, more than any scanned page "
                    "(refused as a possible decompression bomb)"
                )
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(
            f"{name}: image too large (refused as a possible decompression bomb)"
        ) from None
    except UnidentifiedImageError:
        raise InputError(
            f"{name}: not an image PIL can read (wrong extension or corrupt)"
        ) from None
    except InputError:
        raise
    except Exception as exc:  # Pillow raises OSError, ValueError, TypeError, SyntaxError...
        raise InputError(f"{name}: cannot read image ({_reason(exc)})") from None
    return img


def _image_frames(img: Image.Image, name: str) -> int:
    """How many frames a TIFF, GIF or WebP holds; counting them decodes every header."""
    try:
        n = int(getattr(img, "n_frames", 1) or 1)
    except Exception as exc:  # a broken TIFF: "Missing dimensions", a bad IFD offset
        raise InputError(f"{name}: cannot count the image's frames ({_reason(exc)})") from None
    if n > MAX_PAGES_PER_FILE:
        raise InputError(f"{name}: the image claims {n} frames, more than any batch of mail "
                         f"(at most {MAX_PAGES_PER_FILE} are read from one file)")
    return n


def _reason(exc: BaseException) -> str:
    """An exception as a short phrase for a one-line error: its first line, at most 200 chars."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


# --- e-mails -----------------------------------------------------------------------


def _eml_attachments(data: bytes, name: str) -> list[tuple[str, bytes]]:
    """The scan attachments of an e-mail, in order: (filename, bytes)."""
    if not data:
        raise InputError(f"{name}: empty file (0 bytes)")
    try:
        return _attachments(data, name)
    except InputError:
        raise
    except Exception as exc:  # the e-mail parser's defects on a mangled message
        raise InputError(f"{name}: cannot read the e-mail ({_reason(exc)})") from None


MAX_EML_DEPTH = 5  # forwarded mail inside forwarded mail: deeper than this is not followed


def _attachments(data: bytes, name: str) -> list[tuple[str, bytes]]:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(msg, EmailMessage):
        raise InputError(f"{name}: not an e-mail message")
    out: list[tuple[str, bytes]] = []
    _collect(msg, out, 0)
    if not out:
        raise InputError(f"{name}: the e-mail has no PDF or image attachment")
    return out


def _collect(msg: EmailMessage, out: list[tuple[str, bytes]], depth: int) -> None:
    """Scan attachments of `msg` into `out`, following forwarded messages and nested parts.

    A scan forwarded by a colleague arrives inside an attached message (message/rfc822
    or an attached .eml), sometimes inside a nested multipart: its pages count too.
    """
    if depth > MAX_EML_DEPTH:
        return
    for part in msg.iter_attachments():
        fname = part.get_filename() or ""
        ctype = part.get_content_type()
        ext = Path(fname).suffix.lower()
        if ctype == "message/rfc822":
            inner = part.get_payload(0) if part.is_multipart() else None
            if isinstance(inner, EmailMessage):
                _collect(inner, out, depth + 1)
            continue
        if part.is_multipart():
            _collect(part, out, depth + 1)  # type: ignore[arg-type]
            continue
        if ext in EML_EXT:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload:
                inner = email.message_from_bytes(payload, policy=email.policy.default)
                if isinstance(inner, EmailMessage):
                    _collect(inner, out, depth + 1)
            continue
        if ext in PDF_EXT | IMAGE_EXT or ctype == "application/pdf" or ctype.startswith("image/"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload:
                if not ext:
                    sub = ctype.split("/")[1]
                    ext = ".pdf" if ctype == "application/pdf" else "." + sub
                    fname = f"attachment{len(out) + 1}{ext}"
                out.append((fname, payload))


# --- pages -----------------------------------------------------------------------


class Document:
    """One input file opened for reading pages by number (0-based)."""

    def __init__(self, path: Path, source_file: str) -> None:
        self.path = path
        self.source_file = source_file
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{source_file}: cannot read file ({exc.strerror})") from None
        self._parts: list[tuple[str, str, bytes, int]] = []  # (kind, name, data, n_pages)
        self._readers: dict[int, object] = {}  # part -> its PdfReader, parsed once
        if _kind(path) == "eml":
            for fname, payload in _eml_attachments(data, source_file):
                kind = "pdf" if fname.lower().endswith(".pdf") else "image"
                try:
                    self._add(kind, f"{source_file} ({fname})", payload)
                except InputError as exc:
                    # One broken attachment is one page in error; the others are still read.
                    self._parts.append(("error", str(exc), b"", 1))
            if self.n_pages > MAX_PAGES_PER_FILE:
                raise InputError(f"{source_file}: the e-mail's attachments hold "
                                 f"{self.n_pages} pages; at most {MAX_PAGES_PER_FILE} are read")
        else:
            self._add(_kind(path), source_file, data)

    def _add(self, kind: str, name: str, data: bytes) -> None:
        try:
            if kind == "pdf":
                reader = _pdf_reader(data, name)
                n = len(reader.pages)
                self._readers[len(self._parts)] = reader
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # "Corrupt EXIF data" while counting
                    n = _image_frames(_open_image(data, name), name)
        except InputError:
            raise
        except Exception as exc:  # no decoder failure may escape as a traceback
            raise InputError(f"{name}: cannot read ({type(exc).__name__}: {_reason(exc)})"
                             ) from None
        self._parts.append((kind, name, data, n))

    @property
    def n_pages(self) -> int:
        return sum(p[3] for p in self._parts)

    def _locate(self, index: int) -> tuple[int, int]:
        """The part holding page `index`, and the page's index within it."""
        k = index
        for i, (*_, n) in enumerate(self._parts):
            if k < n:
                return i, k
            k -= n
        raise IndexError(index)

    def page(self, index: int) -> PageImage:
        """Decode page `index` (0-based) to grey pixels; InputError names the file and page."""
        part, k = self._locate(index)
        kind, name, data, n = self._parts[part]
        label = f"{self.source_file} page {index + 1}"
        if kind == "error":  # an attachment that could not be opened: `name` is its error
            raise InputError(f"{label}: {name}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # odd files warn by the dozen; failures raise
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                if kind == "pdf":
                    # Parsed once per file: parsing again for every page made a 500-page PDF
                    # quadratic. pypdf keeps every object it resolves, decoded images included
                    # (8.7 MB a page), so its cache is dropped after each page to stay bounded.
                    reader = self._readers[part]
                    try:
                        img = _pdf_embedded_scan(reader, k) or _pdf_render(
                            data, k, name, _render_dpi(reader, k)
                        )
                    finally:
                        reader.resolved_objects.clear()
                else:
                    img = _open_image(data, name)
                    if img.format == "JPEG":
                        img.draft("L", img.size)  # the decoder gives grey directly: faster
                    if n > 1:
                        img.seek(k)
                        w, h = img.size  # each frame has its own size: check it too
                        if w * h > MAX_PIXELS:
                            raise InputError(f"{name}: frame {k + 1} claims {w} x {h} pixels "
                                             "(refused as a possible decompression bomb)")
                    img = ImageOps.exif_transpose(img) if n == 1 else img.copy()
                dpi = float((img.info.get("dpi") or (300, 300))[0]) or 300.0
                grey = np.asarray(img.convert("L"))
        except InputError as exc:
            raise InputError(f"{label}: {str(exc).split(': ', 1)[-1]}") from None
        except Exception as exc:  # whatever a broken file makes a decoder raise
            raise InputError(f"{label}: cannot decode page ({_reason(exc)})") from None
        if min(grey.shape) < MIN_SIDE:
            raise InputError(
                f"{label}: image is {grey.shape[1]} x {grey.shape[0]} pixels, "
                "too small to be a page"
            )
        h = hashlib.sha256(np.asarray(grey.shape, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(grey).data)
        ref = PageRef(self.source_file, index + 1, str(self.path))
        return PageImage(ref, grey, h.hexdigest(), dpi if 50 <= dpi <= 1200 else 300.0)

    def pages(self) -> Iterator[PageImage]:
        for i in range(self.n_pages):
            yield self.page(i)

"""Pack scanned pages into the files people send: PNG, JPEG, multi-page TIFF and PDF, e-mail.

Every writer is byte-deterministic (no timestamps, no random MIME boundaries),
so the same seed gives the same files. PDFs are written by hand because a
scanner embeds its JPEG or CCITT G4 stream as is, one image per page.
"""

from __future__ import annotations

import io
import zlib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.synth.scan import Scan

PHOTO_DPI = 72  # what phones put in their JPEGs


def to_pil(s: Scan) -> Image.Image:
    if s.mode == "1":
        return Image.fromarray(s.image).convert("1", dither=Image.Dither.NONE)
    return Image.fromarray(s.image, "RGB" if s.mode == "RGB" else "L")


def _dpi(s: Scan) -> tuple[int, int]:
    return (s.dpi, s.dpi) if s.dpi else (PHOTO_DPI, PHOTO_DPI)


def jpeg_bytes(s: Scan, quality: int) -> bytes:
    buf = io.BytesIO()
    im = to_pil(s)
    if im.mode == "1":
        im = im.convert("L")
    im.save(buf, "JPEG", quality=quality, dpi=_dpi(s))
    return buf.getvalue()


def png_bytes(s: Scan) -> bytes:
    buf = io.BytesIO()
    to_pil(s).save(buf, "PNG", dpi=_dpi(s), compress_level=6)
    return buf.getvalue()


def write_png(path: Path, s: Scan) -> None:
    path.write_bytes(png_bytes(s))


def write_jpeg(path: Path, s: Scan, quality: int) -> None:
    path.write_bytes(jpeg_bytes(s, quality))


def write_tiff(path: Path, scans: list[Scan], quality: int) -> None:
    """Multi-page TIFF: G4 for black-and-white batches, JPEG-in-TIFF for the others.

    One batch comes from one scanner, so its pages share a mode and a compression.
    """
    frames = [to_pil(s) for s in scans]
    if len({f.mode for f in frames}) != 1:
        raise ValueError("a TIFF batch mixes image modes")
    comp = "group4" if frames[0].mode == "1" else "jpeg"
    buf = io.BytesIO()
    extra = {"quality": quality} if comp == "jpeg" else {}
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], compression=comp,
                   dpi=_dpi(scans[0]), **extra)
    path.write_bytes(buf.getvalue())


def _g4(im: Image.Image) -> bytes | None:
    """The raw CCITT G4 stream of a 1-bit image (single strip), or None if unavailable."""
    buf = io.BytesIO()
    try:
        im.save(buf, "TIFF", compression="group4", tiffinfo={278: im.height})
        t = Image.open(io.BytesIO(buf.getvalue()))
        offs, counts = t.tag_v2[273], t.tag_v2[279]
    except (OSError, KeyError):
        return None
    if len(offs) != 1:
        return None
    return buf.getvalue()[offs[0]: offs[0] + counts[0]]


def _image_object(s: Scan, quality: int) -> tuple[bytes, bytes]:
    """(dictionary entries, stream) of a PDF image XObject for one scanned page."""
    h, w = s.image.shape[:2]
    if s.mode == "1":
        im = to_pil(s)
        g4 = _g4(im)
        if g4 is not None:
            d = (f"/Width {w} /Height {h} /ColorSpace /DeviceGray /BitsPerComponent 1 "
                 f"/Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns {w} /Rows {h} "
                 f"/BlackIs1 true >>").encode()
            return d, g4
        packed = np.packbits(s.image > 127, axis=1).tobytes()
        d = (f"/Width {w} /Height {h} /ColorSpace /DeviceGray /BitsPerComponent 1 "
             f"/Filter /FlateDecode").encode()
        return d, zlib.compress(packed, 9)
    cs = "/DeviceRGB" if s.mode == "RGB" else "/DeviceGray"
    d = f"/Width {w} /Height {h} /ColorSpace {cs} /BitsPerComponent 8 /Filter /DCTDecode"
    return d.encode(), jpeg_bytes(s, quality)


def pdf_bytes(scans: list[Scan], quality: int, producer: str, when: datetime) -> bytes:
    """A scanner's PDF: one page per scan, sized from its dpi, the image filling the page."""
    objs: list[bytes] = []
    n = len(scans)
    kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(n))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    for i, s in enumerate(scans):
        h, w = s.image.shape[:2]
        dpi = s.dpi or w / 8.27  # a photo: shown as wide as an A4 page
        pw, ph = w * 72 / dpi, h * 72 / dpi
        content_no, img_no = 4 + 3 * i, 5 + 3 * i  # the page itself is 3 + 3 * i
        objs.append((f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.2f} {ph:.2f}] "
                     f"/Resources << /XObject << /Im{i} {img_no} 0 R >> >> "
                     f"/Contents {content_no} 0 R >>").encode())
        content = f"q {pw:.2f} 0 0 {ph:.2f} 0 0 cm /Im{i} Do Q".encode()
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        d, stream = _image_object(s, quality)
        objs.append(b"<< /Type /XObject /Subtype /Image " + d
                    + b" /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    stamp = when.strftime("D:%Y%m%d%H%M%S")
    objs.append(f"<< /Producer ({producer}) /CreationDate ({stamp}) >>".encode())
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objs) + 1, len(objs), xref))
    return out.getvalue()


def write_pdf(path: Path, scans: list[Scan], quality: int, producer: str,
              when: datetime) -> None:
    path.write_bytes(pdf_bytes(scans, quality, producer, when))


def write_eml(path: Path, *, sender: str, subject: str, body: str, when: datetime,
              attachments: list[tuple[str, bytes, str]], boundary: str, msg_id: str) -> None:
    """An e-mail as a mail client saves it, the scans attached (name, data, mime type)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "a.muller@ardt-auvergne.fr"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = msg_id
    msg.set_content(body)
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    msg.set_boundary(boundary)
    path.write_bytes(msg.as_bytes())

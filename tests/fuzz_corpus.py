"""A corpus of broken and hostile scans, built from scratch with a seed, mixed with good pages.

Each entry says how many good pages it holds: a file that cannot be read at all
holds none, an e-mail with one good and one broken attachment holds one. The
fuzz tests check that every file is accounted for and no good page is lost.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin


@dataclass(frozen=True)
class Entry:
    name: str
    good_pages: int  # pages that must be read (not end as an error); broken copies: 0


def png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    return buf.getvalue()


def jpeg(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def tiff(frames: list[np.ndarray], compression: str = "tiff_lzw") -> bytes:
    buf = io.BytesIO()
    imgs = [Image.fromarray(f) for f in frames]
    imgs[0].save(buf, "TIFF", save_all=True, append_images=imgs[1:], compression=compression)
    return buf.getvalue()


def pdf(pages: list[np.ndarray], dpi: int = 300) -> bytes:
    buf = io.BytesIO()
    imgs = [Image.fromarray(p) for p in pages]
    imgs[0].save(buf, "PDF", save_all=True, append_images=imgs[1:], resolution=dpi)
    return buf.getvalue()


def eml(attachments: list[tuple[str, bytes]], inner: list[EmailMessage] = ()) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "secretariat@mairie.example"
    msg["To"] = "a.muller@ardt-auvergne.fr"
    msg["Subject"] = "Inscription"
    msg.set_content("Veuillez trouver ci-joint notre inscription.")
    for name, data in attachments:
        ext = name.rsplit(".", 1)[-1]
        kind = {"pdf": ("application", "pdf"), "eml": ("application", "octet-stream"),
                "jpg": ("image", "jpeg"), "tif": ("image", "tiff")}.get(ext, ("image", ext))
        msg.add_attachment(data, maintype=kind[0], subtype=kind[1], filename=name)
    for m in inner:
        msg.add_attachment(m)  # message/rfc822: a forwarded message
    return msg


# --- what Pillow's own test images taught us -------------------------------------------


def tiff_missing_dimensions() -> bytes:
    """A valid first frame whose next frame has no width or height: fails while counting."""
    data = bytearray(tiff([np.full((300, 300), 255, np.uint8)], compression="raw"))
    off = struct.unpack("<I", data[4:8])[0]
    n = struct.unpack("<H", data[off:off + 2])[0]
    nxt = off + 2 + 12 * n
    data[nxt:nxt + 4] = struct.pack("<I", len(data))
    data += struct.pack("<H", 2) + struct.pack("<HHII", 259, 3, 1, 1)
    data += struct.pack("<HHII", 262, 3, 1, 1) + struct.pack("<I", 0)
    return bytes(data)


SEEK_TOO_LARGE_TIFF = bytes.fromhex("49492b0008000000ffffffffffffff80")  # BigTIFF, IFD past EOF


def png_text_bomb() -> bytes:
    """A PNG whose compressed text chunk inflates beyond Pillow's limit."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "A" * 3_000_000, zip=True)
    buf = io.BytesIO()
    Image.new("L", (300, 300), 255).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def gif_huge_screen() -> bytes:
    """A two-frame GIF whose logical screen claims 65535 x 65535 pixels."""
    buf = io.BytesIO()
    a, b = Image.new("L", (300, 300), 255), Image.new("L", (300, 300), 0)
    a.save(buf, "GIF", save_all=True, append_images=[b])
    data = bytearray(buf.getvalue())
    data[6:10] = struct.pack("<HH", 65535, 65535)
    return bytes(data)


def png_claiming(w: int, h: int) -> bytes:
    data = bytearray(png(np.full((8, 8), 255, np.uint8)))
    ihdr = struct.pack(">II", w, h) + data[24:29]
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF of the given object bodies (numbered from 1, the first the catalog), with xref."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def pdf_huge_page() -> bytes:
    """A one-page PDF whose page is 5 km wide (rendered at a bounded size, or refused)."""
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                    b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
                    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400000 200] >>"])


def pdf_looping_tree() -> bytes:
    """A page tree whose Pages node lists itself as a kid, claiming a billion pages."""
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                    b"<< /Type /Pages /Count 1000000000 /Kids [2 0 R 2 0 R] >>"])


def many_frames(n: int) -> bytes:
    """A GIF of `n` tiny frames: more frames than any post-room file holds."""
    buf = io.BytesIO()
    frames = [Image.new("L", (4, 4), i % 256) for i in range(n)]
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


def truncated(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randint(1, max(1, len(data) - 1))]


def bit_flipped(data: bytes, rng: random.Random, flips: int = 12) -> bytes:
    b = bytearray(data)
    for _ in range(flips):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def build(d: Path, good: np.ndarray, *, seed: int = 0, variants: int = 3,
          half: bool = True, blank_second: bool = False) -> list[Entry]:
    """Write the corpus into `d`; `good` is a page that must be read wherever it appears.

    `variants` truncated and bit-flipped copies are made of each good container;
    `half` halves the page's resolution (quicker to decode); with `blank_second`,
    the two-page files hold the page then a blank (quicker to read than two forms).
    """
    d.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    small = good[::2, ::2].copy() if half else good
    second = np.full_like(small, 250) if blank_second else small
    entries: list[Entry] = []

    def put(name: str, data: bytes, good_pages: int) -> None:
        (d / name).write_bytes(data)
        entries.append(Entry(name, good_pages))

    containers = {
        "page.png": png(small),
        "page.jpg": jpeg(small),
        "pages.tif": tiff([small, second]),
        "pages.pdf": pdf([small, second], 150 if half else 300),
    }
    for name, data in containers.items():
        pages = 2 if name.startswith("pages") else 1
        put(f"good-{name}", data, pages)
        stem, ext = name.rsplit(".", 1)
        for k in range(variants):
            put(f"truncated-{k}-{stem}.{ext}", truncated(data, rng), 0)
            put(f"flipped-{k}-{stem}.{ext}", bit_flipped(data, rng), 0)
    put("empty.png", b"", 0)
    put("not-an-image.tif", b"Ceci n'est pas une image.\n" * 20, 0)
    put("tiff-missing-dimensions.tif", tiff_missing_dimensions(), 0)
    put("tiff-seek-too-large.tif", SEEK_TOO_LARGE_TIFF, 0)
    put("png-text-bomb.png", png_text_bomb(), 0)
    put("gif-huge-screen.gif", gif_huge_screen(), 0)
    put("png-50000x50000.png", png_claiming(50_000, 50_000), 0)
    put("png-1x4000000000.png", png_claiming(1, 4_000_000_000), 0)
    put("pdf-5km-wide.pdf", pdf_huge_page(), 0)
    put("pdf-looping-tree.pdf", pdf_looping_tree(), 0)
    put("gif-3000-frames.gif", many_frames(3000), 0)

    broken_tif = bit_flipped(containers["pages.tif"], rng, 40)
    forwarded = eml([("scan.png", containers["page.png"])])
    put("mail-forwarded.eml", bytes(eml([], inner=[forwarded])), 1)
    put("mail-good-and-broken.eml",
        bytes(eml([("bon.png", containers["page.png"]), ("casse.tif", tiff_missing_dimensions()),
                   ("vide.pdf", b"%PDF-1.4\n")])), 1)
    attached = EmailMessage()
    attached.set_content("x")
    attached.add_attachment(containers["page.jpg"], maintype="image", subtype="jpeg",
                            filename="photo.jpg")
    outer = eml([("transfert.eml", bytes(attached))])
    put("mail-with-attached-eml.eml", bytes(outer), 1)
    deep = forwarded
    for _ in range(30):
        deep = eml([], inner=[deep])
    put("mail-nested-30-deep.eml", bytes(deep), 0)
    put("mail-broken-tiff.eml", bytes(eml([("lot.tif", broken_tif)])), 0)
    put("mail-truncated.eml", truncated(bytes(eml([("scan.png", containers["page.png"])])),
                                        rng), 0)
    return entries

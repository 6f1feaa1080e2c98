"""The sample-scan generator's orchestrator: plan files, draw pages, scan, pack, write truth.

Randomness flows from one seed: a SeedSequence child per output file and one
seeded Faker, in a fixed order, so a seed always gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from faker import Faker

from pipeline.synth import behaviours, containers, fonts, other
from pipeline.synth.digits import DigitBank
from pipeline.synth.fill import STYLES, fill_form
from pipeline.synth.people import Person, ascii_slug, make_person, with_names
from pipeline.synth.realnames import RealNameBank
from pipeline.synth.scan import Scan, Scanner, make_scanner, scan
from pipeline.template import Template, default_template

CONTAINERS = ("pdf", "tiff", "eml", "png", "jpeg")
# A set of at least this many forms uses every container (the issue asks for n >= 12).
ALL_CONTAINERS_FROM = 6
_WEIGHTS = {"pdf": 0.3, "jpeg": 0.25, "png": 0.15, "tiff": 0.15, "eml": 0.15}
_PARIS = timezone(timedelta(hours=1))
# Pages that share the form's print, per sheet-fed batch (letter: per letter, form: per form)
INVITATION_SHARE = 0.12  # the invitation's first page before the form
QUOTING_LETTER_SHARE = 0.4  # a letter that quotes the form instead of a cover letter
BLANK_COPY_SHARE = 0.08  # a blank copy of the form


@dataclass
class _Page:
    scan: Scan
    truth: dict[str, Any]


@dataclass
class _Doc:
    container: str
    forms: int
    pages: list[_Page] = field(default_factory=list)


def plan(n: int, rng: np.random.Generator) -> list[tuple[str, int]]:
    """(container, number of forms) per output file; every container once when n >= 12."""
    out: list[tuple[str, int]] = []
    left = n
    if n >= ALL_CONTAINERS_FROM:
        out = [("pdf", int(rng.integers(2, min(5, n - 3)))), ("tiff", 1), ("eml", 1),
               ("png", 1), ("jpeg", 1)]
        left = n - sum(k for _, k in out)
    names, weights = list(_WEIGHTS), np.array(list(_WEIGHTS.values()))
    while left > 0:
        c = str(rng.choice(names, p=weights / weights.sum()))
        k = {"pdf": int(rng.integers(2, 6)), "tiff": int(rng.integers(1, 3)),
             "eml": int(rng.integers(1, 3))}.get(c, 1)
        k = min(k, left)
        out.append((c, k))
        left -= k
    order = rng.permutation(len(out))
    return [out[i] for i in order]


class _Maker:
    """Draws and scans the pages of one output file."""

    def __init__(self, template: Template, faker: Faker, digits: DigitBank | None,
                 rng: np.random.Generator, names: RealNameBank | None = None) -> None:
        self.template, self.faker, self.digits, self.rng = template, faker, digits, rng
        self.names = names

    def form(self, person: Person, scanner: Scanner) -> tuple[_Page, np.ndarray]:
        if self.names is None:
            style = str(self.rng.choice(STYLES, p=[0.3, 0.3, 0.4]))
            filled = fill_form(self.template, person, style, self.rng, self.digits)
        else:
            # real people's block capitals in Nom and Prénom, the generator's hand elsewhere
            style = "block"
            nom, prenom = self.names.draw(self.rng, first=False), self.names.draw(self.rng, True)
            person = with_names(person, nom.text.title(), prenom.text.title(), self.rng)
            filled = fill_form(self.template, person, style, self.rng, self.digits,
                               real_names={"nom": nom.ink, "prenom": prenom.ink})
            filled.truth["written"].update(nom=nom.text, prenom=prenom.text)
            filled.truth["fields"].update(nom=nom.text, prenom=prenom.text)
            filled.truth["real_names"] = {"nom": nom.source, "prenom": prenom.source}
        s = scan(filled.image, scanner, self.rng)
        t = filled.truth
        if s.mode == "1":
            # a 1-bit capture keeps only what is darker than its threshold: a light
            # pencil mark is gone from the image, and only the sender can say what it was
            lost = [fid for fid, m in t["marks"].items()
                    if any(str(v).endswith(":light") for v in m.values())]
            t = {**t, "needs_human": sorted({*t["needs_human"], *lost})}
        truth = {"kind": "form", "style": t["style"], "ink": t["ink"],
                 "artefacts": list(s.artefacts), "dpi": s.dpi or None,
                 **{k: v for k, v in t.items() if k not in ("style", "ink")}}
        return _Page(s, truth), filled.image

    def blank(self, front: np.ndarray | None, scanner: Scanner) -> _Page:
        s = scan(other.blank_back(front, self.rng), scanner, self.rng, post_room=False)
        return _Page(s, {"kind": "blank", "artefacts": list(s.artefacts), "dpi": s.dpi or None})

    def letter(self, person: Person, scanner: Scanner) -> _Page:
        s = scan(other.cover_letter(person, self.faker, self.rng), scanner, self.rng)
        return _Page(s, {"kind": "other", "what": "cover letter",
                         "artefacts": list(s.artefacts), "dpi": s.dpi or None})

    def cheque(self, person: Person, scanner: Scanner) -> _Page:
        s = scan(other.cheque(person, self.rng), scanner, self.rng)
        return _Page(s, {"kind": "other", "what": "cheque",
                         "artefacts": list(s.artefacts), "dpi": s.dpi or None})

    def invitation(self, scanner: Scanner) -> _Page:
        s = scan(other.invitation_page(self.template, self.rng), scanner, self.rng)
        return _Page(s, {"kind": "other", "what": "invitation",
                         "artefacts": list(s.artefacts), "dpi": s.dpi or None})

    def quoting_letter(self, person: Person, scanner: Scanner) -> _Page:
        s = scan(other.quoting_letter(self.template, person, self.rng), scanner, self.rng)
        return _Page(s, {"kind": "other", "what": "letter quoting the form",
                         "artefacts": list(s.artefacts), "dpi": s.dpi or None})

    def blank_copy(self, scanner: Scanner) -> _Page:
        s = scan(other.blank_copy(self.template, self.rng), scanner, self.rng)
        return _Page(s, {"kind": "blank", "what": "blank copy of the form",
                         "artefacts": list(s.artefacts), "dpi": s.dpi or None})

    def batch(self, people: list[Person], scanner: Scanner, duplex: bool, letter: bool,
              cheques: bool) -> list[_Page]:
        """Pages as a sheet feeder delivers them: each sheet's front, then its back."""
        pages: list[_Page] = []
        duplex = duplex and scanner.kind != "fax"  # nobody faxes the blank backs
        if letter:
            if self.rng.random() < QUOTING_LETTER_SHARE:
                pages.append(self.quoting_letter(people[0], scanner))
            else:
                pages.append(self.letter(people[0], scanner))
            if duplex:
                pages.append(self.blank(None, scanner))
        if self.rng.random() < BLANK_COPY_SHARE:  # a spare form sent back unfilled
            pages.append(self.blank_copy(scanner))
        for p in people:
            if self.rng.random() < INVITATION_SHARE:  # the whole invitation printed and sent
                pages.append(self.invitation(scanner))
            page, front = self.form(p, scanner)
            pages.append(page)
            if duplex:
                pages.append(self.blank(front, scanner))
            if cheques and self.rng.random() < 0.3:
                pages.append(self.cheque(p, scanner))
        return pages


def _write(doc: _Doc, people: list[Person], maker: _Maker, out: Path, index: int,
           rng: np.random.Generator) -> Path:
    """Draw the pages of one file, write it and return its path (truth pages in doc.pages)."""
    c = doc.container
    p0 = people[0]
    when = datetime(2015, 1, 20, 9, 0, tzinfo=_PARIS) + timedelta(
        minutes=int(rng.integers(0, 60 * 24 * 22)))
    quality = int(rng.integers(72, 93))
    if c == "pdf":
        scanner = make_scanner(rng, "fax" if rng.random() < 0.2 else "flatbed")
        doc.pages = maker.batch(people, scanner, duplex=rng.random() < 0.5,
                                letter=rng.random() < 0.4, cheques=rng.random() < 0.4)
        path = out / f"{index:03d}-scan.pdf"
        producer = str(rng.choice(["Canon iR-ADV C5235", "RICOH MP C3003", "Xerox WorkCentre 7845",
                                   "KONICA MINOLTA bizhub C364e", "HP Digital Sending"]))
        containers.write_pdf(path, [pg.scan for pg in doc.pages], quality, producer, when)
    elif c == "tiff":
        scanner = make_scanner(rng, "fax" if rng.random() < 0.3 else "flatbed")
        doc.pages = maker.batch(people, scanner, duplex=rng.random() < 0.7, letter=False,
                                cheques=False)
        path = out / f"{index:03d}-scan.tif"
        containers.write_tiff(path, [pg.scan for pg in doc.pages], quality)
    elif c in ("png", "jpeg"):
        kind = "photo" if c == "jpeg" and rng.random() < 0.45 else (
            "fax" if c == "png" and rng.random() < 0.3 else "flatbed")
        scanner = make_scanner(rng, kind)
        page, _ = maker.form(p0, scanner)
        doc.pages = [page]
        stem = "photo" if kind == "photo" else f"inscription-{ascii_slug(p0.nom)}"
        if c == "png":
            path = out / f"{index:03d}-{stem}.png"
            containers.write_png(path, page.scan)
        else:
            path = out / f"{index:03d}-{stem}.jpg"
            containers.write_jpeg(path, page.scan, quality if kind != "photo" else 90)
    else:
        path = out / f"{index:03d}-mail.eml"
        _write_eml(doc, people, maker, path, rng, when, quality)
    for i, pg in enumerate(doc.pages, start=1):
        pg.truth = {"page": i, **pg.truth}
    return path


def _write_eml(doc: _Doc, people: list[Person], maker: _Maker, path: Path,
               rng: np.random.Generator, when: datetime, quality: int) -> None:
    p0 = people[0]
    attachments: list[tuple[str, bytes, str]] = []
    if rng.random() < 0.5:  # scanned at the office, sent as one PDF
        scanner = make_scanner(rng, "flatbed")
        doc.pages = maker.batch(people, scanner, duplex=rng.random() < 0.4, letter=False,
                                cheques=False)
        data = containers.pdf_bytes([pg.scan for pg in doc.pages], quality, "Scanner", when)
        attachments.append((f"inscription_{ascii_slug(p0.nom, '_')}.pdf", data, "application/pdf"))
    else:  # photographed with a phone, one picture per form
        for i, p in enumerate(people):
            scanner = make_scanner(rng, "photo" if rng.random() < 0.7 else "flatbed")
            page, _ = maker.form(p, scanner)
            doc.pages.append(page)
            name = f"IMG_201502{int(rng.integers(1, 12)):02d}_{int(rng.integers(0, 1e6)):06d}.jpg"
            attachments.append((name if i or rng.random() < 0.5 else "inscription.jpg",
                                containers.jpeg_bytes(page.scan, 88), "image/jpeg"))
    sender = p0.mail or f"{ascii_slug(p0.prenom)}.{ascii_slug(p0.nom)}@orange.fr"
    names = " et ".join(f"{p.prenom} {p.nom}" for p in people)
    body = (f"Bonjour,\n\nVeuillez trouver ci-joint l'inscription de {names} au séminaire "
            "du 13 février.\n\nCordialement,\n\n"
            f"{p0.prenom} {p0.nom}\n{p0.structure}\n{p0.telephone}\n")
    token = f"{rng.integers(0, 2**62):016x}"
    containers.write_eml(
        path, sender=f"{p0.prenom} {p0.nom} <{sender}>",
        subject=str(rng.choice(["Inscription séminaire 13 février", "inscription",
                                "Séminaire ARDTA du 13/02", "TR: bulletin d'inscription"])),
        body=body, when=when, attachments=attachments, boundary=f"=_{token}",
        msg_id=f"<{token}@{sender.split('@')[-1]}>")


def generate(n: int, seed: int, out: Path, digits: Path | None = None,
             progress: Callable[[int], None] | None = None,
             font_set: str = "default", real_names: Path | None = None,
             names_part: str = "all", behaviour_set: str = "default") -> list[Path]:
    """Write `n` filled forms (plus backs and other pages) packed in files under `out`.

    Returns the files written; each `NAME.ext` gets a `NAME.truth.json` beside it.
    `digits` is a folder with the MNIST t10k IDX files (images 0-4999 are used)
    for handwritten phone numbers and postcodes; without it fonts write them.
    `progress(k)` is called after each file with the number of forms it held.
    `font_set`: "held-out" writes with fonts no default set uses (see fonts);
    `behaviour_set`: "held-out" draws mark styles, pages that are not a filled
    form and capture profiles no default set uses (see behaviours).
    `real_names`: a folder of real name crops (see realnames); every form then
    carries real people's block capitals in Nom and Prénom, drawn from
    `names_part` of the folder ("dev", "bench" or "all").
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    names = RealNameBank(real_names, names_part) if real_names is not None else None
    with fonts.font_set(font_set), behaviours.behaviour_set(behaviour_set):
        return _generate(n, seed, Path(out), digits, progress, names)


def _generate(n: int, seed: int, out: Path, digits: Path | None,
              progress: Callable[[int], None] | None,
              names: RealNameBank | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    template = default_template()
    bank = DigitBank(digits) if digits is not None else None
    faker = Faker("fr_FR")
    faker.seed_instance(seed)
    seq = np.random.SeedSequence(seed)
    docs = plan(n, np.random.default_rng(seq.spawn(1)[0]))
    written: list[Path] = []
    for i, ((container, k), child) in enumerate(zip(docs, seq.spawn(len(docs)), strict=True)):
        rng = np.random.default_rng(child)
        people = [make_person(rng, faker) for _ in range(k)]
        maker = _Maker(template, faker, bank, rng, names)
        doc = _Doc(container, k)
        path = _write(doc, people, maker, out, i + 1, rng)
        truth = {"file": path.name, "seed": seed, "container": container,
                 "pages": [pg.truth for pg in doc.pages]}
        path.with_name(path.name.rsplit(".", 1)[0] + ".truth.json").write_text(
            json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        written.append(path)
        if progress is not None:
            progress(k)
    return written

"""Pages that are not the form but travel with it: cover letters, cheques, blank backs.

The reader must set them aside, so they look like the real thing: a typed
letter with a letterhead and a signature, a cheque for the 20-euro lunch, and
the blank reverse of a duplex scan with the form faintly showing through.
"""

from __future__ import annotations

import textwrap

import cv2
import numpy as np
from faker import Faker
from PIL import Image, ImageDraw

from pipeline.synth import fonts, handwriting
from pipeline.synth.people import Person

A4_300 = (2480, 3508)  # width, height in px at 300 dpi


def blank_back(front: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """The back of a sheet: paper white, sometimes the front showing through, mirrored."""
    w, h = A4_300
    tint = rng.uniform(246, 255)
    page = np.full((h, w), tint, np.float32)
    if front is not None and rng.random() < 0.5:
        grey = cv2.cvtColor(front, cv2.COLOR_RGB2GRAY) if front.ndim == 3 else front
        grey = cv2.GaussianBlur(cv2.resize(grey, (w, h))[:, ::-1], (0, 0), 3)
        page -= (255 - grey.astype(np.float32)) * rng.uniform(0.02, 0.06)
    page = np.clip(page, 0, 255).astype(np.uint8)
    return np.repeat(page[:, :, None], 3, axis=2)


def _draw_lines(draw: ImageDraw.ImageDraw, lines: list[str], x: int, y: int, size: int,
                bold: bool = False, leading: float = 1.45) -> int:
    f = fonts.font(fonts.bold_font() if bold else fonts.typed_fonts()[0], size)
    for line in lines:
        draw.text((x, y), line, font=f, fill=(20, 20, 20))
        y += round(size * leading)
    return y


def cover_letter(person: Person, faker: Faker, rng: np.random.Generator) -> np.ndarray:
    """A typed French letter from the sender's structure, signed by hand."""
    img = Image.new("RGB", A4_300, (255, 255, 255))
    d = ImageDraw.Draw(img)
    sender = person.structure or f"{person.prenom} {person.nom}"
    town = person.commune or "Clermont-Ferrand"
    head = [sender, person.street or "Place de la Mairie",
            f"{person.code_postal or '63000'} {town}"]
    if person.telephone:
        head.append(f"Tél. {person.telephone}")
    if rng.random() < 0.6:  # a letterhead band
        colour = tuple(int(c) for c in rng.integers(20, 160, 3))
        d.rectangle((236, 200, 250, 420), fill=colour)
        _draw_lines(d, head[:1], 290, 200, 54, bold=True)
        _draw_lines(d, head[1:], 290, 290, 38)
    else:
        _draw_lines(d, head, 236, 220, 40)
    _draw_lines(d, ["ARDTA", "7 allée Pierre de Fermat", "CS60017",
                    "63178 AUBIERE CEDEX"], 1350, 620, 42)
    day = int(rng.integers(20, 31)) if rng.random() < 0.5 else int(rng.integers(2, 12))
    month = "janvier" if day >= 20 else "février"
    y = _draw_lines(d, [f"{town}, le {day} {month} 2015"], 1350, 960, 42)
    y = _draw_lines(d, ["Objet : inscription au séminaire du 13 février 2015"], 236, y + 120,
                    42, bold=True)
    body = [
        "Madame, Monsieur,", "",
        *textwrap.wrap(
            "Veuillez trouver ci-joint le bulletin d'inscription de "
            f"{person.prenom} {person.nom} au séminaire « Coopérer dans et entre les "
            "territoires » du 13 février 2015 au Domaine du Val d'Auzon.", 78),
        "",
        *textwrap.wrap(faker.paragraph(nb_sentences=int(rng.integers(2, 5))), 78),
        "",
        *textwrap.wrap("Nous vous prions d'agréer, Madame, Monsieur, l'expression de nos "
                       "salutations distinguées.", 78),
    ]
    y = _draw_lines(d, body, 236, y + 80, 42)
    page = np.asarray(img).copy()
    hand = handwriting.make_hand(rng, mixed_case=True)
    sig = handwriting.write(f"{person.prenom[0]}. {person.nom}", hand, rng)
    x0, y0 = 1400, y + 120
    ys, xs = slice(y0, y0 + sig.height), slice(x0, x0 + sig.width)
    a = sig.alpha[: page.shape[0] - y0, : page.shape[1] - x0].astype(np.float32)[:, :, None] / 255
    page[ys, xs] = (page[ys, xs] * (1 - a) + np.array([30, 45, 130]) * a).astype(np.uint8)
    return page


def cheque(person: Person, rng: np.random.Generator) -> np.ndarray:
    """A 20-euro cheque to ARDTA, laid on the scanner glass at the top of an A4 page."""
    img = Image.new("RGB", A4_300, (252, 252, 250))
    d = ImageDraw.Draw(img)
    x0, y0 = int(rng.integers(60, 300)), int(rng.integers(60, 250))
    w, h = 2060, 920
    tint = tuple(int(c) for c in rng.integers(215, 245, 3))
    d.rectangle((x0, y0, x0 + w, y0 + h), fill=tint, outline=(120, 120, 120), width=3)
    bank = str(rng.choice(["Crédit Agricole Centre France", "Banque Populaire Auvergne Rhône Alpes",
                           "Caisse d'Épargne d'Auvergne et du Limousin", "La Banque Postale",
                           "Crédit Mutuel Massif Central"]))
    _draw_lines(d, [bank], x0 + 40, y0 + 30, 46, bold=True)
    _draw_lines(d, ["Payez contre ce chèque non endossable sauf au profit d'une banque",
                    "", "à", "", "", "Payable à", f"{person.commune or 'Clermont-Ferrand'}"],
                x0 + 40, y0 + 130, 34)
    d.rectangle((x0 + w - 520, y0 + 110, x0 + w - 40, y0 + 200), outline=(60, 60, 60), width=3)
    digits = "".join(str(v) for v in rng.integers(0, 10, 28))
    _draw_lines(d, [f"#{digits[:7]}#  {digits[7:19]}#  {digits[19:]}"], x0 + 200, y0 + h - 90,
                40)
    page = np.asarray(img).copy()
    hand = handwriting.make_hand(rng, mixed_case=True)
    colour = np.array([30, 45, 130] if rng.random() < 0.7 else [25, 25, 30], np.float32)
    for text, (x, y) in (("vingt euros", (x0 + 600, y0 + 180)), ("ARDTA", (x0 + 140, y0 + 300)),
                         ("20,00", (x0 + w - 470, y0 + 120)),
                         (f"le {int(rng.integers(2, 12))}/02/2015", (x0 + 1300, y0 + 520)),
                         (person.nom, (x0 + 1500, y0 + 680))):
        ink = handwriting.write(text, hand, rng)
        a = ink.alpha.astype(np.float32)[:, :, None] / 255
        region = page[y: y + ink.height, x: x + ink.width]
        a = a[: region.shape[0], : region.shape[1]]
        region[:] = (region * (1 - a) + colour * a).astype(np.uint8)
    return page

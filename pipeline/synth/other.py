"""Pages that are not the form but travel with it: cover letters, cheques, blank backs,
and those that share its print: the invitation's first page, a letter quoting the
form, a blank copy of the form with nothing written on it.

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

from pipeline.render import label_width_mm, rasterize_pdf, render_pdf
from pipeline.synth import behaviours, fonts, handwriting
from pipeline.synth.people import Person
from pipeline.synth.scan import stamp
from pipeline.synth.sheet import blank_page
from pipeline.template import PrintBlock, Template

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


# --- pages that share the form's print: the invitation, letters quoting it, blank copies --

# The invitation's first page (its text as printed, from the 2015 invitation): the same
# header as the form's, then the body. A reader that triages by the header takes it
# for a form.
INVITATION_BODY = (
    ("bold", "Mutualisation, coopération sont des termes devenus récurrents lorsqu'il s'agit "
     "de penser l'avenir de nos territoires. Le contexte institutionnel, avec la réforme "
     "territoriale, les transformations sociétales, avec les nouveaux enjeux économiques, "
     "environnementaux, sont à l'origine de ces évolutions."),
    ("regular", "En tant que développeurs territoriaux, c'est une réalité que nous devons "
     "prendre en compte dans nos projets, dans nos pratiques. Pour créer un environnement "
     "propice à ces nouvelles modalités de développement, les territoires et leurs acteurs "
     "doivent mobiliser et développer des compétences spécifiques, autant individuelles que "
     "collectives."),
    ("regular", "Pour identifier les conditions de mise en place de cette nouvelle ingénierie, "
     "cerner les compétences et les modalités de travail à développer, le Carrefour des "
     "métiers et des professionnels du développement territorial*, avec l'appui de l'Agence "
     "Régionale de Développement des Territoires d'Auvergne (ARDTA), vous invite à un "
     "séminaire de co-production intitulé « Coopérer dans et entre les territoires, quelles "
     "conditions, quelles pratiques ? »"),
    ("regular", "Objectifs de la journée :"),
    ("bold", "- replacer la question de la coopération dans le contexte actuel (réforme "
     "territoriale, nouveaux enjeux...)"),
    ("bold", "- envisager les différentes situations de coopération et en construire une "
     "grille de lecture"),
    ("bold", "- identifier collectivement les compétences et conditions propices à la "
     "coopération"),
    ("bold", "- s'interroger sur sa propre pratique en situation de coopération"),
    ("regular", "Cette journée alternera temps collectif et temps en ateliers."),
    ("regular", "Les échanges de cette journée permettront d'analyser les besoins en "
     "compétences des professionnels en termes de coopération et d'imaginer des réponses "
     "sous forme de formation. Les enseignements de cette journée alimenteront le 2ème "
     "Congrès des développeurs territoriaux en 2015."),
    ("italic", "* Le Carrefour des métiers et des professionnels du développement territorial "
     "est un espace d'échanges, de réflexion et de construction collective, par et pour les "
     "développeurs territoriaux. Pour participer : www.developpeurs-territoriaux.org"),
)
HEADER_BLOCKS = 4  # the form's first print blocks: title, Carrefour, date, place


def _wrap_blocks(template: Template, paras: tuple[tuple[str, str], ...], x_mm: float,
                 y_mm: float, width_mm: float, size_pt: float, leading_mm: float,
                 gap_mm: float) -> list[PrintBlock]:
    """Paragraphs as print blocks, wrapped to `width_mm` with the form's font metrics."""
    blocks, y = [], y_mm
    for style, text in paras:
        lines, line = [], ""
        for word in text.split():
            cand = f"{line} {word}".strip()
            if line and label_width_mm(template, cand, size_pt) > width_mm:
                lines.append(line)
                line = word
            else:
                line = cand
        lines.append(line)
        blocks.append(PrintBlock(lines=lines, x_mm=x_mm, y_mm=y, leading_mm=leading_mm,
                                 size_pt=size_pt, style=style))
        y += len(lines) * leading_mm + gap_mm
    return blocks


def _printed(template: Template, blocks: list[PrintBlock]) -> np.ndarray:
    """A page printed with `blocks` in the form's fonts, as RGB at 300 dpi."""
    page = template.model_copy(update={"print": blocks, "fields": []})
    grey = rasterize_pdf(render_pdf(page), 300)
    return np.repeat(grey[:, :, None], 3, axis=2)


def invitation_page(template: Template, rng: np.random.Generator) -> np.ndarray:
    """The invitation's first page: the form's header, then the invitation's text.

    Development: printed from the same document (header where the form has it).
    Held out: printed with other margins (header lower, text narrower and larger).
    """
    head = list(template.print[:HEADER_BLOCKS])
    if behaviours.held_out():
        drop = float(rng.uniform(8, 20))
        head = [b.model_copy(update={"y_mm": b.y_mm + drop}) for b in head]
        body = _wrap_blocks(template, INVITATION_BODY, 28, 70 + drop, 154, 10.5, 5.0, 3.0)
    else:
        body = _wrap_blocks(template, INVITATION_BODY, 20, 64, 170, 10, 4.6, 2.6)
    return _printed(template, head + [b for b in body if b.y_mm < 285])


def quoting_letter(template: Template, person: Person, rng: np.random.Generator) -> np.ndarray:
    """A letter that quotes the form: its title and its fields, typed with the answers.

    Development: a typed letter quoting the seminar's title and the form's labels.
    Held out: an e-mail printed out, quoting the form's labels with their dotted lines.
    """
    fields = [f"Nom : {person.nom}     Prénom : {person.prenom}",
              f"Structure : {person.structure}", f"Fonction : {person.fonction}",
              f"Agent de collectivités : {'oui' if person.agent else 'non'}",
              f"Adresse : {person.street} {person.code_postal} {person.commune}".strip(),
              f"Mail : {person.mail}", f"Téléphone : {person.telephone}",
              "Participera : oui     Déjeunera : oui"]
    if behaviours.held_out():
        paras = (("regular", f"De : {person.prenom} {person.nom} <{person.mail}>"),
                 ("regular", "À : a.muller@ardt-auvergne.fr"),
                 ("regular", "Objet : VOTRE INSCRIPTION - séminaire du 13 février 2015"),
                 ("regular", "Bonjour, je remplis ici le bulletin :"),
                 *(("regular", line.replace(" : ", " : ..... ")) for line in fields),
                 ("regular", "Cordialement,"))
        return _printed(template, _wrap_blocks(template, paras, 18, 30, 175, 10, 5.2, 1.4))
    paras = (("regular", f"{person.prenom} {person.nom}"),
             ("regular", person.structure or person.commune or ""),
             ("bold", "Objet : inscription au séminaire « Coopérer dans et entre les "
              "territoires, quelles conditions, quelles pratiques ? »"),
             ("regular", "Madame, Monsieur, n'ayant pas pu imprimer le bulletin, je vous "
              "transmets mon inscription (VOTRE INSCRIPTION) :"),
             *(("regular", line) for line in fields),
             ("regular", "Veuillez agréer, Madame, Monsieur, mes salutations distinguées."))
    return _printed(template, _wrap_blocks(template, paras, 25, float(rng.uniform(40, 70)),
                                           160, 11, 6.0, 2.0))


def blank_copy(template: Template, rng: np.random.Generator) -> np.ndarray:
    """A photocopy of the blank form, nothing written on it: toner grey, specks, a
    little blur. Held out: also punched for a binder and stamped on arrival."""
    grey = blank_page(template).astype(np.float32)
    tint = rng.uniform(232, 252)
    toner = rng.uniform(0.75, 1.0)  # how black the copier prints
    page = tint - (tint - grey) * toner
    h, w = page.shape
    n = int(rng.integers(50, 400))
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    page[ys, xs] = rng.uniform(60, 180, n)  # toner specks
    page = cv2.GaussianBlur(page, (0, 0), float(rng.uniform(0.4, 1.0)))
    if behaviours.held_out():
        for y in (h * 0.3, h * 0.7):  # punched holes in the left margin
            cv2.circle(page, (round(w * 0.045), round(y)), 38, float(rng.uniform(30, 90)), -1)
        stamp(page, rng, (round(w * 0.62), round(h * 0.03)))
    page = np.clip(page, 0, 255).astype(np.uint8)
    return np.repeat(page[:, :, None], 3, axis=2)

"""Fill one blank form for one person, and say exactly what was put on paper.

Writing goes on each field's writing line as the template places it: on or
just above the dots, squeezed (never out of the area) when it is too long.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.render import label_width_mm
from pipeline.synth import fonts, handwriting, marks
from pipeline.synth.digits import DigitBank
from pipeline.synth.handwriting import Hand, Ink
from pipeline.synth.people import Person
from pipeline.synth.sheet import Colour, Sheet, blank_page
from pipeline.template import MM_PER_INCH, Template, WritingLine

STYLES = ("typed", "block", "mixed")
INKS: dict[str, tuple[Colour, ...]] = {
    "blue": ((30, 50, 140), (25, 45, 120), (40, 62, 165), (35, 40, 110)),
    "black": ((25, 25, 30), (40, 40, 48), (20, 22, 35)),
}
PENCIL: Colour = (120, 120, 125)
TYPED_INK: Colour = (18, 18, 18)
CORRECTION_SHARE = 0.04  # two-box groups where the other box is scribbled out first
PHONE_FORMATS = ("spaces", "spaces", "dots", "compact", "dashes", "slashes")


@dataclass(frozen=True)
class FilledForm:
    image: np.ndarray  # RGB, 300 dpi, before any scanning
    truth: dict[str, Any]  # style, ink, fields, written, marks, needs_human


def write_phone(canonical: str, how: str) -> str:
    pairs = canonical.split()
    return {"spaces": " ".join(pairs), "dots": ".".join(pairs), "compact": "".join(pairs),
            "dashes": "-".join(pairs), "slashes": "/".join(pairs)}[how]


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _misspell(text: str, rng: np.random.Generator) -> str:
    """A plausible slip of the pen, the kind people cross out and write again."""
    if len(text) < 4:
        return text + text[-1]
    i = int(rng.integers(1, len(text) - 2))
    r = rng.random()
    if r < 0.4:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if r < 0.7:
        return text[:i] + text[i + 1:]
    return text[:i] + str(rng.choice(list("aeinrst"))) + text[i + 1:]


def _address(p: Person, rng: np.random.Generator) -> tuple[str, str]:
    """The two address lines as a person lays them out (truth spelling)."""
    if not p.street:
        return "", ""
    town = f"{p.code_postal} {p.commune}"
    r = rng.random()
    if p.bp:
        if r < 0.5:
            return f"{p.street} - {p.bp}", town
        return p.street, f"{p.bp} - {town}"
    if r < 0.25:
        return f"{p.street}, {town}", ""
    return p.street, town


class _Writer:
    """Turns a string into ink in this form's one style (the same hand throughout)."""

    def __init__(self, style: str, rng: np.random.Generator, digits: DigitBank | None,
                 k: float) -> None:
        self.style, self.rng, self.digits, self.k = style, rng, digits, k
        self.hand: Hand | None = None
        if style == "typed":
            choices = fonts.typed_fonts()
            self.font = choices[rng.integers(len(choices))]
            self.size_px = round(rng.uniform(10, 12.5) / 72 * k * MM_PER_INCH)
        else:
            self.hand = handwriting.make_hand(rng, mixed_case=style == "mixed")

    def ink(self, text: str, numeric: bool = False) -> Ink:
        if self.hand is None:
            return handwriting.typed(text, self.font, self.size_px)
        cap = self.hand.cap_px * self.rng.uniform(0.92, 1.08)
        hand = Hand(**{**self.hand.__dict__, "cap_px": cap})
        return handwriting.write(text, hand, self.rng, self.digits if numeric else None)

    def font_name(self) -> str:
        """The font file standing in for this writer (for the truth: results by font)."""
        return (self.font if self.hand is None else self.hand.font.path).name

    def stroke_px(self) -> int:
        return max(2, round(self.k * self.rng.uniform(0.3, 0.45)))


def place(sheet: Sheet, colour: Colour, ink: Ink, line: WritingLine, k: float,
          start_mm: float, lift_mm: float) -> None:
    """Put `ink` on a writing line `start_mm` after the dots begin, `lift_mm` above them.

    Too long: start at the dots, then squeeze (narrower and a little smaller).
    Too tall or too high: shift, then shrink. Nothing leaves the area.
    """
    ax0, ay0, ax1, ay1 = line.area.px(k * MM_PER_INCH)
    margin = round(0.6 * k)
    x = round((line.leader.x_mm + start_mm) * k)
    if ink.width > ax1 - margin - x:
        x = max(ax0 + margin, round((line.leader.x_mm + 0.3) * k))
        avail = ax1 - margin - x
        if ink.width > avail:
            f = avail / ink.width
            ink = handwriting.scale(ink, f, max(f, 0.72))
    room_top, room_bot = ay0 + margin, ay1 - round(0.3 * k)
    if ink.height > room_bot - room_top:
        f = (room_bot - room_top) / ink.height
        ink = handwriting.scale(ink, f, f)
    top = round((line.leader.y_mm - lift_mm) * k) - ink.baseline
    top = min(max(top, room_top), room_bot - ink.height)
    sheet.paste(colour, ink, x, top)


def fill_form(template: Template, person: Person, style: str, rng: np.random.Generator,
              digits: DigitBank | None = None, dpi: int = 300,
              real_names: dict[str, Ink] | None = None) -> FilledForm:
    """Write `person` onto the blank form in `style`; return the page and its truth.

    `real_names`: a real person's handwriting (field id -> ink) written in those
    fields instead of the generator's hand; the person's values there must be
    what that ink says.
    """
    k = dpi / MM_PER_INCH
    sheet = Sheet(blank_page(template, dpi))
    typed = style == "typed"
    ink_name = "black" if typed or rng.random() < 0.35 else "blue"
    colour = TYPED_INK if typed else INKS[ink_name][rng.integers(len(INKS[ink_name]))]
    writer = _Writer(style, rng, digits, k)

    line1, line2 = _address(person, rng)
    phone_how = str(rng.choice(PHONE_FORMATS))
    truth_text = {
        "nom": person.nom, "prenom": person.prenom, "structure": person.structure,
        "fonction": person.fonction, "mail": person.mail,
        "telephone": person.telephone,
    }
    written = {**truth_text, "telephone": write_phone(person.telephone, phone_how)
               if person.telephone else ""}
    addr = [line1, line2]
    commune = person.commune
    if not typed and rng.random() < 0.3:  # town in capitals, as on envelopes
        addr = [a.replace(person.commune, person.commune.upper()) if person.commune else a
                for a in addr]
        commune = commune.upper()
    upper_nom = style == "block" or rng.random() < (0.4 if style == "mixed" else 0.15)
    if upper_nom:
        written["nom"] = person.nom.upper()
    if style == "block":
        drop = rng.random() < 0.5  # many people leave accents off capitals
        for key in ("prenom", "structure", "fonction", "mail"):
            v = written[key].upper() if key != "mail" or rng.random() < 0.6 else written[key]
            written[key] = strip_accents(v) if drop else v
        written["nom"] = strip_accents(written["nom"]) if drop else written["nom"]
        addr = [strip_accents(a.upper()) if drop else a.upper() for a in addr]
        commune = strip_accents(commune.upper()) if drop else commune.upper()

    needs_human: list[str] = []
    crossed: dict[str, str] = {}
    if not typed and rng.random() < 0.08:
        options = [f for f in ("nom", "prenom", "structure", "fonction", "mail", "telephone")
                   if written[f]]
        if options:
            f = str(rng.choice(options))
            crossed[f] = _misspell(written[f], rng)
            needs_human.append(f)

    numeric = {"telephone"}
    start = {f.id: (rng.uniform(0.5, 4) if typed else rng.uniform(0.5, 12))
             for f in template.fields}

    def lift() -> float:
        return float(rng.uniform(0, 1.0) if typed else rng.uniform(-0.3, 2.5))

    for f in template.text_fields():
        texts = addr if f.id == "adresse" else [written[f.id]]
        for i, (text, line) in enumerate(zip(texts, f.lines, strict=False)):
            if not text:
                continue
            if real_names and f.id in real_names:
                ink = _real_ink(real_names[f.id], writer)
            elif f.id == "adresse" and person.code_postal in text and writer.digits is not None:
                ink = _with_digits(writer, text, person.code_postal)
            else:
                ink = writer.ink(text, numeric=f.id in numeric)
            if f.id in crossed:
                wrong = handwriting.strike(writer.ink(crossed[f.id], f.id in numeric), rng,
                                           writer.stroke_px())
                ink = handwriting.hstack([wrong, ink], [round(k * rng.uniform(2, 5))])
            s = start[f.id] if i == 0 else float(rng.uniform(0.5, 15))
            place(sheet, colour, ink, line, k, s, lift())

    mark_truth, mark_needs = _marks(template, sheet, person, style, colour, rng, k)
    needs_human += mark_needs

    # The truth is what a careful person would type from the paper: case and
    # accents as written (names in capitals stay in capitals); the e-mail and
    # the phone number in their canonical forms.
    fields = {fid: "" for fid in template.field_ids}
    fields.update(truth_text)
    fields.update({k: written[k] for k in ("nom", "prenom", "structure", "fonction")})
    fields["adresse"] = ", ".join(a for a in addr if a)
    fields["code_postal"] = person.code_postal
    fields["commune"] = commune if person.commune else ""
    for fid, m in mark_truth.items():
        fields[fid] = m.pop("_value")
    lit: dict[str, Any] = {key: v for key, v in written.items() if v != truth_text[key]}
    if line1:
        lit["adresse"] = addr
    truth: dict[str, Any] = {
        "style": style, "ink": ink_name, "font": writer.font_name(),
        "fields": fields, "written": lit,
        "marks": mark_truth, "needs_human": sorted(set(needs_human)),
    }
    if crossed:
        truth["crossed_out"] = crossed
    return FilledForm(sheet.render(), truth)


def _real_ink(ink: Ink, writer: _Writer) -> Ink:
    """A real crop at this writer's size: its capitals as tall as the hand's."""
    cap = (writer.hand.cap_px if writer.hand else 3.8 * writer.k) * writer.rng.uniform(0.9, 1.1)
    f = cap / max(1, ink.height)
    return handwriting.scale(ink, f * writer.rng.uniform(0.95, 1.05), f)


def _with_digits(writer: _Writer, text: str, cp: str) -> Ink:
    """A line holding the postcode: the digits from MNIST, the words from the hand."""
    i = text.index(cp)
    parts, gaps = [], []
    chunks = ((text[:i].rstrip(), False), (cp, True), (text[i + len(cp):].strip(), False))
    for chunk, numeric in chunks:
        if chunk:
            parts.append(writer.ink(chunk, numeric))
            gaps.append(round(writer.k * writer.rng.uniform(1.2, 3.0)))
    return handwriting.hstack(parts, gaps)


def _marks(template: Template, sheet: Sheet, person: Person, style: str, colour: Colour,
           rng: np.random.Generator, k: float) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Decide and draw the box marks; return {field: {option: kind|None, '_value': v}}."""
    needs: list[str] = []
    typed_x = style == "typed" and rng.random() < 0.5
    r = rng.random()
    pencil, light = marks.pencils()
    medium = None if typed_x or r >= 0.11 else (pencil if r < 0.06 else light)
    main = marks.pick_style(rng)

    agent = "oui" if person.agent else "non"
    r = rng.random()
    agent_marked = {agent} if r >= 0.1 else ({"oui", "non"} if r < 0.05 else set())
    part = rng.random() < 0.9
    if part:
        dej = str(rng.choice(["oui", "non", ""], p=[0.65, 0.27, 0.08]))
    else:
        dej = str(rng.choice(["oui", "non", ""], p=[0.25, 0.4, 0.35]))
    dej_marked = {dej} - {""}
    if rng.random() < 0.03:
        dej_marked = {"oui", "non"}
    chosen = {"agent_collectivite": agent_marked, "participera": {"oui"} if part else set(),
              "dejeunera": dej_marked}

    out: dict[str, dict[str, Any]] = {}
    for f in template.box_fields():
        marked = chosen.get(f.id, set())
        # a correction: the other box scribbled out, this one ticked
        corrected = (not typed_x and len(marked) == 1 and len(f.options) == 2
                     and rng.random() < CORRECTION_SHARE)
        entry: dict[str, Any] = {}
        for o in f.options:
            box = o.box.rect.px(k * MM_PER_INCH)
            wx = o.label.x_mm
            word = (round(wx * k), round((o.label.y_mm - 2.9) * k),
                    round((wx + label_width_mm(template, o.label.text)) * k),
                    round((o.label.y_mm + 0.6) * k))
            ink = sheet.layer(medium or colour)
            if o.value not in marked:
                entry[o.value] = None
                if corrected:
                    marks.draw_mark(ink, box, marks.correction_style(), rng, k, False, word)
                    entry[o.value] = marks.correction_style()
                continue
            if typed_x:
                marks.typed_x(sheet.layer(TYPED_INK), box, round(k * o.box.size_mm * 1.1), rng)
                entry[o.value] = "typed_x"
                continue
            kind = main if rng.random() < 0.8 else marks.pick_style(rng)
            if corrected and kind not in ("cross", "tick", "v", "slash"):
                kind = "cross"
            if medium is not None and kind in marks.IN_BOX:
                kind = "pencil_" + kind
            off = kind.removeprefix("pencil_") in marks.IN_BOX and rng.random() < 0.15
            marks.draw_mark(ink, box, kind, rng, k, off, word)
            entry[o.value] = kind + (":off" if off else "") + (
                ":light" if medium is not None and medium == light else "")
        if f.kind == "checkbox":
            value = f.options[0].value if marked else (f.unmarked or "")
        elif len(marked) == 1:
            value = next(iter(marked))
        else:
            value = ""
            if len(marked) > 1 or f.required:
                needs.append(f.id)
        entry["_value"] = value
        out[f.id] = entry
    if chosen["dejeunera"] == {"oui"} and not part:
        needs += ["participera", "dejeunera"]
    return out, needs

"""The form as data: load and validate a template from `schemas/`.

Everything that knows where something is printed or written on the page reads
it from here, so the renderer, the generator and the reader cannot disagree.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.errors import TemplateError

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
DEFAULT_TEMPLATE = SCHEMAS_DIR / "inscription-2015.yaml"
MM_PER_INCH = 25.4


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldKind(StrEnum):
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    CHOICE = "choice"  # a group of boxes, each an option
    CHECKBOX = "checkbox"  # a single box: marked or not


class Rule(StrEnum):
    EXACTLY_ONE = "exactly_one"
    AT_MOST_ONE = "at_most_one"


class Rect(_Strict):
    x_mm: float
    y_mm: float
    w_mm: float = Field(gt=0)
    h_mm: float = Field(gt=0)

    @property
    def x1_mm(self) -> float:
        return self.x_mm + self.w_mm

    @property
    def y1_mm(self) -> float:
        return self.y_mm + self.h_mm

    def px(self, dpi: float) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in pixels at `dpi`."""
        k = dpi / MM_PER_INCH
        return (
            round(self.x_mm * k),
            round(self.y_mm * k),
            round(self.x1_mm * k),
            round(self.y1_mm * k),
        )


class Box(_Strict):
    x_mm: float
    y_mm: float
    size_mm: float = Field(gt=0, le=20)

    @property
    def rect(self) -> Rect:
        return Rect(x_mm=self.x_mm, y_mm=self.y_mm, w_mm=self.size_mm, h_mm=self.size_mm)


class TextLine(_Strict):
    """A printed label; `y_mm` is its baseline."""

    text: str = Field(min_length=1)
    x_mm: float
    y_mm: float


class Leader(_Strict):
    """A run of printed dots from `x_mm` to `to_mm` on baseline `y_mm`."""

    x_mm: float
    to_mm: float
    y_mm: float

    @model_validator(mode="after")
    def _ordered(self) -> Leader:
        if self.to_mm <= self.x_mm:
            raise ValueError("to_mm must be greater than x_mm")
        return self


class WritingLine(_Strict):
    leader: Leader
    area: Rect


class OcrHints(_Strict):
    psm: int = Field(default=7, ge=0, le=13)
    whitelist: str | None = None
    # name: a person's name (lexicons score it); words: ordinary words, which a
    # dictionary may correct where a printed dot swapped a letter (pipeline.spelling)
    hint: Literal["name", "words"] | None = None
    # read by the second engine on handwritten pages too: it reads this field's
    # handwriting far better than Tesseract (the reviewer's suggestion), and it
    # is short enough to be worth the time
    second_by_hand: bool = False
    # the list that knows this field's values: on handwritten pages the
    # handwriting readers read it (pipeline.trust.handnames)
    names: Literal["first_names", "surnames"] | None = None


class Option(_Strict):
    value: str = Field(min_length=1)
    label: TextLine
    box: Box


class FormField(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: FieldKind
    label: TextLine | None = None
    required: bool = False
    lines: list[WritingLine] = Field(default_factory=list)
    ocr: OcrHints | None = None
    options: list[Option] = Field(default_factory=list)
    rule: Rule | None = None
    unmarked: str | None = None  # value of a lone checkbox left empty
    # what colleagues' forms in one batch share ("value": a structure, a job title;
    # "domain": an e-mail's): a garbled reading is offered as one read cleanly
    # elsewhere in the batch (pipeline.recurring)
    shared: Literal["value", "domain"] | None = None

    @property
    def is_box(self) -> bool:
        return self.kind in (FieldKind.CHOICE, FieldKind.CHECKBOX)

    @model_validator(mode="after")
    def _shape(self) -> FormField:
        if self.is_box:
            if not self.options:
                raise ValueError(f"a {self.kind} field needs options")
            if self.lines:
                raise ValueError(f"a {self.kind} field has boxes, not writing lines")
            if self.rule is None:
                raise ValueError(f"a {self.kind} field needs a rule")
            if self.kind == FieldKind.CHECKBOX and len(self.options) != 1:
                raise ValueError("a checkbox field has exactly one option")
            values = [o.value for o in self.options]
            if len(set(values)) != len(values):
                raise ValueError(f"option values repeat: {values}")
        else:
            if not self.lines:
                raise ValueError(f"a {self.kind} field needs at least one writing line")
            if self.options or self.rule or self.unmarked:
                raise ValueError(f"a {self.kind} field takes no options, rule or unmarked")
            if self.kind != FieldKind.ADDRESS and len(self.lines) != 1:
                raise ValueError(f"a {self.kind} field has exactly one writing line")
        return self


class PrintBlock(_Strict):
    """Static printed text: one or more lines from baseline `y_mm`, `leading_mm` apart."""

    lines: list[str] = Field(min_length=1)
    x_mm: float
    y_mm: float
    leading_mm: float = 5.0
    size_pt: float = Field(default=11, gt=0, le=72)
    style: Literal["regular", "bold", "italic", "bolditalic"] = "regular"
    align: Literal["left", "center"] = "left"


class PageSize(_Strict):
    width_mm: float = Field(gt=0)
    height_mm: float = Field(gt=0)


class FontSpec(_Strict):
    regular: str = "Liberation Sans"
    size_pt: float = Field(default=11, gt=0, le=72)


class Lunch(_Strict):
    """What the form asks for the lunch: the receipts, totals and caterer's count use it."""

    price_eur: int = Field(ge=0)
    payable_to: str = Field(min_length=1)  # the receipts' issuer
    note: str = ""  # the form's sentence about it, printed on the receipts


class Event(_Strict):
    """The seminar the form registers for, as its invitation prints it (papers' headers)."""

    title: str = Field(min_length=1)
    organiser: str = ""
    day: date
    when: str = Field(min_length=1)  # the date and hours as printed
    place: str = ""
    lunch: Lunch


class Template(_Strict):
    form: str
    title: str
    page: PageSize
    font: FontSpec = FontSpec()
    event: Event | None = None  # the organiser's papers need it; reading a form does not
    print: list[PrintBlock] = Field(default_factory=list)
    fields: list[FormField] = Field(min_length=1)

    def field(self, field_id: str) -> FormField:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    @cached_property
    def fingerprint(self) -> str:
        """Stable identity of the template's content, for caches (lists make it unhashable)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]

    @property
    def field_ids(self) -> list[str]:
        return [f.id for f in self.fields]

    def text_fields(self) -> Iterator[FormField]:
        return (f for f in self.fields if not f.is_box)

    def box_fields(self) -> Iterator[FormField]:
        return (f for f in self.fields if f.is_box)

    def size_px(self, dpi: float) -> tuple[int, int]:
        """(width, height) of the page in pixels at `dpi`, rounded up as poppler does."""
        k = dpi / MM_PER_INCH
        return math.ceil(self.page.width_mm * k - 1e-6), math.ceil(self.page.height_mm * k - 1e-6)


def _semantic_errors(t: Template) -> Iterator[tuple[str, str]]:
    """Checks a schema cannot express: things off the page, repeated ids, overlaps."""
    w, h = t.page.width_mm, t.page.height_mm

    def on_page(path: str, r: Rect) -> Iterator[tuple[str, str]]:
        if r.x_mm < 0 or r.y_mm < 0 or r.x1_mm > w or r.y1_mm > h:
            yield path, (
                f"lies off the {w:g} x {h:g} mm page "
                f"(x {r.x_mm:g}..{r.x1_mm:g}, y {r.y_mm:g}..{r.y1_mm:g})"
            )

    seen: dict[str, int] = {}
    for i, f in enumerate(t.fields):
        if f.id in seen:
            yield f"fields[{i}].id", f"duplicate id {f.id!r} (already fields[{seen[f.id]}])"
        seen.setdefault(f.id, i)
        for j, line in enumerate(f.lines):
            yield from on_page(f"fields[{i}].lines[{j}].area", line.area)
            ld = line.leader
            if not (line.area.x_mm <= ld.x_mm and ld.to_mm <= line.area.x1_mm
                    and line.area.y_mm < ld.y_mm < line.area.y1_mm):
                yield f"fields[{i}].lines[{j}].leader", "the leader must lie inside its area"
        for j, o in enumerate(f.options):
            yield from on_page(f"fields[{i}].options[{j}].box", o.box.rect)
        if f.unmarked is not None and f.kind != FieldKind.CHECKBOX:
            yield f"fields[{i}].unmarked", "only a checkbox field has an unmarked value"
    areas = [
        (f"fields[{i}].lines[{j}].area", line.area)
        for i, f in enumerate(t.fields)
        for j, line in enumerate(f.lines)
    ] + [
        (f"fields[{i}].options[{j}].box", o.box.rect)
        for i, f in enumerate(t.fields)
        for j, o in enumerate(f.options)
    ]
    for a in range(len(areas)):
        for b in range(a + 1, len(areas)):
            (pa, ra), (pb, rb) = areas[a], areas[b]
            if (ra.x_mm < rb.x1_mm and rb.x_mm < ra.x1_mm
                    and ra.y_mm < rb.y1_mm and rb.y_mm < ra.y1_mm):
                yield pb, f"overlaps {pa}"


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def parse_template(data: Any, source: str = "<template>") -> Template:
    """Validate `data` (as loaded from YAML); raise TemplateError naming every bad key."""
    if not isinstance(data, dict):
        raise TemplateError(f"{source}: expected a mapping at the top level")
    try:
        t = Template.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if p not in ("function-after",))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            problems.append(f"{_loc(loc)}: {msg}")
        raise TemplateError(f"{source}: " + "; ".join(problems)) from None
    problems = [f"{path}: {msg}" for path, msg in _semantic_errors(t)]
    if problems:
        raise TemplateError(f"{source}: " + "; ".join(problems))
    return t


def load_template(path: str | Path = DEFAULT_TEMPLATE) -> Template:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read template: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML: {exc}") from None
    return parse_template(data, str(path))


@cache
def default_template() -> Template:
    return load_template(DEFAULT_TEMPLATE)

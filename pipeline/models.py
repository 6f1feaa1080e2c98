"""The plain data that flows between formscan's stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class PageKind(StrEnum):
    FORM = "form"
    BLANK = "blank"
    OTHER = "other"
    ERROR = "error"


class Status(StrEnum):
    ACCEPTED = "accepted"  # the machine's reading, trusted without a reviewer
    REVIEW = "review"  # waiting for a reviewer
    CONFIRMED = "confirmed"  # a reviewer kept the machine's reading
    CORRECTED = "corrected"  # a reviewer typed another value


class Reason(StrEnum):
    LOW_CONFIDENCE = "low_confidence"
    INVALID_FORMAT = "invalid_format"
    AMBIGUOUS_MARK = "ambiguous_mark"
    CONFLICTING_MARKS = "conflicting_marks"
    MISSING_REQUIRED = "missing_required"
    POOR_REGISTRATION = "poor_registration"
    INCONSISTENT = "inconsistent"
    POSSIBLE_DUPLICATE = "possible_duplicate"


class MarkState(StrEnum):
    EMPTY = "empty"
    MARKED = "marked"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class PageRef:
    """Where a page came from: `source_file` as the user will see it, `page` 1-based."""

    source_file: str
    page: int
    path: str = ""  # absolute path of the input file


@dataclass(frozen=True)
class PageImage:
    ref: PageRef
    image: np.ndarray  # 8-bit grey, as scanned
    sha256: str  # of the decoded pixels, so a page is the same page in any container
    dpi: float = 300.0


@dataclass(frozen=True)
class Registration:
    """How a scan maps onto the reference page, and how far to trust that mapping."""

    matrix: np.ndarray  # 3x3, scan pixels -> reference pixels
    inliers: int
    residual_mm: float
    quality: float  # 0..1; caps the confidence of every field read through it
    rotation_deg: float = 0.0  # orientation fixed (0/90/180/270) plus skew
    scale: float = 1.0
    model: str = "affine"


@dataclass(frozen=True)
class Triage:
    kind: PageKind
    detail: str  # why, in words a post-room clerk understands


@dataclass(frozen=True)
class MarkReading:
    option: str
    fill: float  # share of dark pixels inside the box beyond the blank form's own
    state: MarkState
    confidence: float
    # what the reading rests on: "box" (a mark in it), "circled" / "underlined" (its
    # word), "faint" (a light mark), "beside" (ink near it no mark explains), "" (clean)
    how: str = ""
    near: float = 0.0  # mm² of ink around the box that no mark explains


@dataclass(frozen=True)
class TextReading:
    text: str
    confidence: float  # 0..1
    engine: str = "tesseract"
    # each character read, its left and right edge and its height (px), when asked
    # for: where a "." lost on a printed dot left its gap
    boxes: tuple[tuple[str, int, int, int], ...] = ()
    # each word read: its text, confidence (0..1), left and right edge (px); the
    # second engine reads again only the words Tesseract was unsure of
    words: tuple[tuple[str, float, int, int], ...] = ()
    # each character's confidence, in the order of `boxes` (the handwriting readers)
    char_confs: tuple[float, ...] = ()


@dataclass(frozen=True)
class FieldResult:
    field: str
    value: str  # normalised; '' when empty or undecided
    raw: str  # the machine's reading before normalisation
    confidence: float
    status: Status
    reasons: tuple[Reason, ...] = ()
    image: bytes = b""  # JPEG of the field's area, for reviewers
    marks: tuple[MarkReading, ...] = ()
    repairs: tuple[str, ...] = ()
    # What the confidence was computed from (candidates, features); for calibration, not stored.
    evidence: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class PageResult:
    ref: PageRef
    sha256: str
    kind: PageKind
    detail: str
    registration: Registration | None = None
    fields: tuple[FieldResult, ...] = ()
    image: bytes = b""  # PNG of the registered page (forms) for the page view
    timings: dict[str, float] = field(default_factory=dict)

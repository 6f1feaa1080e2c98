"""Which characters of a suggestion the readers doubt, so a reviewer edits instead of retyping.

Where Tesseract, the second engine and the stored suggestion disagree is where a
wrong suggestion is usually wrong (a letter, a lost dot, a digit): those spans
are highlighted, the caret starts on the first one and keys jump between them.
Agreeing readers give no span; a suggestion no reader supports at all (mostly
different) is doubted whole, and is then pre-selected to be typed over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

# A repair note naming the reading a suggestion came from
_FROM_READING = re.compile(r"reading '([^']*)'")
WHOLE_ABOVE = 0.6  # doubted share of the characters beyond which the whole value is


@dataclass(frozen=True)
class Doubts:
    """Spans [start, end) of the value; an empty span is a place something may be missing."""

    spans: tuple[tuple[int, int], ...] = ()
    whole: bool = False

    def marked(self, value: str) -> list[tuple[str, bool]]:
        """The value cut into (text, doubted) runs, for highlighting."""
        flags = [False] * len(value)
        for a, b in self.spans:
            for i in range(a, min(b, len(value))):
                flags[i] = True
        runs: list[tuple[str, bool]] = []
        for ch, flag in zip(value, flags, strict=True):
            if runs and runs[-1][1] == flag:
                runs[-1] = (runs[-1][0] + ch, flag)
            else:
                runs.append((ch, flag))
        return runs


def _merge(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] and (b > a or out[-1][1] > out[-1][0]):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        elif not out or (a, b) != out[-1]:
            out.append((a, b))
    return tuple(out)


def spans_against(value: str, other: str) -> list[tuple[int, int]]:
    """The places in `value` where `other` reads something else."""
    if len(value.lower()) == len(value) and len(other.lower()) == len(other):
        value, other = value.lower(), other.lower()  # an engine's capitals are no doubt
    spans = []
    for op in Levenshtein.opcodes(value, other):
        if op.tag == "equal":
            continue
        spans.append((op.src_start, op.src_end))  # insert: an empty span at the gap
    return spans


def alternatives(raw: str, readings: list[str], repairs: tuple[str, ...]) -> list[str]:
    """Every other reading of the field that is known: the readers' and the notes'."""
    seen = [raw, *readings]
    for note in repairs:
        seen += _FROM_READING.findall(note)
    out: list[str] = []
    for text in seen:
        text = " ".join(text.replace("\n", ", ").split())
        if text and text not in out:
            out.append(text)
    return out


def _digit_spans(value: str, other: str) -> list[tuple[int, int]]:
    """A phone number's doubts: its digits against the other reading's, separators aside."""
    where = [i for i, ch in enumerate(value) if ch.isdigit()]
    digits = "".join(value[i] for i in where)
    spans = []
    for a, b in spans_against(digits, "".join(ch for ch in other if ch.isdigit())):
        if a == b:  # a digit missing: the gap after the previous digit
            at = where[a - 1] + 1 if a else 0
            spans.append((at, at))
        else:
            spans += [(where[i], where[i] + 1) for i in range(a, b)]
    return spans


def doubts(value: str, others: list[str], kind: str = "") -> Doubts:
    """The doubted spans of `value` given the other readings of the same field.

    A phone number is compared digit by digit: '/50/62' against '06 50 62' doubts
    the missing 0, not the separators.
    """
    if not value:
        return Doubts()
    against = _digit_spans if kind == "phone" else spans_against
    spans = [s for o in others if o != value for s in against(value, o)]
    if not spans:
        return Doubts()
    merged = _merge(spans)
    doubted = sum(b - a for a, b in merged)
    if doubted > WHOLE_ABOVE * len(value):
        return Doubts(((0, len(value)),), whole=True)
    return Doubts(merged)

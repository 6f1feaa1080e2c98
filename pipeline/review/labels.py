"""Words a reviewer reads: field names as printed on the form, reasons in plain English."""

from __future__ import annotations

from pipeline.models import Reason
from pipeline.template import FormField

REASONS: dict[str, tuple[str, str]] = {
    Reason.LOW_CONFIDENCE: ("Hard to read", "The machine is not sure of its reading."),
    Reason.INVALID_FORMAT: ("Invalid format", "The reading is not a valid value of this kind."),
    Reason.AMBIGUOUS_MARK: ("Unclear mark", "A box is neither clearly empty nor clearly ticked."),
    Reason.CONFLICTING_MARKS: ("Conflicting boxes", "More boxes are ticked than allowed."),
    Reason.MISSING_REQUIRED: ("Required, empty", "The form says this must be filled in."),
    Reason.POOR_REGISTRATION: ("Page misaligned", "The scan did not line up well with the form."),
    Reason.INCONSISTENT: ("Inconsistent", "Disagrees with another answer on the same form."),
    Reason.POSSIBLE_DUPLICATE: ("Possible duplicate", "Another form looks like the same person."),
}

SEVERE = {Reason.MISSING_REQUIRED, Reason.INVALID_FORMAT, Reason.CONFLICTING_MARKS,
          Reason.INCONSISTENT}


def reason_label(code: str) -> str:
    return REASONS.get(code, (code.replace("_", " ").capitalize(), ""))[0]


def reason_help(code: str) -> str:
    return REASONS.get(code, ("", ""))[1]


def field_label(spec: FormField) -> str:
    """'Nom', 'Agent de collectivités', or the option words for unlabelled box groups."""
    if spec.label:
        text = spec.label.text.rstrip(" :")
        return text.split(" (")[0]
    return " / ".join(o.label.text for o in spec.options)


def option_label(spec: FormField, option: str) -> str:
    """'Agent de collectivités: oui', or the printed word for unlabelled boxes ('Déjeunera')."""
    if spec.label:
        return f"{field_label(spec)}: {option}"
    return next((o.label.text for o in spec.options if o.value == option), option)


def choice_keys(values: list[str]) -> list[tuple[str, str, str]]:
    """(value, key, caption) per box value: its first free letter, 'e' for empty."""
    used: set[str] = set()
    out = []
    for value in values:
        caption = value or "empty"
        key = next((c for c in caption.lower() if c.isalpha() and c not in used), "")
        used.add(key)
        out.append((value, key, caption))
    return out

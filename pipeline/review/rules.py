"""The form's rules, run again after every decision (browser, `review set`, undo).

The reader applies `validate.form_rules` once, to the machine's readings. A
reviewer's decision changes a value, so the rules must be re-run on the whole
form: a lunch "oui" next to a participation set to "non" goes (back) to review,
a lunch flagged inconsistent stops being so once the participation is "oui",
and a required field left empty keeps the row from being final unless the
reviewer says so explicitly (override).

Who wins when a rule breaks: a field only the machine read goes to review; a
field a person decided is never reopened silently, so a decision contradicting
one refuses unless overridden (the reviewer was shown why).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from pipeline.models import Reason, Status
from pipeline.template import Template
from pipeline.validate import form_rules

RULE_REASONS = (Reason.MISSING_REQUIRED.value, Reason.INCONSISTENT.value)
HUMAN = (Status.CONFIRMED.value, Status.CORRECTED.value)


@dataclass(frozen=True)
class Recheck:
    """What re-running the rules changed on one form: fields sent to review or let go."""

    to_review: tuple[str, ...] = ()
    released: tuple[str, ...] = ()


NO_CHANGE = Recheck()


def _rows(db: sqlite3.Connection, page_id: int) -> list[sqlite3.Row]:
    return db.execute(
        "SELECT id, field, value, status, reasons, confidence FROM fields WHERE page_id = ?",
        (page_id,),
    ).fetchall()


def problem(db: sqlite3.Connection, page_id: int, field: str, value: str,
            template: Template, labels: dict[str, str] | None = None) -> str | None:
    """Why setting `field` to `value` breaks a rule a reviewer must knowingly accept, or None.

    A required field left empty, or an answer contradicting another one a person
    already decided. A contradiction with a machine reading is no problem here:
    that reading goes to review instead.
    """
    rows = _rows(db, page_id)
    values = {r["field"]: r["value"] for r in rows}
    values[field] = value
    status = {r["field"]: r["status"] for r in rows}
    broken = form_rules(template, values).get(field, [])
    name = (labels or {}).get
    if Reason.MISSING_REQUIRED in broken:
        return (f"{name(field) or field} is required (the form says it must be filled in): "
                "type it, or keep it empty anyway")
    if Reason.INCONSISTENT in broken:
        others = [f for f, rs in form_rules(template, values).items()
                  if f != field and Reason.INCONSISTENT in rs and status.get(f) in HUMAN]
        if others:
            shown = ", ".join(f"{name(f) or f} {values[f]!r}" for f in others)
            return (f"this contradicts {shown}, already decided by a reviewer "
                    "(lunch without attending?): check it, or keep it anyway")
    return None


def recheck(db: sqlite3.Connection, page_id: int, template: Template) -> Recheck:
    """Re-run the form's rules on a page's current values; update reasons and statuses.

    Call inside the decision's transaction. A machine-read field that now breaks a
    rule goes to review; one that was in review only because of a rule that holds
    again is accepted (or stays in review as hard to read if its confidence is
    low); a person's decision keeps its status, with its reasons brought up to date.
    """
    from pipeline.reader import ACCEPT  # the reader's own threshold for boxes

    rows = _rows(db, page_id)
    broken = form_rules(template, {r["field"]: r["value"] for r in rows})
    to_review, released = [], []
    for r in rows:
        old = [x for x in r["reasons"].split(";") if x]
        reasons = [x for x in old if x not in RULE_REASONS]
        reasons += [x.value for x in broken.get(r["field"], []) if x.value not in reasons]
        status = r["status"]
        if status == Status.ACCEPTED and any(x in RULE_REASONS for x in reasons):
            status = Status.REVIEW.value
            to_review.append(r["field"])
        elif status == Status.REVIEW and not reasons:
            spec = template.field(r["field"])
            threshold = ACCEPT.get(spec.kind, 1.0)
            if r["confidence"] >= threshold:
                status = Status.ACCEPTED.value
                released.append(r["field"])
            else:
                reasons = [Reason.LOW_CONFIDENCE.value]
        if reasons != old or status != r["status"]:
            db.execute(
                "UPDATE fields SET reasons = ?, status = ?, version = version + ? WHERE id = ?",
                (";".join(reasons), status, int(status != r["status"]), r["id"]),
            )
    return Recheck(tuple(to_review), tuple(released))

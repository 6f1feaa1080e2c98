"""Group verification (as ABBYY's verification station does it): one field type at a time.

All the waiting values of one field (every phone number, every surname) in a grid
of crops beside their readings, confirmed together from the keyboard; the ones
the reviewer rejects go back to the single-field queue. For boxes the grid also
holds the ones the machine accepted as read empty, so a faint tick it missed is
seen: rejecting one sends it to review.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pipeline.models import Reason, Status
from pipeline.review import queue as q
from pipeline.store import Workspace
from pipeline.template import Template

LIMIT = 40  # crops in one grid: a screenful or two


@dataclass(frozen=True)
class GroupCount:
    field: str
    pending: int


@dataclass(frozen=True)
class GroupResult:
    confirmed: int
    rejected: int
    refused: tuple[tuple[int, str], ...]  # (field id, why) left in the queue


def counts(ws: Workspace) -> list[GroupCount]:
    """Field types with values waiting, most first."""
    rows = ws.db.execute(
        "SELECT f.field, COUNT(*) AS n FROM fields f JOIN pages p ON p.id = f.page_id "
        "WHERE p.kind = 'form' AND f.status = 'review' GROUP BY f.field ORDER BY n DESC, f.field"
    ).fetchall()
    return [GroupCount(r["field"], r["n"]) for r in rows]


def _empty_boxes_sql() -> str:
    # an accepted box field none of whose boxes held a mark: where a missed tick hides
    return ("(f.status = 'accepted' AND EXISTS (SELECT 1 FROM marks m WHERE m.field_id = f.id) "
            "AND NOT EXISTS (SELECT 1 FROM marks m WHERE m.field_id = f.id "
            "AND m.state != 'empty'))")


def group(ws: Workspace, field: str, reviewer: str, template: Template,
          now: float | None = None) -> list[q.FieldView]:
    """Claim and return the values of `field` to verify together, in reading order."""
    now = time.time() if now is None else now
    spec = template.field(field)
    extra = f" OR {_empty_boxes_sql()}" if spec.is_box else ""
    with ws.transaction() as db:
        rows = db.execute(
            q._FIELD_SQL + "WHERE p.kind = 'form' AND f.field = ? "
            f"AND (f.status = 'review'{extra}) "
            "AND (f.claimed_by IS NULL OR f.claimed_by = ? OR f.claimed_until < ?) "
            "ORDER BY f.status = 'accepted', fi.source_file, p.page LIMIT ?",
            (field, reviewer, now, LIMIT)).fetchall()
        q._release_all(db, reviewer)
        for r in rows:
            db.execute("UPDATE fields SET claimed_by = ?, claimed_until = ? WHERE id = ?",
                       (reviewer, now + q.CLAIM_SECONDS, r["id"]))
    return [q.get_field(ws, r["id"]) for r in rows]


def verify(ws: Workspace, reviewer: str, confirmed: list[tuple[int, int]],
           rejected: list[tuple[int, int]], template: Template) -> GroupResult:
    """Confirm each (field id, version) as shown; send the rejected ones to single review.

    A confirmation the rules or validation refuse stays in the queue, with why.
    """
    done, refused = 0, []
    for field_id, version in confirmed:
        f = q.get_field(ws, field_id)
        try:
            q.decide(ws, field_id, reviewer, f.value, version, template=template)
            done += 1
        except q.ReviewError as exc:
            refused.append((field_id, getattr(exc, "problem", "") or str(exc)))
    for field_id, version in rejected:
        f = q.get_field(ws, field_id)
        with ws.transaction() as db:
            if f.version != version:
                refused.append((field_id, q._conflict_message(db, f, what="it was not sent back")))
                continue
            if f.status == Status.ACCEPTED:  # a box read empty that is not: to review
                reasons = [*f.reasons, Reason.AMBIGUOUS_MARK.value]
                db.execute("UPDATE fields SET status = 'review', reasons = ?, "
                           "version = version + 1 WHERE id = ?", (";".join(reasons), field_id))
                q._append(db, field_id, reviewer, "reopen", f.value, f.value, f.status,
                          Status.REVIEW.value, "rejected in group verification")
            db.execute("UPDATE fields SET claimed_by = NULL, claimed_until = NULL "
                       "WHERE id = ? AND claimed_by = ?", (field_id, reviewer))
    return GroupResult(done, len(rejected), tuple(refused))

"""Possible duplicates in the review app: the two forms side by side, then merge or keep.

The pipeline only flags a pair (and sends the later form's name to review);
until a reviewer settles it the later row is not final, and the export says so.
Settling drops the 'possible duplicate' reason from the later form's fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.models import Reason, Status
from pipeline.review.queue import Conflict, NotFound
from pipeline.store import Workspace, now_iso

DECISIONS = ("merged", "kept")


@dataclass(frozen=True)
class Side:
    """One of the two forms: where it is, and its values by field id."""

    page_id: int
    source_file: str
    page: int
    values: dict[str, str]
    field_ids: dict[str, int]


@dataclass(frozen=True)
class Pair:
    id: int
    earlier: Side
    later: Side
    why: str
    score: float
    decision: str | None

    def differs(self, field: str) -> bool:
        """Whether the two forms disagree on `field`, once case and spaces are folded."""
        a, b = (" ".join(s.values.get(field, "").lower().split())
                for s in (self.earlier, self.later))
        return a != b


def _side(ws: Workspace, page_id: int) -> Side:
    rows = ws.db.execute(
        "SELECT f.id, f.field, f.value, fi.source_file, p.page FROM fields f "
        "JOIN pages p ON p.id = f.page_id JOIN files fi ON fi.id = p.file_id "
        "WHERE p.id = ? ORDER BY f.id", (page_id,)).fetchall()
    src, page = (rows[0]["source_file"], rows[0]["page"]) if rows else ("", 0)
    return Side(page_id, src, page, {r["field"]: r["value"] for r in rows},
                {r["field"]: r["id"] for r in rows})


def _pair(ws: Workspace, row: object) -> Pair:
    r = dict(row)  # type: ignore[call-overload]
    return Pair(r["id"], _side(ws, r["page_a"]), _side(ws, r["page_b"]), r["why"], r["score"],
                r["decision"])


def pairs(ws: Workspace, unsettled_only: bool = False) -> list[Pair]:
    """Every flagged pair (or only those still to settle), oldest first."""
    where = "WHERE decision IS NULL " if unsettled_only else ""
    rows = ws.db.execute(f"SELECT * FROM duplicates {where}ORDER BY id").fetchall()
    return [_pair(ws, r) for r in rows]


def unsettled_for_page(ws: Workspace, page_id: int) -> Pair | None:
    """The unsettled pair whose later form is `page_id`, if any."""
    row = ws.db.execute("SELECT * FROM duplicates WHERE page_b = ? AND decision IS NULL "
                        "ORDER BY id LIMIT 1", (page_id,)).fetchone()
    return _pair(ws, row) if row else None


def settle(ws: Workspace, pair_id: int, decision: str, reviewer: str,
           again: bool = False) -> Pair:
    """Merge the later form into the earlier one, or keep both, recorded.

    A settled pair is refused unless `again` (the terminal's explicit re-decision):
    two reviewers clicking at once must not silently overwrite each other.
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    with ws.transaction() as db:
        row = db.execute("SELECT * FROM duplicates WHERE id = ?", (pair_id,)).fetchone()
        if row is None:
            raise NotFound(f"no possible duplicate #{pair_id}")
        if row["decision"] is not None and not again:
            raise Conflict(f"{row['decided_by']} already settled this pair "
                           f"({row['decision']}, {row['decided_at'][11:16]} UTC)")
        db.execute("UPDATE duplicates SET decision = ?, decided_by = ?, decided_at = ? "
                   "WHERE id = ?", (decision, reviewer, now_iso(), pair_id))
        for f in db.execute("SELECT id, status, reasons FROM fields WHERE page_id = ?",
                            (row["page_b"],)).fetchall():
            reasons = [x for x in f["reasons"].split(";") if x]
            if Reason.POSSIBLE_DUPLICATE.value not in reasons:
                continue
            reasons.remove(Reason.POSSIBLE_DUPLICATE.value)
            status = f["status"]
            if status == Status.REVIEW and not reasons:
                status = Status.ACCEPTED.value  # it was flagged for the pair alone
            db.execute("UPDATE fields SET reasons = ?, status = ?, version = version + 1 "
                       "WHERE id = ?", (";".join(reasons), status, f["id"]))
        row = db.execute("SELECT * FROM duplicates WHERE id = ?", (pair_id,)).fetchone()
    return _pair(ws, row)

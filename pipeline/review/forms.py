"""Form at a time (as queXF's verifier does it): every doubtful field of one form at once,
beside the page image, the field being typed highlighted and scrolled into view."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pipeline.review import queue as q
from pipeline.store import Workspace
from pipeline.template import Template


@dataclass(frozen=True)
class Entry:
    """One field's answer from the form view: what was typed, over which version."""

    field_id: int
    version: int
    value: str
    override: bool = False


@dataclass(frozen=True)
class Refused:
    field_id: int
    typed: str
    problem: str
    rule: bool  # a rule of the whole form, not the value's format


def next_form(ws: Workspace, reviewer: str, now: float | None = None) -> int | None:
    """The page holding the worst pending field nobody else is looking at (own claims first)."""
    now = time.time() if now is None else now
    row = ws.db.execute(
        "SELECT f.page_id FROM fields f JOIN pages p ON p.id = f.page_id JOIN files fi "
        "ON fi.id = p.file_id WHERE p.kind = 'form' AND f.status = 'review' "
        "AND (f.claimed_by IS NULL OR f.claimed_by = :me OR f.claimed_until < :now) "
        "GROUP BY f.page_id ORDER BY MAX(COALESCE(f.claimed_by = :me AND f.claimed_until >= :now,"
        " 0)) DESC, MIN(f.confidence), fi.source_file, p.page LIMIT 1",
        {"me": reviewer, "now": now}).fetchone()
    return row[0] if row else None


def claim_form(ws: Workspace, page_id: int, reviewer: str,
               now: float | None = None) -> list[q.FieldView]:
    """Claim the form's pending fields for the reviewer; returns them in form order."""
    now = time.time() if now is None else now
    with ws.transaction() as db:
        q._release_all(db, reviewer)
        db.execute(
            "UPDATE fields SET claimed_by = ?, claimed_until = ? WHERE page_id = ? AND "
            "status = 'review' AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until < ?)",
            (reviewer, now + q.CLAIM_SECONDS, page_id, reviewer, now))
    return [f for f in q.page_fields(ws, page_id) if f.status == "review"]


def save_form(ws: Workspace, reviewer: str, entries: list[Entry],
              template: Template) -> list[Refused]:
    """Decide every entry; those refused (invalid, against a rule, stale) come back typed."""
    refused = []
    before = {e.field_id: _last_decision(ws, e.field_id) for e in entries}
    for e in entries:
        version = e.version
        if _last_decision(ws, e.field_id) == before[e.field_id]:
            # nobody decided it since the form was shown: a version bumped meanwhile is the
            # rules reacting to this same form's earlier answers
            version = max(version, q.get_field(ws, e.field_id).version)
        try:
            q.decide(ws, e.field_id, reviewer, e.value, version, override=e.override,
                     template=template)
        except q.InvalidValue as exc:
            refused.append(Refused(e.field_id, e.value, exc.problem,
                                   isinstance(exc, q.RuleBroken)))
        except q.Conflict as exc:
            refused.append(Refused(e.field_id, e.value, str(exc), False))
    return refused


def _last_decision(ws: Workspace, field_id: int) -> int:
    row = ws.db.execute("SELECT COALESCE(MAX(id), 0) FROM decisions WHERE field_id = ? AND "
                        "action != 'skip'", (field_id,)).fetchone()
    return int(row[0])

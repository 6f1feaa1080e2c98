"""How fast the review goes: per reviewer decisions and corrections per hour, and what is
left with an estimate of the time it needs, from the audit trail alone."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass
from datetime import datetime

from pipeline.store import Workspace

IDLE_SECONDS = 300.0  # a longer gap between two decisions is a pause, not work
DEFAULT_SECONDS = 10.0  # per field, before anyone has decided anything


@dataclass(frozen=True)
class ReviewerFigures:
    reviewer: str
    decisions: int
    corrections: int
    active_seconds: float

    @property
    def per_hour(self) -> float:
        return self.decisions * 3600 / self.active_seconds if self.active_seconds else 0.0

    @property
    def corrections_per_hour(self) -> float:
        return self.corrections * 3600 / self.active_seconds if self.active_seconds else 0.0


@dataclass(frozen=True)
class Figures:
    reviewers: tuple[ReviewerFigures, ...]
    fields_left: int
    seconds_per_field: float  # median over every reviewer's working gaps
    measured: bool  # False: no decisions yet, the estimate uses DEFAULT_SECONDS

    @property
    def estimate_seconds(self) -> float:
        return self.fields_left * self.seconds_per_field


def _gaps(times: list[datetime]) -> list[float]:
    return [g for g in ((b - a).total_seconds() for a, b in itertools.pairwise(times))
            if 0 <= g <= IDLE_SECONDS]


def figures(ws: Workspace) -> Figures:
    rows = ws.db.execute(
        "SELECT reviewer, at, action FROM decisions WHERE action IN ('confirm', 'correct') "
        "ORDER BY reviewer, id").fetchall()
    by: dict[str, list[tuple[datetime, str]]] = {}
    for r in rows:
        by.setdefault(r["reviewer"], []).append((datetime.fromisoformat(r["at"]), r["action"]))
    all_gaps: list[float] = []
    out = []
    for name, items in sorted(by.items()):
        gaps = _gaps([t for t, _ in items])
        all_gaps += gaps
        typical = statistics.median(gaps) if gaps else DEFAULT_SECONDS
        # the first decision of each working spell took about a typical gap too
        spells = len(items) - len(gaps)
        out.append(ReviewerFigures(name, len(items), sum(a == "correct" for _, a in items),
                                   sum(gaps) + spells * max(typical, 1.0)))
    left = ws.db.execute(
        "SELECT COUNT(*) FROM fields f JOIN pages p ON p.id = f.page_id "
        "WHERE p.kind = 'form' AND f.status = 'review'").fetchone()[0]
    per = statistics.median(all_gaps) if all_gaps else DEFAULT_SECONDS
    return Figures(tuple(out), left, max(per, 1.0), bool(all_gaps))


def duration(seconds: float) -> str:
    """'about 3 min', 'about 1 h 20 min': what a coordinator plans with."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60:02d} min"

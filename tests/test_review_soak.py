"""Soak: reviewers deciding at once, the server killed with SIGKILL mid-decisions, restarted.

Every decision a reviewer saw answered must be in the workspace afterwards,
exactly once; decisions in flight when the server died may or may not be, but
never twice. Bounded to a few seconds of reviewing on each side of the kill.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from live_server import Browser, start

from pipeline.models import FieldResult, PageKind, PageRef, PageResult, Reason, Status
from pipeline.store import DB_NAME, Workspace
from pipeline.template import default_template

GONE = (OSError, http.client.HTTPException)  # what a client sees of a killed server
REVIEWERS = 4
FORMS = 300
IN_REVIEW = ("nom", "prenom", "structure", "fonction", "adresse")


def many_forms(root: Path, n: int) -> Path:
    """`n` form pages whose five text fields wait for review; no images (not needed here)."""
    tpl = default_template()
    with Workspace(root) as ws:
        fid = ws.add_file(hashlib.sha256(b"soak").hexdigest(), "soak.pdf", "/scans/soak.pdf",
                          "soak").id
        for page in range(1, n + 1):
            fields = tuple(
                FieldResult(spec.id, f"{spec.id}-{page}", f"{spec.id}-{page}", 0.4,
                            Status.REVIEW if spec.id in IN_REVIEW else Status.ACCEPTED,
                            (Reason.LOW_CONFIDENCE,) if spec.id in IN_REVIEW else ())
                for spec in tpl.fields
            )
            ws.save_page(fid, PageResult(PageRef("soak.pdf", page),
                                         hashlib.sha256(b"p%d" % page).hexdigest(),
                                         PageKind.FORM, "", fields=fields))
    return root


@dataclass
class Reviewer:
    browser: Browser
    name: str
    committed: dict[int, str] = field(default_factory=dict)  # field id -> value, answered
    in_flight: set[int] = field(default_factory=set)  # sent when the server died
    errors: list[str] = field(default_factory=list)

    def work(self, until: float) -> None:
        n = 0
        while time.monotonic() < until:
            try:
                page = self.browser.get("/").text
            except GONE:
                return  # the server is gone
            fid = re.search(r'name="field_id" value="(\d+)"', page)
            ver = re.search(r'name="version" value="(\d+)"', page)
            if not (fid and ver):
                return  # nothing left to review
            n += 1
            value = f"{self.name} {n}"
            field_id = int(fid.group(1))
            try:
                r = self.browser.post("/decide", {"field_id": field_id,
                                                  "version": ver.group(1), "value": value,
                                                  "override": "1"})
            except GONE:
                self.in_flight.add(field_id)
                return
            if r.status != 302:
                self.errors.append(f"{r.status} on field {field_id}")
                return
            self.committed[field_id] = value


def run_reviewers(reviewers: list[Reviewer], seconds: float,
                  during: Callable[[], None] = lambda: None) -> None:
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=r.work, args=(until,)) for r in reviewers]
    for t in threads:
        t.start()
    during()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a reviewer hung"


def test_concurrent_reviewers_and_a_sigkill_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    ws = many_forms(tmp_path / "ws", FORMS)
    server = start(ws)
    reviewers = []
    for k in range(REVIEWERS):
        b = server.browser()
        b.login(f"soak-{k}")
        reviewers.append(Reviewer(b, f"soak-{k}"))

    def kill_mid_decisions() -> None:
        deadline = time.monotonic() + 20
        while sum(len(r.committed) for r in reviewers) < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill9()

    run_reviewers(reviewers, 20, during=kill_mid_decisions)
    before = sum(len(r.committed) for r in reviewers)
    assert before >= 150, f"only {before} decisions before the kill"

    server = start(ws)  # the same workspace; browsers keep their sessions
    try:
        for r in reviewers:
            r.browser.port = server.port
            r.browser.host = f"127.0.0.1:{server.port}"
        run_reviewers(reviewers, 3)
    finally:
        server.stop()
    after = sum(len(r.committed) for r in reviewers)
    print(f"soak: {before} answered before the kill, {after} in all, "
          f"{sum(len(r.in_flight) for r in reviewers)} in flight at the kill")
    assert after > before, "nobody could decide after the restart"
    assert not [e for r in reviewers for e in r.errors]

    with sqlite3.connect(ws / DB_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        decided = db.execute(
            "SELECT field_id, COUNT(*), MAX(new_value), MAX(reviewer) FROM decisions "
            "WHERE action IN ('confirm', 'correct') GROUP BY field_id").fetchall()
        values = dict(db.execute("SELECT id, value FROM fields"))
    counts = {fid: n for fid, n, _, _ in decided}
    assert max(counts.values()) == 1, "a decision was recorded twice"
    for r in reviewers:
        for fid, value in r.committed.items():
            assert counts.get(fid) == 1, f"field {fid}: the answered decision was lost"
            assert values[fid] == value, f"field {fid}: {values[fid]!r} != {value!r}"
    answered = {fid for r in reviewers for fid in r.committed}
    unexplained = set(counts) - answered - {fid for r in reviewers for fid in r.in_flight}
    assert not unexplained, f"decisions nobody made: {sorted(unexplained)[:5]}"
    who = {name.split(" (")[0] for _, _, _, name in decided}
    assert who <= {r.name for r in reviewers}

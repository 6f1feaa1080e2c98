"""The review rules, against the workspace database: claims, decisions, undo, progress.

Every write happens inside one BEGIN IMMEDIATE transaction, so two reviewers (two
server threads, or the web app and `formscan review set`) can never interleave
a read-check-write. A decision carries the version the reviewer saw: if someone
else decided in between, it is refused with their name instead of overwriting.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass, replace

from pipeline.errors import ExitCode, FormscanError
from pipeline.models import Reason, Status
from pipeline.review import labels, rules
from pipeline.store import Workspace, now_iso
from pipeline.template import FieldKind, FormField, Template, default_template
from pipeline.text_safety import MAX_VALUE_CHARS, clean_value
from pipeline.validate import check_value

CLAIM_SECONDS = 45.0  # renewed every 15 s by the open page (review.js), released on close
DECIDED = (Status.CONFIRMED.value, Status.CORRECTED.value)

# Worst first when confidences tie: a missing required value blocks the export, a
# duplicate is only a hint.
SEVERITY = (
    Reason.MISSING_REQUIRED,
    Reason.INVALID_FORMAT,
    Reason.CONFLICTING_MARKS,
    Reason.AMBIGUOUS_MARK,
    Reason.INCONSISTENT,
    Reason.POOR_REGISTRATION,
    Reason.LOW_CONFIDENCE,
    Reason.POSSIBLE_DUPLICATE,
)
_SEVERITY_SQL = (
    "CASE "
    + " ".join(
        f"WHEN instr(';' || f.reasons || ';', ';{r.value};') > 0 THEN {i}"
        for i, r in enumerate(SEVERITY)
    )
    + f" ELSE {len(SEVERITY)} END"
)
_SKIPPED_SQL = (
    "COALESCE((SELECT MAX(d.id) FROM decisions d "
    "WHERE d.field_id = f.id AND d.action = 'skip'), 0)"
)
_FIELD_SQL = """
SELECT f.id, f.page_id, fi.source_file, fi.batch, p.page, p.image AS page_image,
       f.field, f.raw, f.machine_value, f.value, f.confidence, f.status, f.reasons,
       f.repairs, f.image, f.version, f.claimed_by, f.claimed_until
FROM fields f JOIN pages p ON p.id = f.page_id JOIN files fi ON fi.id = p.file_id
"""


class ReviewError(FormscanError):
    """A decision that cannot be recorded; the message says why and what to do."""

    exit_code = ExitCode.USAGE


class Conflict(ReviewError):
    """Someone else decided the field since the reviewer loaded it."""


class InvalidValue(ReviewError):
    """The corrected value fails validation; `problem` is shown, override records it anyway."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.problem = problem


class RuleBroken(InvalidValue):
    """The value breaks a rule of the whole form (required, lunch without attending)."""


class NotFound(ReviewError):
    pass


@dataclass(frozen=True)
class FieldView:
    """One field as a reviewer sees it, with where it comes from."""

    id: int
    page_id: int
    source_file: str
    batch: str
    page: int
    page_image: str | None
    field: str
    raw: str
    machine_value: str
    value: str
    confidence: float
    status: str
    reasons: tuple[str, ...]
    repairs: tuple[str, ...]
    image: str | None
    version: int
    claimed_by: str | None
    claimed_until: float | None

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> FieldView:
        d = dict(r)
        d["reasons"] = tuple(x for x in d["reasons"].split(";") if x)
        d["repairs"] = tuple(x for x in d["repairs"].split(";") if x)
        return cls(**d)

    def claimed_by_other(self, reviewer: str, now: float | None = None) -> str | None:
        now = time.time() if now is None else now
        if self.claimed_by and self.claimed_by != reviewer and (self.claimed_until or 0) >= now:
            return self.claimed_by
        return None


@dataclass(frozen=True)
class Decision:
    id: int
    field_id: int
    reviewer: str
    at: str
    action: str
    old_value: str
    new_value: str
    old_status: str
    new_status: str
    note: str
    # what re-running the form's rules did to the other fields (not stored)
    rechecked: rules.Recheck = rules.NO_CHANGE


@dataclass(frozen=True)
class BatchProgress:
    batch: str
    fields: int
    fields_left: int
    forms: int
    forms_complete: int


@dataclass(frozen=True)
class Progress:
    batches: tuple[BatchProgress, ...]

    @property
    def fields(self) -> int:
        return sum(b.fields for b in self.batches)

    @property
    def fields_left(self) -> int:
        return sum(b.fields_left for b in self.batches)

    @property
    def forms(self) -> int:
        return sum(b.forms for b in self.batches)

    @property
    def forms_complete(self) -> int:
        return sum(b.forms_complete for b in self.batches)


@dataclass(frozen=True)
class MarkView:
    """A box the machine read as marked or ambiguous, and whether the field now says ticked."""

    id: int
    field_id: int
    field: str
    option: str
    fill: float
    state: str
    confidence: float
    value: str
    status: str
    version: int
    page_id: int
    page_image: str | None
    source_file: str
    page: int

    @property
    def ticked(self) -> bool:
        return self.value == self.option


# --- reading -------------------------------------------------------------------------


def get_field(ws: Workspace, field_id: int) -> FieldView:
    row = ws.db.execute(_FIELD_SQL + "WHERE f.id = ?", (field_id,)).fetchone()
    if row is None:
        raise NotFound(f"no field #{field_id} in this workspace")
    return FieldView.from_row(row)


def page_fields(ws: Workspace, page_id: int) -> list[FieldView]:
    rows = ws.db.execute(_FIELD_SQL + "WHERE p.id = ? ORDER BY f.id", (page_id,)).fetchall()
    return [FieldView.from_row(r) for r in rows]


def list_pending(ws: Workspace) -> list[FieldView]:
    """Fields waiting for a reviewer, in the order the queue serves them (claims ignored)."""
    rows = ws.db.execute(
        _FIELD_SQL + "WHERE p.kind = 'form' AND f.status = 'review' "
        f"ORDER BY {_SKIPPED_SQL}, f.confidence, {_SEVERITY_SQL}, fi.source_file, p.page, f.id"
    ).fetchall()
    return [FieldView.from_row(r) for r in rows]


def progress(ws: Workspace) -> Progress:
    """Per batch: fields still to review and forms with nothing left to review."""
    rows = ws.db.execute(
        "SELECT fi.batch, COUNT(*) AS fields, SUM(f.status = 'review') AS fields_left, "
        "COUNT(DISTINCT p.id) AS forms, COUNT(DISTINCT p.id) - "
        "COUNT(DISTINCT CASE WHEN f.status = 'review' THEN p.id END) AS forms_complete "
        "FROM fields f JOIN pages p ON p.id = f.page_id JOIN files fi ON fi.id = p.file_id "
        "WHERE p.kind = 'form' GROUP BY fi.batch ORDER BY fi.batch"
    ).fetchall()
    return Progress(tuple(BatchProgress(**dict(r)) for r in rows))


def history(ws: Workspace, field_id: int) -> list[Decision]:
    rows = ws.db.execute(
        "SELECT * FROM decisions WHERE field_id = ? ORDER BY id", (field_id,)
    ).fetchall()
    return [Decision(**dict(r)) for r in rows]


_MARK_SQL = """
SELECT m.id, m.field_id, f.field, m.option, m.fill, m.state, m.confidence, f.value,
       f.status, f.version, p.id AS page_id, p.image AS page_image, fi.source_file, p.page
FROM marks m JOIN fields f ON f.id = m.field_id JOIN pages p ON p.id = f.page_id
JOIN files fi ON fi.id = p.file_id
"""


def marks_sweep(ws: Workspace, states: tuple[str, ...] = ("ambiguous", "marked", "empty"),
                limit: int = 400) -> list[MarkView]:
    """Every box for a by-eye sweep: unclear ones first, then ticked ones least sure first,
    then those read as empty, the most ink first (where a faint tick was missed)."""
    marks = ",".join("?" * len(states))
    rows = ws.db.execute(
        _MARK_SQL + f"WHERE p.kind = 'form' AND m.state IN ({marks}) "
        "ORDER BY CASE m.state WHEN 'ambiguous' THEN 0 WHEN 'marked' THEN 1 ELSE 2 END, "
        "CASE WHEN m.state = 'empty' THEN -m.fill ELSE m.confidence END, m.fill, "
        "fi.source_file, p.page, m.id LIMIT ?",
        (*states, limit),
    ).fetchall()
    return [MarkView(**dict(r)) for r in rows]


def get_mark(ws: Workspace, mark_id: int) -> MarkView:
    row = ws.db.execute(_MARK_SQL + "WHERE m.id = ?", (mark_id,)).fetchone()
    if row is None:
        raise NotFound(f"no mark #{mark_id} in this workspace")
    return MarkView(**dict(row))


# --- claims --------------------------------------------------------------------------


def next_field(ws: Workspace, reviewer: str, now: float | None = None) -> FieldView | None:
    """Claim and return the worst pending field nobody else is looking at (or None).

    The reviewer's own live claim comes first, so reloading the page shows the same
    field; fields someone skipped come after all the others, oldest skip first.
    """
    now = time.time() if now is None else now
    with ws.transaction() as db:
        row = db.execute(
            _FIELD_SQL + "WHERE p.kind = 'form' AND f.status = 'review' "
            "AND (f.claimed_by IS NULL OR f.claimed_by = :me OR f.claimed_until < :now) "
            "ORDER BY COALESCE(f.claimed_by = :me AND f.claimed_until >= :now, 0) DESC, "
            f"{_SKIPPED_SQL}, f.confidence, {_SEVERITY_SQL}, fi.source_file, p.page, f.id "
            "LIMIT 1",
            {"me": reviewer, "now": now},
        ).fetchone()
        if row is None:
            _release_all(db, reviewer)
            return None
        _claim(db, row["id"], reviewer, now)
    return get_field(ws, row["id"])


def claim_field(ws: Workspace, field_id: int, reviewer: str,
                now: float | None = None) -> FieldView:
    """Open a given field (from the page view): claim it unless someone else holds it."""
    now = time.time() if now is None else now
    with ws.transaction() as db:
        field = get_field(ws, field_id)
        if not field.claimed_by_other(reviewer, now):
            _claim(db, field_id, reviewer, now)
    return get_field(ws, field_id)


def _claim(db: sqlite3.Connection, field_id: int, reviewer: str, now: float) -> None:
    _release_all(db, reviewer, keep=field_id)
    db.execute(
        "UPDATE fields SET claimed_by = ?, claimed_until = ? WHERE id = ? "
        "AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until < ?)",
        (reviewer, now + CLAIM_SECONDS, field_id, reviewer, now),
    )


def _release_all(db: sqlite3.Connection, reviewer: str, keep: int = 0) -> None:
    """A reviewer looks at one field at a time: moving on frees the previous one."""
    db.execute(
        "UPDATE fields SET claimed_by = NULL, claimed_until = NULL "
        "WHERE claimed_by = ? AND id != ?",
        (reviewer, keep),
    )


def renew_claims(ws: Workspace, field_ids: list[int], reviewer: str,
                 now: float | None = None) -> int:
    """The page is still open: keep the reviewer's claims on these fields alive."""
    now = time.time() if now is None else now
    with ws.transaction() as db:
        n = 0
        for field_id in field_ids:
            n += db.execute(
                "UPDATE fields SET claimed_until = ? WHERE id = ? AND claimed_by = ?",
                (now + CLAIM_SECONDS, field_id, reviewer)).rowcount
    return n


def release(ws: Workspace, field_ids: list[int], reviewer: str) -> None:
    """The page was closed or left: free the reviewer's claims at once, not in 45 s."""
    with ws.transaction() as db:
        for field_id in field_ids:
            db.execute("UPDATE fields SET claimed_by = NULL, claimed_until = NULL "
                       "WHERE id = ? AND claimed_by = ?", (field_id, reviewer))


@dataclass(frozen=True)
class Held:
    """A pending field open on someone else's screen, and until when."""

    field: FieldView
    by: str
    seconds_left: int


def held_by_others(ws: Workspace, reviewer: str, now: float | None = None) -> list[Held]:
    """Pending fields other reviewers hold: the queue is not empty while these remain."""
    now = time.time() if now is None else now
    rows = ws.db.execute(
        _FIELD_SQL + "WHERE p.kind = 'form' AND f.status = 'review' AND f.claimed_by IS NOT "
        "NULL AND f.claimed_by != ? AND f.claimed_until >= ? ORDER BY f.claimed_until",
        (reviewer, now)).fetchall()
    return [Held(FieldView.from_row(r), r["claimed_by"], max(0, round(r["claimed_until"] - now)))
            for r in rows]


def reopen(ws: Workspace, field_id: int, reviewer: str, expected_version: int) -> FieldView:
    """Send a decided (or machine-accepted) field back to the queue, its value kept."""
    with ws.transaction() as db:
        field = get_field(ws, field_id)
        if field.version != expected_version:
            raise Conflict(_conflict_message(db, field, what="it was not reopened"))
        if field.status == Status.REVIEW:
            raise ReviewError(f"{field.field} is already waiting for review")
        db.execute("UPDATE fields SET status = 'review', version = version + 1 WHERE id = ?",
                   (field_id,))
        _append(db, field_id, reviewer, "reopen", field.value, field.value, field.status,
                Status.REVIEW.value, "")
        _claim(db, field_id, reviewer, time.time())
    return get_field(ws, field_id)


def readings(ws: Workspace, field_id: int) -> list[str]:
    """The readers' values of a text field, as stored with it."""
    return [r[0] for r in ws.db.execute(
        "SELECT value FROM readings WHERE field_id = ? ORDER BY source", (field_id,))]


def skip(ws: Workspace, field_id: int, reviewer: str) -> None:
    """Release the field and note the skip, so the queue serves it after all the others."""
    with ws.transaction() as db:
        field = get_field(ws, field_id)
        db.execute(
            "UPDATE fields SET claimed_by = NULL, claimed_until = NULL "
            "WHERE id = ? AND claimed_by = ?",
            (field_id, reviewer),
        )
        if field.status == Status.REVIEW:
            _append(db, field_id, reviewer, "skip", field.value, field.value,
                    field.status, field.status, "")


# --- decisions -----------------------------------------------------------------------


def allowed_box_values(spec: FormField) -> list[str]:
    """The values a box field can take: its options, a lone checkbox's unmarked value, ''."""
    values = [o.value for o in spec.options]
    if spec.unmarked and spec.unmarked not in values:
        values.append(spec.unmarked)
    return [*values, ""]


def normalise(spec: FormField, typed: str, override: bool = False) -> tuple[str, str]:
    """(value to store, note) for what a reviewer typed; raises InvalidValue.

    An empty value is always allowed: the person may have left the field blank,
    and required-ness is a rule of the whole form, not of one field. Control and
    invisible characters (bidi overrides, zero-width spaces, NUL) are removed first.
    """
    if len(typed) > MAX_VALUE_CHARS:
        raise InvalidValue(f"{spec.id}: {len(typed)} characters, more than any field holds",
                           f"too long (at most {MAX_VALUE_CHARS} characters)")
    typed = clean_value(typed)
    if spec.is_box:
        value = typed.lower()
        allowed = allowed_box_values(spec)
        if value not in allowed:
            shown = ", ".join(repr(v) for v in allowed)
            raise InvalidValue(
                f"{spec.id}: {typed!r} is not one of {shown}", f"must be one of {shown}"
            )
        return value, ""
    checked = check_value(spec.kind, typed)
    if checked.ok:
        return checked.value, ""
    problem = checked.problem or f"not a valid {spec.kind.value}"
    if not override:
        what = "e-mail address" if spec.kind == FieldKind.EMAIL else spec.kind.value
        raise InvalidValue(
            f"{spec.id}: {typed!r} is not a valid {what}: {problem} "
            "(fix it, or keep it as typed with override)",
            problem,
        )
    return typed, f"override: {problem}"


def decide(ws: Workspace, field_id: int, reviewer: str, new_value: str,
           expected_version: int, override: bool = False,
           template: Template | None = None) -> Decision:
    """Record a reviewer's value: 'confirmed' if it is the machine's, else 'corrected'."""
    template = template or default_template()
    with ws.transaction() as db:
        field = get_field(ws, field_id)
        if field.version != expected_version:
            raise Conflict(_conflict_message(db, field))
        value, note = normalise(template.field(field.field), new_value, override)
        broken = rules.problem(db, field.page_id, field.field, value, template,
                               {f.id: labels.field_label(f) for f in template.fields})
        if broken and not override:
            raise RuleBroken(f"{field.field}: {broken} (with override)", broken)
        if broken and not note:
            note = f"override: {broken}"
        status = Status.CONFIRMED if value == field.machine_value else Status.CORRECTED
        db.execute(
            "UPDATE fields SET value = ?, status = ?, version = version + 1, "
            "claimed_by = NULL, claimed_until = NULL WHERE id = ? AND version = ?",
            (value, status.value, field_id, expected_version),
        )
        action = "confirm" if status == Status.CONFIRMED else "correct"
        d = _append(db, field_id, reviewer, action, field.value, value,
                    field.status, status.value, note)
        return replace(d, rechecked=rules.recheck(db, field.page_id, template))


def undo(ws: Workspace, reviewer: str,
         template: Template | None = None) -> FieldView | None:
    """Revert the reviewer's latest decision not yet undone; returns the field, claimed again.

    Refused with Conflict if someone changed the field since: undoing would then
    silently overwrite their decision.
    """
    with ws.transaction() as db:
        row = db.execute(
            "SELECT * FROM decisions d WHERE d.reviewer = ? "
            "AND d.action IN ('confirm', 'correct') AND NOT EXISTS ("
            "  SELECT 1 FROM decisions u WHERE u.action = 'undo' AND u.note = 'undoes #' || d.id"
            ") ORDER BY d.id DESC LIMIT 1",
            (reviewer,),
        ).fetchone()
        if row is None:
            return None
        last = Decision(**dict(row))
        field = get_field(ws, last.field_id)
        if (field.value, field.status) != (last.new_value, last.new_status):
            raise Conflict(_conflict_message(db, field, what="your decision cannot be undone"))
        db.execute(
            "UPDATE fields SET value = ?, status = ?, version = version + 1 WHERE id = ?",
            (last.old_value, last.old_status, field.id),
        )
        _append(db, field.id, reviewer, "undo", last.new_value, last.old_value,
                last.new_status, last.old_status, f"undoes #{last.id}")
        rules.recheck(db, field.page_id, template or default_template())
        _claim(db, field.id, reviewer, time.time())
    return get_field(ws, last.field_id)


def flip_mark(ws: Workspace, mark_id: int, reviewer: str, expected_version: int,
              template: Template | None = None) -> Decision:
    """The reviewer says a box is the other way round: decide its field's value to match."""
    template = template or default_template()
    mark = get_mark(ws, mark_id)
    spec = template.field(mark.field)
    value = (spec.unmarked or "") if mark.ticked else mark.option
    return decide(ws, mark.field_id, reviewer, value, expected_version, template=template)


def set_value(ws: Workspace, source_file: str, page: int, field: str, value: str,
              reviewer: str, override: bool = False,
              template: Template | None = None) -> Decision:
    """A scripted correction, recorded in the audit trail like any other decision."""
    row = ws.db.execute(
        "SELECT f.id, f.version FROM fields f JOIN pages p ON p.id = f.page_id "
        "JOIN files fi ON fi.id = p.file_id "
        "WHERE fi.source_file = ? AND p.page = ? AND f.field = ?",
        (source_file, page, field),
    ).fetchone()
    if row is None:
        raise NotFound(
            f"no field {field!r} on page {page} of {source_file!r} "
            "(see `formscan review list` for what is pending)"
        )
    return decide(ws, row["id"], reviewer, value, row["version"], override, template)


def _append(db: sqlite3.Connection, field_id: int, reviewer: str, action: str,
            old_value: str, new_value: str, old_status: str, new_status: str,
            note: str) -> Decision:
    at = now_iso()
    cur = db.execute(
        "INSERT INTO decisions (field_id, reviewer, at, action, old_value, new_value, "
        "old_status, new_status, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (field_id, reviewer, at, action, old_value, new_value, str(old_status),
         str(new_status), note),
    )
    return Decision(cur.lastrowid or 0, field_id, reviewer, at, action, old_value, new_value,
                    str(old_status), str(new_status), note)


def _conflict_message(db: sqlite3.Connection, field: FieldView,
                      what: str = "your change was not saved") -> str:
    last = db.execute(
        "SELECT reviewer, at, action FROM decisions WHERE field_id = ? AND action != 'skip' "
        "ORDER BY id DESC LIMIT 1",
        (field.id,),
    ).fetchone()
    now = f"it is now {field.value!r} ({field.status})"
    if last is None:
        return f"{field.field} was read again by the machine since you opened it: {now}; {what}."
    when = last["at"][11:16] + " UTC" if "T" in last["at"] else last["at"]
    return f"{last['reviewer']} changed {field.field} at {when}: {now}; {what}."


def session_secret(ws: Workspace) -> str:
    """The key signing reviewers' session cookies, kept in the workspace so restarts keep them."""
    ws.db.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('review_secret', ?)",
        (secrets.token_hex(32),),
    )
    return ws.db.execute("SELECT value FROM meta WHERE key = 'review_secret'").fetchone()[0]

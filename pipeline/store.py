"""The workspace: one SQLite database plus the page and field images reviewers look at.

SQLite in WAL mode is the embedded default: nothing to install or run, safe
against a crash mid-batch (every page is committed in its own transaction),
and readable by the review server while a batch is still being processed.
Only the coordinating process writes results; workers hand theirs back.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import WorkspaceError
from pipeline.models import PageResult, Status

DB_NAME = "formscan.db"
IMAGES_DIR = "images"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- One row per input file, identified by its content: re-running never duplicates.
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    source_file TEXT NOT NULL,          -- as shown in exports (relative to the folder given)
    path TEXT NOT NULL,                 -- absolute path when last seen
    batch TEXT NOT NULL,                -- name of the batch it came in with
    n_pages INTEGER,                    -- NULL until the file has been opened
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'error')),
    error TEXT,
    added_at TEXT NOT NULL,
    done_at TEXT
);

-- Every input page exactly once.
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id),
    page INTEGER NOT NULL,
    sha256 TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('form', 'blank', 'other', 'error')),
    detail TEXT NOT NULL DEFAULT '',
    rotation REAL,
    reg_inliers INTEGER,
    reg_residual_mm REAL,
    reg_quality REAL,
    image TEXT,                         -- registered page image, relative to the workspace
    processed_at TEXT NOT NULL,
    UNIQUE (file_id, page)
);

-- One row per form page and field. `machine_value`/`raw` are never changed after
-- processing; `value`/`status` carry the reviewers' decisions.
CREATE TABLE IF NOT EXISTS fields (
    id INTEGER PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages(id),
    field TEXT NOT NULL,
    raw TEXT NOT NULL,
    machine_value TEXT NOT NULL,
    value TEXT NOT NULL,
    confidence REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('accepted', 'review', 'confirmed', 'corrected')),
    reasons TEXT NOT NULL DEFAULT '',   -- reason codes joined with ';'
    repairs TEXT NOT NULL DEFAULT '',
    image TEXT,                         -- the field's area, relative to the workspace
    version INTEGER NOT NULL DEFAULT 0, -- bumped by every decision: optimistic locking
    claimed_by TEXT,                    -- reviewer looking at it now
    claimed_until REAL,
    UNIQUE (page_id, field)
);

-- Each box of a box field, for the marks sweep.
CREATE TABLE IF NOT EXISTS marks (
    id INTEGER PRIMARY KEY,
    field_id INTEGER NOT NULL REFERENCES fields(id),
    option TEXT NOT NULL,
    fill REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('empty', 'marked', 'ambiguous')),
    confidence REAL NOT NULL,
    UNIQUE (field_id, option)
);

-- What each reader made of a text field (Tesseract's and the second engine's validated
-- values, with the model's probability that each is right): where they disagree is
-- what a reviewer is shown as doubtful. Replaced whenever the field is read again.
CREATE TABLE IF NOT EXISTS readings (
    field_id INTEGER NOT NULL REFERENCES fields(id),
    source TEXT NOT NULL,
    value TEXT NOT NULL,
    p REAL,
    PRIMARY KEY (field_id, source)
);

-- The audit trail: who decided what, when; never updated, only appended.
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY,
    field_id INTEGER NOT NULL REFERENCES fields(id),
    reviewer TEXT NOT NULL,
    at TEXT NOT NULL,
    action TEXT NOT NULL,               -- confirm, correct, undo
    old_value TEXT NOT NULL,
    new_value TEXT NOT NULL,
    old_status TEXT NOT NULL,
    new_status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);

-- Every attendee export, so `purge` knows what has been handed over: an export covers
-- the files finished before it and the decisions up to `last_decision`.
CREATE TABLE IF NOT EXISTS exports (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    last_decision INTEGER NOT NULL
);

-- Two forms that look like the same person (sent by post and by e-mail). The later
-- one's `nom` goes to review; a reviewer merges it into the earlier one (the export
-- then leaves it out) or keeps both.
CREATE TABLE IF NOT EXISTS duplicates (
    id INTEGER PRIMARY KEY,
    page_a INTEGER NOT NULL REFERENCES pages(id),
    page_b INTEGER NOT NULL REFERENCES pages(id),
    why TEXT NOT NULL,
    score REAL NOT NULL,
    decision TEXT CHECK (decision IN ('merged', 'kept')),
    decided_by TEXT,
    decided_at TEXT,
    UNIQUE (page_a, page_b)
);

-- What each purge removed (GDPR retention), kept as the record that it was done.
CREATE TABLE IF NOT EXISTS purges (
    id INTEGER PRIMARY KEY,
    batch TEXT NOT NULL,
    at TEXT NOT NULL,
    files INTEGER NOT NULL,
    images INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    fields INTEGER NOT NULL,
    decisions INTEGER NOT NULL
);

-- The lunch's payment, set by the organiser (formscan payment set, the summary page);
-- a lunch with no row here is still to collect. `receipt` numbers each lunch's
-- justificatif once, in the order first printed, and is never given to another form.
CREATE TABLE IF NOT EXISTS payments (
    page_id INTEGER PRIMARY KEY REFERENCES pages(id),
    state TEXT CHECK (state IN ('paid', 'to_collect', 'exempt')),
    receipt INTEGER UNIQUE,
    set_by TEXT NOT NULL DEFAULT '',
    set_at TEXT NOT NULL DEFAULT ''
);

-- Every payment recorded, as the decisions are: never updated, only appended.
CREATE TABLE IF NOT EXISTS payment_log (
    id INTEGER PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages(id),
    state TEXT NOT NULL,
    old_state TEXT,
    by TEXT NOT NULL,
    at TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS fields_status ON fields (status);
CREATE INDEX IF NOT EXISTS decisions_field ON decisions (field_id);
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class FileRow:
    id: int
    sha256: str
    source_file: str
    state: str
    n_pages: int | None


class Workspace:
    """A folder holding `formscan.db` and `images/`; create it on first use."""

    def __init__(self, root: str | Path, create: bool = True) -> None:
        self.root = Path(root)
        db = self.root / DB_NAME
        if not db.exists() and not create:
            raise WorkspaceError(
                f"{self.root}: no formscan workspace here (run `formscan process ... "
                f"--workspace {self.root}` first)"
            )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / IMAGES_DIR).mkdir(exist_ok=True)
            self.db = sqlite3.connect(db, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise WorkspaceError(f"{self.root}: cannot open workspace: {exc}") from None
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(_SCHEMA)
        self.db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: all of it lands, or none of it after a crash."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- files ---------------------------------------------------------------

    def file_by_sha(self, sha256: str) -> FileRow | None:
        r = self.db.execute(
            "SELECT id, sha256, source_file, state, n_pages FROM files WHERE sha256 = ?",
            (sha256,),
        ).fetchone()
        return FileRow(**dict(r)) if r else None

    def add_file(self, sha256: str, source_file: str, path: str, batch: str) -> FileRow:
        """Register an input file (once per content); returns its row, new or old."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO files (sha256, source_file, path, batch, added_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (sha256, source_file, path, batch, now_iso()),
            )
            db.execute("UPDATE files SET path = ? WHERE sha256 = ?", (path, sha256))
        row = self.file_by_sha(sha256)
        assert row is not None
        return row

    def forget_unreadable(self, path: str) -> None:
        """Drop the error recorded for `path` when it could not be read, now that it can.

        Otherwise a file fixed after a failed run (a broken link restored) would be
        listed twice in the pages export: once as the old error, once as read.
        """
        row = self.db.execute(
            "SELECT id FROM files WHERE sha256 = ?", (f"unreadable:{path}",)
        ).fetchone()
        if row is None:
            return
        with self.transaction() as db:
            db.execute("DELETE FROM pages WHERE file_id = ?", (row[0],))
            db.execute("DELETE FROM files WHERE id = ?", (row[0],))

    def set_file_pages(self, file_id: int, n_pages: int) -> None:
        self.db.execute("UPDATE files SET n_pages = ? WHERE id = ?", (n_pages, file_id))

    def finish_file(self, file_id: int, error: str | None = None) -> None:
        self.db.execute(
            "UPDATE files SET state = ?, error = ?, done_at = ? WHERE id = ?",
            ("error" if error else "done", error, now_iso(), file_id),
        )

    def reset_file(self, file_id: int) -> None:
        """Forget the machine's results for a file (for --force), keeping reviewers' decisions."""
        self.db.execute(
            "UPDATE files SET state = 'pending', error = NULL, done_at = NULL WHERE id = ?",
            (file_id,),
        )

    def done_pages(self, file_id: int) -> set[int]:
        rows = self.db.execute(
            "SELECT page FROM pages WHERE file_id = ? AND kind != 'error'", (file_id,)
        )
        return {r[0] for r in rows}

    # --- results -------------------------------------------------------------

    def _write_image(self, rel: str, data: bytes) -> str:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        return rel

    def save_page(self, file_id: int, result: PageResult, force: bool = False) -> int:
        """Store one page's result in one transaction; a reviewer's decision always survives.

        Images are written first under a name derived from the page's content, so a
        crash between the two leaves at worst an orphan image, never a row without one.
        """
        key = result.sha256 or f"{file_id}-{result.ref.page}"
        base = f"{IMAGES_DIR}/{key[:2]}/{key}"
        page_img = (self._write_image(f"{base}/page.{_ext(result.image)}", result.image)
                    if result.image else None)
        field_imgs = {
            f.field: self._write_image(f"{base}/{f.field}.{_ext(f.image)}", f.image)
            for f in result.fields
            if f.image
        }
        reg = result.registration
        with self.transaction() as db:
            old = db.execute(
                "SELECT id, kind FROM pages WHERE file_id = ? AND page = ?",
                (file_id, result.ref.page),
            ).fetchone()
            values = (
                result.sha256,
                result.kind.value,
                result.detail,
                reg.rotation_deg if reg else None,
                reg.inliers if reg else None,
                reg.residual_mm if reg else None,
                reg.quality if reg else None,
                page_img,
                now_iso(),
            )
            if old:
                if not force and old["kind"] != "error":
                    return old[0]
                page_id = old[0]
                db.execute(
                    "UPDATE pages SET sha256=?, kind=?, detail=?, rotation=?, reg_inliers=?, "
                    "reg_residual_mm=?, reg_quality=?, image=?, processed_at=? WHERE id=?",
                    (*values, page_id),
                )
            else:
                page_id = db.execute(
                    "INSERT INTO pages (file_id, page, sha256, kind, detail, rotation, "
                    "reg_inliers, reg_residual_mm, reg_quality, image, processed_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (file_id, result.ref.page, *values),
                ).lastrowid
            for f in result.fields:
                prev = db.execute(
                    "SELECT id, status FROM fields WHERE page_id = ? AND field = ?",
                    (page_id, f.field),
                ).fetchone()
                reasons = ";".join(r.value for r in f.reasons)
                repairs = ";".join(f.repairs)
                if prev is None:
                    field_id = db.execute(
                        "INSERT INTO fields (page_id, field, raw, machine_value, value, "
                        "confidence, status, reasons, repairs, image) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (page_id, f.field, f.raw, f.value, f.value, f.confidence,
                         f.status.value, reasons, repairs, field_imgs.get(f.field)),
                    ).lastrowid
                elif prev["status"] in (Status.CONFIRMED, Status.CORRECTED):
                    field_id = prev["id"]  # a person decided: keep their value and status
                    db.execute(
                        "UPDATE fields SET raw=?, machine_value=?, confidence=?, image=? "
                        "WHERE id=?",
                        (f.raw, f.value, f.confidence, field_imgs.get(f.field), field_id),
                    )
                else:
                    field_id = prev["id"]
                    db.execute(
                        "UPDATE fields SET raw=?, machine_value=?, value=?, confidence=?, "
                        "status=?, reasons=?, repairs=?, image=?, version=version+1 WHERE id=?",
                        (f.raw, f.value, f.value, f.confidence, f.status.value, reasons,
                         repairs, field_imgs.get(f.field), field_id),
                    )
                db.execute("DELETE FROM readings WHERE field_id = ?", (field_id,))
                db.executemany(
                    "INSERT INTO readings (field_id, source, value, p) VALUES (?, ?, ?, ?)",
                    [(field_id, src, str(c.get("value", "")), c.get("p"))
                     for src, c in f.evidence.get("candidates", {}).items()],
                )
                db.execute("DELETE FROM marks WHERE field_id = ?", (field_id,))
                db.executemany(
                    "INSERT INTO marks (field_id, option, fill, state, confidence) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(field_id, m.option, m.fill, m.state.value, m.confidence) for m in f.marks],
                )
        return page_id

    def save_error_page(self, file_id: int, page: int, detail: str) -> None:
        """Account for a page (or a whole unreadable file as page 1) that could not be read."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO pages (file_id, page, kind, detail, processed_at) "
                "VALUES (?, ?, 'error', ?, ?) "
                "ON CONFLICT (file_id, page) DO UPDATE SET kind='error', detail=excluded.detail",
                (file_id, page, detail, now_iso()),
            )

    def record_export(self, kind: str) -> None:
        """Note an export starting now: it holds every decision made so far.

        Called before the data is read, so it never claims more than was exported;
        `purge` removes personal data only once it has been exported.
        """
        self.db.execute(
            "INSERT INTO exports (kind, at, last_decision) "
            "VALUES (?, ?, (SELECT COALESCE(MAX(id), 0) FROM decisions))",
            (kind, now_iso()),
        )

    # --- possible duplicates ---------------------------------------------------

    def page_id(self, source_file: str, page: int) -> int | None:
        r = self.db.execute(
            "SELECT p.id FROM pages p JOIN files f ON f.id = p.file_id "
            "WHERE f.source_file = ? AND p.page = ?", (source_file, page)
        ).fetchone()
        return r[0] if r else None

    def flag_duplicate(self, page_a: int, page_b: int, why: str, score: float,
                       note: str, field: str = "nom") -> bool:
        """Record a possible duplicate once and send the later form's `field` to review.

        A field a reviewer already decided keeps its decision; the pair still waits
        for a merge-or-keep decision.
        """
        with self.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO duplicates (page_a, page_b, why, score) VALUES (?, ?, ?, ?)",
                (page_a, page_b, why, score),
            )
            if not cur.rowcount:
                return False
            row = db.execute("SELECT id, status, reasons, repairs FROM fields "
                             "WHERE page_id = ? AND field = ?", (page_b, field)).fetchone()
            if row and row["status"] in ("accepted", "review"):
                reasons = [r for r in row["reasons"].split(";") if r]
                if "possible_duplicate" not in reasons:
                    reasons.append("possible_duplicate")
                notes = [n for n in row["repairs"].split(";") if n] + [note]
                db.execute("UPDATE fields SET status = 'review', reasons = ?, repairs = ?, "
                           "version = version + 1 WHERE id = ?",
                           (";".join(reasons), ";".join(notes), row["id"]))
        return True

    def duplicate_rows(self) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT d.*, fa.source_file AS a_file, pa.page AS a_page, "
            "fb.source_file AS b_file, pb.page AS b_page FROM duplicates d "
            "JOIN pages pa ON pa.id = d.page_a JOIN files fa ON fa.id = pa.file_id "
            "JOIN pages pb ON pb.id = d.page_b JOIN files fb ON fb.id = pb.file_id "
            "ORDER BY d.id"
        ).fetchall()

    def decide_duplicate(self, page_b: int, decision: str, reviewer: str) -> int:
        """Merge the later form into the earlier one, or keep both; returns pairs decided."""
        cur = self.db.execute(
            "UPDATE duplicates SET decision = ?, decided_by = ?, decided_at = ? "
            "WHERE page_b = ?", (decision, reviewer, now_iso(), page_b)
        )
        return cur.rowcount

    def unsettled_duplicate_pages(self) -> set[tuple[str, int]]:
        """The later forms of pairs nobody has merged or kept yet: their rows are not final."""
        rows = self.db.execute(
            "SELECT f.source_file, p.page FROM duplicates d JOIN pages p ON p.id = d.page_b "
            "JOIN files f ON f.id = p.file_id WHERE d.decision IS NULL"
        )
        return {(r[0], r[1]) for r in rows}

    def merged_pages(self) -> set[tuple[str, int]]:
        rows = self.db.execute(
            "SELECT f.source_file, p.page FROM duplicates d JOIN pages p ON p.id = d.page_b "
            "JOIN files f ON f.id = p.file_id WHERE d.decision = 'merged'"
        )
        return {(r[0], r[1]) for r in rows}

    # --- lunch payments --------------------------------------------------------

    def payments(self) -> dict[tuple[str, int], tuple[str | None, int | None]]:
        """(source_file, page) -> (payment state or None, receipt number or None)."""
        rows = self.db.execute(
            "SELECT f.source_file, p.page, y.state, y.receipt FROM payments y "
            "JOIN pages p ON p.id = y.page_id JOIN files f ON f.id = p.file_id"
        )
        return {(r[0], r[1]): (r[2], r[3]) for r in rows}

    def set_payment(self, page_id: int, state: str, by: str) -> None:
        """Record a lunch's payment, and who changed it from what, in the payment log."""
        at = now_iso()
        with self.transaction() as db:
            old = db.execute("SELECT state FROM payments WHERE page_id = ?",
                             (page_id,)).fetchone()
            db.execute(
                "INSERT INTO payments (page_id, state, set_by, set_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (page_id) DO UPDATE SET state = excluded.state, "
                "set_by = excluded.set_by, set_at = excluded.set_at",
                (page_id, state, by, at),
            )
            db.execute("INSERT INTO payment_log (page_id, state, old_state, by, at) "
                       "VALUES (?, ?, ?, ?, ?)", (page_id, state, old[0] if old else None, by, at))

    def number_receipts(self, page_ids: list[int]) -> None:
        """Give each of `page_ids` without a receipt number the next one, in that order."""
        with self.transaction() as db:
            for page_id in page_ids:
                db.execute("INSERT OR IGNORE INTO payments (page_id) VALUES (?)", (page_id,))
                db.execute(
                    "UPDATE payments SET receipt = (SELECT COALESCE(MAX(receipt), 0) + 1 "
                    "FROM payments) WHERE page_id = ? AND receipt IS NULL", (page_id,))

    # --- reading -------------------------------------------------------------

    def page_rows(self) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT f.source_file, p.* FROM pages p JOIN files f ON f.id = p.file_id "
            "ORDER BY f.source_file, p.page"
        ).fetchall()

    def field_rows(self) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT fi.source_file, p.page, p.kind, f.* FROM fields f "
            "JOIN pages p ON p.id = f.page_id JOIN files fi ON fi.id = p.file_id "
            "WHERE p.kind = 'form' ORDER BY fi.source_file, p.page, f.id"
        ).fetchall()


def _ext(image: bytes) -> str:
    """The file extension of encoded image bytes: JPEG or PNG."""
    return "jpg" if image[:2] == b"\xff\xd8" else "png"

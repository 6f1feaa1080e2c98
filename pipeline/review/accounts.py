"""Reviewer accounts: a personal token each, for a review server other machines can reach.

A shared secret tells the server that someone may come in, not who they are:
with one, anyone can call themselves by a colleague's name and undo their
decisions. So beyond this machine every reviewer opens their own link, and the
name in the audit trail is the account's. Only a hash of each token is kept
(tokens are long random strings, so a plain SHA-256 is enough: nothing to guess).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from pipeline.errors import ExitCode, FormscanError
from pipeline.store import Workspace, now_iso

ACCOUNT_NAME = re.compile(r"^[\w.@'-][\w .@'-]{0,38}[\w.@'-]$|^[\w.@'-]$")
TOKEN_BYTES = 24  # 32 URL-safe characters

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviewers (
    name TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL
)
"""


class AccountError(FormscanError):
    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Account:
    name: str
    created: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _table(ws: Workspace) -> None:
    ws.db.execute(_SCHEMA)


def add(ws: Workspace, name: str) -> str:
    """Create the account `name`, or give it a new token; returns the token (shown once)."""
    name = " ".join(name.split())
    if not ACCOUNT_NAME.match(name):
        raise AccountError(f"{name!r}: a reviewer's name is 1 to 40 letters, digits, spaces "
                           "or . @ ' -")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    _table(ws)
    with ws.transaction() as db:
        db.execute(
            "INSERT INTO reviewers (name, token_sha256, created) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET token_sha256 = excluded.token_sha256",
            (name, token_hash(token), now_iso()),
        )
    return token


def remove(ws: Workspace, name: str) -> bool:
    _table(ws)
    with ws.transaction() as db:
        return db.execute("DELETE FROM reviewers WHERE name = ?", (name,)).rowcount > 0


def accounts(ws: Workspace) -> list[Account]:
    _table(ws)
    rows = ws.db.execute("SELECT name, created FROM reviewers ORDER BY name").fetchall()
    return [Account(r["name"], r["created"]) for r in rows]


def name_for_hash(ws: Workspace, digest: str) -> str | None:
    """The reviewer whose token hashes to `digest` (a session's proof), if still an account."""
    _table(ws)
    row = ws.db.execute("SELECT name FROM reviewers WHERE token_sha256 = ?",
                        (digest,)).fetchone()
    return None if row is None else str(row["name"])


def digest_for(ws: Workspace, name: str) -> str | None:
    """The hash of `name`'s current token, or None if there is no such account."""
    _table(ws)
    row = ws.db.execute("SELECT token_sha256 FROM reviewers WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row["token_sha256"])


@dataclass(frozen=True)
class WorkspaceAccounts:
    """The accounts of a workspace, read afresh on every request (a removal takes effect now)."""

    root: str

    def name_for(self, digest: str) -> str | None:
        with Workspace(self.root, create=False) as ws:
            return name_for_hash(ws, digest)

    def digest_for(self, name: str) -> str | None:
        with Workspace(self.root, create=False) as ws:
            return digest_for(ws, name)

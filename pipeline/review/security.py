"""The review server's protections: who may come in, who they are, CSRF and headers.

Reviewers look at personal data read from forms, so the app assumes a hostile
neighbour and a hostile web page in the reviewer's own browser:

- Served on this machine only (no token), it answers only to Host 127.0.0.1,
  localhost or [::1]: a page on evil.example whose name is rebound to 127.0.0.1
  (DNS rebinding) gets nothing.
- With a shared --token, or with reviewer accounts (a personal token each; the
  only way to serve beyond this machine), every request must prove it: the token
  in the link once, then a session cookie holding a proof derived from it, never
  the token itself. Wrong tokens make the client wait longer and longer.
- Each browser is its own reviewer: locally, a name plus a per-browser id, so two
  browsers with the same name neither share claims nor undo each other; with
  accounts, the account's name, which nobody else can take.
- No POST is honoured without the session's CSRF token, the browser runs no script
  and loads nothing from elsewhere, and field images are neither cached nor
  embeddable by other sites.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from flask import Flask, Response, abort, redirect, request, session
from werkzeug.routing import IntegerConverter

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_PARAM = "token"
AUTH_KEY = "auth"  # the session's proof of the token: an HMAC of it, not the token
BROWSER_KEY = "browser"  # a random id per browser: part of the reviewer's identity
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MIN_TOKEN_LENGTH = 12
MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger id is no row, not a crash
MAX_BODY_BYTES = 65_536  # a decision is a few hundred bytes
MAX_VALUE_BYTES = 16_384  # any one multipart value (urlencoded ones: MAX_VALUE_CHARS)

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class BoundedInt(IntegerConverter):
    """`<int:...>` in routes, but an id beyond SQLite's range is a 404, not a 500."""

    def __init__(self, map, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class Accounts(Protocol):
    """Reviewer accounts, known by the SHA-256 of their personal token."""

    def name_for(self, digest: str) -> str | None: ...

    def digest_for(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class Access:
    """How requests prove they may come in.

    `token`: one shared secret. `accounts`: personal tokens, one per reviewer.
    Neither: this machine only, checked by the Host header.
    """

    token: str | None = None
    accounts: Accounts | None = None

    @property
    def gated(self) -> bool:
        return bool(self.token) or self.accounts is not None


class Throttle:
    """Slows down guessing: after a few wrong tokens, a client must wait, doubling each time."""

    FREE = 3  # wrong tokens allowed before waiting starts
    MAX_WAIT_S = 300.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._state: dict[str, tuple[int, float]] = {}  # client -> (failures, wait until)

    def wait(self, client: str) -> float:
        """Seconds `client` must still wait before trying a token again (0: may try)."""
        with self._lock:
            _, until = self._state.get(client, (0, 0.0))
            return max(0.0, until - self._clock())

    def failed(self, client: str) -> None:
        with self._lock:
            n, _ = self._state.get(client, (0, 0.0))
            n += 1
            wait = 0.0 if n <= self.FREE else min(self.MAX_WAIT_S, 2.0 ** (n - self.FREE))
            self._state[client] = (n, self._clock() + wait)
            if len(self._state) > 10_000:  # a flood of addresses: forget the oldest
                self._state.pop(next(iter(self._state)))

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._state.pop(client, None)


def token_problem(token: str | None) -> str | None:
    """Why `token` cannot be a server's secret, or None."""
    if token is None:
        return None
    if not token.strip():
        return "the token is blank"
    if any(c.isspace() for c in token) or not token.isprintable():
        return "the token must not contain spaces or control characters"
    if len(token) < MIN_TOKEN_LENGTH:
        return f"the token must be at least {MIN_TOKEN_LENGTH} characters long"
    return None


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return str(session[CSRF_FIELD])


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def _check_csrf() -> None:
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not _same(sent, session.get(CSRF_FIELD)):
        abort(400, "This form has expired or did not come from this page: reload and try again.")


def host_name(host: str) -> str:
    """The name in a Host header, without its port: "[::1]:8765" -> "::1"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def browser_id() -> str:
    """This browser's own id, kept in its signed session cookie."""
    if BROWSER_KEY not in session:
        session[BROWSER_KEY] = secrets.token_hex(3)
    return str(session[BROWSER_KEY])


def identity(name: str) -> str:
    """The reviewer as recorded: the account's name, or locally the name and this browser's id.

    Two browsers that both say "Alice" are two reviewers, and neither can undo
    or take over the other's work by typing the other's name.
    """
    if session.get("account"):
        return str(session["account"])
    return f"{name} ({browser_id()})"


def install(app: Flask, access: Access | str | None = None) -> None:
    """Wire the gate, the CSRF check, the limits and the headers into `app`.

    Must run before the routes are registered (it bounds the `int` converter).
    """
    if not isinstance(access, Access):
        access = Access(token=access)
    app.url_map.converters["int"] = BoundedInt
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="formscan_session",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_VALUE_BYTES,
    )
    app.config["FORMSCAN_ACCESS"] = access
    app.jinja_env.globals["csrf_token"] = csrf_token
    throttle = Throttle()
    app.extensions["formscan_throttle"] = throttle

    def proof(secret: str) -> str:
        key = str(app.secret_key).encode()
        return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()

    def digest(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    def check_token() -> Response | None:
        client = request.remote_addr or "?"
        given = request.args.get(TOKEN_PARAM)
        if given is not None:
            wait = throttle.wait(client)
            if wait > 0:
                resp = Response(f"Too many wrong tokens: wait {wait:.0f} s.\n", 429,
                                mimetype="text/plain")
                resp.headers["Retry-After"] = str(int(wait) + 1)
                return resp
            account = None
            if access.accounts is not None:
                account = access.accounts.name_for(digest(given)) if given.strip() else None
                ok = account is not None
            else:
                ok = token_problem(given) is None and _same(given, access.token)
            if not ok:
                throttle.failed(client)
                abort(403, "Wrong access token.")
            throttle.succeeded(client)
            session.clear()  # another reviewer in this browser: nothing of the last one
            session[AUTH_KEY] = proof(digest(given))
            if account is not None:
                session["account"] = session["reviewer"] = account
            session.permanent = True
            # Drop the token from the address bar (and from history and the access log).
            args = {k: v for k, v in request.args.items() if k != TOKEN_PARAM}
            query = urlencode(args)
            return redirect(request.path + (f"?{query}" if query else ""), code=303)
        held = session.get(AUTH_KEY)
        if access.accounts is not None:
            # Checked against the account as it is now: a removed account, or one given
            # a new token, is locked out at once.
            name = session.get("account")
            current = access.accounts.digest_for(str(name)) if name else None
            if current is None or not _same(held, proof(current)):
                abort(403, "This review server needs your personal link: ask for one "
                           "(`formscan reviewers add NAME` prints it).")
        elif not _same(held, proof(digest(access.token or ""))):
            abort(403, "This review server needs its access token: open the link "
                       "`formscan serve` printed (it ends in ?token=...).")
        return None

    @app.before_request
    def _guard() -> Response | None:
        if not access.gated and host_name(request.host) not in LOCAL_HOSTS:
            # plain text: a rendered page would start a session (its CSRF token)
            return Response("This review server answers only to 127.0.0.1, localhost "
                            "or [::1].\n", 403, mimetype="text/plain")
        if access.gated:
            resp = check_token()
            if resp is not None:
                return resp
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _check_csrf()
        return None

    @app.after_request
    def _headers(resp: Response) -> Response:
        for k, v in HEADERS.items():
            resp.headers.setdefault(k, v)
        if resp.mimetype == "text/html":
            resp.headers["Cache-Control"] = "no-store"
        elif resp.mimetype.startswith("image/") and request.endpoint != "static":
            # Scans of people's forms: kept by no cache, embedded by no other site.
            resp.headers["Cache-Control"] = "private, no-store"
            resp.headers.pop("Expires", None)
        return resp


def check_serve_host(host: str, token: str | None, accounts: int = 0) -> str | None:
    """Why serving on `host` with `token` (and `accounts` reviewer accounts) is refused."""
    problem = token_problem(token)
    if problem:
        return problem
    if host not in LOCAL_HOSTS and not accounts:
        return (f"listening on {host} lets other machines reach the review app and the "
                "personal data in it: give each reviewer an account first "
                "(formscan reviewers add NAME -w WORKSPACE prints their personal link), "
                "or keep the default --host 127.0.0.1")
    return None

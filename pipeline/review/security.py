"""The review server's protections: access token, CSRF check and security headers.

Reviewers look at personal data read from forms, so the app assumes a hostile
neighbour: nothing is served without the token when one is set, no POST is
honoured without the session's CSRF token, and the browser is told to run no
script and load nothing that does not come from the app itself.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlencode

from flask import Flask, Response, abort, redirect, request, session

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_COOKIE = "formscan_token"
TOKEN_PARAM = "token"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MIN_TOKEN_LENGTH = 12

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


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


def _check_token(token: str) -> Response | None:
    given = request.args.get(TOKEN_PARAM)
    if given is not None:
        if not _same(given, token):
            abort(403, "Wrong access token.")
        # Trade the token in the URL for a cookie, and drop it from the address bar.
        args = {k: v for k, v in request.args.items() if k != TOKEN_PARAM}
        query = urlencode(args)
        resp = redirect(request.path + (f"?{query}" if query else ""), code=303)
        resp.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict",
                        secure=request.is_secure)
        return resp
    if not _same(request.cookies.get(TOKEN_COOKIE), token):
        abort(403, "This review server needs its access token: open the link "
                   "`formscan serve` printed (it ends in ?token=...).")
    return None


def install(app: Flask, token: str | None) -> None:
    """Wire the token gate, the CSRF check and the headers into `app`."""
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="formscan_session",
    )
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _guard() -> Response | None:
        if token:
            resp = _check_token(token)
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
        return resp


def check_serve_host(host: str, token: str | None) -> str | None:
    """Why serving on `host` with `token` is refused, or None if it is fine."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        return f"the token must be at least {MIN_TOKEN_LENGTH} characters long"
    if host not in LOCAL_HOSTS and not token:
        return (f"listening on {host} lets other machines reach the review app and the "
                "personal data in it: give a secret with --token (or FORMSCAN_TOKEN), "
                "or keep the default --host 127.0.0.1")
    return None

"""Serving the review app: waitress, with timeouts and size limits, and a redacted access log.

Werkzeug's development server gives every connection a thread for as long as
the client likes: 200 half-sent requests kept 203 threads alive. Waitress reads
requests on one event loop and hands only complete ones to a fixed pool of
threads, drops connections idle for `channel_timeout` seconds, and refuses
bodies over `max_request_body_size` before the app sees them.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pipeline.review.security import MAX_BODY_BYTES, TOKEN_PARAM

log = logging.getLogger("formscan.access")
_TOKEN_IN_QUERY = re.compile(rf"(^|&)({TOKEN_PARAM}=)[^&]*", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    """What one client may cost the server."""

    threads: int = 8  # requests handled at once; the rest wait on the event loop
    channel_timeout: float = 30.0  # seconds a connection may sit idle or half-sent
    connection_limit: int = 500  # open connections; more wait until some close or time out
    max_request_body_size: int = MAX_BODY_BYTES
    max_request_header_size: int = 32_768


def redact(query: str) -> str:
    """A query string with the access token's value replaced: "token=…" never reaches a log."""
    return _TOKEN_IN_QUERY.sub(r"\1\2[redacted]", query)


def access_log(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """WSGI middleware: one line per request, `client METHOD path?query status ms`, redacted."""

    def logged(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        t0 = time.perf_counter()
        status = ["-"]

        def start(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, exc_info)

        try:
            return app(environ, start)
        finally:
            query = environ.get("QUERY_STRING", "")
            path = environ.get("PATH_INFO", "") + (f"?{redact(query)}" if query else "")
            path = path.encode("unicode_escape", "backslashreplace").decode("ascii")
            log.info("%s %s %s %s %.0f ms", environ.get("REMOTE_ADDR", "-"),
                     environ.get("REQUEST_METHOD", "-"), path[:300], status[0],
                     (time.perf_counter() - t0) * 1000)

    return logged


def serve(app: Callable[..., Iterable[bytes]], host: str, port: int,
          announce: Callable[[int], None], limits: Limits = Limits()) -> None:
    """Serve `app` until Ctrl+C or SIGTERM; `announce(port)` once listening (port 0: any free)."""
    from waitress.server import create_server

    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth is N"
    server = create_server(
        access_log(app), host=host, port=port, threads=limits.threads,
        channel_timeout=limits.channel_timeout, connection_limit=limits.connection_limit,
        max_request_body_size=limits.max_request_body_size,
        max_request_header_size=limits.max_request_header_size,
        cleanup_interval=max(1, int(limits.channel_timeout // 3)),
        expose_tracebacks=False, ident="formscan", clear_untrusted_proxy_headers=True,
    )
    announce(int(server.effective_port))  # type: ignore[union-attr]
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()

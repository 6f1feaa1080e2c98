"""`formscan serve` as a real process on a free 127.0.0.1 port, and a small scripted browser.

The browser speaks plain HTTP through http.client so that a test can send what a
browser never would: another Host header, a half request, a 15 MB value.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != "FORMSCAN_TOKEN"}
    return {**base, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "OMP_THREAD_LIMIT": "1", **extra}


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log: Path  # the server's standard error: its access log

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def threads(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("Threads:")))

    def browser(self, host: str | None = None) -> Browser:
        return Browser(self.port, host or f"127.0.0.1:{self.port}")


def start(ws: Path, *args: str, token: str | None = None, timeout: float = 30) -> Server:
    """`formscan serve -w ws --port 0 *args`, once it says where it listens."""
    log = ws.parent / f"serve-{time.monotonic_ns()}.log"
    extra = {"FORMSCAN_TOKEN": token} if token is not None else {}
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "serve", "-w", str(ws), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=err, text=True, env=env(**extra),
        )
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"Review app: http://127\.0\.0\.1:(\d+)/", line)
        if m:
            return Server(proc, int(m.group(1)), log)
    proc.kill()
    raise AssertionError(f"the server did not start: {log.read_text()[-2000:]}")


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Browser:
    """One browser: its cookies, its Host header, its last CSRF token."""

    port: int
    host: str
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    def request(self, method: str, path: str, data: dict | None = None,
                headers: dict[str, str] | None = None, timeout: float = 20) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            h = {"Host": self.host, **(headers or {})}
            if self.cookies:
                h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            body = None
            if data is not None:
                body = urlencode(data).encode()
                h["Content-Type"] = "application/x-www-form-urlencoded"
            # refused before the body was all sent: the answer is still there
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            resp = Response(r.status, r.headers, r.read())
        finally:
            conn.close()
        for raw in resp.headers.get_all("Set-Cookie") or []:
            c = SimpleCookie()
            c.load(raw)
            for k, morsel in c.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[k] = morsel.value
                else:
                    self.cookies.pop(k, None)
        m = CSRF.search(resp.text) if resp.headers.get_content_type() == "text/html" else None
        if m:
            self.csrf = m.group(1)
        return resp

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, data: dict, **kw) -> Response:
        if not self.csrf:
            self.get("/who")
        return self.request("POST", path, {**data, "csrf_token": self.csrf}, **kw)

    def login(self, name: str) -> None:
        self.get("/who")
        r = self.post("/who", {"name": name})
        assert r.status in (302, 303), (r.status, r.text[:300])

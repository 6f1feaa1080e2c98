"""The review server as an attacker meets it: a real `formscan serve` process on 127.0.0.1.

Every test starts the server in a subprocess on a free port of 127.0.0.1 and
talks HTTP to it; nothing leaves this machine.
"""

from __future__ import annotations

import base64
import contextlib
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from live_server import Browser, Server, env, start
from test_review_data import build_workspace

from pipeline.cli import main
from pipeline.store import DB_NAME, Workspace

SECRET = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workspace(tmp_path_factory.mktemp("served") / "ws")


@pytest.fixture
def ws(built: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "ws"
    shutil.copytree(built, dst)
    return dst


@pytest.fixture
def server(ws: Path):
    s = start(ws)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def shared(built: Path, tmp_path_factory: pytest.TempPathFactory):
    """One server for the tests that change nothing (starting one takes a second or two)."""
    dst = tmp_path_factory.mktemp("shared") / "ws"
    shutil.copytree(built, dst)
    s = start(dst)
    yield s
    s.stop()


def field_id(ws: Path, source: str, page: int, name: str) -> int:
    with Workspace(ws, create=False) as w:
        return w.db.execute(
            "SELECT f.id FROM fields f JOIN pages p ON p.id = f.page_id JOIN files fi "
            "ON fi.id = p.file_id WHERE fi.source_file = ? AND p.page = ? AND f.field = ?",
            (source, page, name)).fetchone()[0]


def stored(ws: Path, fid: int) -> str:
    with Workspace(ws, create=False) as w:
        return w.db.execute("SELECT value FROM fields WHERE id = ?", (fid,)).fetchone()[0]


def n_decisions(ws: Path) -> int:
    with Workspace(ws, create=False) as w:
        return w.db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]


# --- who may come in ------------------------------------------------------------------------


def test_a_rebound_host_name_gets_nothing(server: Server, ws: Path) -> None:
    """DNS rebinding: evil.example resolving to 127.0.0.1 reads no data, gets no session."""
    evil = server.browser("evil.example")
    for path in ("/", "/who", "/progress", f"/field/{field_id(ws, 'scan-002.pdf', 1, 'nom')}"):
        r = evil.get(path)
        assert r.status == 403 and "Martin" not in r.text, path
    assert "formscan_session" not in evil.cookies
    r = evil.request("POST", "/who", {"name": "mallory", "csrf_token": "x"})
    assert r.status == 403
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", f"[::1]:{server.port}",
                 "LOCALHOST"):
        assert server.browser(host).get("/who").status == 200, host
    assert n_decisions(ws) == 0


def test_tokens_stay_out_of_the_log_and_the_cookie(ws: Path) -> None:
    s = start(ws, token=SECRET)
    try:
        b = s.browser()
        assert b.get("/who").status == 403
        r = b.get(f"/who?token={SECRET}&x=1")
        assert r.status == 303 and r.location == "/who?x=1"
        assert b.get("/who").status == 200, "the session now proves the token"
        cookies = " ".join(b.cookies.values())
        assert SECRET not in cookies
        payload = b.cookies["formscan_session"].split(".")[0].lstrip(".")
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw)
        assert SECRET.encode() not in raw
        assert server_log(s, "token=[redacted]")
        assert SECRET not in s.log.read_text()
        # the Host check is for the token-less server: a token is what keeps strangers out
        assert Browser(s.port, "evil.example").get("/who").status == 403
    finally:
        s.stop()


def server_log(s: Server, text: str, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in s.log.read_text():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("token", [" " * 12, "\t" * 20, "short", "twelve chars with spaces"])
def test_blank_or_weak_tokens_are_refused(ws: Path, token: str) -> None:
    r = subprocess.run([sys.executable, "-m", "pipeline", "serve", "-w", str(ws), "--port", "0"],
                       capture_output=True, text=True, env=env(FORMSCAN_TOKEN=token), timeout=30)
    assert r.returncode == 2 and "token" in r.stderr


def test_wrong_tokens_slow_the_guesser_down(ws: Path) -> None:
    s = start(ws, token=SECRET)
    try:
        b = s.browser()
        codes = [b.get(f"/?token=guess-number-{i:04d}").status for i in range(6)]
        assert codes[:3] == [403, 403, 403]
        assert 429 in codes[3:], codes
        r = b.get(f"/?token={SECRET}")
        assert r.status == 429 and int(r.headers["Retry-After"]) >= 1, "even the right one waits"
    finally:
        s.stop()


# --- what a request may cost --------------------------------------------------------------


def test_half_sent_requests_hold_no_threads_and_time_out(ws: Path) -> None:
    s = start(ws, "--request-timeout", "2")
    socks = []
    try:
        before = s.threads()
        for _ in range(200):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            c.sendall(b"POST /decide HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n")
            socks.append(c)
        t0 = time.monotonic()
        assert s.browser().get("/who", timeout=5).status == 200
        assert time.monotonic() - t0 < 2, "a reviewer waited behind the half-sent requests"
        assert s.threads() <= before + 2, f"{s.threads()} threads (was {before})"
        time.sleep(4.5)  # the request timeout, and a cleanup pass
        closed = 0
        for c in socks:
            c.settimeout(0.5)
            try:
                closed += c.recv(1) == b""
            except ConnectionResetError:
                closed += 1
            except TimeoutError:
                pass  # still open
        assert closed >= 190, f"only {closed} of 200 idle connections were closed"
    finally:
        for c in socks:
            c.close()
        s.stop()


def test_oversized_requests_and_values_are_refused(server: Server, ws: Path) -> None:
    alice = server.browser()
    alice.login("alice")
    nom = field_id(ws, "scan-002.pdf", 1, "nom")
    for size in (15_000_000, 100_000):
        t0 = time.monotonic()
        r = alice.post("/decide", {"field_id": nom, "version": 0, "value": "M" * size})
        assert r.status == 413, size
        assert time.monotonic() - t0 < 5
    for size in (20_000, 800):  # within the body limit, beyond any field
        r = alice.post("/decide", {"field_id": nom, "version": 0, "value": "M" * size,
                                   "override": "1"})
        assert r.status == 422 and "too long" in r.text
    assert stored(ws, nom) == "Martin" and n_decisions(ws) == 0
    r = alice.post("/decide", {"field_id": nom, "version": 0, "value": "Martinez"})
    assert r.status == 302 and stored(ws, nom) == "Martinez"


@pytest.mark.parametrize("path", [
    "/field/99999999999999999999999", "/field/9999999", "/field/9999999/image",
    "/page/99999999999999999999999", "/page/9999999", "/mark/99999999999999999999/image",
    "/mark/9999999/image",
])
def test_unknown_or_oversized_ids_are_404(shared: Server, path: str) -> None:
    b = shared.browser()
    b.login("alice")
    assert b.get(path).status == 404


@pytest.mark.parametrize(("route", "key", "value"), [
    ("/skip", "field_id", "9999999"), ("/skip", "field_id", "99999999999999999999999"),
    ("/decide", "field_id", "9999999"), ("/decide", "field_id", "99999999999999999999999"),
    ("/marks/flip", "mark_id", "99999999999999999999999"),
])
def test_posts_about_unknown_ids_are_404(shared: Server, route: str, key: str,
                                         value: str) -> None:
    b = shared.browser()
    b.login("alice")
    assert b.post(route, {key: value, "version": 0, "value": "x"}).status == 404


def test_field_images_are_private_and_not_embeddable(shared: Server, built: Path) -> None:
    ws = built
    b = shared.browser()
    b.login("alice")
    for fid in (field_id(ws, "scan-002.pdf", 1, "nom"),
                field_id(ws, "scan-001.pdf", 1, "agent_collectivite")):  # stored, and cropped
        r = b.get(f"/field/{fid}/image")
        assert r.status == 200 and r.headers.get_content_type().startswith("image/")
        assert r.headers["Cache-Control"] == "private, no-store"
        assert r.headers["Cross-Origin-Resource-Policy"] == "same-origin"
        assert "Expires" not in r.headers


# --- what is stored ------------------------------------------------------------------------


def test_invisible_characters_are_stripped_and_domains_stay_ascii(server: Server,
                                                                  ws: Path) -> None:
    b = server.browser()
    b.login("alice")
    nom = field_id(ws, "scan-002.pdf", 1, "nom")
    mail = field_id(ws, "scan-001.pdf", 1, "mail")
    r = b.post("/decide", {"field_id": nom, "version": 0,
                           "value": "Mar\u202etin\u200b\x00 \u2066Dupont\u2069"})
    assert r.status == 302
    assert stored(ws, nom) == "Martin Dupont"
    r = b.post("/decide", {"field_id": mail, "version": 0, "value": "jeanne@pаypal.fr"})
    assert r.status == 302
    assert stored(ws, mail) == "jeanne@xn--pypal-4ve.fr"


def test_every_spreadsheet_export_neutralises_formulas(ws: Path) -> None:
    run = CliRunner().invoke
    values = {"nom": "=HYPERLINK(\"http://evil.example\",\"x\")", "prenom": "\uff1d1+1",
              "structure": "\u200b\u200b=cmd|' /C calc'!A0", "fonction": "+33 pour test",
              "adresse": "@SUM(1)"}
    for name, value in values.items():
        r = run(main, ["review", "set", "-w", str(ws), "scan-003.pdf", "2", name, value,
                       "--override"])
        assert r.exit_code == 0, r.output
    outputs = {
        "attendees": run(main, ["export", "attendees", "-w", str(ws)]).stdout,
        "attendees --excel": run(main, ["export", "attendees", "-w", str(ws), "--excel"]).stdout,
        "fields": run(main, ["export", "fields", "-w", str(ws)]).stdout,
    }
    for what, text in outputs.items():
        for cell in re.split(r"[,;\n]", text):
            visible = cell.strip('"').lstrip("\u200b")
            assert visible[:1] not in ("=", "\uff1d", "+", "@"), f"{what}: {cell!r}"
        assert "'=HYPERLINK" in text.replace('"', "") and "'\uff1d1+1" in text, what
    raw = run(main, ["export", "fields", "-w", str(ws), "--raw"]).stdout
    assert ",=cmd|" in raw or ',"=cmd|' in raw, "--raw writes what is stored"
    help_text = run(main, ["export", "--help"]).stdout
    assert "--raw" in help_text and "spreadsheet" in help_text


# --- who is who ----------------------------------------------------------------------------


def decisions_by(ws: Path) -> list[tuple[str, str]]:
    with Workspace(ws, create=False) as w:
        return [(r["reviewer"], r["action"]) for r in
                w.db.execute("SELECT reviewer, action FROM decisions ORDER BY id")]


def current_field(page: str) -> tuple[int, int] | None:
    fid = re.search(r'name="field_id" value="(\d+)"', page)
    ver = re.search(r'name="version" value="(\d+)"', page)
    return (int(fid.group(1)), int(ver.group(1))) if fid and ver else None


def test_two_browsers_with_one_name_are_two_reviewers(server: Server, ws: Path) -> None:
    first, second = server.browser(), server.browser()
    first.login("alice")
    second.login("alice")
    a, b = current_field(first.get("/").text), current_field(second.get("/").text)
    assert a and b and a[0] != b[0], "the same field served to both"
    r = first.post("/decide", {"field_id": a[0], "version": a[1], "value": "", "override": "1"})
    assert r.status == 302
    r = second.post("/undo", {})
    assert "Nothing to undo" in second.get("/").text, "the other alice undid it"
    acts = decisions_by(ws)
    assert [act for _, act in acts] in (["confirm"], ["correct"]), acts
    assert stored(ws, a[0]) == ""


def test_with_accounts_each_reviewer_is_who_their_link_says(ws: Path) -> None:
    run = CliRunner().invoke
    links = {}
    for name in ("alice", "bob"):
        r = run(main, ["reviewers", "add", "-w", str(ws), name])
        assert r.exit_code == 0, r.output
        links[name] = r.stdout.strip().rsplit("?", 1)[1]
    with sqlite3.connect(ws / DB_NAME) as db:
        hashes = [h for (h,) in db.execute("SELECT token_sha256 FROM reviewers")]
    assert all(links[n].split("=", 1)[1] not in " ".join(hashes) for n in links)
    s = start(ws)
    try:
        stranger = s.browser()
        assert stranger.get("/who").status == 403
        assert stranger.request("POST", "/who", {"name": "alice"}).status == 403
        assert stranger.get("/?token=" + "x" * 32).status == 403
        alice, bob = s.browser(), s.browser()
        assert alice.get("/?" + links["alice"]).status == 303
        assert bob.get("/?" + links["bob"]).status == 303
        assert links["alice"].split("=", 1)[1] not in " ".join(alice.cookies.values())
        bob.post("/who", {"name": "alice"})  # bob claims alice's name: ignored
        page = alice.get("/").text
        a = current_field(page)
        assert a
        assert alice.post("/decide", {"field_id": a[0], "version": a[1], "value": "",
                                      "override": "1"}).status == 302
        bob.post("/undo", {})
        assert "Nothing to undo" in bob.get("/").text
        assert {who for who, _ in decisions_by(ws)} == {"alice"}
        assert run(main, ["reviewers", "remove", "-w", str(ws), "alice"]).exit_code == 0
        assert alice.get("/").status == 403, "a removed account is locked out at once"
        assert bob.get("/progress").status == 200
    finally:
        s.stop()

"""Review in a real browser: Debian's Chromium driven by Playwright against the real server.

A reviewer clears the whole queue from the keyboard alone, then the audit trail is
checked; the protections are tested against the running server. Screenshots go
to $REVIEW_SHOTS (for looking at the UI), else to the test's temporary folder.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_review_data import FORMS, PENDING, XSS, build_workspace

from pipeline.review import queue as q
from pipeline.review.app import create_app
from pipeline.store import Workspace

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sync_playwright is None, reason="the playwright package is not installed"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workspace(tmp_path_factory.mktemp("review-browser") / "ws")


@pytest.fixture
def server(built: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The real app on 127.0.0.1 and a free port, over a fresh copy of the workspace."""
    from werkzeug.serving import make_server

    root = tmp_path / "ws"
    shutil.copytree(built, root)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    srv = make_server("127.0.0.1", 0, create_app(root), threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}", root
    srv.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert sync_playwright is not None
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("REVIEW_SHOTS") or tmp_path / "shots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def new_reviewer(browser: Browser, base: str, name: str) -> tuple[Page, list[str]]:
    """A browser tab that has told the app its reviewer name; collects any JS dialog."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(base + "/")
    assert page.url.endswith("/who")
    page.keyboard.type(name)
    press(page, "Enter")
    return page, dialogs


def press(page: Page, key: str) -> str:
    """Press `key`, wait for the page it leads to, and return that page's HTML as sent."""
    with page.expect_navigation() as nav:
        page.keyboard.press(key)
    page.wait_for_load_state()
    resp = nav.value
    return resp.text() if resp else ""


def type_enter(page: Page, text: str) -> str:
    page.keyboard.type(text)
    return press(page, "Enter")


def showing(page: Page) -> tuple[str, str]:
    """(source file, field id) of the field on screen."""
    return (page.locator(".crumbs .source").inner_text(),
            page.locator("#field-title .field-id").inner_text())


def shot(page: Page, path: Path) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=True)


def test_a_reviewer_clears_the_queue_from_the_keyboard(browser: Browser, server, shots: Path,
                                                        ) -> None:
    base, root = server
    page, dialogs = new_reviewer(browser, base, "Alice")

    # 1. The worst field: the OCR text is a script, shown as text; correct it by typing.
    assert showing(page) == ("scan-001.pdf", "structure")
    assert page.input_value("#value") == XSS
    assert page.evaluate("document.activeElement.id") == "value"
    shot(page, shots / "queue-text.png")
    type_enter(page, "Mairie de Riom")

    # 2. Skip it: it comes back at the end.
    assert showing(page) == ("scan-003.pdf", "prenom")
    press(page, "Alt+S")

    # 3. A box field: look at the whole page first, come back, then its key.
    assert showing(page) == ("scan-001.pdf", "agent_collectivite")
    shot(page, shots / "queue-box.png")
    press(page, "Alt+P")
    assert "/page/" in page.url
    assert page.locator("svg .area").count() == 10
    shot(page, shots / "page-view.png")
    press(page, "Escape")
    assert showing(page) == ("scan-001.pdf", "agent_collectivite")
    press(page, "o")

    assert showing(page) == ("scan-003.pdf", "participera")
    press(page, "o")

    # 4. Enter confirms the machine's reading.
    assert showing(page) == ("scan-002.pdf", "nom")
    press(page, "Enter")

    # 5. An invalid e-mail is refused with its reason; the fix is typed over it.
    assert showing(page) == ("scan-001.pdf", "mail")
    press(page, "Enter")
    assert page.locator(".error-box").is_visible()
    assert "Not a valid e-mail address" in page.locator(".error-box").inner_text()
    shot(page, shots / "queue-invalid-email.png")
    type_enter(page, "jeanne.dupont@exemple.fr")

    # 6. Confirm, undo (the field comes back), confirm again.
    assert showing(page) == ("scan-003.pdf", "adresse")
    press(page, "Enter")
    assert showing(page) == ("scan-002.pdf", "telephone")
    press(page, "Alt+U")
    assert showing(page) == ("scan-003.pdf", "adresse")
    assert "Undone" in page.locator(".flash-ok").inner_text()
    press(page, "Enter")

    assert showing(page) == ("scan-002.pdf", "telephone")
    press(page, "Enter")

    # 7. The skipped field is back, last.
    assert showing(page) == ("scan-003.pdf", "prenom")
    type_enter(page, "Lucie")
    assert page.locator("h1").inner_text() == "Nothing left to review"
    shot(page, shots / "queue-done.png")

    # 8. Marks sweep: arrows to the faint 'Déjeunera' tick (third tile), Space flips it.
    press(page, "Alt+M")
    shot(page, shots / "marks.png")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert "fill 9 %" in page.evaluate("document.activeElement.innerText")
    press(page, "Space")
    assert page.evaluate("document.activeElement.innerText").startswith("✗ not ticked")
    assert dialogs == []

    with Workspace(root, create=False) as ws:
        trail = [(d["action"], d["old_value"], d["new_value"], d["old_status"], d["new_status"])
                 for d in ws.db.execute(
                     "SELECT d.*, f.field FROM decisions d JOIN fields f ON f.id = d.field_id "
                     "ORDER BY d.id")]
        reviewers = {r[0] for r in ws.db.execute("SELECT reviewer FROM decisions")}
        fields = {(r["source_file"], r["page"], r["field"]): r for r in ws.field_rows()}
    assert {r.split(" (")[0] for r in reviewers} == {"Alice"}  # name (this browser's id)
    assert trail == [
        ("correct", XSS, "Mairie de Riom", "review", "corrected"),
        ("skip", "Lucle", "Lucle", "review", "review"),
        ("correct", "", "oui", "review", "corrected"),
        ("correct", "", "oui", "review", "corrected"),
        ("confirm", "Martin", "Martin", "review", "confirmed"),
        ("correct", "jeanne.dupont@exemple", "jeanne.dupont@exemple.fr", "review", "corrected"),
        ("confirm", "12 rue Blatin, 63000 Clermont-Ferrand",
         "12 rue Blatin, 63000 Clermont-Ferrand", "review", "confirmed"),
        ("undo", "12 rue Blatin, 63000 Clermont-Ferrand",
         "12 rue Blatin, 63000 Clermont-Ferrand", "confirmed", "review"),
        ("confirm", "12 rue Blatin, 63000 Clermont-Ferrand",
         "12 rue Blatin, 63000 Clermont-Ferrand", "review", "confirmed"),
        ("confirm", "04 73 12 34 56", "04 73 12 34 56", "review", "confirmed"),
        ("correct", "Lucle", "Lucie", "review", "corrected"),
        ("correct", "oui", "", "accepted", "corrected"),
    ]
    assert not [k for k, r in fields.items() if r["status"] == "review"]
    for source, page_no, _batch, values in FORMS:  # the machine's readings are untouched
        for name, f in values.items():
            assert fields[(source, page_no, name)]["machine_value"] == f.value


def test_the_running_server_resists_script_forgery_and_traversal(browser: Browser,
                                                                 server) -> None:
    base, root = server
    page, dialogs = new_reviewer(browser, base, "Alice")
    html = page.request.get(base + "/").text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and XSS not in html
    page.reload()
    page.wait_for_timeout(300)
    assert dialogs == []

    field_id = page.locator("#decide-form input[name=field_id]").input_value()
    resp = page.request.post(base + "/decide",
                             form={"field_id": field_id, "version": "0", "value": "pwned"})
    assert resp.status == 400
    with Workspace(root, create=False) as ws:
        assert q.get_field(ws, int(field_id)).value == XSS

    port = int(base.rsplit(":", 1)[1])
    for path in ("/images/../formscan.db", "/images/%2e%2e/formscan.db",
                 "/images/%2Fetc%2Fpasswd", "/images/..%2F..%2F..%2Fetc%2Fpasswd"):
        status, body = raw_get(port, path)
        assert status in (403, 404), path
        assert b"SQLite format" not in body and b"root:" not in body


def raw_get(port: int, path: str) -> tuple[int, bytes]:
    """GET `path` sent as is (a browser would normalise '..' away), following a redirect
    that merges slashes only if it stays under /images/."""
    for _ in range(2):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", path)
        r = conn.getresponse()
        body, location = r.read(), r.getheader("Location") or ""
        conn.close()
        if r.status != 308:
            return r.status, body
        path = location.removeprefix(f"http://127.0.0.1:{port}")
        assert path.startswith("/images/"), location
    return r.status, body


def test_two_reviewers_and_a_stale_decision(browser: Browser, server, shots: Path) -> None:
    base, root = server
    alice, _ = new_reviewer(browser, base, "Alice")
    bob, _ = new_reviewer(browser, base, "Bob")
    assert showing(alice) != showing(bob)
    assert {showing(alice)[1], showing(bob)[1]} == {"structure", "prenom"}

    with Workspace(root, create=False) as ws:
        nom = next(f.id for f in q.list_pending(ws) if f.field == "nom")
    alice.goto(f"{base}/field/{nom}")
    bob.goto(f"{base}/field/{nom}")
    assert re.search(r"Alice \(\w+\) has this field open",
                     bob.locator(".flash-conflict").inner_text())
    press(alice, "Enter")
    type_enter(bob, "Morin")
    message = bob.locator(".flash-conflict").first.inner_text()
    assert re.search(r"Alice \(\w+\) changed nom", message) and "not saved" in message
    shot(bob, shots / "conflict.png")
    with Workspace(root, create=False) as ws:
        assert q.get_field(ws, nom).value == "Martin"
        assert len(q.list_pending(ws)) == PENDING - 1

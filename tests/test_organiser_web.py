"""The organiser's page in the review app: figures, payments by button, every export.

The Flask client checks the page and its protections; Debian's Chromium then
loads the page from the real server, records a payment with a click and looks
at the chart. Screenshots go to $REVIEW_SHOTS, else to the test's folder.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import threading
from pathlib import Path

import openpyxl
import pytest
from organiser_data import build_seminar
from pypdf import PdfReader

from pipeline.papers import bundle
from pipeline.review.app import create_app
from pipeline.store import Workspace

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_seminar(tmp_path_factory.mktemp("organiser-web") / "ws")


@pytest.fixture
def root(built: Path, tmp_path: Path) -> Path:
    shutil.copytree(built, tmp_path / "ws")
    return tmp_path / "ws"


def figure(html: str, key: str) -> str:
    m = re.search(rf'id="fig-{key}"><span class="n">([^<]+)</span>', html)
    assert m, f"no figure {key}"
    return m.group(1)


def signed_in(root: Path):
    client = create_app(root).test_client()
    page = client.get("/who").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/who", data={"name": "Anne", "csrf_token": token})
    return client, token


def test_the_page_shows_the_days_figures_and_marks_what_is_in_review(root: Path) -> None:
    client, _ = signed_in(root)
    html = client.get("/organiser").get_data(as_text=True)
    assert "Coopérer dans et entre les territoires" in html
    assert [figure(html, k) for k in ("forms", "participants", "lunches", "agents", "due",
                                      "collected", "to-collect", "review")] == [
        "8", "7", "6", "3", "120 €", "0 €", "120 €", "2"]
    assert "2</strong> forms still in review" in html
    assert "à vérifier : prénom" in html  # Bernard's row in the lunch table
    assert "&lt;" not in html or "<script" not in html.split("<main>")[1].split("</main>")[0]
    for p in bundle.PAPERS:
        assert f'href="/organiser/export/{p.key}"' in html
    waiting = html.split('id="in-review"')[1].split("</table>")[0]
    assert "BERNARD" in waiting and "ÇELIK" in waiting and "prénom" in waiting
    assert "ZOLA" not in waiting and 'href="/page/' in waiting


def test_a_payment_is_recorded_from_the_page_and_needs_the_csrf_token(root: Path) -> None:
    client, token = signed_in(root)
    form = {"source_file": "c.pdf", "page": "1", "state": "paid"}
    assert client.post("/organiser/payment", data=form).status_code == 400
    resp = client.post("/organiser/payment", data={**form, "csrf_token": token})
    assert resp.status_code == 302
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "c.pdf p.1: lunch paid." in html
    assert figure(html, "collected") == "20 €" and figure(html, "to-collect") == "100 €"
    with Workspace(root) as ws:
        assert ws.db.execute("SELECT state, set_by FROM payments").fetchall()[0][:] == (
            "paid", "Anne")
    refused = client.post("/organiser/payment", data={
        "source_file": "d.pdf", "page": "1", "state": "paid", "csrf_token": token})
    assert "dejeunera=non" in client.get(refused.headers["Location"]).get_data(as_text=True)


def test_every_export_downloads_from_the_page(root: Path) -> None:
    client, _ = signed_in(root)
    for p in bundle.PAPERS:
        resp = client.get(f"/organiser/export/{p.key}")
        assert resp.status_code == 200, p.key
        assert p.filename in resp.headers["Content-Disposition"]
        data = resp.get_data()
        if p.filename.endswith(".pdf"):
            assert "DUPONT" in "".join(x.extract_text() for x in PdfReader(io.BytesIO(data)).pages)
        elif p.filename.endswith(".xlsx"):
            assert "Inscrits" in openpyxl.load_workbook(io.BytesIO(data)).sheetnames
        elif p.filename.endswith(".txt"):
            assert "Mairie de Thiers" in data.decode("utf-8")
        else:
            assert "a.pdf" in data.decode("utf-8")
    assert client.get("/organiser/export/nothing").status_code == 404


@pytest.mark.browser
@pytest.mark.skipif(sync_playwright is None, reason="the playwright package is not installed")
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")
def test_the_organiser_page_in_chromium(root: Path, tmp_path: Path) -> None:
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    srv = make_server("127.0.0.1", 0, create_app(root), threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{srv.server_port}"
    shots = Path(os.environ.get("REVIEW_SHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                         args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            blocked: list[str] = []
            page.on("console", lambda m: blocked.append(m.text) if m.type == "error" else None)
            page.on("response", lambda r: blocked.append(r.url) if r.status >= 400 else None)
            page.goto(base + "/who")
            page.fill("input[name=name]", "Anne")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            blocked.clear()  # the queue's field images: this workspace has none
            page.click("#organiser-link")
            assert page.locator("#fig-lunches .n").inner_text() == "6"
            bars = page.locator("#chart g.bar")
            assert bars.count() == 4  # 63, 15, 03, 69
            assert bars.first.locator("text").first.text_content() == "63 · Puy-de-Dôme"
            assert page.locator("#chart rect.seg-agent").count() == 1  # the agents of the 63
            # the stylesheet applied (the strict content policy lets our own file through)
            assert page.locator(".org-figures").evaluate(
                "e => getComputedStyle(e).display") == "grid"
            page.screenshot(path=str(shots / "organiser.png"), full_page=True)

            row = page.locator('#lunches tr[data-form="c.pdf#1"]')
            with page.expect_navigation():
                row.locator("button[value=paid]").click()
            assert page.locator("#fig-collected .n").inner_text() == "20 €"
            row = page.locator('#lunches tr[data-form="c.pdf#1"]')
            assert row.locator("button[value=paid]").get_attribute("aria-pressed") == "true"
            with page.expect_download() as dl:
                page.click("#export-signin")
            pdf = Path(dl.value.path()).read_bytes()
            assert "Payé" in PdfReader(io.BytesIO(pdf)).pages[1].extract_text()
            assert not blocked, blocked
            browser.close()
    finally:
        srv.shutdown()
        thread.join(5)


def test_a_payment_needs_a_name_to_record_it_under(root: Path) -> None:
    client = create_app(root).test_client()
    html = client.get("/organiser").get_data(as_text=True)
    assert "Give your name" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    resp = client.post("/organiser/payment", data={
        "source_file": "c.pdf", "page": "1", "state": "paid", "csrf_token": token})
    assert resp.headers["Location"].endswith("/who")
    with Workspace(root) as ws:
        assert ws.payments() == {}

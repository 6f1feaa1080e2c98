"""Review: the queue rules against a real workspace, the Flask app through its test client,
and the terminal commands through click's runner. Fast: no browser, no OCR."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from test_review_data import PENDING, XSS, build_workspace

from pipeline.review import commands
from pipeline.review import queue as q
from pipeline.review.app import create_app
from pipeline.store import Workspace


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workspace(tmp_path_factory.mktemp("review") / "ws")


@pytest.fixture
def root(built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the built workspace for each test."""
    dst = tmp_path / "ws"
    shutil.copytree(built, dst)
    return dst


@pytest.fixture
def ws(root: Path):
    with Workspace(root, create=False) as w:
        yield w


def field_id(ws: Workspace, source: str, page: int, field: str) -> int:
    return ws.db.execute(
        "SELECT f.id FROM fields f JOIN pages p ON p.id = f.page_id JOIN files fi "
        "ON fi.id = p.file_id WHERE fi.source_file = ? AND p.page = ? AND f.field = ?",
        (source, page, field),
    ).fetchone()[0]


def decisions(ws: Workspace) -> list[dict]:
    return [dict(r) for r in ws.db.execute("SELECT * FROM decisions ORDER BY id")]


# --- queue logic ---------------------------------------------------------------------


def test_queue_serves_worst_first_and_never_the_same_field_twice(ws: Workspace) -> None:
    alice = q.next_field(ws, "alice", now=1000)
    bob = q.next_field(ws, "bob", now=1000)
    assert alice is not None and bob is not None
    assert (alice.field, alice.confidence) == ("structure", 0.30)
    assert (bob.field, bob.confidence) == ("prenom", 0.40)
    again = q.next_field(ws, "alice", now=1001)
    assert again is not None and again.id == alice.id  # a reload shows the same field
    row = ws.db.execute("SELECT claimed_by, claimed_until FROM fields WHERE id = ?",
                        (alice.id,)).fetchone()
    assert row["claimed_by"] == "alice" and row["claimed_until"] == pytest.approx(
        1001 + q.CLAIM_SECONDS)


def test_an_expired_claim_is_taken_over(ws: Workspace) -> None:
    alice = q.next_field(ws, "alice", now=1000)
    bob = q.next_field(ws, "bob", now=1000 + q.CLAIM_SECONDS + 1)
    assert alice is not None and bob is not None and bob.id == alice.id


def test_every_reviewer_can_be_served_until_the_queue_is_empty(ws: Workspace) -> None:
    seen = set()
    for i in range(PENDING):
        f = q.next_field(ws, f"r{i}", now=1000)
        assert f is not None and f.id not in seen
        seen.add(f.id)
    assert q.next_field(ws, "late", now=1000) is None


def test_confirm_and_correct_are_recorded_and_machine_values_kept(ws: Workspace) -> None:
    nom = field_id(ws, "scan-002.pdf", 1, "nom")
    d = q.decide(ws, nom, "alice", "Martin", expected_version=0)
    assert (d.action, d.old_value, d.new_value, d.new_status) == (
        "confirm", "Martin", "Martin", "confirmed")
    prenom = field_id(ws, "scan-003.pdf", 1, "prenom")
    q.next_field(ws, "alice")
    d = q.decide(ws, prenom, "alice", "  Lucie ", expected_version=0)
    assert (d.action, d.old_value, d.new_value, d.old_status, d.new_status) == (
        "correct", "Lucle", "Lucie", "review", "corrected")
    row = ws.db.execute("SELECT * FROM fields WHERE id = ?", (prenom,)).fetchone()
    assert (row["value"], row["machine_value"], row["raw"]) == ("Lucie", "Lucle", "Lucle")
    assert (row["version"], row["claimed_by"], row["claimed_until"]) == (1, None, None)
    assert [(r["reviewer"], r["action"]) for r in decisions(ws)] == [
        ("alice", "confirm"), ("alice", "correct")]


def test_a_stale_version_is_refused_naming_who_changed_it(ws: Workspace) -> None:
    nom = field_id(ws, "scan-002.pdf", 1, "nom")
    q.decide(ws, nom, "alice", "Martini", expected_version=0)
    with pytest.raises(q.Conflict, match=r"alice changed nom .*'Martini'"):
        q.decide(ws, nom, "bob", "Marten", expected_version=0)
    assert q.get_field(ws, nom).value == "Martini"
    assert len(decisions(ws)) == 1


def test_an_invalid_email_is_refused_unless_overridden(ws: Workspace) -> None:
    mail = field_id(ws, "scan-001.pdf", 1, "mail")
    with pytest.raises(q.InvalidValue) as err:
        q.decide(ws, mail, "alice", "jeanne.dupont@exemple", expected_version=0)
    assert "period" in err.value.problem or "domain" in err.value.problem
    assert q.get_field(ws, mail).status == "review" and decisions(ws) == []
    d = q.decide(ws, mail, "alice", "jeanne.dupont@exemple", 0, override=True)
    assert d.new_status == "confirmed" and d.note.startswith("override: ")
    d = q.decide(ws, mail, "alice", " Jeanne.Dupont@Exemple.FR ", 1)
    assert (d.new_value, d.new_status) == ("jeanne.dupont@exemple.fr", "corrected")


def test_box_fields_take_only_their_options_or_empty(ws: Workspace) -> None:
    agent = field_id(ws, "scan-001.pdf", 1, "agent_collectivite")
    with pytest.raises(q.InvalidValue, match="'oui', 'non', ''"):
        q.decide(ws, agent, "alice", "peut-être", 0)
    assert q.decide(ws, agent, "alice", "OUI", 0).new_value == "oui"
    part = field_id(ws, "scan-003.pdf", 2, "participera")
    assert q.allowed_box_values(q.default_template().field("participera")) == ["oui", "non", ""]
    assert q.decide(ws, part, "alice", "non", 0).new_status == "corrected"
    assert q.decide(ws, part, "alice", "", 1).new_status == "confirmed"


def test_undo_restores_the_field_and_shows_it_again(ws: Workspace) -> None:
    tel = field_id(ws, "scan-002.pdf", 1, "telephone")
    q.decide(ws, tel, "alice", "04 73 12 34 57", 0)
    field = q.undo(ws, "alice")
    assert field is not None and field.id == tel
    assert (field.value, field.status, field.version, field.claimed_by) == (
        "04 73 12 34 56", "review", 2, "alice")
    last = decisions(ws)[-1]
    assert (last["action"], last["old_value"], last["new_value"], last["new_status"]) == (
        "undo", "04 73 12 34 57", "04 73 12 34 56", "review")
    nxt = q.next_field(ws, "alice")
    assert nxt is not None and nxt.id == tel
    assert q.undo(ws, "alice") is None  # an undo is not itself undone


def test_undo_never_overwrites_someone_elses_later_decision(ws: Workspace) -> None:
    nom = field_id(ws, "scan-002.pdf", 1, "nom")
    q.decide(ws, nom, "alice", "Martin", 0)
    q.decide(ws, nom, "bob", "Martins", 1)
    with pytest.raises(q.Conflict, match="bob changed nom"):
        q.undo(ws, "alice")
    assert q.get_field(ws, nom).value == "Martins"


def test_a_skipped_field_comes_back_after_the_others(ws: Workspace) -> None:
    first = q.next_field(ws, "alice")
    assert first is not None and first.field == "structure"
    q.skip(ws, first.id, "alice")
    order = [f.id for f in q.list_pending(ws)]
    assert order[-1] == first.id and len(order) == PENDING
    nxt = q.next_field(ws, "alice")
    assert nxt is not None and nxt.id != first.id
    assert q.get_field(ws, first.id).claimed_by is None


def test_progress_counts_fields_left_and_complete_forms_per_batch(ws: Workspace) -> None:
    p = q.progress(ws)
    assert [(b.batch, b.fields_left, b.forms, b.forms_complete) for b in p.batches] == [
        ("lot-1", 5, 2, 0), ("lot-2", 3, 2, 0)]
    q.decide(ws, field_id(ws, "scan-002.pdf", 1, "nom"), "a", "Martin", 0)
    q.decide(ws, field_id(ws, "scan-002.pdf", 1, "telephone"), "a", "04 73 12 34 56", 0)
    p = q.progress(ws)
    assert (p.fields_left, p.forms_complete, p.forms, p.fields) == (6, 1, 4, 40)


def test_marks_sweep_puts_unclear_boxes_first_and_flipping_decides_the_field(
        ws: Workspace) -> None:
    marks = q.marks_sweep(ws)
    assert [m.state for m in marks[:2]] == ["ambiguous", "ambiguous"]
    # then the ticked ones, then those read as empty (issue 26: a missed faint tick is there)
    states = [m.state for m in marks]
    assert states == sorted(states, key=["ambiguous", "marked", "empty"].index)
    assert states.count("empty") == 9 and len(marks) == 20
    empties = [m.fill for m in marks if m.state == "empty"]
    assert empties == sorted(empties, reverse=True)
    assert len(q.marks_sweep(ws, ("ambiguous", "marked"))) == 11
    faint = next(m for m in marks if m.fill == pytest.approx(0.09))
    assert faint.ticked and faint.field == "dejeunera"
    d = q.flip_mark(ws, faint.id, "alice", faint.version)
    assert (d.old_value, d.new_value, d.new_status) == ("oui", "", "corrected")
    unclear = next(m for m in marks if m.field == "participera" and m.state == "ambiguous")
    assert q.flip_mark(ws, unclear.id, "alice", unclear.version).new_value == "oui"
    ticked = next(m for m in marks if m.field == "participera" and m.source_file == "scan-002.pdf")
    assert q.flip_mark(ws, ticked.id, "alice", ticked.version).new_value == "non"  # unmarked


def test_set_value_is_a_recorded_decision(ws: Workspace) -> None:
    d = q.set_value(ws, "scan-002.pdf", 1, "nom", "Martinez", "script")
    assert (d.reviewer, d.old_value, d.new_value, d.new_status) == (
        "script", "Martin", "Martinez", "corrected")
    with pytest.raises(q.NotFound, match="no field 'nom' on page 9"):
        q.set_value(ws, "scan-002.pdf", 9, "nom", "X", "script")


# --- the web app ---------------------------------------------------------------------


def csrf(client: FlaskClient) -> str:
    page = client.get("/who").get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(client: FlaskClient, name: str) -> str:
    token = csrf(client)
    resp = client.post("/who", data={"name": name, "csrf_token": token})
    assert resp.status_code == 302
    return token


@pytest.fixture
def app(root: Path):
    return create_app(root)


def test_the_queue_asks_for_a_name_then_shows_ocr_text_escaped(app) -> None:
    client = app.test_client()
    assert client.get("/").headers["Location"].endswith("/who")
    login(client, "alice")
    html = client.get("/").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert XSS not in html
    assert "Hard to read" in html and "scan-001.pdf" in html and "30 %" in html


def test_posts_without_the_csrf_token_are_refused(app, ws: Workspace) -> None:
    client = app.test_client()
    login(client, "alice")
    nom = field_id(ws, "scan-002.pdf", 1, "nom")
    for data in ({}, {"csrf_token": "forged"}):
        resp = client.post("/decide", data={"field_id": nom, "version": 0, "value": "X", **data})
        assert resp.status_code == 400
    assert client.post("/who", data={"name": "mallory"}).status_code == 400
    assert q.get_field(ws, nom).value == "Martin" and decisions(ws) == []


@pytest.mark.parametrize("url", [
    "/images/../formscan.db",
    "/images/%2e%2e/formscan.db",
    "/images/..%2fformscan.db",
    "/images/aa/../../formscan.db",
    "/images/%2fetc%2fpasswd",
    "/images//etc/passwd",
])
def test_images_are_served_only_from_the_workspace_images(app, url: str) -> None:
    resp = app.test_client().get(url, follow_redirects=True)
    assert resp.status_code in (403, 404)
    assert b"SQLite" not in resp.data and b"root:" not in resp.data


def test_stored_images_and_crops_are_served(app, ws: Workspace) -> None:
    client = app.test_client()
    rel = ws.db.execute("SELECT image FROM pages LIMIT 1").fetchone()[0]
    assert client.get("/" + rel).mimetype == "image/png"
    agent = field_id(ws, "scan-001.pdf", 1, "agent_collectivite")  # no image of its own
    assert client.get(f"/field/{agent}/image").data[:4] == b"\x89PNG"
    assert client.get("/mark/1/image").data[:4] == b"\x89PNG"


def test_security_headers(app) -> None:
    resp = app.test_client().get("/who")
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert "HttpOnly" in resp.headers.get("Set-Cookie", "HttpOnly")


def test_two_reviewers_get_different_fields(app) -> None:
    alice, bob = app.test_client(), app.test_client()
    login(alice, "alice")
    login(bob, "bob")
    a = re.search(r'name="field_id" value="(\d+)"', alice.get("/").get_data(as_text=True))
    b = re.search(r'name="field_id" value="(\d+)"', bob.get("/").get_data(as_text=True))
    assert a and b and a.group(1) != b.group(1)


def test_a_stale_decision_shows_who_changed_the_field(app, ws: Workspace) -> None:
    alice, bob = app.test_client(), app.test_client()
    ta, tb = login(alice, "alice"), login(bob, "bob")
    nom = field_id(ws, "scan-002.pdf", 1, "nom")
    form = {"field_id": nom, "version": 0}
    assert alice.post("/decide", data={**form, "value": "Martin", "csrf_token": ta}
                      ).status_code == 302
    resp = bob.post("/decide", data={**form, "value": "Morin", "csrf_token": tb},
                    follow_redirects=True)
    # each browser is its own reviewer: the name and the browser's id
    assert re.search(r"alice \([0-9a-f]{6}\) changed nom", resp.get_data(as_text=True))
    assert q.get_field(ws, nom).value == "Martin"


def test_an_invalid_email_shows_the_reason_and_can_be_kept(app, ws: Workspace) -> None:
    client = app.test_client()
    token = login(client, "alice")
    mail = field_id(ws, "scan-001.pdf", 1, "mail")
    form = {"field_id": mail, "version": 0, "value": "jd@@x", "csrf_token": token}
    resp = client.post("/decide", data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Not a valid e-mail address" in html
    assert 'value="jd@@x"' in html and 'id="override-button"' in html
    assert client.post("/decide", data={**form, "override": "1"}).status_code == 302
    assert q.get_field(ws, mail).value == "jd@@x"
    assert decisions(ws)[-1]["note"].startswith("override")


def test_box_choice_skip_and_undo_routes(app, ws: Workspace) -> None:
    client = app.test_client()
    token = login(client, "alice")
    agent = field_id(ws, "scan-001.pdf", 1, "agent_collectivite")
    client.post("/decide", data={"field_id": agent, "version": 0, "value": "",
                                 "choice": "non", "csrf_token": token})
    assert q.get_field(ws, agent).value == "non"
    resp = client.post("/undo", data={"csrf_token": token})
    assert resp.headers["Location"].endswith(f"/field/{agent}")
    assert q.get_field(ws, agent).value == ""
    client.post("/skip", data={"field_id": agent, "csrf_token": token})
    assert [f.id for f in q.list_pending(ws)][-1] == agent


def test_page_view_draws_every_field_area_coloured_by_status(app, ws: Workspace) -> None:
    client = app.test_client()
    login(client, "alice")
    page_id = ws.db.execute("SELECT page_id FROM fields WHERE id = ?",
                            (field_id(ws, "scan-001.pdf", 1, "nom"),)).fetchone()[0]
    html = client.get(f"/page/{page_id}").get_data(as_text=True)
    assert html.count('class="area st-') == 10
    assert html.count('class="area st-review') == 3
    # Nom's area starts at x = 31 mm: 183 px on the 150 dpi page (1241 px for 210 mm).
    assert re.search(r'<rect x="183" y="508"', html)
    assert "&lt;script&gt;" in html and XSS not in html


def test_the_marks_sweep_flips_a_box(app, ws: Workspace) -> None:
    client = app.test_client()
    token = login(client, "alice")
    html = client.get("/marks").get_data(as_text=True)
    assert len(re.findall(r'<form [^>]*class="tile ', html)) == 20  # empty boxes too
    html = client.get("/marks?state=empty").get_data(as_text=True)
    assert len(re.findall(r'<form [^>]*class="tile ', html)) == 9
    faint = next(m for m in q.marks_sweep(ws) if m.fill == pytest.approx(0.09))
    resp = client.post("/marks/flip", data={"mark_id": faint.id, "version": faint.version,
                                            "csrf_token": token})
    assert resp.status_code == 302 and f"focus={faint.id}" in resp.headers["Location"]
    assert q.get_field(ws, faint.field_id).value == ""


def test_progress_page(app) -> None:
    client = app.test_client()
    login(client, "alice")
    html = client.get("/progress").get_data(as_text=True)
    assert "lot-1" in html and "lot-2" in html and "0/4</strong> forms complete" in html


def test_with_a_token_every_request_needs_it(root: Path) -> None:
    secret = "s3cret-token-for-tests"
    client = create_app(root, reviewer_token=secret).test_client()
    assert client.get("/").status_code == 403
    assert client.get("/static/review.css").status_code == 403
    assert client.get("/?token=wrong-token-value").status_code == 403
    resp = client.get(f"/marks?token={secret}&state=ambiguous")
    assert resp.status_code == 303 and resp.headers["Location"] == "/marks?state=ambiguous"
    assert client.get("/who").status_code == 200  # the cookie now carries it


# --- terminal commands ---------------------------------------------------------------


def test_serve_refuses_a_public_host_without_reviewer_accounts(root: Path, monkeypatch) -> None:
    started = []
    monkeypatch.setattr(commands, "_run", lambda *args: started.append(args))
    monkeypatch.delenv("FORMSCAN_TOKEN", raising=False)
    runner = CliRunner()
    result = runner.invoke(commands.serve, ["--workspace", str(root), "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "reviewers add" in result.output and started == []
    result = runner.invoke(commands.serve, ["-w", str(root), "--host", "0.0.0.0"],
                           env={"FORMSCAN_TOKEN": "a-long-enough-secret"})
    assert result.exit_code == 2 and started == [], "a shared token is no identity"
    for bad in ("short", " " * 12, "twelve chars with spaces"):
        result = runner.invoke(commands.serve, ["-w", str(root), "--token", bad])
        assert result.exit_code == 2 and started == [], bad
    link = runner.invoke(commands.reviewers, ["add", "-w", str(root), "Alice"]).stdout
    assert re.fullmatch(r"http://127\.0\.0\.1:8765/\?token=[\w-]{32}\n", link)
    result = runner.invoke(commands.serve, ["-w", str(root), "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    assert started[0][1:4] == ("0.0.0.0", 8765, "http://0.0.0.0:8765/")
    runner.invoke(commands.reviewers, ["remove", "-w", str(root), "Alice"])
    result = runner.invoke(commands.serve, ["-w", str(root)])
    assert result.exit_code == 0 and started[1][1] == "127.0.0.1"


def test_review_list_and_set(root: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(commands.review, ["list", "-w", str(root)])
    assert out.exit_code == 0
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["source_file", "page", "field", "value", "confidence", "reasons"]
    assert len(lines) == 1 + PENDING and lines[1].startswith("scan-001.pdf  1     structure")
    out = runner.invoke(commands.review, ["set", "-w", str(root), "--reviewer", "zoe",
                                          "scan-001.pdf", "1", "mail", "jd@exemple"])
    assert isinstance(out.exception, q.InvalidValue)
    out = runner.invoke(commands.review, ["set", "-w", str(root), "--reviewer", "zoe",
                                          "scan-001.pdf", "1", "mail", "jd@exemple.fr"])
    assert out.exit_code == 0 and "'jd@exemple.fr' (corrected, by zoe)" in out.stdout
    with Workspace(root, create=False) as w:
        assert decisions(w)[-1]["reviewer"] == "zoe"
        assert len(q.list_pending(w)) == PENDING - 1


def test_review_list_keeps_terminal_escapes_out(root: Path) -> None:
    with Workspace(root, create=False) as w:
        w.db.execute("UPDATE fields SET value = ? WHERE field = 'nom' AND status = 'review'",
                     ("Mar\x1b[2Jtin",))
    out = CliRunner().invoke(commands.review, ["list", "-w", str(root)])
    assert "\x1b" not in out.stdout and "Mar�[2Jtin" in out.stdout

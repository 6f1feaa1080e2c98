"""Issue 26 through the app's test client: duplicates settled in the browser, claims, a stale
save that keeps what was typed, group verification, form at a time, finding work,
figures, doubts and postcode completion. Fast: no browser, no OCR."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from test_review_data import PENDING, build_workspace

from pipeline import export
from pipeline.review import doubts, groups, pairs
from pipeline.review import queue as q
from pipeline.review.app import create_app
from pipeline.review.complete import complete
from pipeline.store import Workspace


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workspace(tmp_path_factory.mktemp("modes") / "ws")


@pytest.fixture
def root(built: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "ws"
    shutil.copytree(built, dst)
    return dst


@pytest.fixture
def ws(root: Path):
    with Workspace(root, create=False) as w:
        yield w


def login(client: FlaskClient, name: str) -> str:
    page = client.get("/who").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert client.post("/who", data={"name": name, "csrf_token": token}).status_code == 302
    return token


def fid(ws: Workspace, source: str, page: int, field: str) -> int:
    return ws.db.execute(
        "SELECT f.id FROM fields f JOIN pages p ON p.id = f.page_id JOIN files fi "
        "ON fi.id = p.file_id WHERE fi.source_file = ? AND p.page = ? AND f.field = ?",
        (source, page, field)).fetchone()[0]


def decide_all(ws: Workspace, who: str, fields: list[q.FieldView] | None = None) -> None:
    """Confirm every pending field as it stands (an empty box as 'oui'), checks waived."""
    for f in q.list_pending(ws) if fields is None else fields:
        q.decide(ws, f.id, who, f.value or "oui", q.get_field(ws, f.id).version, override=True)


def flag_pair(ws: Workspace) -> int:
    """scan-003 p.2 flagged as the same person as scan-001 p.1, as the pipeline does it."""
    a, b = ws.page_id("scan-001.pdf", 1), ws.page_id("scan-003.pdf", 2)
    assert a is not None and b is not None
    assert ws.flag_duplicate(a, b, "similar name (92%)", 92.0, "possible duplicate of scan-001")
    return ws.db.execute("SELECT id FROM duplicates").fetchone()[0]


# --- duplicates ----------------------------------------------------------------------


def test_an_unsettled_duplicate_is_never_counted_silently(ws: Workspace) -> None:
    flag_pair(ws)
    nom = fid(ws, "scan-003.pdf", 2, "nom")
    q.decide(ws, nom, "alice", "Roux", q.get_field(ws, nom).version)  # the name, not the pair
    decide_all(ws, "alice", [f for f in q.list_pending(ws)
                             if f.page_id == ws.page_id("scan-003.pdf", 2)])
    table = export.attendees_table(ws)
    row = table[table.source_file == "scan-003.pdf"].set_index("page").loc[2]
    assert row["needs_review"] == "true"  # was "false": the pair was still pending
    assert export.summary(table).not_final >= 1


def test_the_browser_shows_the_pair_side_by_side_and_settles_it(root: Path, ws: Workspace
                                                                 ) -> None:
    pair_id = flag_pair(ws)
    nom = fid(ws, "scan-003.pdf", 2, "nom")
    client = create_app(root).test_client()
    token = login(client, "alice")
    html = client.get(f"/field/{nom}").get_data(as_text=True)
    assert "Same person as scan-001.pdf p. 1?" in html
    assert "Dupont" in html and "Roux" in html and 'class="differs"' in html
    assert 'id="merge-form"' in html and 'id="keep-form"' in html
    html = client.get("/").get_data(as_text=True)
    resp = client.post("/duplicates/settle", data={"pair_id": pair_id, "decision": "merged",
                                                   "csrf_token": token})
    assert resp.status_code == 302
    assert ws.merged_pages() == {("scan-003.pdf", 2)}
    f = q.get_field(ws, nom)
    assert (f.status, f.reasons) == ("accepted", ())  # flagged for the pair alone
    again = client.post("/duplicates/settle", data={"pair_id": pair_id, "decision": "kept",
                                                    "csrf_token": token}, follow_redirects=True)
    assert "already settled" in again.get_data(as_text=True)
    assert pairs.pairs(ws)[0].decision == "merged"


def test_the_done_page_names_unsettled_pairs(root: Path, ws: Workspace) -> None:
    flag_pair(ws)
    decide_all(ws, "alice")
    client = create_app(root).test_client()
    login(client, "bob")
    html = client.get("/").get_data(as_text=True)
    assert "1 possible duplicate still to settle" in html


# --- claims and stale saves ------------------------------------------------------------


def test_the_queue_is_not_called_empty_while_another_screen_holds_a_field(
        root: Path, ws: Workspace) -> None:
    decide_all(ws, "alice", q.list_pending(ws)[1:])
    last = q.next_field(ws, "closed-tab")
    assert last is not None
    client = create_app(root).test_client()
    token = login(client, "bob")
    html = client.get("/").get_data(as_text=True)
    assert "Nothing left to review" not in html
    assert "1 field open on another screen" in html and "closed-tab" in html
    # the closed tab's page released it (what review.js sends on pagehide)
    with Workspace(root, create=False) as w2:
        q.release(w2, [last.id], "closed-tab")
    html = client.get("/").get_data(as_text=True)
    assert f'name="field_id" value="{last.id}"' in html
    assert client.post("/claims/renew", data={"field_id": last.id, "csrf_token": token}
                       ).get_json() == {"renewed": 1}


def test_a_refused_stale_save_keeps_what_was_typed(root: Path, ws: Workspace) -> None:
    nom = fid(ws, "scan-002.pdf", 1, "nom")
    client = create_app(root).test_client()
    token = login(client, "bob")
    client.get(f"/field/{nom}")
    q.decide(ws, nom, "alice", "Martin", 0)
    resp = client.post("/decide", data={"field_id": nom, "version": 0, "value": "Morin",
                                        "csrf_token": token})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "alice changed nom" in html
    assert 'value="Morin"' in html and 'name="version" value="1"' in html
    assert q.get_field(ws, nom).value == "Martin"


def test_a_rule_broken_in_the_browser_says_so_and_can_be_kept(root: Path, ws: Workspace
                                                              ) -> None:
    nom = fid(ws, "scan-002.pdf", 1, "nom")
    client = create_app(root).test_client()
    token = login(client, "bob")
    resp = client.post("/decide", data={"field_id": nom, "version": 0, "value": "",
                                        "csrf_token": token})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Against the form's rules" in html
    assert "required" in html and 'id="override-button"' in html
    client.post("/decide", data={"field_id": nom, "version": 0, "value": "", "override": "1",
                                 "csrf_token": token})
    assert q.get_field(ws, nom).status == "corrected"


# --- group verification and form at a time ---------------------------------------------


def test_group_verification_confirms_all_but_the_rejected(root: Path, ws: Workspace) -> None:
    client = create_app(root).test_client()
    token = login(client, "alice")
    # the box group holds the pending box and the boxes the machine read as empty
    items = groups.group(ws, "participera", "alice", q.default_template())
    assert [(f.source_file, f.page, f.status) for f in items] == [("scan-003.pdf", 2, "review")]
    items = groups.group(ws, "agent_collectivite", "alice", q.default_template())
    assert [f.status for f in items] == ["review"]
    html = client.get("/group/dejeunera").get_data(as_text=True)
    assert "read as empty" in html  # scan-003 p.2: neither box ticked, accepted
    lunch = fid(ws, "scan-003.pdf", 2, "dejeunera")
    v = q.get_field(ws, lunch).version
    resp = client.post("/group/dejeunera", data={"item": [f"{lunch}:{v}"],
                                                 "reject": [f"{lunch}:{v}"],
                                                 "csrf_token": token})
    assert resp.status_code == 302
    f = q.get_field(ws, lunch)
    assert f.status == "review" and "ambiguous_mark" in f.reasons  # back to single review
    nom, tel = fid(ws, "scan-002.pdf", 1, "nom"), fid(ws, "scan-002.pdf", 1, "telephone")
    client.post("/group/nom", data={"item": [f"{nom}:0"], "csrf_token": token})
    assert q.get_field(ws, nom).status == "confirmed"
    assert q.get_field(ws, tel).status == "review"


def test_form_at_a_time_saves_every_field_and_returns_the_refused_ones(
        root: Path, ws: Workspace) -> None:
    client = create_app(root).test_client()
    token = login(client, "alice")
    resp = client.get("/form")
    assert resp.status_code == 302
    page_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    assert page_id == ws.page_id("scan-001.pdf", 1)  # holds the worst field (0.30)
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert html.count("data-form-input") == 3  # structure, agent, mail
    assert 'id="area-' in html and "data-page-scroll" in html
    s, a, m = (fid(ws, "scan-001.pdf", 1, n) for n in ("structure", "agent_collectivite", "mail"))
    data = {"item": [f"{s}:0", f"{a}:0", f"{m}:0"], f"value-{s}": "Mairie de Riom",
            f"value-{a}": "oui", f"value-{m}": "jeanne.dupont@exemple", "csrf_token": token}
    resp = client.post(f"/form/{page_id}", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'value="jeanne.dupont@exemple"' in html
    assert q.get_field(ws, s).value == "Mairie de Riom" and q.get_field(ws, a).value == "oui"
    resp = client.post(f"/form/{page_id}", data={
        "item": [f"{m}:0"], f"value-{m}": "jeanne.dupont@exemple.fr", "csrf_token": token})
    assert resp.status_code == 302 and q.get_field(ws, m).status == "corrected"


# --- finding work, reopening, figures ----------------------------------------------------


def test_find_by_name_field_reason_and_reviewer_then_reopen(root: Path, ws: Workspace) -> None:
    nom = fid(ws, "scan-002.pdf", 1, "nom")
    q.decide(ws, nom, "alice", "Martin", 0)
    client = create_app(root).test_client()
    token = login(client, "bob")
    html = client.get("/find?name=mart&status=any").get_data(as_text=True)
    assert "Paul Martin" in html and "scan-002.pdf" in html and "scan-001.pdf" not in html
    html = client.get("/find?field=telephone").get_data(as_text=True)
    assert html.count("<tr>") == 2  # the header and scan-002's phone
    html = client.get("/find?reason=invalid_format").get_data(as_text=True)
    assert "jeanne.dupont@exemple" in html
    html = client.get("/find?reviewer=alice&status=decided").get_data(as_text=True)
    assert "Reopen" in html and "Martin" in html
    resp = client.post("/reopen", data={"field_id": nom, "version": 1, "csrf_token": token})
    assert resp.status_code == 302 and q.get_field(ws, nom).status == "review"
    assert len(q.list_pending(ws)) == PENDING


def test_progress_shows_pace_per_reviewer_and_time_left(root: Path, ws: Workspace) -> None:
    decide_all(ws, "alice", q.list_pending(ws)[:3])
    for i in (1, 2, 3):  # twenty seconds apart
        ws.db.execute("UPDATE decisions SET at = ? WHERE id = ?",
                      (f"2026-01-01T10:0{i // 3}:{i * 20 % 60:02d}+00:00", i))
    client = create_app(root).test_client()
    login(client, "bob")
    html = client.get("/progress").get_data(as_text=True)
    assert "about 2 min" in html and "20.0 s per field" in html  # 5 left x 20 s
    cells = re.findall(r'<td(?: class="num")?>([^<]*)</td>', html.split('id="figures"')[1])
    assert cells[:5] == ["alice", "3", "1", "180", "60"]  # 3 decisions in a minute


# --- doubts and completion ---------------------------------------------------------------


def test_doubts_are_where_the_readers_disagree() -> None:
    d = doubts.doubts("perrin.fredericQwanadoo.fr", ["perrin.frederic@wanadoo.fr"])
    assert d.spans == ((15, 16),) and not d.whole
    assert doubts.doubts("jean.dupont@orange.fr", ["jean.dupont@orange.fr"]).spans == ()
    gap = doubts.doubts("clercdeothe@ville-gmatfr", ["clercdeothe@ville-gmat.fr"])
    assert gap.spans == ((22, 22),)  # a missing dot: the caret goes between t and f
    assert doubts.doubts("XQZW", ["Martin"]).whole  # nothing alike: typed over whole
    notes = ("suggested from the second engine's reading 'Lucie'",)
    assert doubts.alternatives("Lucle", [], notes) == ["Lucle", "Lucie"]


def test_the_review_page_puts_the_caret_data_on_the_doubts(root: Path, ws: Workspace) -> None:
    prenom = fid(ws, "scan-003.pdf", 1, "prenom")
    ws.db.execute("INSERT INTO readings (field_id, source, value, p) VALUES (?, 'ppocr', "
                  "'Lucie', 0.6)", (prenom,))
    client = create_app(root).test_client()
    login(client, "alice")
    html = client.get(f"/field/{prenom}").get_data(as_text=True)
    assert 'data-doubts="[[3, 4]]"' in html and "Luc<mark>l</mark>e" in html


def test_postcode_and_commune_completion(root: Path) -> None:
    assert ("63100", "Clermont-Ferrand") in complete("6310")
    assert complete("clermont-f")[:2] == [("63000", "Clermont-Ferrand"),
                                         ("63100", "Clermont-Ferrand")]
    assert complete("6") == [] and complete("ab") == []
    client = create_app(root).test_client()
    login(client, "alice")
    assert {"code": "15100", "commune": "Saint-Flour"} in client.get(
        "/complete?q=saint-flour").get_json()

"""Issue 26 defects: a decision re-runs the form's rules and the row's status; the terminal
echo; duplicates settled from the review app and never counted silently by the export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_review_data import build_workspace

from pipeline import export
from pipeline.review import commands
from pipeline.review import queue as q
from pipeline.store import Workspace


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workspace(tmp_path_factory.mktemp("rules") / "ws")


@pytest.fixture
def root(built: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "ws"
    shutil.copytree(built, dst)
    return dst


def review_set(root: Path, *args: str):
    return CliRunner().invoke(commands.review, ["set", "-w", str(root), "--reviewer", "zoe",
                                                *args])


def field(root: Path, source: str, page: int, name: str) -> dict:
    with Workspace(root, create=False) as ws:
        return next(dict(r) for r in ws.field_rows()
                    if (r["source_file"], r["page"], r["field"]) == (source, page, name))


def row(root: Path, source: str, page: int) -> dict:
    with Workspace(root, create=False) as ws:
        table = export.attendees_table(ws)
    return table[(table.source_file == source) & (table.page == page)].iloc[0].to_dict()


def test_not_attending_sends_an_accepted_lunch_to_review_and_the_row_is_not_final(
        root: Path) -> None:
    assert field(root, "scan-001.pdf", 1, "dejeunera")["status"] == "accepted"
    out = review_set(root, "scan-001.pdf", "1", "participera", "non")
    assert out.exit_code == 0, out.output
    assert "dejeunera now disagrees with the form's rules: sent to review" in out.stdout
    lunch = field(root, "scan-001.pdf", 1, "dejeunera")
    assert lunch["status"] == "review" and "inconsistent" in lunch["reasons"]
    assert row(root, "scan-001.pdf", 1)["needs_review"] == "true"
    listed = CliRunner().invoke(commands.review, ["list", "-w", str(root)]).stdout
    assert any("dejeunera" in line and "inconsistent" in line for line in listed.splitlines())


def test_attending_clears_an_inconsistent_lunch(root: Path) -> None:
    with Workspace(root, create=False) as ws:  # as the reader leaves it: lunch, no attendance
        ws.db.execute("UPDATE fields SET value = 'oui', machine_value = 'oui', status = 'review', "
                      "reasons = 'inconsistent', confidence = 0.95 WHERE field = 'dejeunera' AND "
                      "page_id = (SELECT p.id FROM pages p JOIN files f ON f.id = p.file_id "
                      "WHERE f.source_file = 'scan-003.pdf' AND p.page = 2)")
    out = review_set(root, "scan-003.pdf", "2", "participera", "oui")
    assert out.exit_code == 0, out.output
    lunch = field(root, "scan-003.pdf", 2, "dejeunera")
    assert (lunch["status"], lunch["reasons"]) == ("accepted", "")
    assert "dejeunera" not in CliRunner().invoke(commands.review, ["list", "-w", str(root)]).stdout
    assert review_set(root, "scan-003.pdf", "2", "adresse",
                      "12 rue Blatin, 63000 Clermont-Ferrand").exit_code == 0
    assert row(root, "scan-003.pdf", 2)["needs_review"] == "false"


def test_clearing_a_required_name_is_refused_unless_kept_knowingly(root: Path) -> None:
    out = review_set(root, "scan-002.pdf", "1", "nom", "")
    assert isinstance(out.exception, q.RuleBroken)
    assert "required" in str(out.exception) and "--override" in str(out.exception)
    assert field(root, "scan-002.pdf", 1, "nom")["value"] == "Martin"
    out = review_set(root, "scan-002.pdf", "1", "nom", "", "--override")
    assert out.exit_code == 0, out.output
    nom = field(root, "scan-002.pdf", 1, "nom")
    assert (nom["value"], nom["status"]) == ("", "corrected")
    assert "missing_required" in nom["reasons"]
    with Workspace(root, create=False) as ws:
        note = ws.db.execute("SELECT note FROM decisions ORDER BY id DESC").fetchone()[0]
    assert note.startswith("override: ") and "required" in note


def test_a_lunch_contradicting_a_reviewers_decision_needs_override(root: Path) -> None:
    assert review_set(root, "scan-003.pdf", "1", "participera", "non").exit_code == 0
    out = review_set(root, "scan-003.pdf", "1", "dejeunera", "oui")
    assert isinstance(out.exception, q.RuleBroken) and "Participera 'non'" in str(out.exception)
    assert review_set(root, "scan-003.pdf", "1", "dejeunera", "oui", "--override").exit_code == 0
    assert field(root, "scan-003.pdf", 1, "participera")["status"] == "corrected"  # not reopened


def test_undo_runs_the_rules_again(root: Path) -> None:
    with Workspace(root, create=False) as ws:
        fid = ws.db.execute("SELECT f.id FROM fields f JOIN pages p ON p.id = f.page_id JOIN "
                            "files fi ON fi.id = p.file_id WHERE fi.source_file = 'scan-001.pdf' "
                            "AND f.field = 'participera'").fetchone()[0]
        q.decide(ws, fid, "alice", "non", 0)
        assert q.get_field(ws, fid).status == "corrected"
        q.undo(ws, "alice")
    lunch = field(root, "scan-001.pdf", 1, "dejeunera")
    assert (lunch["status"], lunch["reasons"]) == ("accepted", "")


def test_review_set_echoes_a_short_old_value(root: Path) -> None:
    long = "Parc naturel régional Livradois-Forez"
    out = review_set(root, "scan-002.pdf", "1", "structure", "PNR Livradois-Forez")
    assert out.exit_code == 0, out.output
    assert long not in out.stdout and "'Parc naturel régional Livrado…'" in out.stdout

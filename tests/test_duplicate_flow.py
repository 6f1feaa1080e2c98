"""The same person registered twice (by post and by e-mail) is caught, then merged or kept."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import cv2
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from tests.pages import PERSON, filled_page, transform

pytestmark = pytest.mark.tesseract


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _attendees(ws: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(_run("export", "attendees", "-w", str(ws)).stdout)))


def test_a_second_registration_is_flagged_then_merged(tmp_path: Path, template) -> None:
    post, mail = tmp_path / "courrier", tmp_path / "mail"
    post.mkdir()
    mail.mkdir()
    cv2.imwrite(str(post / "scan.png"), transform(filled_page(template), angle=1))
    other = {**PERSON, "nom": "Martin", "prenom": "Paul", "mail": "p.martin@ville-riom.fr"}
    cv2.imwrite(str(post / "autre.png"), transform(filled_page(template, other), angle=-1))
    ws = tmp_path / "ws"
    _run("process", str(post), "-w", str(ws), "-j", "1", "-q")

    # The same person again, by e-mail, in a later batch.
    cv2.imwrite(str(mail / "photo.jpg"), transform(filled_page(template), angle=-2, seed=4))
    r = _run("process", str(mail), "-w", str(ws), "-j", "1", "-q")
    assert "1 possible duplicate registrations sent to review" in r.stdout

    listed = _run("review", "duplicates", "-w", str(ws)).stdout
    assert "photo.jpg p.1  looks like  scan.png p.1" in listed and "[pending]" in listed
    pending = _run("review", "list", "-w", str(ws)).stdout
    assert any("photo.jpg" in line and "possible_duplicate" in line
               for line in pending.splitlines())
    assert len(_attendees(ws)) == 3

    _run("review", "merge", "-w", str(ws), "photo.jpg", "1", "--reviewer", "alice")
    rows = _attendees(ws)
    assert [r["source_file"] for r in rows] == ["autre.png", "scan.png"]
    assert "[merged]" in _run("review", "duplicates", "-w", str(ws)).stdout

    # Re-running finds nothing new, and the decision stands.
    r = _run("process", str(mail), "-w", str(ws), "-j", "1", "-q")
    assert "possible duplicate" not in r.stdout
    assert len(_attendees(ws)) == 2


def test_keep_needs_a_flagged_form(tmp_path: Path, template) -> None:
    d = tmp_path / "in"
    d.mkdir()
    cv2.imwrite(str(d / "scan.png"), transform(filled_page(template), angle=1))
    ws = tmp_path / "ws"
    _run("process", str(d), "-w", str(ws), "-j", "1", "-q")
    r = CliRunner().invoke(main, ["review", "keep", "-w", str(ws), "scan.png", "1"])
    assert r.exit_code != 0
    assert "not the later form of a possible duplicate" in r.stderr

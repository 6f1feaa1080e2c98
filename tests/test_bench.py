"""The benchmark's own measurements."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import pytest

from pipeline import bench
from pipeline.process import process
from pipeline.store import Workspace
from tests.pages import filled_page

pytestmark = pytest.mark.tesseract


def test_the_trust_layers_time_is_measured_on_the_same_pages_without_the_second_engine(
        tmp_path: Path, template, monkeypatch) -> None:
    monkeypatch.delenv("FORMSCAN_SECOND", raising=False)
    scans = tmp_path / "scans"
    scans.mkdir()
    cv2.imwrite(str(scans / "form.png"), filled_page(template))
    with Workspace(tmp_path / "full") as ws:
        full = process([scans], ws, workers=1, batch="full")
    alone = bench.one_engine_run(scans, tmp_path / "alone", workers=1)

    assert full.timings["second"] > 0 and alone.timings.get("second", 0.0) < 0.001
    # without its second reading nothing typed is accepted: the engine really was off
    assert alone.fields_accepted < full.fields_accepted
    assert "FORMSCAN_SECOND" not in os.environ  # and is on again for whatever runs next
    extra = bench.extra_time(full, alone)
    assert extra is not None
    assert extra["total_s"] == pytest.approx(extra["second_s"] + extra["rest_s"])
    assert 0 < extra["rest_s"] < alone.seconds

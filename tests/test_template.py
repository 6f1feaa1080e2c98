"""The form as data: strict loading with useful messages, and a renderer that obeys it."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from pipeline.errors import TemplateError
from pipeline.render import blank_form, label_width_mm, render_pdf, write_blank_form
from pipeline.template import DEFAULT_TEMPLATE, MM_PER_INCH, load_template, parse_template

DPI = 300
PX = DPI / MM_PER_INCH


@pytest.fixture()
def data() -> dict:
    return yaml.safe_load(DEFAULT_TEMPLATE.read_text(encoding="utf-8"))


def _error(data: dict) -> str:
    with pytest.raises(TemplateError) as exc:
        parse_template(data, "t.yaml")
    return str(exc.value)


def test_the_bundled_template_has_every_output_field(template) -> None:
    assert template.field_ids == [
        "nom", "prenom", "structure", "fonction", "agent_collectivite",
        "adresse", "mail", "telephone", "participera", "dejeunera",
    ]
    assert {f.id for f in template.fields if f.required} == {"nom", "prenom", "agent_collectivite"}
    assert len(template.field("adresse").lines) == 2
    assert [o.value for o in template.field("agent_collectivite").options] == ["oui", "non"]


def test_unknown_key_is_named_with_its_path(data) -> None:
    data["fields"][2]["colour"] = "red"
    assert "t.yaml: fields[2].colour: unknown key" in _error(data)


def test_box_off_the_page(data) -> None:
    data["fields"][4]["options"][1]["box"]["x_mm"] = 208
    msg = _error(data)
    assert "fields[4].options[1].box" in msg and "off the 210 x 297 mm page" in msg


def test_area_off_the_page(data) -> None:
    data["fields"][0]["lines"][0]["area"]["y_mm"] = -3
    assert "fields[0].lines[0].area: lies off" in _error(data)


def test_duplicate_ids(data) -> None:
    data["fields"][1]["id"] = "nom"
    assert "fields[1].id: duplicate id 'nom' (already fields[0])" in _error(data)


def test_missing_key_and_wrong_type(data) -> None:
    del data["fields"][0]["kind"]
    data["fields"][1]["required"] = "maybe"
    msg = _error(data)
    assert "fields[0].kind: Field required" in msg
    assert "fields[1].required: Input should be a valid boolean" in msg


def test_unknown_kind_lists_the_choices(data) -> None:
    data["fields"][0]["kind"] = "signature"
    assert "fields[0].kind: Input should be 'text', 'email'" in _error(data)


def test_leader_outside_its_area(data) -> None:
    data["fields"][6]["lines"][0]["leader"]["y_mm"] = 150
    assert "fields[6].lines[0].leader: the leader must lie inside its area" in _error(data)


def test_overlapping_areas(data) -> None:
    data["fields"][2]["lines"][0]["area"]["y_mm"] = 90
    assert "fields[2].lines[0].area: overlaps fields[0].lines[0].area" in _error(data)


def test_box_group_needs_rule_and_checkbox_one_option(data) -> None:
    broken = copy.deepcopy(data)
    del broken["fields"][4]["rule"]
    assert "fields[4]: a choice field needs a rule" in _error(broken)
    data["fields"][8]["options"].append(copy.deepcopy(data["fields"][9]["options"][0]))
    assert "fields[8]: a checkbox field has exactly one option" in _error(data)


def test_broken_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("fields: [\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"bad\.yaml: not valid YAML"):
        load_template(bad)
    with pytest.raises(TemplateError, match="cannot read template"):
        load_template(tmp_path / "nope.yaml")


# --- the renderer obeys the template ------------------------------------------------


def _dark_bbox(img: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> tuple:
    """Bounding box (mm) of the ink inside a window given in mm."""
    win = img[round(y0 * PX):round(y1 * PX), round(x0 * PX):round(x1 * PX)] < 128
    ys, xs = np.nonzero(win)
    assert len(xs), f"no ink in window x {x0}..{x1}, y {y0}..{y1}"
    return (x0 + xs.min() / PX, y0 + ys.min() / PX, x0 + (xs.max() + 1) / PX,
            y0 + (ys.max() + 1) / PX)


def test_boxes_are_drawn_where_the_template_says(template) -> None:
    img = blank_form(template, DPI)
    for f in template.box_fields():
        for o in f.options:
            b = o.box
            bx = _dark_bbox(img, b.x_mm - 2, b.y_mm - 2, b.x_mm + b.size_mm + 2,
                            b.y_mm + b.size_mm + 2)
            expected = (b.x_mm, b.y_mm, b.x_mm + b.size_mm, b.y_mm + b.size_mm)
            assert np.allclose(bx, expected, atol=1.0), (f.id, o.value, bx, expected)
            # A hollow square: its middle is white.
            inner = img[round((b.y_mm + 1) * PX):round((b.y_mm + b.size_mm - 1) * PX),
                        round((b.x_mm + 1) * PX):round((b.x_mm + b.size_mm - 1) * PX)]
            assert inner.min() > 200


def test_leaders_are_drawn_where_the_template_says(template) -> None:
    img = blank_form(template, DPI)
    for f in template.text_fields():
        for line in f.lines:
            ld = line.leader
            x0, y0, x1, y1 = _dark_bbox(img, ld.x_mm - 0.8, ld.y_mm - 2.5, ld.to_mm + 3,
                                        ld.y_mm + 1.5)
            assert abs(x0 - ld.x_mm) < 1.0, (f.id, x0)
            assert abs(x1 - ld.to_mm) < 1.0, (f.id, x1)
            assert abs(y1 - ld.y_mm) < 1.0, (f.id, y1)  # dots sit on the baseline
            assert y1 - y0 < 1.0  # nothing but dots on that row
            n, *_ = cv2.connectedComponentsWithStats(
                (img[round((ld.y_mm - 1) * PX):round((ld.y_mm + 0.5) * PX),
                     round(ld.x_mm * PX):round(ld.to_mm * PX)] < 128).astype(np.uint8))
            assert n - 1 > (ld.to_mm - ld.x_mm) / 1.5  # a run of dots, not a line


def test_labels_end_before_their_leaders(template) -> None:
    for f in template.text_fields():
        if f.label:
            end = f.label.x_mm + label_width_mm(template, f.label.text)
            assert end < f.lines[0].leader.x_mm, f.id


def test_pdf_has_a_text_layer(template, tmp_path: Path) -> None:
    pdf, png = write_blank_form(template, tmp_path, dpi=100)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    for label in ("VOTRE INSCRIPTION", "Nom :", "Prénom :", "Téléphone :", "Ne déjeunera pas",
                  "20 euros", "a.muller@ardt-auvergne.fr", "CABANTOUS"):
        assert label in text
    assert "....................." in text  # leaders are characters
    assert png.stat().st_size > 10_000
    assert render_pdf(template)[:5] == b"%PDF-"

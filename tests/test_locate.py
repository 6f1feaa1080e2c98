"""Leader-dot removal on the e-mail line, where a "." is part of the value."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline import locate
from pipeline.render import blank_form
from tests.pages import FONT, PX

pytestmark = pytest.mark.tesseract


def _mail_line(template, draw) -> np.ndarray:
    img = Image.fromarray(blank_form(template, 300).copy())
    draw(ImageDraw.Draw(img), ImageFont.truetype(FONT, 40))
    return np.asarray(img)


@pytest.mark.parametrize("rise", [4, 5])
@pytest.mark.parametrize("dx", [-2, 0, 2])
def test_a_dot_standing_on_a_printed_dot_stays_a_dot(template, engine, rise, dx) -> None:
    """Typed text sits just above the leader: its "." touches the printed dot under
    it, and the pair read as "," (then dropped from the address)."""
    line = template.field("mail").lines[0]
    dots = locate._ref_dots(template, line)
    cx = line.area.x_mm * PX + dots.xs[16] + dx
    cy = line.area.y_mm * PX + dots.y - rise

    def draw(d, font):
        d.text((cx - 5, cy + 2), "h", font=font, fill=0, anchor="rs")
        d.text((cx + 5, cy + 2), "rousseau@cr-auvergne.fr", font=font, fill=0, anchor="ls")
        d.ellipse((cx - 2.5, cy - 2.5, cx + 2.5, cy + 2.5), fill=0)

    c = locate.clean_line(_mail_line(template, draw), template, line, strict=True)
    assert engine.read_line(c.clean, None).text.startswith("h.")


def test_dots_after_an_address_go_even_with_a_speck_far_off(template, engine) -> None:
    """A speck of dust at the line's end stretched "the writing" over the leader,
    and its dots were kept as the address's own: "giraudh@orange.fr ......"."""
    line = template.field("mail").lines[0]
    y = line.leader.y_mm * PX

    def draw(d, font):
        d.text(((line.leader.x_mm + 2) * PX, y - 6), "giraudh@orange.fr", font=font, fill=0,
               anchor="ls")
        x = (line.leader.to_mm - 8) * PX
        d.ellipse((x, y - 30, x + 7, y - 22), fill=0)

    c = locate.clean_line(_mail_line(template, draw), template, line, strict=True)
    assert engine.read_line(c.clean, None).text.strip().endswith("@orange.fr")

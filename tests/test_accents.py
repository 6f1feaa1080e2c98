"""Accents as the writer puts them, whatever the OCR saw over the letters."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.accents import as_written, habit, usual
from pipeline.imaging import marks_above
from pipeline.suggest import page_hand


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("CONSÉILLER", "CONSEILLER"),  # a stroke over a capital taken for an accent
        ("LÉADER", "LEADER"),
        ("developpement", "développement"),  # the second engine reads no accent
        ("President", "Président"),
        ("AUBIERE", "AUBIÈRE"),  # a commune, by its official spelling
        ("POLE", "PÔLE"),
    ],
)
def test_a_word_spelt_one_way_gets_its_accents(read: str, meant: str) -> None:
    assert usual(read) == meant


@pytest.mark.parametrize("word", ["charge", "cote", "a", "marche", "Dupontel",
                                  "LOIRE", "Besse", "CERE"])  # also places: Loiré, Bessé, Céré
def test_a_word_spelt_both_ways_or_unknown_has_no_usual_spelling(word: str) -> None:
    assert usual(word) is None


def test_first_names_take_their_accented_spelling_and_keep_a_capitals_accent() -> None:
    assert usual("Helene", names=True) == "Hélène"
    assert usual("Éleonore", names=True) == "Éléonore"
    assert usual("MARCÉLLE", names=True) == "MARCELLE"


def test_a_page_votes_on_whether_its_hand_writes_accents_on_capitals() -> None:
    assert habit(["CHARGÉE DE MISSION", "RÉPUBLIQUE"]) is True
    assert habit(["CHARGEE DE MISSION", "DEVELOPPEMENT LOCAL"]) is False
    # accents where French has none: those read on this page are made up
    assert habit(["CONSÉILLER DÉPARTEMENTAL", "PLACÉ DÉ LA MAIRIE"]) is False
    assert habit(["MAIRIE DE RIOM", "Chargée de mission"]) is None  # nothing to go by


def test_capitals_follow_the_pages_habit_and_small_letters_are_spelt_right() -> None:
    assert as_written("DIRECTRICE GÉNÉRALE", False) == "DIRECTRICE GENERALE"
    assert as_written("DIRECTRICE GENERALE", True) == "DIRECTRICE GÉNÉRALE"
    # the page does not say: capitals lose only the accents French never writes
    assert as_written("CONSÉILLERE DEPARTEMENTALE", None) == "CONSEILLERE DEPARTEMENTALE"
    assert as_written("Chargee de mission developpement", None) == \
        "Chargée de mission développement"
    assert as_written("Noemi", None, names=True) == "Noémi"
    assert as_written("Elise", None, names=True) == "Elise"  # "Elisé" is too rare a spelling
    # a letter alone or two are too short to tell: "O" is no "Ô", "CA" may be "CA"
    assert as_written("LA ROUTE, O3S00 CA", True) == "LA ROUTE, O3S00 CA"
    assert as_written("LÉ ROUX", None) == "LE ROUX"


def test_surnames_and_communes_keep_their_own_spelling() -> None:
    assert as_written("Carre", None, surname=True) == "Carre"  # a name, though "carré"
    assert as_written("ANDRE", True, surname=True) == "ANDRE"
    assert as_written("LÉ ROUX", True, surname=True) == "LE ROUX"
    assert as_written("Mairie de Chaudes-Aigues", None) == "Mairie de Chaudes-Aigues"


def _capitals(text: str) -> np.ndarray:
    """`text` on a grey line crop, in a hand-like font that draws its accents apart."""
    font = ImageFont.truetype("/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf", 48)
    img = Image.new("L", (40 + int(font.getlength(text)), 110), 245)
    ImageDraw.Draw(img).text((20, 30), text, font=font, fill=30)
    return np.asarray(img)


def test_marks_above_capitals_are_counted_over_their_letters() -> None:
    assert marks_above(_capitals("DIRECTRICE GÉNÉRALE")) == 2
    assert marks_above(_capitals("DIRECTRICE GENERALE")) == 0
    assert marks_above(_capitals("É")) == 0  # too little writing to say


def test_where_the_readings_barely_lean_the_ink_over_the_capitals_decides() -> None:
    texts = ["DIRECTRICE GENERALE", "MAIRIE DE RIOM", "SOPHIE MARTIN", "CHARGÉE DE MISSION"]
    assert habit(texts) is None  # one word each way
    assert habit(texts, marks=0) is False
    assert habit(texts, marks=1) is None  # one mark may be a speck
    assert habit(texts, marks=2) is True
    assert habit(["DIRECTRICE GÉNÉRALE"], marks=0) is None  # the reading says accents
    plain = page_hand(texts, crops=[_capitals(t) for t in ("DIRECTRICE GENERALE",
                                                           "CHARGEE DE MISSION")])
    marked = page_hand(texts, crops=[_capitals(t) for t in ("DIRECTRICE GÉNÉRALE",
                                                            "CHARGÉE DE MISSION")])
    assert (plain.accents, marked.accents) == (False, True)

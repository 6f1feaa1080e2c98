"""Accents as the writer puts them, whatever the OCR saw over the letters."""

import pytest

from pipeline.accents import as_written, habit, usual


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


@pytest.mark.parametrize("word", ["charge", "cote", "a", "marche", "Dupontel"])
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

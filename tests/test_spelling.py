"""Dot-caused letter swaps in ordinary words undone with the OCR model's dictionary."""

from __future__ import annotations

import pytest

from pipeline.spelling import correct
from pipeline.trust.lexicon import french_words


@pytest.fixture(autouse=True, scope="module")
def _dictionary() -> None:
    if not french_words():
        pytest.fail("the French word list could not be read from Tesseract's model")


@pytest.mark.parametrize(
    "read, meant",
    [
        ("Chargée de mission développement loçal", "Chargée de mission développement local"),
        ("Plaçe de la Mairie", "Place de la Mairie"),
        ("Resnonsable du nôle aménagement", "Responsable du pôle aménagement"),
        ("Parc naturel régional Livradais-Forez", "Parc naturel régional Livradois-Forez"),
        ("Agent au service urhanisme", "Agent au service urbanisme"),
    ],
)
def test_a_swap_that_leaves_no_word_is_undone_and_recorded(read: str, meant: str) -> None:
    text, changes = correct(read)
    assert text == meant
    assert changes


@pytest.mark.parametrize(
    "text",
    [
        "Mairie de Brioude",
        "1 rue Francisque Lafave",  # unknown street name: nothing unique to swap it to
        "Chargée de mission LEADER",
        "Communauté de communes du Haut-Allier",
        "104 bis boulevard du 8 mai 1945",
    ],
)
def test_known_or_unknowable_words_are_left_as_read(text: str) -> None:
    assert correct(text) == (text, [])

"""Pre-filled values for handwriting in review: unknown words put right, shown, never accepted."""

from __future__ import annotations

import pytest

from pipeline.suggest import suggest

pytestmark = pytest.mark.usefixtures("french_dictionary")


@pytest.mark.parametrize(
    "fid, read, meant",
    [
        ("structure", "MAIKIE DE LEZOIX", "MAIRIE DE LEZOUX"),
        ("structure", "COMMUNAUTE DE COMMUNES Du PAYS", "COMMUNAUTE DE COMMUNES DU PAYS"),
        ("fonction", "Chargé de missiou", "Chargé de mission"),
        ("prenom", "EMMANVELLE", "EMMANUELLE"),
        ("adresse", "PLACE LAFAYETIE, 43100 BRIUOUDE", "PLACE LAFAYETTE, 43100 BRIOUDE"),
        # accents only where the writer uses them: capitals written bare stay bare
        ("fonction", "CHARGEE DE MISSION DEVELOPREMENT", "CHARGEE DE MISSION DEVELOPPEMENT"),
        ("fonction", "CHARGÉE DE MISSION DÉVELOPREMENT", "CHARGÉE DE MISSION DÉVELOPPEMENT"),
    ],
)
def test_an_unknown_word_with_one_close_known_word_is_suggested_as_it(
        fid: str, read: str, meant: str) -> None:
    value, changes = suggest(fid, read)
    assert value == meant
    assert changes  # the reviewer is shown what changed


@pytest.mark.parametrize(
    "fid, read",
    [
        ("structure", "Auvergne Active (pôle attractivité et services à la population)"),
        ("adresse", "10 rue Victor Hugo, 15200 Mauriac"),
        ("nom", "DUPONI"),  # surnames: nearly any spelling is somebody's
        ("mail", "jean.dupont@wanadoo.fr"),
        ("structure", "GAL Jeune Loire"),
    ],
)
def test_known_words_names_and_other_fields_are_left_as_read(fid: str, read: str) -> None:
    assert suggest(fid, read) == (read, [])

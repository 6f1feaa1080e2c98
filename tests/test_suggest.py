"""Pre-filled values for handwriting in review: unknown words put right, shown, never accepted."""

from __future__ import annotations

import pytest

from pipeline.suggest import mail_name_suggestion, suggest

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


@pytest.mark.parametrize(
    "read, meant",
    [
        ("hlene.dupomt@wanadoo.fr", "helene.dupont@wanadoo.fr"),
        ("hdupomt63@free.fr", "hdupont63@free.fr"),  # digits after the names kept
        ("dupoht.helene@riom.fr", "dupont.helene@riom.fr"),
    ],
)
def test_a_handwritten_email_name_part_follows_the_names_on_the_form(read: str,
                                                                     meant: str) -> None:
    notes: list[str] = []
    assert mail_name_suggestion(read, ["Dupont", "Hélène"], notes) == meant
    assert notes and "names on the form" in notes[0]


@pytest.mark.parametrize(
    "read, names",
    [
        ("helene.dupont@wanadoo.fr", ["Dupont", "Hélène"]),  # already so
        ("capucine.pottier@riom.fr", ["Poitier", "Capucine"]),  # itself known names
        ("xq7zzk@riom.fr", ["Dupont", "Hélène"]),  # nothing like them
        ("hlene.dupomt@riom.fr", ["Dxqpvt", "Hélène"]),  # a name no one has
    ],
)
def test_a_handwritten_email_is_left_as_read_when_the_names_do_not_say(read: str,
                                                                       names: list[str]) -> None:
    assert mail_name_suggestion(read, names, []) == read

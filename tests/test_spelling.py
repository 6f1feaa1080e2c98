"""Dot-caused letter swaps in ordinary words undone with the OCR model's dictionary."""

from __future__ import annotations

import pytest

from pipeline.spelling import correct, correct_email

pytestmark = pytest.mark.usefixtures("french_dictionary")


@pytest.mark.parametrize(
    "read, meant",
    [
        ("Chargée de mission développement loçal", "Chargée de mission développement local"),
        ("Plaçe de la Mairie", "Place de la Mairie"),
        ("Resnonsable du nôle aménagement", "Responsable du pôle aménagement"),
        ("Parc naturel régional Livradais-Forez", "Parc naturel régional Livradois-Forez"),
        ("Agent au service urhanisme", "Agent au service urbanisme"),
        ("CCI Montluçan-Gannat", "CCI Montluçon-Gannat"),  # not "Montlucon" as well
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
        "7 rue Blatin",  # a swap away from the surname Blotin, which is no correction
        "Saint-Pourçain-sur-Sioule",  # a real cedilla, before an "a"
        "Chargée de mission LEADER",
        "Communauté de communes du Haut-Allier",
        "104 bis boulevard du 8 mai 1945",
        "CAUE du Puy-de-Dôme",  # capitals: a lower-case swap would make it "CANE" (a duck)
    ],
)
def test_known_or_unknowable_words_are_left_as_read(text: str) -> None:
    assert correct(text) == (text, [])


@pytest.mark.parametrize(
    "read, names, meant",
    [
        ("c.lecog@cantal.cci.fr", ["Lecoq", "Claire"], "c.lecoq@cantal.cci.fr"),
        ("moreng.jean-francois@cr-auvergne.fr", ["Moreno", "Jean-François"],
         "moreno.jean-francois@cr-auvergne.fr"),
        ("louis.wagner@freefr", ["Wagner", "Louis"], "louis.wagner@free.fr"),
        ("noel.lopes@mairie-beaumont-fr", ["Lopes", "Noël"], "noel.lopes@mairie-beaumont.fr"),
        ("antoine.devaux@wanadao.fr", ["Devaux", "Antoine"], "antoine.devaux@wanadoo.fr"),
        ("noel.lemoine@foyersruraux63.0rg", ["Lemoine", "Noël"], "noel.lemoine@foyersruraux63.org"),
    ],
)
def test_an_email_is_mended_from_the_names_on_the_form_and_known_providers(
        read: str, names: list[str], meant: str) -> None:
    fixed, changes = correct_email(read, names)
    assert fixed == meant
    assert changes


def test_an_email_domain_is_mended_from_the_structure_on_the_form() -> None:
    fixed, _ = correct_email("x.cousin@cambrailles.com", ["Cousin", "Xavier"],
                             "Communauté de communes des Combrailles")
    assert fixed == "x.cousin@combrailles.com"


def test_a_misread_name_does_not_spoil_a_well_read_email() -> None:
    assert correct_email("lecoq.marie@cantal.fr", ["Lecog", "Marie"]) == (
        "lecoq.marie@cantal.fr", [])


@pytest.mark.parametrize(
    ("read", "names", "offered"),
    [
        ("jerome.lquis@mairie-riom.fr", ["Louis", "Jérôme"], "jerome.louis@mairie-riom.fr"),
        ("x.jemannier@ville-brioude.fr", ["Lemonnier", "Xavier"], "x.lemonnier@ville-brioude.fr"),
        ("evrardj@oranae.fr", ["Evrard", "Jules"], "evrardj@orange.fr"),
        ("olivier-martins@ville-brioqude.fr", ["Martins", "Olivier"],
         "olivier-martins@ville-brioude.fr"),  # a commune's name
        ("c.meyer@cantal.ccl.fr", ["Meyer", "Cécile"], "c.meyer@cantal.cci.fr"),  # a body's
        ("r.henry@puy-de-dome.chambagarl.fr", ["Henry", "Roland"],
         "r.henry@puy-de-dome.chambagri.fr"),
        ("e.boucher@maire-courpiere.fr", ["Boucher", "Étienne"],  # a town's domain
         "e.boucher@mairie-courpiere.fr"),
        ("e.boucher@marie-courpiere.fr", ["Boucher", "Étienne"], "e.boucher@mairie-courpiere.fr"),
    ],
)
def test_an_email_a_letter_off_the_names_or_a_provider_is_offered_as_a_guess(
        read: str, names: list[str], offered: str) -> None:
    from pipeline.template import FieldKind
    from pipeline.trust.evidence import canonical

    checked = canonical(FieldKind.EMAIL, read, names=names)
    assert checked.value == offered
    assert not checked.sure  # a reviewer confirms it: an address may differ from the name


@pytest.mark.parametrize("mail", ["m.roux@marie-curie.fr", "m.roux@cma-cantal.fr",
                                  "m.roux@ccas-riom.fr", "m.roux@maires15.fr"])
def test_a_domain_of_other_words_is_not_taken_for_a_misreading(mail: str) -> None:
    from pipeline.spelling import guess_email

    assert guess_email(mail, ["Roux", "Marc"]) == (mail, [])


def test_an_initial_glued_to_the_name_is_not_taken_for_a_misreading() -> None:
    from pipeline.spelling import guess_email

    assert guess_email("npottier@mairie-maurs.fr", ["Pottier", "Nina"]) == (
        "npottier@mairie-maurs.fr", [])


def test_a_word_read_with_a_for_o_under_a_circumflex_is_offered_as_a_guess() -> None:
    from pipeline.template import FieldKind
    from pipeline.trust.evidence import canonical

    checked = canonical(FieldKind.TEXT, "Responsable du pâle aménagement", words=True)
    assert checked.value == "Responsable du pôle aménagement" and not checked.sure
    kept = canonical(FieldKind.TEXT, "Château de Murol", words=True)  # no "Chôteau"
    assert kept.value == "Château de Murol" and kept.sure


def test_a_commune_no_place_is_called_is_offered_as_the_nearest_one() -> None:
    from pipeline.template import FieldKind
    from pipeline.trust.evidence import canonical

    checked = canonical(FieldKind.ADDRESS, "22 route de la Gare\n15130 Arpaion-sur-Cère")
    assert checked.value == "22 route de la Gare, 15130 Arpajon-sur-Cère"
    assert not checked.sure
    lieu_dit = canonical(FieldKind.ADDRESS, "Les Granges\n63210 Nébouzat")
    assert lieu_dit.value == "Les Granges, 63210 Nébouzat" and lieu_dit.sure


def test_a_first_name_no_one_has_a_dot_swap_from_a_real_one_is_offered_as_a_guess() -> None:
    from pipeline.template import FieldKind
    from pipeline.trust.evidence import canonical

    checked = canonical(FieldKind.TEXT, "Calette", first_name=True)  # "o" over a dot
    assert checked.value == "Colette" and not checked.sure
    assert canonical(FieldKind.TEXT, "Colette", first_name=True).sure
    assert canonical(FieldKind.TEXT, "Calas").value == "Calas"  # a surname is left alone


def test_a_commune_a_letter_off_is_guessed_in_the_case_it_was_written() -> None:
    from pipeline.spelling import guess_commune

    assert guess_commune("1 rue Haute, 15130 Arpaion-sur-Cère")[0] == (
        "1 rue Haute, 15130 Arpajon-sur-Cère")
    assert guess_commune("11 ALLEE PIERRE DE FERMAT, 63170 AVBIERE")[0] == (
        "11 ALLEE PIERRE DE FERMAT, 63170 AUBIÈRE")
    assert guess_commune("2 rue Blatin, 63000 Clermont-Ferrand")[1] == []

"""What a reviewer sees of an OCR reading once validated and normalised."""

from __future__ import annotations

import pytest

from pipeline.models import Reason
from pipeline.template import FieldKind, default_template, parse_template
from pipeline.validate import (
    check_address,
    check_email,
    check_phone,
    check_text,
    check_value,
    form_rules,
)

# --- text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Dupont ......", "Dupont"),
        (": Dupont", "Dupont"),
        ("Dupont .", "Dupont"),
        ("…Dupont___", "Dupont"),
        ("  Jean   Dupont  ", "Jean Dupont"),
        (".....", ""),
        ("15500 Massiac ' | ; | (", "15500 Massiac"),  # fax specks after the last word
        ("63200 Riom '°", "63200 Riom"),
        ("Mairie de Riom (pôle attractivité )", "Mairie de Riom (pôle attractivité )"),
    ],
)
def test_text_loses_leader_residue_and_extra_spaces(raw: str, expected: str) -> None:
    checked = check_text(raw)
    assert checked.value == expected
    assert checked.ok


@pytest.mark.parametrize("raw", ["Le Crest", "DUPONT", "de La Fontaine", "Dir.", "S.A.R.L."])
def test_text_keeps_case_and_abbreviations_as_written(raw: str) -> None:
    assert check_text(raw).value == raw


def test_text_is_nfc_so_accented_names_compare_equal() -> None:
    decomposed = "He\u0301le\u0300ne"
    assert check_text(decomposed).value == "Hélène"


# --- e-mail --------------------------------------------------------------------------


def test_email_spaces_around_at_and_dot_repaired_and_recorded() -> None:
    checked = check_email("a.muller @ ardt-auvergne .fr")
    assert checked.ok
    assert checked.value == "a.muller@ardt-auvergne.fr"
    assert checked.repairs


def test_email_comma_in_domain_and_trailing_dot_repaired() -> None:
    checked = check_email("jean.dupont@mairie-riom,fr.")
    assert checked.ok
    assert checked.value == "jean.dupont@mairie-riom.fr"
    assert len(checked.repairs) == 2


@pytest.mark.parametrize(("raw", "expected"), [
    ("Mairie de Brioude /pôle attractivité/", "Mairie de Brioude (pôle attractivité)"),
    ("Service A/B", "Service A/B"),  # a slash between words stays
    ("Chargé 1/2 temps", "Chargé 1/2 temps"),
    ("Chambre de Métiers du Cantal!", "Chambre de Métiers du Cantal"),
])
def test_brackets_read_as_slashes_and_glued_specks(raw: str, expected: str) -> None:
    assert check_text(raw).value == expected


def test_email_lower_cased_without_a_repair() -> None:
    checked = check_email("Jean.DUPONT@Mairie-Riom.FR")
    assert checked == check_email("jean.dupont@mairie-riom.fr")
    assert checked.value == "jean.dupont@mairie-riom.fr"
    assert checked.repairs == ()


def test_email_gap_in_the_name_part_read_as_the_lost_dot_and_recorded() -> None:
    # the "." lay on a printed leader dot and was cleaned away with it
    checked = check_email("jean dupont@mairie.fr")
    assert checked.ok
    assert checked.value == "jean.dupont@mairie.fr"
    assert checked.repairs


@pytest.mark.parametrize(
    "raw", ["jean.dupont@@mairie", "jean.dupont", "jean pierre dupont@mairie.fr"])
def test_invalid_email_flagged_with_a_reason_and_left_as_read(raw: str) -> None:
    checked = check_email(raw)
    assert not checked.ok
    assert checked.problem
    assert checked.value == raw
    assert checked.repairs == ()


def test_email_with_a_domain_ending_no_real_address_has_is_invalid() -> None:
    checked = check_email("jean.dupont@orange.frr")
    assert not checked.ok and "frr" in (checked.problem or "")
    assert check_email("jean.dupont@x.gouv.fr").ok  # a two-part ending


@pytest.mark.parametrize(("raw", "expected"), [
    ("henryjerome@vichy-valdallierfr", "henryjerome@vichy-valdallier.fr"),
    ("jean.dupont@gmailcom", "jean.dupont@gmail.com"),  # the longest real ending wins
])
def test_email_dot_lost_before_its_ending_is_put_back_but_not_sure(raw: str,
                                                                   expected: str) -> None:
    checked = check_email(raw)
    assert checked.ok and checked.value == expected and not checked.sure
    assert any("'.'" in r for r in checked.repairs)


def test_email_at_read_as_a_lookalike_is_repaired_only_when_one_place_fits() -> None:
    checked = check_email("lucas-moreauqaurillac.fr")
    assert checked.value == "lucas-moreau@aurillac.fr" and not checked.sure
    two_places = check_email("marcqbarcqriom.fr")  # marc@barcqriom.fr or marcqbarc@riom.fr
    assert not two_places.ok and two_places.value == "marcqbarcqriom.fr"


def test_email_at_read_as_an_eight_and_a_doubled_dot_repaired_but_not_sure() -> None:
    at = check_email("corinne.brunet908orange.fr")
    assert at.value == "corinne.brunet90@orange.fr" and not at.sure
    doubled = check_email("jerome.roussel@legrandclermont..com")
    assert doubled.value == "jerome.roussel@legrandclermont.com" and not doubled.sure


def test_email_with_leader_residue_read_after_it_is_offered_without_it() -> None:
    checked = check_email("henryb@orange.fr....... .. ll")
    assert checked.ok and checked.value == "henryb@orange.fr" and not checked.sure
    spaced = check_email("lecoq.alex@cma -cantal. fr .")
    assert spaced.ok and spaced.value == "lecoq.alex@cma-cantal.fr"


def test_email_capital_i_among_lower_case_is_read_as_l_but_not_sure() -> None:
    checked = check_email("I.klein@combrailles.com")
    assert checked.value == "l.klein@combrailles.com" and not checked.sure
    mixed = check_email("Isabelle.Martin@riom.fr")  # written with capitals: left alone
    assert mixed.value == "isabelle.martin@riom.fr" and mixed.sure


def test_empty_email_is_ok() -> None:
    assert check_email("   ") == check_email("") == check_email("").__class__("", ok=True)


# --- phone ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["04.73.89.12.34", "0473891234", "+33 4 73 89 12 34", "04-73-89-12-34",
            "04/73/89/12/34", "0033 4 73 89 12 34", "+33 (0)4 73 89 12 34"],
)
def test_french_numbers_written_the_french_way(raw: str) -> None:
    checked = check_phone(raw)
    assert checked.ok
    assert checked.value == "04 73 89 12 34"
    assert checked.repairs == ()


def test_letters_read_for_digits_repaired_and_recorded() -> None:
    checked = check_phone("O4 73 89 I2 34")
    assert checked.ok
    assert checked.value == "04 73 89 12 34"
    assert any("'O'" in r and "'I'" in r for r in checked.repairs)


def test_letters_not_repaired_when_the_result_is_still_no_number() -> None:
    checked = check_phone("O4 73 I2")
    assert not checked.ok
    assert checked.value == "O4 73 I2"
    assert checked.repairs == ()


@pytest.mark.parametrize("raw", ["12 34", "04 73 89 12 34 56 78", "Jean"])
def test_invalid_phone_flagged(raw: str) -> None:
    checked = check_phone(raw)
    assert not checked.ok
    assert checked.problem


def test_foreign_number_kept_in_international_format() -> None:
    checked = check_phone("+32 2 511 12 34")
    assert checked.ok
    assert checked.value == "+32 2 511 12 34"


def test_missing_leading_zero_is_a_recorded_repair() -> None:
    checked = check_phone("4 73 89 12 34")
    assert checked.value == "04 73 89 12 34"
    assert checked.repairs


# --- address -------------------------------------------------------------------------


def test_address_lines_joined_with_postcode_and_commune() -> None:
    checked, code_postal, commune = check_address("12 rue Blatin", "63000 Clermont-Ferrand")
    assert checked.ok
    assert checked.value == "12 rue Blatin, 63000 Clermont-Ferrand"
    assert (code_postal, commune) == ("63000", "Clermont-Ferrand")


def test_address_keeps_its_own_comma_and_has_no_postcode() -> None:
    checked, code_postal, commune = check_address("5, rue X", "")
    assert checked.ok
    assert checked.value == "5, rue X"
    assert (code_postal, commune) == ("", "")


def test_address_cedex_dropped_from_commune_and_cs_number_not_a_postcode() -> None:
    checked, code_postal, commune = check_address(
        "ARDTA 7 allée Pierre de Fermat ......", "CS60017 - 63178 AUBIERE CEDEX"
    )
    assert checked.value == "ARDTA 7 allée Pierre de Fermat, CS60017 - 63178 AUBIERE CEDEX"
    assert (code_postal, commune) == ("63178", "AUBIERE")
    assert check_address("7 allée Pierre de Fermat CS60017 Aubière", "")[1:] == ("", "")


@pytest.mark.parametrize("line2, read, code", [
    ("Q3800 Gannat", "Q3800", "03800"), ("@3300 Thiers", "@3300", "03300"),
    ("Q300Q Moulins", "Q300Q", "03000"), ("63O00 Clermont-Ferrand", "63O00", "63000"),
    ("631 50 La Bourboule", "631 50", "63150"), ("6 313 0 Royat", "6 313 0", "63130"),
    ("6332 0 Champeix", "6332 0", "63320"),
])
def test_postcode_read_with_a_lookalike_is_read_as_digits_but_never_sure(line2: str, read: str,
                                                                         code: str) -> None:
    # "Q3800 Gannat" was accepted as it was read: nothing checked a postcode was one
    checked, code_postal, _ = check_address("Place Hennequin", line2)
    assert code_postal == code and checked.value.startswith(f"Place Hennequin, {code} ")
    assert checked.ok and not checked.sure and read in checked.repairs[0]


def test_postcode_lookalike_that_makes_no_postcode_is_invalid() -> None:
    checked, code_postal, _ = check_address("1 rue X", "QO123 Riom")
    assert not checked.ok and code_postal == ""
    assert check_address("Chemin des Ollll", "")[0].ok  # letters alone are no postcode


def test_address_with_only_the_second_line() -> None:
    checked, code_postal, _ = check_address("", "63450 Le Crest")
    assert checked.value == "63450 Le Crest"
    assert code_postal == "63450"


def test_check_value_dispatches_by_kind() -> None:
    assert check_value(FieldKind.TEXT, "Dupont ....").value == "Dupont"
    assert check_value(FieldKind.EMAIL, "A@B.FR").value == "a@b.fr"
    assert check_value(FieldKind.PHONE, "0473891234").value == "04 73 89 12 34"
    address = check_value(FieldKind.ADDRESS, "12 rue Blatin\n63000 Clermont-Ferrand")
    assert address.value == "12 rue Blatin, 63000 Clermont-Ferrand"
    with pytest.raises(ValueError):
        check_value(FieldKind.CHOICE, "oui")


# --- form rules ----------------------------------------------------------------------

COMPLETE = {"nom": "Dupont", "prenom": "Jean", "agent_collectivite": "non",
            "participera": "oui", "dejeunera": "oui"}


def test_complete_form_breaks_no_rule() -> None:
    assert form_rules(default_template(), COMPLETE) == {}


def test_missing_required_fields_flagged() -> None:
    values = {**COMPLETE, "nom": "", "agent_collectivite": ""}
    del values["prenom"]
    assert form_rules(default_template(), values) == {
        "nom": [Reason.MISSING_REQUIRED],
        "prenom": [Reason.MISSING_REQUIRED],
        "agent_collectivite": [Reason.MISSING_REQUIRED],
    }


def test_lunch_without_attending_is_inconsistent() -> None:
    values = {**COMPLETE, "participera": "non"}
    assert form_rules(default_template(), values) == {
        "participera": [Reason.INCONSISTENT],
        "dejeunera": [Reason.INCONSISTENT],
    }


def test_attending_without_lunch_is_fine() -> None:
    values = {**COMPLETE, "dejeunera": "non"}
    assert form_rules(default_template(), values) == {}


def test_required_flags_come_from_the_template() -> None:
    data = default_template().model_dump(mode="json", exclude_none=True)
    for f in data["fields"]:
        f["required"] = f["id"] == "structure"
    template = parse_template(data)
    values = {**COMPLETE, "nom": "", "structure": ""}
    assert form_rules(template, values) == {"structure": [Reason.MISSING_REQUIRED]}


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Maire.", "Maire"),  # a leader dot fused to the last letter
        ("Communauté d'agglomération du. Bassin", "Communauté d'agglomération du Bassin"),
        ("Auvergne.Active", "Auvergne Active"),
        ("Parc. naturel régional", "Parc naturel régional"),
        ("Conseil régional d’Auvergne", "Conseil régional d'Auvergne"),
        ("Bd. Lafayette", "Bd. Lafayette"),  # real abbreviations keep their dot
        ("S.A.R.L.", "S.A.R.L."),
        ("M. Dupont", "M. Dupont"),
        ("Mairie de.Riom", "Mairie de Riom"),
        ("Conseiller entreprises.en charge", "Conseiller entreprises en charge"),
        ("en charge du programme. LEADER", "en charge du programme LEADER"),
        ("St. Flour", "St. Flour"),
    ],
)
def test_leader_dots_fused_to_words_are_removed(raw: str, expected: str) -> None:
    assert check_text(raw).value == expected

"""Possible double registrations a reviewer should look at."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.duplicates import find_duplicates


def frame(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    """Records from (prenom, nom, structure, mail), one source file each."""
    return pd.DataFrame(
        [
            {"source_file": f"scan{i}.pdf", "page": 1, "prenom": p, "nom": n,
             "structure": s, "mail": m}
            for i, (p, n, s, m) in enumerate(rows)
        ]
    )


def test_same_mail_case_insensitive() -> None:
    pairs = find_duplicates(frame(
        ("Jean", "Dupont", "Mairie de Riom", "j.dupont@riom.fr"),
        ("J.", "Dupond", "", "J.Dupont@Riom.FR"),
        ("Anne", "Martin", "Mairie de Riom", "a.martin@riom.fr"),
    ))
    assert [(p.a, p.b) for p in pairs] == [(("scan0.pdf", 1), ("scan1.pdf", 1))]
    assert "mail" in pairs[0].why


def test_same_name_with_accents_and_case_folded() -> None:
    pairs = find_duplicates(frame(
        ("Hélène", "Dupré", "ARDTA", ""),
        ("HELENE", "DUPRE", "ARDTA Auvergne", "h.dupre@ardt-auvergne.fr"),
    ))
    assert len(pairs) == 1
    assert pairs[0].score >= 90
    assert "name" in pairs[0].why


def test_same_name_when_one_form_gives_no_structure() -> None:
    pairs = find_duplicates(frame(
        ("Jean", "Dupont", "Mairie de Riom", ""),
        ("Dupont", "Jean", "", ""),  # first and last name swapped
    ))
    assert len(pairs) == 1


def test_colleagues_of_one_structure_are_not_duplicates() -> None:
    assert find_duplicates(frame(
        ("Jean", "Dupont", "Mairie de Riom", "j.dupont@riom.fr"),
        ("Jeanne", "Durand", "Mairie de Riom", "j.durand@riom.fr"),
        ("Paul", "Martin", "Mairie de Riom", ""),
    )) == []


def test_namesakes_in_different_structures_are_not_duplicates() -> None:
    assert find_duplicates(frame(
        ("Jean", "Martin", "Conseil départemental du Puy-de-Dôme", ""),
        ("Jean", "Martin", "Communauté de communes Mond'Arverne", ""),
    )) == []


def test_records_without_names_or_mails_do_not_pair() -> None:
    assert find_duplicates(frame(("", "", "", ""), ("", "", "", ""))) == []


def test_one_pair_with_both_reasons() -> None:
    pairs = find_duplicates(frame(
        ("Jean", "Dupont", "Mairie de Riom", "j.dupont@riom.fr"),
        ("Jean", "Dupont", "Mairie de Riom", "j.dupont@riom.fr"),
    ))
    assert len(pairs) == 1
    assert "mail" in pairs[0].why and "name" in pairs[0].why


def test_missing_column_is_reported() -> None:
    with pytest.raises(ValueError, match="mail"):
        find_duplicates(frame(("Jean", "Dupont", "", "")).drop(columns=["mail"]))

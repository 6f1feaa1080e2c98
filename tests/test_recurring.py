"""Colleagues' forms: a garbled reading in review is offered as the batch's clean one."""

from __future__ import annotations

from pathlib import Path

from pipeline.models import FieldResult, PageKind, PageRef, PageResult, Reason, Status
from pipeline.recurring import apply, suggestion
from pipeline.store import Workspace
from pipeline.template import default_template

KNOWN = {"cci du cantal": "CCI du Cantal", "mairie de royat": "Mairie de Royat",
         "conseil departemental du cantal": "Conseil départemental du Cantal"}


def test_a_garbled_structure_is_offered_as_the_batchs_in_its_capitals() -> None:
    assert suggestion("value", "CCI DV CANTAI", KNOWN) == ("CCI DU CANTAL", "CCI du Cantal")
    assert suggestion("value", "Conseil départemental du Cantai", KNOWN)[0] == (
        "Conseil départemental du Cantal")
    # accents on capitals only where the reading has some
    assert suggestion("value", "CONSEIL DEPARTEMENTAL DU CANTAI", KNOWN)[0] == (
        "CONSEIL DEPARTEMENTAL DU CANTAL")


def test_a_reading_of_real_words_or_unlike_any_batch_value_stays() -> None:
    assert suggestion("value", "Mairie de Riom", KNOWN) is None  # words: left alone
    assert suggestion("value", "CCI du Cantal", KNOWN) is None  # the batch's already
    assert suggestion("value", "Syndicat mixte du Pays de Xqzw", KNOWN) is None  # unlike
    assert suggestion("value", "CCI DV CANTAI", {}) is None


def test_only_a_garbled_part_that_differs_is_replaced() -> None:
    known = {"mairie de thiers pole attractivite et services a la population":
             "Mairie de Thiers (pôle attractivité et services à la population)"}
    # alike as a whole through the qualifier they share, and the unknown word is there
    assert suggestion("value", "CAUE du Puy-de-Dôme (pôle attractivité et services à la "
                      "population)", known) is None
    assert suggestion("value", "Mairie de Thlers (pôle attractivité et services à la "
                      "population)", known)[0].startswith("Mairie de Thiers")


def test_an_emails_domain_is_offered_as_the_batchs_its_name_kept() -> None:
    known = {"cantal cci fr": "cantal.cci.fr", "vichy valdallier fr": "vichy-valdallier.fr"}
    assert suggestion("domain", "edith.rossi@cantalcct.fr", known)[0] == (
        "edith.rossi@cantal.cci.fr")
    assert suggestion("domain", "p.dupont@orange.fr", known) is None  # a mailbox provider


def _form(ws: Workspace, i: int, structure: FieldResult) -> None:
    f = ws.add_file(f"{i:064x}", f"scan-{i}.pdf", f"/x/scan-{i}.pdf", "lot")
    ws.save_page(f.id, PageResult(PageRef(f"scan-{i}.pdf", 1), f"{i:064x}", PageKind.FORM, "",
                                  fields=(structure,)))


def test_the_batch_pass_prefills_waiting_fields_only_and_is_repeatable(tmp_path: Path) -> None:
    template = default_template()
    with Workspace(tmp_path / "ws") as ws:
        _form(ws, 1, FieldResult("structure", "CCI du Cantal", "CCI du Cantal", 0.99,
                                 Status.ACCEPTED))
        for i in (2, 3):
            _form(ws, i, FieldResult("structure", "CCI DV CANTAI", "CCI DV CANTAI", 0.3,
                                     Status.REVIEW, (Reason.LOW_CONFIDENCE,)))
        # a reviewer already decided form 3: theirs stays
        ws.db.execute("UPDATE fields SET status = 'corrected', value = 'CCI DU CANTAL', "
                      "version = 1 WHERE page_id = (SELECT MAX(id) FROM pages)")
        assert apply(ws, template) == 1
        assert apply(ws, template) == 0  # the same again: nothing new
        rows = {r["source_file"]: r for r in ws.field_rows()}
    assert rows["scan-2.pdf"]["value"] == "CCI DU CANTAL"
    assert rows["scan-2.pdf"]["machine_value"] == "CCI DV CANTAI"  # the page's own reading
    assert rows["scan-2.pdf"]["repairs"].count("another form of this batch") == 1
    assert "another form" not in rows["scan-3.pdf"]["repairs"]  # decided: not touched

"""The organiser's papers, read back as a user would: PDF text layers, the workbook, the CLI.

Every paper is drawn from the workspace in `organiser_data`; the assertions are
what the organiser would notice on paper: names in surname order, counts and
totals, rows still in review marked, numbers that do not move.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from organiser_data import (
    AGENTS,
    FORMULA,
    LUNCHES,
    SORTED_COMING,
    add_crowd,
    add_form,
    build_seminar,
)
from PIL import Image
from pypdf import PdfReader

from pipeline.cli import main
from pipeline.export import attendees_table, summary
from pipeline.papers import badges, bundle, catering, receipts, roster, signin, xlsx
from pipeline.papers.roster import Payment
from pipeline.store import Workspace
from pipeline.template import DEFAULT_TEMPLATE, parse_template


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_seminar(tmp_path_factory.mktemp("seminar") / "ws")


@pytest.fixture
def root(built: Path, tmp_path: Path) -> Path:
    shutil.copytree(built, tmp_path / "ws")
    return tmp_path / "ws"


@pytest.fixture
def ws(root: Path):
    with Workspace(root) as w:
        yield w


def pages_text(data: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]


def order_in(text: str, names: list[str]) -> list[int]:
    return [text.index(n) for n in names]


def test_the_seminar_and_its_lunch_price_come_from_the_form_data(template) -> None:
    event = template.event
    assert event is not None
    assert event.title.startswith("« Coopérer dans et entre les territoires")
    assert event.day.isoformat() == "2015-02-13"
    assert event.lunch.price_eur == 20 and event.lunch.payable_to == "ARDTA"
    assert "Le Crest" in event.place


def test_roster_sorts_by_surname_as_french_readers_do_and_drops_merged_forms(ws) -> None:
    r = roster.build(ws)
    assert [p.surname for p in r.coming] == SORTED_COMING  # Ç with C, É with E
    assert "FAURE" in [p.surname for p in r.people]  # not taking part: not on the sheet
    assert [p.surname for p in r.people].count("DUPONT") == 1  # the merged twin left out
    bernard = next(p for p in r.people if p.surname == "BERNARD")
    assert bernard.pending == ("prenom",)
    assert next(p for p in r.people if p.surname == "ZOLA").departement == "03"


def test_sign_in_sheet_lists_participants_then_lunches_with_counts_and_pages(ws) -> None:
    text = pages_text(signin.render(roster.build(ws)))
    assert len(text) == 2
    first, lunch = text
    assert "Feuille d'émargement" in first and "Coopérer dans et entre les territoires" in first
    assert "Domaine du Val d'Auzon" in first and "13 février 2015" in first
    assert order_in(first, SORTED_COMING) == sorted(order_in(first, SORTED_COMING))
    assert "FAURE" not in first
    assert "Total : 7 participants (dont 2 à vérifier)" in first
    assert "à vérifier : prénom" in first  # which field of Bernard's form is not final
    assert "page 1 / 2" in first and "page 2 / 2" in lunch
    assert "Émargement du déjeuner" in lunch
    assert order_in(lunch, LUNCHES) == sorted(order_in(lunch, LUNCHES))
    assert "AUBRY" not in lunch
    assert "Total : 6 déjeuners (dont 2 à vérifier)" in lunch
    assert "Dû : 120 €" in lunch and "encaissé : 0 €" in lunch
    assert "À encaisser" in lunch


def test_a_long_sign_in_sheet_repeats_its_header_and_numbers_every_page(root: Path) -> None:
    add_crowd(root, 60)
    with Workspace(root) as ws:
        r = roster.build(ws)
    text = pages_text(signin.render(r))
    assert len(text) >= 4
    assert all(f"page {i} / {len(text)}" in t for i, t in enumerate(text, 1))
    assert all("Signature" in t for t in text)  # the table's header on every page
    everyone = "\n".join(text)
    assert f"Total : {len(r.coming)} participants" in everyone
    assert all(p.surname in everyone for p in r.coming)


def test_badges_eight_a_page_with_name_first_name_structure_and_cut_marks(root: Path,
                                                                         tmp_path: Path) -> None:
    add_crowd(root, 10)
    with Workspace(root) as ws:
        r = roster.build(ws)
    data = badges.render(r)
    text = pages_text(data)
    assert len(text) == -(-len(r.coming) // 8) == 3
    everyone = "\n".join(text)
    for p in r.coming:
        assert p.surname in everyone and p.prenom in everyone
    assert "Parc naturel régional Livradois-Forez" in everyone  # Aubry's structure
    assert "Coopérer dans et entre les territoires" in text[0]
    assert everyone.count("à vérifier avant remise") == 2  # Bernard and Çelik
    # Cut marks: dark ink just outside the first badge's top-left corner, none inside.
    (tmp_path / "b.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1",
                    str(tmp_path / "b.pdf"), str(tmp_path / "b")], check=True)
    img = np.array(Image.open(next(tmp_path.glob("b*.png"))).convert("L"))
    k = 100 / 25.4
    x0 = (210 - 2 * 90 - 8) / 2
    y0 = (297 - 4 * 60 - 3 * 8) / 2
    mark = img[round((y0 - 4) * k):round((y0 - 1.5) * k), round((x0 - 0.5) * k):
               round((x0 + 0.5) * k)]
    assert mark.min() < 128
    inside = img[round((y0 + 1) * k):round((y0 + 4) * k), round((x0 + 1) * k):round((x0 + 4) * k)]
    assert inside.min() > 200


def test_receipts_one_per_lunch_numbered_for_good(root: Path) -> None:
    with Workspace(root) as ws:
        r = roster.number_receipts(ws, roster.build(ws))
        data = receipts.render(r)
    text = "\n".join(pages_text(data))
    assert len(pages_text(data)) == 2  # six receipts, three a page
    assert text.count("JUSTIFICATIF DE PAIEMENT") == 6
    assert [f"N° 2015-000{i}" in text for i in range(1, 7)] == [True] * 6
    assert text.count("20,00 €") == 6 and text.count("règlement à l'ordre de ARDTA") == 6
    assert "Zoé ZOLA" in text and "Mairie de Thiers" in text
    assert text.count("PROVISOIRE") == 2
    first = {p.surname: p.receipt for p in r.lunching}
    assert first["BERNARD"] == 1  # first numbering: surname order

    # A late form, sorted before everyone: it gets the next number; nobody else's moves.
    with Workspace(root) as ws:
        add_form(ws, "late.pdf", {"nom": "Abadie", "prenom": "Léa", "participera": "oui",
                                  "dejeunera": "oui"})
        again = roster.number_receipts(ws, roster.build(ws))
    numbers = {p.surname: p.receipt for p in again.lunching}
    assert numbers["ABADIE"] == 7
    assert {k: v for k, v in numbers.items() if k != "ABADIE"} == first
    assert "N° 2015-0007" in "\n".join(pages_text(receipts.render(again)))


def test_payments_from_the_terminal_show_in_exports_and_totals(root: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["payment", "set", "-w", str(root), "c.pdf", "1", "paid",
                              "--by", "anne"])
    assert ok.exit_code == 0, ok.output
    assert "20 of 120 € collected" in ok.output
    assert runner.invoke(main, ["payment", "set", "-w", str(root), "h.pdf", "1",
                                "exempt"]).exit_code == 0
    refused = runner.invoke(main, ["payment", "set", "-w", str(root), "d.pdf", "1", "paid"])
    assert refused.exit_code == 2 and "dejeunera=non" in refused.output
    listed = runner.invoke(main, ["payment", "list", "-w", str(root)])
    assert "ZOLA Zoé" in listed.output and "\tpaid\t" in listed.output
    assert "1 paid, 4 to collect, 1 exempt; 20 of 100 € collected" in listed.output

    with Workspace(root) as ws:
        table = attendees_table(ws)
        s = summary(table)
        r = roster.build(ws)
        lunch = pages_text(signin.render(r))[1]
    by_name = dict(zip(table["nom"], table["paiement"], strict=True))
    assert by_name["Zola"] == "paid" and by_name["d'Artois"] == "exempt"
    assert by_name["Aubry"] == "" and by_name["Étienne"] == "to_collect"
    assert (s.amount_eur, s.collected_eur, s.exempt) == (100, 20, 1)
    assert "amount to collect:       80 €" in s.lines()
    assert "Payé" in lunch and "Exonéré" in lunch and "Dû : 100 €" in lunch
    assert "encaissé : 20 €" in lunch

    # changed back: the totals follow, and the log keeps both decisions and who made them
    assert runner.invoke(main, ["payment", "set", "-w", str(root), "c.pdf", "1", "to_collect",
                                "--by", "bruno"]).exit_code == 0
    with Workspace(root) as ws:
        assert summary(attendees_table(ws)).collected_eur == 0
        log = ws.db.execute("SELECT l.state, l.old_state, l.by FROM payment_log l "
                            "JOIN pages p ON p.id = l.page_id JOIN files f ON f.id = p.file_id "
                            "WHERE f.source_file = 'c.pdf' ORDER BY l.id").fetchall()
    assert [tuple(r) for r in log] == [("paid", None, "anne"), ("to_collect", "paid", "bruno")]


def test_an_older_workspace_gains_the_payments_table(root: Path) -> None:
    with Workspace(root) as ws:
        ws.db.execute("DROP TABLE payments")
    with Workspace(root, create=False) as ws:
        assert roster.build(ws).count(Payment.TO_COLLECT) == 6


def test_the_lunch_price_follows_the_template(ws) -> None:
    data = yaml.safe_load(DEFAULT_TEMPLATE.read_text(encoding="utf-8"))
    data["event"]["lunch"]["price_eur"] = 25
    tpl = parse_template(data)
    r = roster.build(ws, tpl)
    assert r.due_eur == 150
    assert summary(attendees_table(ws, tpl), tpl).amount_eur == 150
    assert "25,00 €" in pages_text(receipts.render(r, tpl))[0]


def test_the_caterers_count_groups_spellings_of_one_structure(ws) -> None:
    c = catering.count(roster.build(ws))
    assert c.total == 6 and c.pending == 2
    assert dict(c.per_structure)["Mairie de Thiers"] == 2  # "MAIRIE DE THIERS" counted with it
    text = c.text()
    assert "TOTAL" in text and "6 repas" in text and "dont 2" in text
    assert "reste à vérifier" not in text


def test_the_caterer_hears_of_lunch_answers_still_in_review(root: Path) -> None:
    with Workspace(root) as ws:
        add_form(ws, "u.pdf", {"nom": "Vidal", "prenom": "Inès", "participera": "oui"},
                 review=("dejeunera",))
        c = catering.count(roster.build(ws))
    assert c.total == 6 and c.undecided == 1
    assert "et 1 inscription dont la réponse au déjeuner reste à vérifier" in c.text()


def test_workbook_has_typed_filtered_sheets_and_no_formulas(ws, tmp_path: Path) -> None:
    r = roster.build(ws)
    path = tmp_path / "inscrits.xlsx"
    xlsx.write(ws, r, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == list(xlsx.SHEETS)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
    people = book["Inscrits"]
    head = [c.value for c in people[1]]
    col = {name: i for i, name in enumerate(head)}
    rows = list(people.iter_rows(min_row=2, values_only=True))
    assert people.auto_filter.ref.endswith(str(len(rows) + 1))
    zola = next(row for row in rows if row[col["nom"]] == "Zola")
    assert zola[col["structure"]] == "'" + FORMULA  # plain text, as in the CSV
    assert zola[col["code_postal"]] == "03000" and zola[col["departement"]] == "03"
    assert zola[col["dejeunera"]] is True and zola[col["participera"]] is True
    assert zola[col["montant_du"]] == 20 and isinstance(zola[col["page"]], int)
    assert all(c.data_type != "f" for row in people.iter_rows() for c in row)
    euro = people.cell(row=2, column=col["montant_du"] + 1).number_format
    assert "€" in euro
    widest = max(len(str(row[col["structure"]] or "")) for row in rows)
    width = people.column_dimensions[openpyxl.utils.get_column_letter(col["structure"] + 1)].width
    assert widest <= width <= xlsx.MAX_WIDTH + 2
    bernard = next(i for i, row in enumerate(rows, 2) if row[col["nom"]] == "Bernard")
    assert people.cell(row=bernard, column=1).fill.fgColor.rgb.endswith("FFF3C4")

    sheets = pd.read_excel(path, sheet_name=None, dtype={"code_postal": str})
    lunch = sheets["Déjeuner"]
    assert list(lunch["nom"].str.upper()) == [n.upper() for n in LUNCHES]
    assert lunch["montant_du"].sum() == r.due_eur == 120
    caterer = sheets["Traiteur"]
    assert caterer.iloc[-1].tolist() == ["TOTAL", 6]
    totals = dict(zip(sheets["Totaux"]["total"], sheets["Totaux"]["valeur"], strict=True))
    assert totals["déjeuners"] == 6 and totals["agents de collectivité"] == AGENTS
    assert totals["montant dû (€)"] == 120
    waiting = sheets["En attente"]
    assert set(zip(waiting["nom"], waiting["field"], strict=True)) == {
        ("Bernard", "prenom"), ("Çelik", "agent_collectivite")}


def test_formscan_papers_writes_every_paper(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "papers"
    res = CliRunner().invoke(main, ["papers", "-w", str(root), "-o", str(out)])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.filename for p in bundle.PAPERS if p.paper)
    for p in bundle.PAPERS:
        if p.paper:
            assert str(out / p.filename) in res.output
    assert "2 of 8 forms still have fields to review" in res.output
    assert (out / "emargement.pdf").read_bytes().startswith(b"%PDF")
    with Workspace(root) as ws:  # the workbook counts as a handed-over export for purge
        assert ws.db.execute("SELECT COUNT(*) FROM exports WHERE kind = 'attendees'").fetchone()[0]


def test_a_row_with_many_fields_to_check_never_runs_into_the_next(root: Path) -> None:
    everything = ("nom", "prenom", "structure", "fonction", "agent_collectivite", "adresse",
                  "mail", "telephone", "participera", "dejeunera")
    with Workspace(root) as ws:
        for source, nom in (("x.pdf", "Bardot"), ("y.pdf", "Bardou")):
            add_form(ws, source, {
                "nom": nom, "prenom": "Ana", "participera": "oui",
                "structure": "Communauté de communes du Haut-Lignon - Service développement "
                             "territorial (pôle attractivité)"}, review=everything)
        data = signin.render(roster.build(ws))
    seen: list[tuple[str, float]] = []
    PdfReader(io.BytesIO(data)).pages[0].extract_text(
        visitor_text=lambda t, cm, tm, *_: seen.append(
            (t.strip(), tm[4] * cm[1] + tm[5] * cm[3] + cm[5])) if t.strip() else None)
    rows = [y for t, y in seen if t.startswith("téléphone, participera")]  # each's last line
    tops = [y for t, y in seen if t in ("BARDOU", "BERNARD")]  # the next rows' first lines
    assert len(rows) == len(tops) == 2
    # a first line's top (~8 pt above its baseline) clears the row above's descenders
    assert all(top + 10 < last for top, last in zip(tops, rows, strict=True))


def test_an_exempt_lunch_gets_a_receipt_that_asks_for_nothing(root: Path) -> None:
    with Workspace(root) as ws:
        ws.set_payment(ws.page_id("h.pdf", 1), "exempt", "anne")
        r = roster.number_receipts(ws, roster.build(ws))
    exempt = [p for p in r.lunching if p.payment == Payment.EXEMPT]
    text = pages_text(receipts.render(r, people=exempt))[0]
    assert "Anne-Marie D'ARTOIS" in text and "aucune somme n'est due" in " ".join(text.split())
    assert "20,00 €" not in text and "Reçu le" not in text and "Paiement : Exonéré" in text


def test_export_xlsx_and_caterer_from_the_terminal(root: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "list.xlsx"
    res = runner.invoke(main, ["export", "xlsx", "-w", str(root), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "2 of 8 forms still have fields to review" in res.output
    assert len(pd.read_excel(out, sheet_name="Inscrits")) == 8
    res = runner.invoke(main, ["export", "caterer", "-w", str(root)])
    assert res.exit_code == 0 and "6 repas" in res.output and "Mairie de Thiers" in res.output


def test_an_empty_workspace_still_gets_its_papers(tmp_path: Path) -> None:
    Workspace(tmp_path / "ws").close()
    res = CliRunner().invoke(main, ["papers", "-w", str(tmp_path / "ws"), "-o",
                                    str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "0 on the sign-in sheet, 0 lunches, 0 € due" in res.output
    assert "Total : 0 participants" in pages_text((tmp_path / "out/emargement.pdf").read_bytes())[0]

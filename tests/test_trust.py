"""Confidence you can trust: gates, agreement, cross-field evidence, calibration, lexicons."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.models import FieldResult, PageKind, PageRef, PageResult, Reason, Status
from pipeline.reader import _decide_text
from pipeline.store import Workspace
from pipeline.template import FieldKind
from pipeline.trust import lexicon
from pipeline.trust.calibrate import MODEL_PATH, NEVER, Counts, Model, load_model
from pipeline.trust.evidence import FEATURES, SECOND, TESS, TextEvidence, candidates
from pipeline.validate import canonical_address

ONE_LINE = {"nom", "prenom", "structure", "fonction", "mail", "telephone"}


class _Reg:
    quality = 1.0


def _trusting_model() -> Model:
    """Every candidate gets p ~ 1 and every threshold is 0: only the gates can refuse."""
    w = [20.0] + [0.0] * (len(FEATURES) - 1)
    fields = ("nom", "prenom", "structure", "fonction", "adresse", "mail", "telephone")
    return Model(FEATURES, {f: {TESS: w, SECOND: w} for f in fields},
                 {f: {"typed": 0.0, "hand": 0.0} for f in fields}, {})


def _decide(fid: str, kind: FieldKind, tess: str, second: str | None, conf: float = 0.97,
            page: dict[str, str] | None = None, model: Model | None = None,
            ink_px: int = 0, style: str = "typed", words: bool = False,
            names: tuple[str, ...] = ()) -> FieldResult:
    """`second=None`: the cascade did not run the second engine on this field.
    `words`: the template's hint that the field is ordinary words; `names`: the
    page's decided nom and prénom."""
    ev = TextEvidence(fid, kind, [tess], [conf], [] if second is None else [second],
                      [] if second is None else [0.95], ink_px=ink_px, words=words)
    f = type("F", (), {"id": fid, "lines": [], "kind": kind})()
    page_img = np.full((50, 50), 255, np.uint8)
    ctx = {"page_tconf": 0.95, "page_agree": 1.0}
    return _decide_text(page_img, f, ev, _Reg(), page or {fid: tess}, ctx, style,
                        model or _trusting_model(), names)


def test_a_confident_misreading_the_second_engine_disputes_goes_to_review() -> None:
    disputed = _decide("structure", FieldKind.TEXT, "Mairie de Ja Roche", "Mairie de la Roche")
    assert disputed.status == Status.REVIEW
    assert Reason.LOW_CONFIDENCE in disputed.reasons
    agreed = _decide("structure", FieldKind.TEXT, "Mairie de la Roche", "Mairie de la Roche")
    assert agreed.status == Status.ACCEPTED


def test_a_field_read_by_one_engine_only_is_never_accepted() -> None:
    r = _decide("nom", FieldKind.TEXT, "Dupont", None)
    assert r.status == Status.REVIEW and Reason.LOW_CONFIDENCE in r.reasons
    assert r.evidence["candidates"][TESS]["x"]["agree"] == 0.0


def test_typed_text_tesseract_is_sure_of_is_not_read_twice_and_may_be_accepted() -> None:
    from pipeline.reader import ALONE_CONF, SECOND_PAGE_MIN, _tesseract_alone

    def alone(kind: FieldKind, text: str, conf: float, page: float = 0.95,
              typed_look: bool = True) -> bool:
        ev = TextEvidence("x", kind, [text], [conf])
        f = type("F", (), {"id": "x", "lines": [], "kind": kind})()
        return _tesseract_alone(ev, f, page, typed_look)

    assert alone(FieldKind.TEXT, "Mairie de Riom", ALONE_CONF)
    assert not alone(FieldKind.TEXT, "Mairie de Riom", ALONE_CONF - 0.01)
    assert not alone(FieldKind.TEXT, "Mairie de Riom", 0.99, page=SECOND_PAGE_MIN - 0.01)
    assert not alone(FieldKind.TEXT, "Mairie de Riom", 0.99, typed_look=False)  # a neat hand
    assert not alone(FieldKind.EMAIL, "a.b@riom.fr", 0.99)  # a lost "." leaves no odd word
    assert not alone(FieldKind.PHONE, "04 73 55 10 20", 0.99)
    ev = TextEvidence("structure", FieldKind.TEXT, ["Mairie de Riom"], [0.97], alone=True)
    x = candidates(ev, {}, {"page_tconf": 0.97, "page_agree": 1.0}, 1.0)
    assert len(x) == 1 and x[0].x["alone"] == 1.0 and x[0].x["agree"] == 0.0


def test_the_second_engine_reads_handwritten_names_mail_and_phone_but_not_long_lines(
        template) -> None:
    """On handwriting it reads names far better than Tesseract (the reviewer's
    suggestion); long lines would cost more than they give."""
    from pipeline.reader import SECOND_PAGE_MIN, _needs_second

    def needs(fid: str, text: str, page: float, conf: float = 0.4) -> bool:
        f = template.field(fid)
        return _needs_second(TextEvidence(fid, f.kind, [text], [conf]), f, page)

    hand, typed = SECOND_PAGE_MIN - 0.2, SECOND_PAGE_MIN + 0.05
    assert needs("nom", "DUPDNT", hand) and needs("prenom", "HELENE", hand)
    assert needs("mail", "HDUPONT@RIOMFR", hand) and needs("telephone", "04 73", hand)
    assert not needs("structure", "MAIRIE DE RIOM", hand)
    assert not needs("adresse", "5 RUE X", hand) and not needs("nom", "", hand)
    # typed: whatever Tesseract's confidence, unless the format already fails
    assert needs("fonction", "Chargée de mission", typed, conf=0.3)
    assert not needs("mail", "h.dupont riom", typed)


def test_writing_tesseract_reads_as_nothing_is_read_by_the_second_engine(template) -> None:
    """A script font or an unusual hand can make Tesseract return nothing: the field
    must not then look empty to the reviewer when the other engine can read it."""
    from pipeline.reader import SECOND_PAGE_MIN, _needs_second

    f = template.field("nom")
    written = TextEvidence("nom", f.kind, [""], [0.0])
    written.crops = [np.full((40, 160), 0, np.uint8)]
    blank = TextEvidence("nom", f.kind, [""], [0.0])
    blank.crops = [np.zeros((0, 0), np.uint8)]  # the cleaner found nothing written
    for page in (SECOND_PAGE_MIN - 0.2, SECOND_PAGE_MIN + 0.05):
        assert _needs_second(written, f, page)
        assert not _needs_second(blank, f, page)


def test_an_email_read_with_a_gap_does_not_agree_with_one_read_without() -> None:
    # the gap is where a "." on a printed dot was lost; the other reading lost it too
    r = _decide("mail", FieldKind.EMAIL, "adelaide marchand@laposte.net",
                "adelaidemarchand@laposte.net")
    assert r.status == Status.REVIEW
    assert r.value == "adelaide.marchand@laposte.net"  # what the reviewer is offered


def test_a_typed_email_a_letter_off_the_names_on_the_form_is_not_accepted() -> None:
    """Both engines merged the doubled l of "marcelle": agreement is no proof there."""
    names = ("Becker", "Marcelle")
    r = _decide("mail", FieldKind.EMAIL, "marcelebecker@free.fr", "marcelebecker@free.fr",
                names=names)
    assert r.status == Status.REVIEW and Reason.LOW_CONFIDENCE in r.reasons
    assert r.value == "marcellebecker@free.fr"  # what the reviewer is offered
    right = _decide("mail", FieldKind.EMAIL, "marcellebecker@free.fr",
                    "marcellebecker@free.fr", names=names)
    assert right.status == Status.ACCEPTED and right.value == "marcellebecker@free.fr"


def test_a_handwritten_email_whose_domain_is_no_known_words_is_not_accepted() -> None:
    """Both engines read "mairie" as "muirie": agreement is no proof, the lexicon is."""
    from pipeline.spelling import domain_of_words

    misread = _decide("mail", FieldKind.EMAIL, "m.barbe@muirie-chatel-guyon.fr",
                      "m.barbe@muirie-chatel-guyon.fr", style="hand")
    assert misread.status == Status.REVIEW and Reason.LOW_CONFIDENCE in misread.reasons
    right = _decide("mail", FieldKind.EMAIL, "m.barbe@mairie-chatel-guyon.fr",
                    "m.barbe@mairie-chatel-guyon.fr", style="hand")
    assert right.status == Status.ACCEPTED
    # glued words, acronyms and providers are known; a provider one letter off is not
    for domain in ("hauteloire.cci.fr", "parcdesvolcans.fr", "cc-paysdelapalisse.fr",
                   "orange.fr", "ville-brioude.fr"):
        assert domain_of_words(f"a@{domain}"), domain
    for domain in ("oranqe.fr", "ville-briqude.fr", "caueb3.com"):
        assert not domain_of_words(f"a@{domain}"), domain


@pytest.mark.parametrize("fid, kind, reading", [
    ("adresse", FieldKind.ADDRESS, "Le Bourg\nSalers"),  # an address must have its postcode
    ("fonction", FieldKind.TEXT, "SECRETA/RE DE MAIRIE"),  # a stroke inside a word
    ("nom", FieldKind.TEXT, "Sa|mon-Georges"),
])
def test_readings_no_one_writes_are_never_accepted(fid: str, kind: FieldKind,
                                                   reading: str) -> None:
    """Both engines read them so: agreement is no proof there."""
    r = _decide(fid, kind, reading, reading)
    assert r.status == Status.REVIEW and Reason.LOW_CONFIDENCE in r.reasons
    fine = {"adresse": "Le Bourg\n15140 Salers", "fonction": "SECRETAIRE DE MAIRIE",
            "nom": "Salmon-Georges"}[fid]
    assert _decide(fid, kind, fine, fine).status == Status.ACCEPTED


def test_an_email_with_the_names_glued_together_is_marked_as_such() -> None:
    from pipeline.trust.evidence import glued_names

    page = {"nom": "Marchand", "prenom": "Adélaïde"}
    assert glued_names("mail", "adelaidemarchand@laposte.net", page) == 1.0
    assert glued_names("mail", "marchandadelaide@laposte.net", page) == 1.0
    assert glued_names("mail", "adelaide.marchand@laposte.net", page) == 0.0
    assert glued_names("nom", "Marchand", page) == 0.0


def test_readings_mended_to_the_same_email_agree() -> None:
    page = {"nom": "Lecoq", "prenom": "Claire", "mail": "c.lecog@cantal.cci.fr"}
    r = _decide("mail", FieldKind.EMAIL, "c.lecog@cantal.cci.fr", "c.lecoq@cantal.cci.fr",
                page=page)
    assert r.status == Status.ACCEPTED and r.value == "c.lecoq@cantal.cci.fr"


def test_handwriting_in_review_is_prefilled_with_known_words_and_says_so() -> None:
    r = _decide("structure", FieldKind.TEXT, "MAIKIE DE LEZOIX", None, style="hand")
    assert r.status == Status.REVIEW
    assert r.value == "MAIRIE DE LEZOUX" and r.raw == "MAIKIE DE LEZOIX"
    assert any(x.startswith("suggestion: MAIKIE -> MAIRIE") for x in r.repairs)
    typed = _decide("structure", FieldKind.TEXT, "Maikie de Lezoix", None)
    assert typed.value == "Maikie de Lezoix"  # typed text is read as it stands ...
    # ... except in capitals: neat block capitals can pass for type
    assert _decide("structure", FieldKind.TEXT, "MAIKIE DE LEZOIX", None).value == (
        "MAIRIE DE LEZOUX")


def _line(jitter_px: float, seed: int = 0) -> np.ndarray:
    """A line of capitals drawn letter by letter, each moved up or down by up to `jitter_px`."""
    import cv2

    rng = np.random.default_rng(seed)
    img = np.full((120, 900), 255, np.uint8)
    x = 10
    for ch in "MAIRIE DE CLERMONT FERRAND":
        if ch != " ":
            dy = round(float(rng.uniform(-jitter_px, jitter_px)))
            cv2.putText(img, ch, (x, 80 + dy), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
        x += 33
    return img


def test_type_sits_on_a_straight_baseline_and_a_hand_does_not() -> None:
    from pipeline.imaging import baseline_wobble
    from pipeline.trust.calibrate import TYPED_PAGE_WOBBLE, guess_style

    typed, hand = baseline_wobble(_line(0)), baseline_wobble(_line(6))
    assert typed is not None and hand is not None
    assert typed.value < TYPED_PAGE_WOBBLE <= hand.value
    assert typed.letters >= 4
    assert baseline_wobble(np.full((40, 200), 255, np.uint8)) is None
    # neat handwriting that Tesseract reads confidently is still handwriting
    assert guess_style(0.95, 1.0, typed.value) == "typed"
    assert guess_style(0.95, 1.0, hand.value) == "hand"


def test_a_long_line_says_more_about_the_page_than_a_short_one() -> None:
    from pipeline.imaging import Wobble
    from pipeline.trust.evidence import page_context

    ev = TextEvidence("structure", FieldKind.TEXT, ["Mairie de Riom"], [0.95],
                      wobble=[Wobble(0.01, 30)])
    short = TextEvidence("fonction", FieldKind.TEXT, ["Maire"], [0.95], wobble=[Wobble(0.9, 4)])
    short2 = TextEvidence("nom", FieldKind.TEXT, ["Roux"], [0.95], wobble=[Wobble(0.5, 4)])
    assert page_context([ev, short, short2])["page_wobble"] == 0.01


def test_nothing_read_from_an_area_with_writing_is_not_accepted_as_empty() -> None:
    page = {"nom": "Dupont", "prenom": "Jean", "telephone": ""}
    assert _decide("telephone", FieldKind.PHONE, "", "", page=page).status == Status.ACCEPTED
    unread = _decide("telephone", FieldKind.PHONE, "", "", page=page, ink_px=900)
    assert unread.status == Status.REVIEW


def test_a_cedilla_starting_a_name_is_not_accepted() -> None:
    assert _decide("nom", FieldKind.TEXT, "Çarre", "Carre").status == Status.REVIEW


def test_agreement_ignores_accents_and_keeps_tesseracts_accented_text() -> None:
    r = _decide("prenom", FieldKind.TEXT, "Jérôme", "Jerome")
    assert r.status == Status.ACCEPTED
    assert r.value == "Jérôme"


def test_an_invalid_phone_is_never_accepted() -> None:
    r = _decide("telephone", FieldKind.PHONE, "04 73 12", "04 73 12", conf=0.99)
    assert r.status == Status.REVIEW
    assert Reason.INVALID_FORMAT in r.reasons
    ok = _decide("telephone", FieldKind.PHONE, "04.73.55.10.20", "0473551020")
    assert ok.status == Status.ACCEPTED and ok.value == "04 73 55 10 20"


def test_an_invalid_email_is_never_accepted() -> None:
    r = _decide("mail", FieldKind.EMAIL, "jean.dupont@orange", "jean.dupont@orange")
    assert r.status == Status.REVIEW and Reason.INVALID_FORMAT in r.reasons


@pytest.mark.parametrize("read", ["RENAUD -CORDIER", "Livradois-F orez", "Saint- Flour"])
def test_a_word_split_around_a_hyphen_is_not_accepted(read: str) -> None:
    assert _decide("nom", FieldKind.TEXT, read, read).status == Status.REVIEW
    assert _decide("nom", FieldKind.TEXT, "RENAUD-CORDIER", "RENAUD-CORDIER").status \
        == Status.ACCEPTED


def test_a_half_spaced_hyphen_is_joined_for_the_reviewer_but_not_accepted() -> None:
    r = _decide("nom", FieldKind.TEXT, "Fouquet -Hardy", "Fouquet -Hardy")
    assert r.status == Status.REVIEW and r.value == "Fouquet-Hardy"
    assert any("hyphen" in note for note in r.repairs)


@pytest.mark.parametrize(("fid", "read"), [
    ("fonction", "Agente de dévelop pement territorial"),  # a word split in two
    ("structure", "MAIRIE DE PONT AUMUR"),
    ("fonction", "Chefde projet"),  # a small word glued on
    ("nom", "Qllivier"),  # French writes q only before u: an O
    ("nom", "CoSTE"),  # a small "o" read for a capital of the same shape
])
def test_a_word_split_or_glued_by_the_reading_is_not_accepted(fid: str, read: str) -> None:
    assert _decide(fid, FieldKind.TEXT, read, read).status == Status.REVIEW


@pytest.mark.parametrize(("fid", "written"), [
    ("fonction", "Chargée de mission en cours"),  # two words, though "encours" is one
    ("nom", "Delaunay"),  # de + launay: a name, spelt so
    ("nom", "Lecoq"),
    ("structure", "Mairie de Cinq-Mars-la-Pile"),  # a q ending a word
    ("structure", "Mairie d'Aurillac"),  # case changes at an apostrophe or a hyphen
    ("nom", "RENAUD-Cordier"),
])
def test_real_words_that_look_split_or_glued_are_still_accepted(fid: str, written: str) -> None:
    assert _decide(fid, FieldKind.TEXT, written, written).status == Status.ACCEPTED


def test_a_capital_told_only_by_its_size_is_not_accepted_in_handwriting() -> None:
    # "M" and "m" differ only in size by hand; in print the glyphs tell them apart
    hand = _decide("fonction", FieldKind.TEXT, "Adjoint au Maire", "Adjoint au Maire",
                   style="hand")
    assert hand.status == Status.REVIEW
    assert _decide("fonction", FieldKind.TEXT, "Adjoint au maire", "Adjoint au maire",
                   style="hand").status == Status.ACCEPTED
    assert _decide("fonction", FieldKind.TEXT, "Adjoint au Maire", "Adjoint au Maire",
                   style="typed").status == Status.ACCEPTED
    # in a structure's name a capital after "de" is the rule
    assert _decide("structure", FieldKind.TEXT, "Mairie de Vichy", "Mairie de Vichy",
                   style="hand").status == Status.ACCEPTED


@pytest.mark.parametrize(("fid", "read", "style"), [
    ("prenom", "claudine", "typed"),  # a name starts with a capital
    ("fonction", "conseillère départementale", "hand"),  # "c" or "C": only size tells
])
def test_a_small_initial_that_may_be_a_capital_is_not_accepted(fid: str, read: str,
                                                                style: str) -> None:
    assert _decide(fid, FieldKind.TEXT, read, read, style=style).status == Status.REVIEW
    assert _decide("fonction", FieldKind.TEXT, "élue", "élue", style="hand").status \
        == Status.ACCEPTED  # an "é" is no bigger "É"


@pytest.mark.parametrize(("fid", "read"), [
    ("fonction", "Chargê de mission"),  # no word is spelt so: the dot of an "é" misread
    ("adresse", "1 rue X, 03500 Saint-Pourcain-sur-Sioule"),  # the place has its ç
    ("structure", "conseil départemental du Puy-de-Dôme"),  # a structure starts with a capital
])
def test_accents_no_spelling_has_and_a_small_initial_are_not_accepted(fid: str,
                                                                       read: str) -> None:
    kind = FieldKind.ADDRESS if fid == "adresse" else FieldKind.TEXT
    assert _decide(fid, kind, read, read, words=True).status == Status.REVIEW
    fine = {"fonction": "Chargé de mission", "structure": "Conseil départemental du Puy-de-Dôme",
            "adresse": "1 rue X, 03500 Saint-Pourçain-sur-Sioule"}[fid]
    assert _decide(fid, kind, fine, fine, words=True).status == Status.ACCEPTED


@pytest.mark.parametrize("read", ["RESPONSABLE DU POLE AMÉNAGEMENT", "LÉ GALL", "GUERIN"])
def test_handwritten_capitals_whose_accents_no_engine_can_vouch_for_are_not_accepted(
        read: str) -> None:
    fid = "nom" if len(read) < 10 else "fonction"
    assert _decide(fid, FieldKind.TEXT, read, read, style="hand").status == Status.REVIEW
    assert _decide(fid, FieldKind.TEXT, read, read, style="typed").status == Status.ACCEPTED
    assert _decide("nom", FieldKind.TEXT, "DUPONT", "DUPONT", style="hand").status \
        == Status.ACCEPTED


@pytest.mark.parametrize(("read", "offered"), [
    ("Imartel@yahoo.fr", "lmartel@yahoo.fr"),  # 'I' or 'l': one glyph in many fonts
    ("michele-cohen@montlucon.ccifr", "michele-cohen@montlucon.cci.fr"),  # lost '.'
    ("lucas-moreauqaurillac.fr", "lucas-moreau@aurillac.fr"),  # '@' read as 'q'
])
def test_an_email_repaired_by_a_guess_is_offered_but_not_accepted(read: str,
                                                                  offered: str) -> None:
    r = _decide("mail", FieldKind.EMAIL, read, read)
    assert r.status == Status.REVIEW and r.value == offered


def test_ordinary_text_made_of_known_words_scores_higher_than_a_misreading() -> None:
    from pipeline.trust.evidence import known_share

    assert known_share("Communauté de communes du Pays de Massiac") == 1.0
    assert known_share("Cammunauté de cammunes du Pays de Massiac") < 0.7
    assert known_share("") == 0.0


def test_a_name_read_with_only_some_of_its_accents_is_not_accepted() -> None:
    assert _decide("prenom", FieldKind.TEXT, "Adélaide", "Adelaide").status == Status.REVIEW
    assert _decide("prenom", FieldKind.TEXT, "Jerôme", "Jerome").status == Status.REVIEW
    for written in ("Adélaïde", "ÉLÉONORE", "Eléonore"):  # a capital may go bare
        assert _decide("prenom", FieldKind.TEXT, written, written).status == Status.ACCEPTED


def test_a_comma_one_engine_did_not_read_is_a_disagreement() -> None:
    r = _decide("structure", FieldKind.TEXT, "PNR, Livradois-Forez", "PNR Livradois-Forez")
    assert r.status == Status.REVIEW


def test_a_crossed_out_word_and_its_rewrite_are_not_accepted() -> None:
    r = _decide("nom", FieldKind.TEXT, "Dupnot Dupont", "Dupnot Dupont")
    assert r.status == Status.REVIEW


def test_an_email_whose_local_part_holds_the_name_raises_confidence() -> None:
    model = load_model(MODEL_PATH)
    ev = TextEvidence("mail", FieldKind.EMAIL, ["helene.dupont@orange.fr"], [0.9],
                      ["helene.dupont@orange.fr"], [0.9])
    ctx = {"page_tconf": 0.9, "page_agree": 0.9}
    match = candidates(ev, {"nom": "Dupont", "prenom": "Hélène"}, ctx, 1.0)[0]
    other = candidates(ev, {"nom": "Martin", "prenom": "Paul"}, ctx, 1.0)[0]
    assert match.x["cross"] == 1.0 and other.x["cross"] == 0.0
    assert model.probability("mail", TESS, match.x) > model.probability("mail", TESS, other.x)


def test_thresholds_come_from_the_shipped_model_json() -> None:
    raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    model = load_model(MODEL_PATH)
    assert tuple(raw["features"]) == FEATURES
    for fid in ("nom", "prenom", "mail", "telephone", "adresse"):
        assert model.threshold(fid, "typed") == raw["thresholds"][fid]["typed"]
        assert 0.5 < model.threshold(fid, "typed") <= NEVER


def test_a_workspace_model_replaces_the_shipped_one(tmp_path, monkeypatch) -> None:
    strict = Model(FEATURES, load_model(MODEL_PATH).coef,
                   {f: {"typed": NEVER, "hand": NEVER} for f in ONE_LINE | {"adresse"}}, {})
    path = tmp_path / "m.json"
    strict.save(path)
    monkeypatch.setenv("FORMSCAN_TRUST_MODEL", str(path))
    assert load_model().threshold("nom", "typed") == NEVER
    r = _decide("nom", FieldKind.TEXT, "Dupont", "Dupont", model=load_model())
    assert r.status == Status.REVIEW


def test_threshold_needs_enough_examples_and_holds_the_bound() -> None:
    c = Counts()
    for _ in range(50):
        c.add(0.999, True)
    assert c.threshold() == NEVER  # 50 right answers cannot show an error rate below 1/200
    for _ in range(400):
        c.add(0.999, True)
    for _ in range(100):
        c.add(0.6, False)
    t = c.threshold()
    assert 0.6 < t <= 0.999


def test_a_field_with_enough_examples_gets_its_own_threshold_else_the_pooled_one() -> None:
    from pipeline.trust.fitting import pooled_thresholds

    sure, few, risky = Counts(), Counts(), Counts()
    for _ in range(300):
        sure.add(0.72, True)  # right at a modest probability, many times over
        risky.add(0.97, True)
    for _ in range(5):
        risky.add(0.85, False)  # wrong below 0.9
    for _ in range(40):
        few.add(0.99, True)  # too few to say anything alone
    t = pooled_thresholds({"adresse": {"typed": sure}, "nom": {"typed": risky},
                           "mail": {"typed": few}})
    assert t["adresse"]["typed"] <= 0.72  # its own examples justify a low threshold
    assert 0.85 < t["nom"]["typed"] <= 0.97  # raised above its own errors
    assert t["mail"]["typed"] < NEVER  # the pooled threshold, its own examples agreeing


def _workspace_with_reviews(root: Path) -> None:
    """30 reviewed 'nom' fields at confidence 0.95, all confirmed: evidence for accepting."""
    with Workspace(root) as ws:
        for i in range(30):
            f = ws.add_file(f"{i:064x}", f"scan-{i}.pdf", f"/x/scan-{i}.pdf", "lot")
            fields = (FieldResult("nom", f"Nom{i}", f"Nom{i}", 0.95, Status.REVIEW,
                                  (Reason.LOW_CONFIDENCE,)),
                      FieldResult("prenom", "Paul", "Paul", 0.40, Status.REVIEW,
                                  (Reason.LOW_CONFIDENCE,)))
            ws.save_page(f.id, PageResult(PageRef(f"scan-{i}.pdf", 1), f"{i:064x}",
                                          PageKind.FORM, "", fields=fields))
        ws.db.execute("UPDATE fields SET status = 'confirmed', value = machine_value "
                      "WHERE field = 'nom'")
        ws.db.execute("UPDATE fields SET status = 'corrected', value = 'Pierre' "
                      "WHERE field = 'prenom'")


def test_calibrate_prints_the_effect_and_saves_only_when_confirmed(tmp_path) -> None:
    ws = tmp_path / "ws"
    _workspace_with_reviews(ws)
    runner = CliRunner()
    r = runner.invoke(main, ["calibrate", "--workspace", str(ws)], input="n\n")
    assert r.exit_code == 0, r.output
    assert "60 reviewed text fields (30 where the machine was wrong)" in r.output
    assert "expected error" in r.output and "nom" in r.output and "prenom" in r.output
    assert "Nothing saved" in r.output
    assert not (ws / "trust-model.json").exists()
    r = runner.invoke(main, ["calibrate", "--workspace", str(ws), "--yes"])
    assert r.exit_code == 0, r.output
    saved = load_model(ws / "trust-model.json")
    assert saved.info["reviewed_examples"] == 60
    # the reviewers' corrections of 'prenom' at 0.40 can only make it stricter
    assert saved.threshold("prenom", "hand") >= load_model(MODEL_PATH).threshold("prenom", "hand")


def test_lexicon_lookups_work_offline(monkeypatch) -> None:
    def no_network(*a, **k):
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert lexicon.first_name_score("Hélène") > 0.5
    assert lexicon.first_name_score("HELENE") == lexicon.first_name_score("Hélène")
    assert lexicon.first_name_score("Jean-François") > 0
    assert lexicon.first_name_score("Ja") == 0.0
    assert lexicon.surname_score("Dupont") > 0.5
    assert lexicon.surname_score("Issaire") == 0.0
    assert lexicon.is_commune("Le Crest") and lexicon.is_commune("CLERMONT-FERRAND")
    assert not lexicon.is_commune("Clermont-Ferand")


def test_an_eaten_comma_does_not_change_the_stored_address() -> None:
    written = "5, rue Blatin, 63000 Clermont-Ferrand"
    for read in ("5 rue Blatin 63000 Clermont-Ferrand", "5, rue Blatin 63000 Clermont-Ferrand",
                 "5 rue Blatin, 63000 Clermont-Ferrand"):
        assert canonical_address(read) == canonical_address(written)


@pytest.mark.tesseract
def test_the_second_engine_reads_a_printed_line() -> None:
    import cv2

    from pipeline.trust import second_engine

    engine = second_engine()
    assert engine is not None, "rapidocr-onnxruntime's model must be installed"
    img = np.full((60, 360), 255, np.uint8)
    cv2.putText(img, "Dupont 63000", (10, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 3)
    r = engine.read_line(img)
    assert r.text.replace(" ", "") == "Dupont63000"
    assert 0.5 < r.confidence <= 1.0


def test_the_rewritten_network_computes_what_the_exported_one_does() -> None:
    """The speed-up must not change a single reading: same characters, same confidences."""
    import cv2
    import onnxruntime as ort

    from pipeline.trust.fastgraph import rewrite
    from pipeline.trust.second import HEIGHT, model_path

    original = model_path().read_bytes()
    fast, n = rewrite(original)
    assert n >= 50  # every hard-swish and affine step of PP-LCNetV3
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    img = np.full((HEIGHT, 400), 255, np.uint8)
    cv2.putText(img, "Clermont-Ferrand 63000", (4, 34), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2)
    x = np.repeat((img.astype(np.float32) / 127.5 - 1.0)[None, None], 3, axis=1)
    outs = []
    for model in (original, fast):
        sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
        outs.append(sess.run(None, {sess.get_inputs()[0].name: x})[0])
    assert (outs[0].argmax(-1) == outs[1].argmax(-1)).all()
    assert np.abs(outs[0] - outs[1]).max() < 1e-3
    assert len(fast) < 1.05 * len(original)  # the folded-away weights are gone
    assert _scalar_affine_steps(fast) == 0 < _scalar_affine_steps(original)


def _scalar_affine_steps(model_bytes: bytes) -> int:
    """x * s + b with scalar s and b, as separate element-wise nodes (slow: see fastgraph)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load_from_string(model_bytes).graph
    scalars = {n.output[0] for n in graph.node if n.op_type == "Constant"
               and numpy_helper.to_array(n.attribute[0].t).size == 1}
    scaled = {n.output[0] for n in graph.node
              if n.op_type == "Mul" and any(i in scalars for i in n.input)}
    return sum(1 for n in graph.node if n.op_type == "Add"
               and any(i in scaled for i in n.input) and any(i in scalars for i in n.input))


def test_a_postcode_in_another_region_than_its_commune_is_never_accepted() -> None:
    wrong = "12 chemin des Peupliers\n93000 Moulins"
    r = _decide("adresse", FieldKind.ADDRESS, wrong, wrong, words=True)
    assert r.status == Status.REVIEW and Reason.LOW_CONFIDENCE in r.reasons
    assert r.value == "12 chemin des Peupliers, 03000 Moulins"  # the reviewer's suggestion
    assert any("Seine-Saint-Denis" in x for x in r.repairs)
    right = "12 chemin des Peupliers\n03000 Moulins"
    assert _decide("adresse", FieldKind.ADDRESS, right, right, words=True).status == (
        Status.ACCEPTED)


def test_typed_text_in_review_takes_the_words_only_the_other_engine_read_right() -> None:
    r = _decide("fonction", FieldKind.TEXT, "Chargée de missipoo développement local",
                "Chargee de mission developpement local", words=True)
    assert r.status == Status.REVIEW
    assert r.value == "Chargée de mission développement local"
    assert r.raw == "Chargée de missipoo développement local"


def test_a_speck_read_as_a_character_is_never_accepted() -> None:
    read = "] avenue Victor Hugo\n03000 Moulins"
    r = _decide("adresse", FieldKind.ADDRESS, read, read, words=True)
    assert r.status == Status.REVIEW
    assert r.value == "1 avenue Victor Hugo, 03000 Moulins"


def test_a_surname_read_in_small_letters_after_a_first_name_is_never_accepted() -> None:
    read = "3 chemin Jean jaurès\n63720 Ennezat"
    assert _decide("adresse", FieldKind.ADDRESS, read, read, words=True).status == Status.REVIEW
    right = "3 chemin Jean Jaurès\n63720 Ennezat"
    assert _decide("adresse", FieldKind.ADDRESS, right, right, words=True).status == (
        Status.ACCEPTED)
    # a rare first name that is also a word is not taken for one
    assert _decide("fonction", FieldKind.TEXT, "Maire adjoint", "Maire adjoint",
                   words=True).status == Status.ACCEPTED


def test_a_lone_letter_and_specks_are_suggested_as_nothing_written() -> None:
    r = _decide("fonction", FieldKind.TEXT, "r …", "", words=True)
    assert r.status == Status.REVIEW and r.value == ""
    assert r.raw == "r …"  # what was read stays visible to the reviewer


def test_a_word_no_lexicon_knows_is_never_accepted_by_hand_or_in_capitals() -> None:
    read = "ANIMAIRICE DE TERRITOIRE"  # neat block capitals, taken for type
    assert _decide("fonction", FieldKind.TEXT, read, read, words=True).status == Status.REVIEW
    right = "ANIMATRICE DE TERRITOIRE"
    assert _decide("fonction", FieldKind.TEXT, right, right, words=True).status == (
        Status.ACCEPTED)
    # typed in small letters, a street the dictionary does not know is still accepted
    street = "13 avenue de Fontmaure\n63000 Clermont-Ferrand"
    assert _decide("adresse", FieldKind.ADDRESS, street, street, words=True).status == (
        Status.ACCEPTED)


class _RecordingEngine:
    """A second engine that reads every crop as `text` and records the crops' widths."""

    name = "fake"

    def __init__(self, text: str, conf: float = 0.9) -> None:
        self.text, self.conf, self.widths = text, conf, []

    def read_line(self, img: np.ndarray, whitelist: str | None = None):
        from pipeline.models import TextReading

        self.widths.append(img.shape[1])
        return TextReading(self.text, self.conf, self.name)


def _typed_line(words: list[tuple[str, float, int, int]], width: int = 600,
                extra_ink: tuple[int, int] | None = None) -> TextEvidence:
    crop = np.full((60, width), 255, np.uint8)
    for _, _, x0, x1 in words:
        crop[15:45, x0:x1] = 0
    if extra_ink:
        crop[15:45, extra_ink[0]:extra_ink[1]] = 0
    text = " ".join(w for w, *_ in words)
    ev = TextEvidence("structure", FieldKind.TEXT, [text], [min(c for _, c, *_ in words)])
    ev.crops, ev.t_words = [crop], [tuple(words)]
    return ev


def test_on_a_typed_page_only_the_words_tesseract_doubts_are_read_again(template) -> None:
    from pipeline.reader import _second_on_doubts

    f = template.field("structure")
    ev = _typed_line([("Mairie", 0.97, 10, 130), ("de", 0.96, 150, 190),
                      ("Ja", 0.91, 210, 250), ("Roche", 0.97, 270, 400)])
    engine = _RecordingEngine("la")
    assert _second_on_doubts(ev, f, engine)
    assert len(engine.widths) == 1 and engine.widths[0] < 100  # "Ja" and a margin, not the line
    assert ev.r_lines == ["Mairie de la Roche"]  # so the two readings disagree
    r = _decide_text(np.full((50, 50), 255, np.uint8), f, ev, _Reg(), {"structure": "x"},
                     {"page_tconf": 0.95, "page_agree": 1.0}, "typed", _trusting_model())
    assert r.status == Status.REVIEW


def test_writing_tesseract_left_out_is_read_again_too(template) -> None:
    """A house number Tesseract dropped ("1 avenue" read "avenue") must not pass
    as agreed because every word it did read was sure."""
    from pipeline.reader import _second_on_doubts

    f = template.field("structure")
    ev = _typed_line([("avenue", 0.97, 60, 200), ("Hugo", 0.97, 220, 320)], extra_ink=(10, 30))
    engine = _RecordingEngine("1")
    assert _second_on_doubts(ev, f, engine)
    assert ev.r_lines == ["1 avenue Hugo"] and len(engine.widths) == 1


def test_a_line_mostly_in_doubt_is_read_whole(template) -> None:
    from pipeline.reader import _second_on_doubts

    f = template.field("structure")
    ev = _typed_line([("Mairje", 0.80, 10, 300), ("de", 0.97, 320, 360), ("Rjom", 0.85, 380, 590)])
    engine = _RecordingEngine("Mairie de Riom")
    assert _second_on_doubts(ev, f, engine)
    assert engine.widths == [600] and ev.r_lines == ["Mairie de Riom"]
    # Tesseract's words not spelling its line: nothing is read, the caller reads it all
    ev.t_lines = ["Mairie de Riom!"]
    assert not _second_on_doubts(ev, f, _RecordingEngine("x"))

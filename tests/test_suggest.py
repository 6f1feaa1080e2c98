"""Pre-filled values for fields in review: misreadings put right, shown, never accepted."""

from __future__ import annotations

import pytest

from pipeline.addresssuggest import (
    box_number,
    capitalised_way,
    fitting_postcode,
    la_mairie,
    lookalike_postcode,
    place_suggestion,
)
from pipeline.mailsuggest import (
    at_sign,
    capital_r,
    dot_in_gap,
    likelier_mail,
    mail_name_suggestion,
    usual_ending,
    without_spaces,
)
from pipeline.suggest import (
    PageHand,
    bare_town_hall,
    capitalised_start,
    capitalised_surnames,
    combine,
    elided_l,
    glued_elision,
    joined_words,
    misread_connective,
    o_for_q,
    page_hand,
    prefill,
    without_junk,
)
from pipeline.template import FieldKind
from pipeline.trust import postcodes
from pipeline.trust.evidence import TextEvidence
from pipeline.vocabulary import (
    compound_place,
    field_head,
    known_words,
    lookalike_letters,
    nearest,
)

pytestmark = pytest.mark.usefixtures("french_dictionary")


@pytest.mark.parametrize(
    "fid, read, meant",
    [
        ("structure", "MAIKIE DE LEZOIX", "MAIRIE DE LEZOUX"),
        ("structure", "COMMUNAUTE DE COMMUNES Du PAYS", "COMMUNAUTE DE COMMUNES DU PAYS"),
        ("fonction", "Chargé de missiou", "Chargé de mission"),
        ("adresse", "PLACE LAFAYETIE, 43100 BRIUOUDE", "PLACE LAFAYETTE, 43100 BRIOUDE"),
        # accents only where the writer uses them: capitals written bare stay bare
        ("fonction", "CHARGEE DE MISSION DEVELOPREMENT", "CHARGEE DE MISSION DEVELOPPEMENT"),
        ("fonction", "CHARGÉE DE MISSION DÉVELOPREMENT", "CHARGÉE DE MISSION DÉVELOPPEMENT"),
    ],
)
def test_an_unknown_word_with_one_close_known_word_is_suggested_as_it(
        fid: str, read: str, meant: str) -> None:
    value, changes = known_words(fid, read)
    assert value == meant
    assert changes  # the reviewer is shown what changed


@pytest.mark.parametrize(
    "fid, read",
    [
        ("structure", "Auvergne Active (pôle attractivité et services à la population)"),
        ("adresse", "10 rue Victor Hugo, 15200 Mauriac"),
        ("nom", "DUPONTEL"),  # surnames: nearly any spelling is somebody's
        ("mail", "jean.dupont@wanadoo.fr"),
        ("structure", "GAL Jeune Loire"),
    ],
)
def test_known_words_names_and_other_fields_are_left_as_read(fid: str, read: str) -> None:
    assert known_words(fid, read) == (read, [])


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


@pytest.mark.parametrize(
    "fid, mine, theirs, meant",
    [
        # an unknown word the other engine read as a known one is taken from it
        ("fonction", "Chargée de missipoo développement local",
         "Chargee de mission developpement local", "Chargée de mission développement local"),
        ("structure", "Chambre de Métiers et de l'Actisanat du Cantal",
         "Chambre de Metiers et de l'Artisanat du Cantal",
         "Chambre de Métiers et de l'Artisanat du Cantal"),
        # ... keeping the accents it is written with, dropping one it is not
        ("fonction", "CONSEULÈRE DÉPARTEMENTALE", "CONSEILLERE DEPARTEMENTALE",
         "CONSEILLÈRE DÉPARTEMENTALE"),
        ("fonction", "Secrétaire de maîrie", "Socrétairo de mairie", "Secrétaire de mairie"),
        # a number read as letters, where the other engine read digits
        ("adresse", "SO ter avenue du Stade, 15600 Maurs", "50 ter avenue du Stade, 15600 Maurs",
         "50 ter avenue du Stade, 15600 Maurs"),
        ("adresse", "97 bis allée Pasteur, 63200 R10m", "97 bis allée Pasteur, (3200 RIOM",
         "97 bis allée Pasteur, 63200 RIOM"),
        # known words are never replaced, nor surnames, nor by what is no word
        ("structure", "Mairie de Riom", "Mairie de Rion", "Mairie de Riom"),
        ("nom", "Lecog", "Lecoq", "Lecog"),
        ("structure", "CCLde la Haute-Loire", "C.Cl.de la Haute-Loire", "CCLde la Haute-Loire"),
    ],
)
def test_the_other_engines_known_word_replaces_an_unknown_one(fid: str, mine: str, theirs: str,
                                                              meant: str) -> None:
    notes: list[str] = []
    assert combine(fid, mine, theirs, notes, caps=mine.isupper()) == meant
    assert bool(notes) == (meant != mine)


def test_tesseracts_accents_are_put_back_on_the_second_engines_reading() -> None:
    notes: list[str] = []
    assert combine("adresse", "86 bis boulevard Jean Jaures, 63500 Issoire",
                   "86 bis boulevard Jean Jaurès, G3500 Issoire", notes, accents=True) == (
        "86 bis boulevard Jean Jaurès, 63500 Issoire")
    assert combine("adresse", "86 bis boulevard Jean Jaures", "86 bis boulevard Jean Jaurès",
                   [], accents=False) == "86 bis boulevard Jean Jaures"


def test_a_postcode_outside_its_communes_region_is_read_again() -> None:
    assert postcodes.fits("93000", "Moulins") is False  # Seine-Saint-Denis
    assert postcodes.fits("03000", "Moulins") is True
    assert postcodes.fits("63000", "Lieu-dit des Sagnes") is None  # unknown: cannot tell
    notes: list[str] = []
    # several departments of the region are a digit away (03, 43, 63, 73): the nearest
    assert (fitting_postcode("53 boulevard Blaise Pascal, 93000 Moulins", notes)
            == "53 boulevard Blaise Pascal, 03000 Moulins")
    assert "Seine-Saint-Denis" in notes[0]
    assert fitting_postcode("1 place d'Armes, 19100 Saint-Flour", []) == (
        "1 place d'Armes, 15100 Saint-Flour")
    for fine in ("28 avenue Aristide Briand, 15000 Aurillac", "Le Bourg, 15140 Salers-Ouest"):
        assert fitting_postcode(fine, []) == fine
    # the same region, but a department whose prefecture lies far from the commune
    assert fitting_postcode("74 place du Foirail, 03170 Aubière", []) == (
        "74 place du Foirail, 63170 Aubière")
    # a commune between two prefectures is left as read
    assert fitting_postcode("1 rue X, 63200 Vichy", []) == "1 rue X, 63200 Vichy"


def test_an_address_is_checked_against_frances_postcode_table() -> None:
    assert postcodes.address_fits("7 allée Pierre de Fermat, 63170 Aubière") is True
    # one digit off: the region fits, the commune has no such postcode
    assert postcodes.address_fits("7 allée Pierre de Fermat, 63179 Aubière") is False
    # both of Clermont-Ferrand's, the article and "St" as envelopes write them
    for fine in ("1 rue X, 63100 Clermont-Ferrand", "1 rue X, 63000 CLERMONT FERRAND",
                 "Mairie, 63240 Le Mont-Dore", "1 place d'Armes, 15100 St-Flour"):
        assert postcodes.address_fits(fine) is True, fine
    # a company's CEDEX code is in no table: the department is all that can be told
    assert postcodes.address_fits("CS60017, 63178 Aubière CEDEX") is True
    assert postcodes.address_fits("1 rue X, 63000 Lieu-dit des Sagnes") is None


@pytest.mark.parametrize(
    "read, meant",
    [
        # a garbled code before a commune read nearly right: the commune's code
        ("39 RUE DE LA LIBÉRATION, ITSOO MASSUC", "39 RUE DE LA LIBÉRATION, 15500 MASSIAC"),
        ("105 ALLEE DES VOLCANS, 7/5 >O6 PLEAUX", "105 ALLEE DES VOLCANS, 15700 PLEAUX"),
        ("2 RUE DU PONT, 6 35 O0 15S01RE", "2 RUE DU PONT, 63500 ISSOIRE"),
        # run together, and after a box number kept as written
        ("74 CHEMIN DES ECOLES, L3S4OROMAGNAT", "74 CHEMIN DES ECOLES, 63540 ROMAGNAT"),
        ("1 PLACE DE LA MAIRIE, BP 234 - /5 6OO MARS",
         "1 PLACE DE LA MAIRIE, BP 234 - 15600 MAURS"),
        # a digit lost; of a commune's several codes, the one read
        ("44 boulevard du Pont Rouge, 1500 Aurillac", "44 boulevard du Pont Rouge, 15000 Aurillac"),
        ("7 rue Blatin, 02000 Clermont-Frrhv", "7 rue Blatin, 63000 Clermont-Ferrand"),
        ("7 rue Blatin, 63100 Clermont-Frrhv", "7 rue Blatin, 63100 Clermont-Ferrand"),
        # a postcode read right: its communes weighed, however many names are nearer
        ("H TER ALLÉE X, 63220 MSLANC", "H TER ALLÉE X, 63220 ARLANC"),
        # left alone: a known pair, a CEDEX code, nothing like a commune, a place the
        # table does not list but GeoNames does, two places as likely
        ("5 rue X, 63170 Aubière", "5 rue X, 63170 Aubière"),
        ("CS 60017, 63179 AUBIERE CEDEX", "CS 60017, 63179 AUBIERE CEDEX"),
        ("PLXE DE HOTEL DE VILLE, /5000 NORMAN", "PLXE DE HOTEL DE VILLE, /5000 NORMAN"),
    ],
)
def test_a_postcode_and_commune_no_table_knows_become_the_likeliest_pair(read: str,
                                                                      meant: str) -> None:
    notes: list[str] = []
    assert place_suggestion(read, notes) == meant
    assert bool(notes) == (read != meant)


def test_a_suggested_commune_follows_the_pages_accents() -> None:
    assert place_suggestion("1 ALLÉE X, B 3170 AUSIÉRE", [], True) == "1 ALLÉE X, 63170 AUBIÈRE"
    assert place_suggestion("1 ALLÉE X, B 3170 AUSIÉRE", [], False) == "1 ALLÉE X, 63170 AUBIERE"
    # a page in capitals that does not tell: as the address does
    assert place_suggestion("1 ALLEE X, B 3170 AUSIERE", [], None, True) == (
        "1 ALLEE X, 63170 AUBIERE")
    assert place_suggestion("1 ALLÉE X, B 3170 AUSIERE", [], None, True) == (
        "1 ALLÉE X, 63170 AUBIÈRE")
    # a commune in capitals on a page of small letters: its own spelling
    assert place_suggestion("1 rue X, O31OO MONTLUCON", [], None) == "1 rue X, 03100 MONTLUÇON"
    # in small letters, the commune's own spelling
    assert place_suggestion("1 allee X, B 3170 Ausiere", [], False) == "1 allee X, 63170 Aubière"


def test_of_two_places_as_like_what_was_read_the_more_populous_is_suggested() -> None:
    # "Rom" (79120, 800 people) is read exactly, "Riom" (63200, 18,000) a letter off
    assert place_suggestion("1 ALLÉE X, G7 300 ROM", []) == "1 ALLÉE X, 63200 RIOM"


@pytest.mark.parametrize(
    "read, meant",
    [
        ("perrin.fredericQwanadoo.fr", "perrin.frederic@wanadoo.fr"),
        ("corinne.brunet908orange.fr", "corinne.brunet90@orange.fr"),
        ("guy.thomas@@mairie-bellerive-sur-allier.fr", "guy.thomas@mairie-bellerive-sur-allier.fr"),
        ("jerome-legrosPhauteloire.cci.fr", "jerome-legros@hauteloire.cci.fr"),
        ("paul.dupont@orange.fr", "paul.dupont@orange.fr"),
        ("paulGdupontQxyzw.fr", "paulGdupontQxyzw.fr"),  # no domain of known words: left alone
        # block capitals: an "O" for the "@", the "." before "fr" lost too
        ("FRANCKDUPONTOYAHOOFR", "franckdupont@yahoo.fr"),
        # no "@" read at all, before a mailbox provider (not "reya@range.fr")
        ("REYAORANGE.FR", "reya@orange.fr"),
        # a domain that is a short word is no evidence ("...hatli@non.fr")
        ("RENE.HENRYOCC-HATLIGNON.FR", "RENE.HENRYOCC-HATLIGNON.FR"),
        # in small letters, the one capital, whatever the domain
        ("e.alexandreMallier.chambagri.fr", "e.alexandre@allier.chambagri.fr"),
        ("Dupont.jean.fr", "Dupont.jean.fr"),  # a capital first is a capital
        # ... and in capitals, the one small letter
        ("LAMY.AUGUSTEeCOMBRAILLES.COM", "lamy.auguste@combrailles.com"),
        ("GULLON.MARCELLEePAYS-SAINT-FLOUR.FR", "gullon.marcelle@pays-saint-flour.fr"),
        # of two "O"s before known words, the one with the longer domain after it
        ("GERALDINE.DIDIEROPUY-DE-DOME.CHAMBAGRI.FR",
         "geraldine.didier@puy-de-dome.chambagri.fr"),
    ],
)
def test_an_at_sign_read_as_a_letter_is_put_back(read: str, meant: str) -> None:
    assert at_sign(read, []) == meant


@pytest.mark.parametrize(
    "read, meant",
    [("a.roux@cc-saint-flour.fk", "a.roux@cc-saint-flour.fr"),
     ("a.roux@gmail.con", "a.roux@gmail.com"),
     ("a.roux@uni-heidelberg.de", "a.roux@uni-heidelberg.de"),  # a real ending, kept
     ("a.roux@x.be", "a.roux@x.be"),
     ("e.boucher@mairie-riom.f", "e.boucher@mairie-riom.fr"),  # its last letter lost
     ("s.pages@volvic-sources-volcans-com", "s.pages@volvic-sources-volcans.com"),
     ("s.pages@ville-thiers", "s.pages@ville-thiers"),  # no ending read: none guessed
     ("edith-bonnin@cc-hautlignonfr", "edith-bonnin@cc-hautlignon.fr"),  # its dot lost
     # in capitals; a stroke after the ending
     ("N.GAUTIER@LEGRANDCLERMONT-COM", "N.GAUTIER@legrandclermont.com"),
     ("j.dumas@foyersruraux63.org1", "j.dumas@foyersruraux63.org"),
     ("j.dumas@foyersruraux63.frs", "j.dumas@foyersruraux63.frs")],  # a letter: who knows
)
def test_an_ending_a_letter_off_a_usual_one_is_read_as_it(read: str, meant: str) -> None:
    assert usual_ending(read, []) == meant


def test_digits_after_the_name_read_as_letters_become_digits_again() -> None:
    notes: list[str] = []
    assert mail_name_suggestion("corinne.brunetgo@orange.fr", ["Brunet", "Corinne"],
                                notes) == "corinne.brunet90@orange.fr"
    assert "90" in notes[0]


def test_specks_read_as_characters_are_left_out() -> None:
    assert without_junk("106 avenue Luce Maury, 43100 Brioude, '", []) == (
        "106 avenue Luce Maury, 43100 Brioude")
    assert without_junk("114 place de la Mairie, { 43400 Le Chambon-sur-Lignon", []) == (
        "114 place de la Mairie, 43400 Le Chambon-sur-Lignon")
    kept = "Syndicat mixte (SMAT) - Pays d'Auge & Bocage / 2"
    assert without_junk(kept, []) == kept
    # a last letter in punctuation is a speck too, a letter alone may be writing
    assert without_junk("Maire { ;Ç", []) == "Maire"
    assert without_junk("5 B rue Haute", []) == "5 B rue Haute"


@pytest.mark.parametrize(
    "chosen, other, meant",
    [
        # a separator between names only one engine read: lost far more often than invented
        ("weberroger@laposte.net", "weber.roger@laposte.net", "weber.roger@laposte.net"),
        ("mleduc@cc-ambert.fr", "m.leduc@cc-ambert.fr", "m.leduc@cc-ambert.fr"),
        # ... but not a dot that splits no names, nor one at the end
        ("marine.prevost@wanadoo.fr", "marine.prevo.st@wanadoo.fr", "marine.prevost@wanadoo.fr"),
        ("remycousin@gmail.com", "remycousin.@gmail.com", "remycousin@gmail.com"),
        # a "-" between the domain's words, but no "." making another domain
        ("g.bernard@villeriom.fr", "g.bernard@ville-riom.fr", "g.bernard@ville-riom.fr"),
        ("a.roux@parcdesvolcans.fr", "a.roux@parcdes.volcans.fr", "a.roux@parcdesvolcans.fr"),
        # a domain only one engine read as known words
        ("d.dumas@yille-thiers.fr", "d.dumas@ville-thiers.fr", "d.dumas@ville-thiers.fr"),
        ("d.dumas@ville-thiers.fr", "d.dumas@yille-thiers.fr", "d.dumas@ville-thiers.fr"),
        # ... whatever its name part, its dot put right
        ("robert-bourdon@ville-sennet.fr", "tohert-hourdon@ville-gannat..fr",
         "robert-bourdon@ville-gannat.fr"),
        ("robert-bourdon@ville-sennet.fr", "robert-bourdon@ville-gannatfr",
         "robert-bourdon@ville-gannat.fr"),
        ("robert-bourdon@ville-gannat.fr", "robert-bourdon@ville-sennet.fr",
         "robert-bourdon@ville-gannat.fr"),
        # an initial is a letter
        ("1.thomas@cr-auvergne.fr", "l.thomas@cr-auvergne.fr", "l.thomas@cr-auvergne.fr"),
        ("l.thomas@cr-auvergne.fr", "1.thomas@cr-auvergne.fr", "l.thomas@cr-auvergne.fr"),
    ],
)
def test_of_two_readings_of_an_email_the_one_the_others_slip_explains(chosen: str, other: str,
                                                                       meant: str) -> None:
    assert likelier_mail(chosen, other, []) == meant


def test_an_email_suggestion_has_no_spaces() -> None:
    notes: list[str] = []
    assert without_spaces("s.alexandre@a uvergne-active.org", notes) == (
        "s.alexandre@auvergne-active.org")
    assert notes
    assert without_spaces("a.roux@gmail.com", []) == "a.roux@gmail.com"
    assert without_spaces("edith-bonnin@.cc-hautlignon..fr", []) == (
        "edith-bonnin@cc-hautlignon.fr")


def test_a_rare_name_a_letter_off_the_forms_names_is_suggested_as_them() -> None:
    # "jouis" is somebody's surname, but a rare one: not a reason to keep it
    assert mail_name_suggestion("jouis-martineau@cc-ambert.fr", ["Martineau", "Louis"],
                                []) == "louis-martineau@cc-ambert.fr"
    assert mail_name_suggestion("louis-martin@cc-ambert.fr", ["Martineau", "Louis"],
                                []) == "louis-martin@cc-ambert.fr"
    # an initial and a usual surname are an address's own, whatever the names read
    assert mail_name_suggestion("a.weiss@puy-de-dome.fr", ["West", "Anne"],
                                []) == "a.weiss@puy-de-dome.fr"


def test_a_surname_read_in_small_letters_gets_its_capital() -> None:
    notes: list[str] = []
    assert capitalised_surnames("3 chemin Jean jaurès, 63720 Ennezat", notes) == (
        "3 chemin Jean Jaurès, 63720 Ennezat")
    assert notes
    assert capitalised_surnames("Maire adjoint", []) == "Maire adjoint"


def test_an_i_before_an_apostrophe_is_an_elided_l() -> None:
    notes: list[str] = []
    assert elided_l("Conseil général de I'Allier", notes) == "Conseil général de l'Allier"
    assert notes
    assert elided_l("MAIRIE D'AURILLAC - SERVICE DE I'EAU", []) == (
        "MAIRIE D'AURILLAC - SERVICE DE L'EAU")
    assert elided_l("Mairie d'Issoire", []) == "Mairie d'Issoire"


@pytest.mark.parametrize(("read", "meant"), [
    ("VICHY VAL DALLIER", "VICHY VAL D'ALLIER"),
    ("CHAMBRE DAGRICULTURE DE LALLIER", "CHAMBRE D'AGRICULTURE DE L'ALLIER"),
    ("Chargée détudes", "Chargée d'études"),
    ("ROUTE DE LEGLISE", "ROUTE DE L'EGLISE"),
    ("MAIRIE DE LAVAL", "MAIRIE DE LAVAL"),  # a commune, not "l'aval"
    ("DIRECTEUR DU DEVELOPPEMENT", "DIRECTEUR DU DEVELOPPEMENT"),  # words as they are
    ("MAIRIE DE DOMPIERRE", "MAIRIE DE DOMPIERRE"),
])
def test_an_elided_article_run_into_its_word_gets_its_apostrophe(read: str, meant: str) -> None:
    notes: list[str] = []
    assert glued_elision(read, notes) == meant
    assert bool(notes) == (read != meant)


@pytest.mark.parametrize(("read", "meant"), [
    ("FOYERS RURAUX OU PUY-DE-DÔME", "FOYERS RURAUX DU PUY-DE-DÔME"),
    ("COMMUNAUTÉ DE COMMUNES QU PAYS DE MASSIAC", "COMMUNAUTÉ DE COMMUNES DU PAYS DE MASSIAC"),
    ("MAIRIE PE THIERS", "MAIRIE DE THIERS"),
    ("CHEMIN VE LA GARE", "CHEMIN DE LA GARE"),
    ("Mairie ou CCAS", "Mairie ou CCAS"),  # small letters: "ou" is written so
    ("OU PAYS", "OU PAYS"),  # not between two words
])
def test_de_or_du_read_with_another_first_capital_is_put_back(read: str, meant: str) -> None:
    assert misread_connective(read, []) == meant


def test_a_q_no_u_follows_opening_a_word_is_an_o() -> None:
    notes: list[str] = []
    assert o_for_q("Avenue Qlivier Guilbert, 63220 Arlanc", notes) == (
        "Avenue Olivier Guilbert, 63220 Arlanc")
    assert notes
    assert o_for_q("QLLIVIER", []) == "OLLIVIER"
    assert o_for_q("Quai de la Gare", []) == "Quai de la Gare"


def test_a_postcode_read_as_look_alikes_is_offered_where_it_fits_the_commune() -> None:
    notes: list[str] = []
    assert lookalike_postcode("1 PLACE D'ARMES, /SIDO SAINT-FLOUR", notes) == (
        "1 PLACE D'ARMES, 15100 SAINT-FLOUR")
    assert notes
    assert lookalike_postcode("77 RUE DE LA GARE, ©3800 GANNAT", []) == (
        "77 RUE DE LA GARE, 03800 GANNAT")
    # a word, a department of another region, a postcode already read: left alone
    assert lookalike_postcode("MAIRIE, SOLID THIERS", []) == "MAIRIE, SOLID THIERS"
    assert lookalike_postcode("RUE X, /Z000 AURILLAC", []) == "RUE X, /Z000 AURILLAC"
    assert lookalike_postcode("RUE X, 63300 THIERS", []) == "RUE X, 63300 THIERS"


def test_a_speck_in_an_empty_phone_or_email_field_is_no_suggestion() -> None:
    from pipeline.trust.evidence import TextEvidence

    for kind, read in ((FieldKind.PHONE, "4"), (FieldKind.EMAIL, ". . . .i")):
        ev = TextEvidence("f", kind, [read], [0.5])
        notes: list[str] = []
        assert prefill(ev, read, notes, "typed") == ""
        assert notes
    ev = TextEvidence("telephone", FieldKind.PHONE, ["04 73"], [0.5])
    assert prefill(ev, "04 73", [], "typed") == "04 73"


@pytest.mark.parametrize(("read", "meant"), [
    ("COMMANES", "communes"),  # as near "commandes": a structure's word is likelier
    ("ANMATEUR", "animateur"),  # ... than "amateur"
    ("PAHS", "pays"),  # ... than "pas"
    ("GKAND", "grand"),  # neither in the field's words: far commoner than "gland"
    ("MAIIE", None),  # "mairie" and "maire": both a form's words, too close to call
    ("prograpne", "programme"),  # French's commonest spelling, not "programmé"
])
def test_of_equally_near_words_the_likelier_in_the_field_is_suggested(
        read: str, meant: str | None) -> None:
    assert nearest(read, "words") == meant


@pytest.mark.parametrize(("read", "meant"), [
    ("28 AVENUE CAMBETTA, 15000 AURILLAC", "28 AVENUE GAMBETTA, 15000 AURILLAC"),
    ("82 rue Fasteur, 15800 Vic-sur-Cère", "82 rue Pasteur, 15800 Vic-sur-Cère"),
])
def test_a_street_named_as_french_streets_most_often_are_is_suggested(read: str,
                                                                       meant: str) -> None:
    assert known_words("adresse", read)[0] == meant


def test_a_street_named_after_a_rare_word_is_not_snapped_to_a_commoner_one() -> None:
    # the frequency tie-break is for titles and structures: streets bear names
    for address in ("16 rue des Tanneries, 43200 YSSINGEAUX", "Place Hennequin, 03800 GANNAT",
                    "33 ROUTE DU FOIRAIL, 03120 LAPALISSE"):
        assert known_words("adresse", address) == (address, [])


@pytest.mark.parametrize(("fid", "read", "meant"), [
    ("structure", "Moicie de Brioude", "Mairie de Brioude"),
    ("fonction", "NIMKNTRICE DE TERRITOIRE", "ANIMATRICE DE TERRITOIRE"),
    ("fonction", "Mare adjoint", "Maire adjoint"),
    # a first word that is no head and near none, or near two: as read
    ("structure", "VICHY VAL D'ALLIER", "VICHY VAL D'ALLIER"),
    ("structure", "Clermont Communauté", "Clermont Communauté"),
    ("fonction", "Directrue", "Directrue"),  # "Directeur" or "Directrice"
    ("fonction", "Cha rGee de mission", "Cha rGee de mission"),  # a piece, no "Chef"
    ("structure", "Made d'Aurillac", "Made d'Aurillac"),  # in small letters, no "CAUE"
    ("structure", "CEI de la Haute-Loire", "CCI de la Haute-Loire"),
])
def test_a_first_word_near_one_a_structure_or_title_starts_with_is_taken_for_it(
        fid: str, read: str, meant: str) -> None:
    assert field_head(fid, read, []) == meant


def test_a_town_halls_commune_is_the_address_one_or_the_nearest_commune() -> None:
    from pipeline.suggest import town_hall

    notes: list[str] = []
    # the page's address names Royat: "foyat" is as near "Loyat" as "Royat" alone
    assert town_hall("structure", "Mairie de foyat", notes, "Royat") == "Mairie de Royat"
    assert notes
    assert town_hall("structure", "Mairie de foyat", []) == "Mairie de foyat"
    assert town_hall("structure", "MAIRIE DE LEXPOFS", [], "Lempdes") == "MAIRIE DE LEMPDES"
    assert town_hall("structure", "Mairie de Biode", [], "Brioude") == "Mairie de Brioude"
    assert town_hall("structure", "Mairie de Thiera", []) == "Mairie de Thiers"  # nearest
    # in the structure's own case, whatever the address's
    assert town_hall("structure", "Mairie de Sait-Pourçain-sur-Sioule", [],
                     "SAINT-POURCAIN-SUR-SIOULE") == "Mairie de Saint-Pourçain-sur-Sioule"
    # a real commune, another field: as read
    assert town_hall("structure", "Mairie de Volvic", [], "Riom") == "Mairie de Volvic"
    assert town_hall("fonction", "Mairie de foyat", [], "Royat") == "Mairie de foyat"
    assert bare_town_hall("structure", "MAIRIE AURILLAC", []) == "MAIRIE D'AURILLAC"
    assert bare_town_hall("structure", "Mairie Espaly-Saint-Marcel", []) == (
        "Mairie d'Espaly-Saint-Marcel")
    assert bare_town_hall("structure", "MAIRIE ANNEXE", []) == "MAIRIE ANNEXE"  # no commune


def test_a_word_split_by_the_reading_is_joined() -> None:
    notes: list[str] = []
    assert joined_words("POLE DÉVELOPPE MENT ET TOURIS TIQUE", notes) == (
        "POLE DÉVELOPPEMENT ET TOURISTIQUE")
    assert len(notes) == 2
    # two short words, but together one of a job title's ("MIS" and "SION" are words)
    assert joined_words("CHARGÉE DE MIS SION", []) == "CHARGÉE DE MISSION"
    # two words stay two
    assert joined_words("Chargée de mission en cours", []) == "Chargée de mission en cours"
    # nor across an elision or a small word before a place's name
    for kept in ("1 place d'Armes, 15100 Saint-Flour", "VICHY VAL D'ALLIER",
                 "CAUE DU PUY-DE-DOME", "Chambre de Métiers et de I'Artisanat"):
        assert joined_words(kept, []) == kept


def test_a_page_in_capitals_gets_every_suggestion_in_capitals() -> None:
    from pipeline.trust.evidence import TextEvidence

    hand = page_hand(["DUPONT", "SOPHIE", "MAIRIE DE RIOM", "CHARGÉE DE MISSION"])
    assert hand.capitals and hand.accents is None
    ev = TextEvidence("prenom", FieldKind.TEXT, ["SopHIE"], [0.5])
    assert prefill(ev, "SopHIE", [], "hand", page=hand) == "SOPHIE"
    assert prefill(ev, "SopHIE", [], "hand") == "SopHIE"  # a mixed hand's page: as read
    assert not page_hand(["Dupont", "Sophie", "Mairie de Riom", "Chargée de mission"]).capitals


def test_a_structure_or_job_title_starts_with_a_capital() -> None:
    notes: list[str] = []
    assert capitalised_start("conseil général de l'Allier", notes) == (
        "Conseil général de l'Allier")
    assert notes
    assert capitalised_start("Maire", []) == "Maire"
    assert capitalised_start("", []) == ""


def test_an_address_opening_on_a_street_type_gets_its_capital() -> None:
    assert capitalised_way("place de la Mairie, 63540 Romagnat", []) == (
        "Place de la Mairie, 63540 Romagnat")
    assert capitalised_way("15 avenue du 11 novembre, 63600 Ambert", []) == (
        "15 avenue du 11 novembre, 63600 Ambert")
    assert capitalised_way("lieu-dit les Granges, 15100 Andelat", []) == (
        "lieu-dit les Granges, 15100 Andelat")


def _boxes(text: str, gap_after: dict[int, int]) -> tuple[tuple[str, int, int, int], ...]:
    """Typed characters 20 px wide, 3 px apart, with wider gaps where asked."""
    out, x = [], 0
    for i, ch in enumerate(text):
        out.append((ch, x, x + 20, 30))
        x += 23 + gap_after.get(i, 0)
    return tuple(out)


def test_a_dot_lost_with_the_printed_dot_under_it_is_found_by_its_gap() -> None:
    names = ["Renaud", "Véronique"]
    read = "veroniquerenaud@ville-brioude.fr"
    notes: list[str] = []
    gapped = _boxes(read, {8: 16})  # after "veronique"
    assert dot_in_gap(read, gapped, names, notes) == "veronique.renaud@ville-brioude.fr"
    assert notes
    # glued names, evenly spaced, stay glued; so does a gap elsewhere than between names
    assert dot_in_gap(read, _boxes(read, {}), names, []) == read
    assert dot_in_gap(read, _boxes(read, {4: 16}), names, []) == read


def test_tesseract_says_where_each_character_of_an_email_lies(engine) -> None:
    import cv2
    import numpy as np

    img = np.full((70, 640), 255, np.uint8)
    cv2.putText(img, "jean dupont@orange.fr", (10, 48), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
    r = engine.read_line(img, boxes=True)
    assert "".join(c for c, *_ in r.boxes) == r.text.replace(" ", "")
    lefts = [x for _, x, _, _ in r.boxes]
    assert lefts == sorted(lefts) and all(h > 10 for *_, h in r.boxes)
    # the space between "jean" and "dupont" is the widest gap
    gaps = [b[1] - a[2] for a, b in zip(r.boxes, r.boxes[1:], strict=False)]
    assert gaps.index(max(gaps)) == 3
    assert engine.read_line(img).boxes == ()  # not asked: not computed


@pytest.mark.parametrize(
    "read, meant",
    [
        ("CCI D& LA HAUT&-LOIR&", "CCI DE LA HAUTE-LOIRE"),
        ("FOY£RS RURAUX", "FOYERS RURAUX"),
        ("CCI DV CANTAL", "CCI DU CANTAL"),  # "DV" is in a word list, but all but unused
        ("VU ET VALIDE", "VU ET VALIDE"),  # words: left as read
        ("G1AL JEUNE LOIRE", "G1AL JEUNE LOIRE"),  # "GIAL" is no word either
        ("Cci dv Cantal", "Cci dv Cantal"),  # small letters have their own look-alikes
        ("11 CHEMIN DU LAC, BP 10", "11 CHEMIN DU LAC, BP 10"),  # numbers are no "II", "IO"
    ],
)
def test_look_alike_characters_in_capitals_are_read_as_letters(read: str, meant: str) -> None:
    notes: list[str] = []
    assert lookalike_letters("structure", read, notes) == meant
    assert bool(notes) == (read != meant)


@pytest.mark.parametrize(
    "fid, read, meant",
    [
        # names are the handwriting readers' (trust.handnames): no letter rule here
        ("prenom", "PIEKKE", "PIEKKE"),
        ("nom", "HULLER", "HULLER"),
        ("structure", "CHAMBKE D'AGRICULTURE", "CHAMBRE D'AGRICULTURE"),
    ],
)
def test_look_alike_capitals_are_read_as_letters_in_words_not_in_names(
        fid: str, read: str, meant: str) -> None:
    assert lookalike_letters(fid, read, []) == meant


@pytest.mark.parametrize(
    "read, meant",
    [
        ("CHAMBRE D'AGRICULTURE DU PUX-DE-DÔME", "CHAMBRE D'AGRICULTURE DU PUY-DE-DÔME"),
        ("Conseil départemental de la Haute-Loise", "Conseil départemental de la Haute-Loire"),
        ("MAIRIE DE RIOM-ES-MONTAGNES", "MAIRIE DE RIOM-ES-MONTAGNES"),  # a place already
        ("CCI MONTLUCON-GANNAT", "CCI MONTLUCON-GANNAT"),  # two places, no one place near
        ("CONSEIL DÉPARTEMENTAL DU PUS-DE-PUME", "CONSEIL DÉPARTEMENTAL DU PUS-DE-PUME"),
    ],
)
def test_a_department_or_commune_a_letter_off_is_suggested(read: str, meant: str) -> None:
    notes: list[str] = []
    assert compound_place("structure", read, notes) == meant
    assert bool(notes) == (read != meant)


@pytest.mark.parametrize(
    "read, meant",
    [
        ("AUDREY-DIJOUX@LEGKANDCLEKMONT.COM", "AUDREY-DIJOUX@LEGRANDCLERMONT.COM"),
        ("DUPONT.GEKALDINE@FREE.FR", "DUPONT.GERALDINE@FREE.FR"),  # a first name
        ("KARINE.KLEIN@KPMG.FR", "KARINE.KLEIN@KPMG.FR"),  # names and domains with a K
        ("mickael@kiosque.fr", "mickael@kiosque.fr"),  # small letters: no such slip
    ],
)
def test_a_capital_r_read_as_k_in_an_email_is_put_back(read: str, meant: str) -> None:
    notes: list[str] = []
    assert capital_r(read, notes) == meant
    assert bool(notes) == (read != meant)


def test_on_a_page_in_capitals_an_email_read_in_small_letters_gets_its_r_back() -> None:
    # the address was written in capitals; the reading keeps e-mails in small letters
    assert capital_r("simone-lagakde@pays-valdallier.fr", [], capitals=True) == (
        "simone-lagarde@pays-valdallier.fr")  # a surname no list has -> one it has
    assert capital_r("simone-lagakde@pays-valdallier.fr", []) == (
        "simone-lagakde@pays-valdallier.fr")
    assert capital_r("karine.klein@kpmg.fr", [], capitals=True) == "karine.klein@kpmg.fr"


def test_a_square_by_a_marie_is_the_town_halls() -> None:
    notes: list[str] = []
    assert la_mairie("PLACE DE LA MARIE, 03210 SOUVIGNY", notes) == (
        "PLACE DE LA MAIRIE, 03210 SOUVIGNY")
    assert notes
    assert la_mairie("place de la Marie, 03210 Souvigny", []) == (
        "place de la Mairie, 03210 Souvigny")
    assert la_mairie("12 rue Marie Curie, 63000 Clermont-Ferrand", []) == (
        "12 rue Marie Curie, 63000 Clermont-Ferrand")  # a Marie, no article


@pytest.mark.parametrize(("read", "meant"), [
    ("RUE DESAIX, BP (4 - 63390 SAINT-GERVAIS", "RUE DESAIX, BP 14 - 63390 SAINT-GERVAIS"),
    ("ROUTE DE L'EGLISE - BP BL, 15000 AURILLAC",  # no digit: no number to mend
     "ROUTE DE L'EGLISE - BP BL, 15000 AURILLAC"),
    ("5 rue X - BP 45, 63000 Riom", "5 rue X - BP 45, 63000 Riom"),
])
def test_a_box_number_read_with_a_look_alike_is_a_number(read: str, meant: str) -> None:
    assert box_number(read, []) == meant


@pytest.mark.parametrize(("read", "meant"), [
    ("FOYERS RURAUX oU PUY-DE-DÔME", "FOYERS RURAUX DU PUY-DE-DÔME"),  # in capitals once cased
    ("MAIRIE p£ THIERS", "MAIRIE DE THIERS"),  # once its look-alikes are read as letters
    ("MAIRIE DAURULLAC", "MAIRIE D'AURILLAC"),  # once the commune is snapped
])
def test_a_block_capital_structure_gets_its_small_words_after_its_letters(read: str,
                                                                           meant: str) -> None:
    ev = TextEvidence("structure", FieldKind.TEXT, [read], [0.3], words=True)
    assert prefill(ev, read, [], "hand", page=PageHand(capitals=True)) == meant

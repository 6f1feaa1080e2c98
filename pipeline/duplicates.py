"""Flag people who registered twice (by post and by e-mail, or sent the form twice).

Only flags: a reviewer decides. Two signals: the same e-mail address, or the same
name (fuzzily, as OCR and handwriting vary) in the same or an unstated structure.
A shared structure alone never makes a pair: colleagues register together.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process, utils

NAME_THRESHOLD = 90.0  # token_sort_ratio on "prenom nom", accents and case folded
STRUCTURE_THRESHOLD = 80.0  # token_set_ratio: "ARDTA" and "ARDTA Auvergne" are the same
REQUIRED_COLUMNS = ("source_file", "page", "nom", "prenom", "structure", "mail")


@dataclass(frozen=True)
class DuplicatePair:
    a: tuple[str, int]  # (source_file, page) of the earlier record
    b: tuple[str, int]
    why: str  # in words a reviewer understands
    score: float  # 0..100, how alike the two records are


def _fold(text: str) -> str:
    """Lower case, no accents, punctuation as spaces: "HÉLÈNE Dupré" ~ "helene dupre"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return utils.default_process(bare)


def _column(records: pd.DataFrame, name: str) -> list[str]:
    return [str(v).strip() for v in records[name].fillna("").astype(str)]


def find_duplicates(records: pd.DataFrame) -> list[DuplicatePair]:
    """Possible duplicate registrations, in record order, one pair per two records."""
    missing = [c for c in REQUIRED_COLUMNS if c not in records.columns]
    if missing:
        raise ValueError(f"records lack column(s): {', '.join(missing)}")
    n = len(records)
    refs = [(str(s), int(p)) for s, p in zip(records["source_file"], records["page"], strict=True)]
    mails = [m.lower() for m in _column(records, "mail")]
    names = [_fold(f"{p} {n_}") for p, n_ in zip(_column(records, "prenom"),
                                                  _column(records, "nom"), strict=True)]
    structures = [_fold(s) for s in _column(records, "structure")]

    found: dict[tuple[int, int], tuple[list[str], float]] = {}

    by_mail: dict[str, list[int]] = {}
    for i, mail in enumerate(mails):
        if mail:
            by_mail.setdefault(mail, []).append(i)
    for mail, rows in by_mail.items():
        for k, i in enumerate(rows):
            for j in rows[k + 1:]:
                found[(i, j)] = ([f"same e-mail address {mail}"], 100.0)

    if n > 1:
        # Names are already folded; cdist compares all pairs in C, fine for a few thousand.
        scores = process.cdist(names, names, scorer=fuzz.token_sort_ratio,
                               score_cutoff=NAME_THRESHOLD, dtype=np.float32, workers=-1)
        for i, j in zip(*np.nonzero(np.triu(scores, k=1)), strict=True):
            i, j = int(i), int(j)
            if not names[i] or not names[j]:
                continue
            si, sj = structures[i], structures[j]
            if si and sj and fuzz.token_set_ratio(si, sj) < STRUCTURE_THRESHOLD:
                continue  # namesakes in different structures
            score = float(scores[i, j])
            if not (si and sj):
                where = "structure not given on one form"
            else:
                where = "same structure" if si == sj else "similar structure"
            why = f"similar name ({score:.0f}%), {where}"
            whys, best = found.get((i, j), ([], 0.0))
            found[(i, j)] = ([*whys, why], max(best, score))

    return [
        DuplicatePair(refs[i], refs[j], "; ".join(whys), round(score, 1))
        for (i, j), (whys, score) in sorted(found.items())
    ]

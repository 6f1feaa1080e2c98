"""Postcode and commune completion while a reviewer types an address.

Offers the (postcode, commune) pairs of France's postcode table
(`pipeline/trust/codes-postaux.csv.gz`, the table the reader checks addresses
with) that begin with what is typed, the most populous communes first.
"""

from __future__ import annotations

from functools import cache

from pipeline.trust import postcodes

LIMIT = 8


@cache
def _pairs() -> tuple[tuple[str, str], ...]:
    return tuple(sorted({p for named in postcodes.places().values() for p in named}))


def _rank(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(pairs, key=lambda p: (-postcodes.population(*p), p))[:LIMIT]


def complete(typed: str) -> list[tuple[str, str]]:
    """Pairs for a postcode's first digits ("630") or a commune's first letters ("clerm")."""
    typed = typed.strip()
    if typed.isdigit() and 2 <= len(typed) <= 5:
        return _rank([p for p in _pairs() if p[0].startswith(typed)])
    key = postcodes.place_key(typed)
    if len(key) < 3:
        return []
    return _rank([p for k, named in postcodes.places().items() if k.startswith(key)
                  for p in named])

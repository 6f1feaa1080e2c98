"""Which set of people's and post rooms' habits the generator draws from.

Like the font sets (see `fonts`), the habits are split in two: the
development set, which every generated set for fitting, tuning, tests and the
default benchmark uses, and a held-out set that none of them ever uses
(`synth --behaviours held-out`, `bench --behaviours held-out`). Each of the
modules that draw a habit keeps its two lists side by side: mark styles
(`marks`), pages that are not a filled form (`other`), capture profiles
(`scan`). A rule or threshold that helps the development set and not the
held-out one is fitted to the generator, not to people, and is not kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

SETS = ("default", "held-out")
_active = "default"


def active() -> str:
    """The set the generator draws habits from right now."""
    return _active


@contextmanager
def behaviour_set(name: str) -> Iterator[None]:
    """Generate with the habits of set `name` inside the block."""
    global _active
    if name not in SETS:
        raise ValueError(f"unknown behaviour set {name!r} (known: {', '.join(SETS)})")
    before, _active = _active, name
    try:
        yield
    finally:
        _active = before


def held_out() -> bool:
    return _active == "held-out"

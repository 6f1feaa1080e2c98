"""Derived data built once (seconds), then loaded from the user's cache (milliseconds).

Every worker process needs the lexicons and the rewritten recognition network;
building them in each worker would cost more than the OCR of a small batch.
A cache file's name carries what it was built from (a package's version, a
file's size and time), so a new source is never answered from an old build.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "formscan"


def cached(name: str, build: Callable[[], Any]) -> Any:
    """`build()`, kept in the cache as `name`; an empty result (its source missing) is not kept."""
    path = cache_dir() / name
    try:
        with path.open("rb") as f:
            return pickle.load(f)
    except (OSError, pickle.PickleError, EOFError):
        pass
    value = build()
    if not value:
        return value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:
        pass  # a read-only home: rebuilt next time, still correct
    return value

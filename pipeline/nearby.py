"""Which words of a long list could be near a misread one: a bound from character counts.

Matching a reading against tens of thousands of names costs one edit distance
or similarity per name. The characters two words share, counted in any order,
bound both: an edit distance is at least the longer word's length less what
they share, and a similarity (fuzz.ratio) at most twice what they share over
their lengths. Counted for a whole list at once, the bound leaves a few
hundred names to compare, and the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class CharCounts:
    """How many of each character every word of a list holds, and its length."""

    def __init__(self, words: Sequence[str]) -> None:
        self.lengths = np.array([len(w) for w in words], np.int32)
        self._counts: dict[str, np.ndarray] = {}
        by_length: dict[int, list[int]] = {}
        for i, w in enumerate(words):
            by_length.setdefault(len(w), []).append(i)
        for n, idx in by_length.items():
            if n == 0:
                continue
            # the words of one length as rows of code points, counted a character at a time
            rows = np.frombuffer("".join(words[i] for i in idx).encode("utf-32-le"),
                               np.uint32).reshape(len(idx), n)
            at = np.array(idx)
            for code in np.unique(rows):
                col = self._counts.setdefault(chr(code), np.zeros(len(words), np.int16))
                col[at] = (rows == code).sum(axis=1)

    def shared(self, key: str) -> np.ndarray:
        """For every word, how many characters it has in common with `key` in any order."""
        out = np.zeros(len(self.lengths), np.int32)
        for ch in set(key):
            col = self._counts.get(ch)
            if col is not None:
                out += np.minimum(col, key.count(ch))
        return out

    def within_edits(self, key: str, limit: int) -> np.ndarray:
        """Indices of the words that could be `limit` edits or fewer from `key`."""
        longer = np.maximum(self.lengths, len(key))
        return np.flatnonzero(longer - self.shared(key) <= limit)

    def within_ratio(self, key: str, cutoff: float) -> np.ndarray:
        """Indices of the words whose fuzz.ratio with `key` could reach `cutoff` (0-100)."""
        return np.flatnonzero(200 * self.shared(key) >= cutoff * (self.lengths + len(key)))

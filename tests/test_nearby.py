"""The character-count bound may only drop words that could not have matched."""

from __future__ import annotations

import random

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from pipeline.nearby import CharCounts


def _words(rng: random.Random, n: int) -> list[str]:
    letters = "aeiouylnrstmcdp-' é"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(1, 12))) for _ in range(n)]


def test_no_word_within_reach_is_dropped_and_far_ones_mostly_are() -> None:
    rng = random.Random(7)
    words = _words(rng, 3000)
    counts = CharCounts(words)
    dropped = 0
    for key in _words(rng, 60):
        for limit in (1, 2):
            kept = set(counts.within_edits(key, limit).tolist())
            near = {i for i, w in enumerate(words) if Levenshtein.distance(key, w) <= limit}
            assert near <= kept
            dropped += len(words) - len(kept)
        kept = set(counts.within_ratio(key, 55).tolist())
        assert {i for i, w in enumerate(words) if fuzz.ratio(key, w) >= 55} <= kept
    assert dropped > 0.5 * 60 * 2 * len(words)  # the point of it: most are never compared


def test_counts_are_per_character_whatever_the_word_lengths() -> None:
    counts = CharCounts(["riom", "issoire", "", "aurillac"])
    # "i", "s" and "o", each counted as often as both words hold it
    assert counts.shared("iiso").tolist() == [2, 4, 0, 1]
    assert counts.within_edits("riomm", 1).tolist() == [0]

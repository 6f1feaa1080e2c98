"""Confidence you can trust: a second engine, gates, lexicons, cross-field evidence, calibration.

`second_engine()` gives this process's one reused second recogniser, or None
where it cannot run (then nothing written by hand or typed is auto-accepted).
"""

from __future__ import annotations

import os

from pipeline.trust.second import RapidRecogniser, SecondEngineUnavailable

_second: RapidRecogniser | None = None
_tried = False


def second_engine() -> RapidRecogniser | None:
    """One session per worker process, created on first use.

    $FORMSCAN_SECOND=0 turns it off, read at every call rather than once, so that
    one process can read a batch with it and again without it (the benchmark
    measures what it adds to a batch's time that way).
    """
    global _second, _tried
    if os.environ.get("FORMSCAN_SECOND", "1") == "0":
        return None
    if not _tried:
        _tried = True
        try:
            _second = RapidRecogniser()
        except SecondEngineUnavailable:
            _second = None
    return _second

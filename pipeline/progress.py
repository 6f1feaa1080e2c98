"""Progress of a batch on the terminal, or in a log file a line at a time.

A tqdm bar redraws itself with carriage returns; written to a file (a cron job's
log, `2> batch.log`) those redraws pile up into one line of tens of kilobytes.
So when the stream is not a terminal, a short line is printed now and then
instead, and the errors go on their own lines either way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol, TextIO

LINE_EVERY_S = 30.0  # seconds between progress lines in a log


class Progress(Protocol):
    """What a batch reports: the number of pages, each page done, each error."""

    def set_total(self, n: int) -> None: ...

    def advance(self, k: int = 1) -> None: ...

    def error(self, msg: str) -> None: ...

    def close(self) -> None: ...


class BarProgress:
    """A tqdm bar, for a person watching a terminal."""

    def __init__(self, stream: TextIO, unit: str = "page") -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=0, unit=unit, file=stream, dynamic_ncols=True)
        self._stream = stream

    def set_total(self, n: int) -> None:
        self._bar.total = n
        self._bar.refresh()

    def advance(self, k: int = 1) -> None:
        self._bar.update(k)

    def error(self, msg: str) -> None:
        import click

        self._bar.write(click.style(msg, fg="red"), file=self._stream)

    def close(self) -> None:
        self._bar.close()


class LineProgress:
    """`progress: 120/500 pages (24 %), 3 errors, 41 s` every `every` seconds, and at the end."""

    def __init__(self, stream: TextIO, unit: str = "page", every: float = LINE_EVERY_S,
                 clock: Callable[[], float] | None = None) -> None:
        self._stream = stream
        self._unit = unit
        self._every = every
        self._clock = clock or time.monotonic
        self._start = self._last = self._clock()
        self.total = 0
        self.done = 0
        self.errors = 0

    def _line(self) -> str:
        pct = f" ({100 * self.done // self.total} %)" if self.total else ""
        errors = f", {self.errors} error{'s' * (self.errors != 1)}" if self.errors else ""
        return (f"progress: {self.done}/{self.total} {self._unit}s{pct}{errors}, "
                f"{self._clock() - self._start:.0f} s")

    def _print(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    def set_total(self, n: int) -> None:
        self.total = n
        self._print(f"progress: {n} {self._unit}{'s' * (n != 1)} to read")

    def advance(self, k: int = 1) -> None:
        self.done += k
        now = self._clock()
        if now - self._last >= self._every:
            self._last = now
            self._print(self._line())

    def error(self, msg: str) -> None:
        self.errors += 1
        self._print(msg)

    def close(self) -> None:
        self._print(self._line())


class QuietProgress:
    """Errors only."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def set_total(self, n: int) -> None:
        pass

    def advance(self, k: int = 1) -> None:
        pass

    def error(self, msg: str) -> None:
        print(msg, file=self._stream, flush=True)

    def close(self) -> None:
        pass


def progress_for(stream: TextIO | None = None, quiet: bool = False,
                 unit: str = "page") -> Progress:
    """A bar on a terminal, periodic lines elsewhere, errors only when `quiet`."""
    stream = stream or sys.stderr
    if quiet:
        return QuietProgress(stream)
    if stream.isatty():
        return BarProgress(stream, unit)
    return LineProgress(stream, unit)

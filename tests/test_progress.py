"""Progress in a log file: a short line now and then, never a bar's carriage returns."""

from __future__ import annotations

import io

from pipeline.progress import LineProgress, QuietProgress, progress_for


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_log_gets_a_line_every_interval_and_at_the_end() -> None:
    out, clock = io.StringIO(), Clock()
    p = LineProgress(out, every=30, clock=clock)
    p.set_total(500)
    for _ in range(500):
        clock.t += 0.5  # two pages a second: 250 s in all
        p.advance()
    p.error("error: lot.pdf page 3: cannot decode page")
    p.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "progress: 500 pages to read"
    assert lines[1] == "progress: 60/500 pages (12 %), 30 s"
    assert lines[-2] == "error: lot.pdf page 3: cannot decode page"
    assert lines[-1] == "progress: 500/500 pages (100 %), 1 error, 250 s"
    assert 9 <= len(lines) <= 12 and "\r" not in out.getvalue()
    assert max(map(len, lines)) < 80


def test_a_file_gets_lines_and_quiet_gets_errors_only() -> None:
    assert isinstance(progress_for(io.StringIO()), LineProgress)
    out = io.StringIO()
    p = progress_for(out, quiet=True)
    assert isinstance(p, QuietProgress)
    p.set_total(3)
    p.advance()
    p.error("error: x")
    p.close()
    assert out.getvalue() == "error: x\n"

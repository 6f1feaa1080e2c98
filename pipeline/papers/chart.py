"""The summary page's chart: participants per département, agents de collectivité apart.

Geometry only (in SVG user units); the page's template draws it as inline SVG,
so the chart needs no script and no library, and the app's strict content
policy (no inline style) holds: colours are SVG attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.papers.roster import Person, departement_names

WIDTH = 640
LABEL_W = 190  # room for "63 · Puy-de-Dôme"
BAR_H, GAP, TOP = 22, 8, 6
MAX_BARS = 12  # the rest are summed into one bar


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    kind: str  # agent, other, unknown: its colour and legend
    count: int


@dataclass(frozen=True)
class Bar:
    label: str
    total: int
    y: float
    segments: tuple[Segment, ...]

    @property
    def text_y(self) -> float:
        return self.y + BAR_H * 0.7

    @property
    def end(self) -> float:
        return LABEL_W + sum(s.width for s in self.segments)


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_w: int = LABEL_W
    bar_h: int = BAR_H


def _kind(p: Person) -> str:
    return {"oui": "agent", "non": "other"}.get(p.agent, "unknown")


def by_departement(people: Sequence[Person]) -> Chart:
    """One bar per département (most participants first), split by agent de collectivité."""
    names = departement_names()
    groups: dict[str, list[Person]] = {}
    for p in people:
        groups.setdefault(p.departement, []).append(p)
    order = sorted(groups, key=lambda c: (-len(groups[c]), c == "", c))
    if len(order) > MAX_BARS:
        rest = [p for c in order[MAX_BARS - 1:] for p in groups[c]]
        order = [*order[:MAX_BARS - 1], "*"]
        groups["*"] = rest
    most = max((len(g) for g in groups.values()), default=1)
    scale = (WIDTH - LABEL_W - 40) / most
    bars = []
    for i, code in enumerate(order):
        members = groups[code]
        label = ("Autres départements" if code == "*" else
                 "Sans code postal" if not code else f"{code} · {names.get(code, '')}".strip(" ·"))
        x, segments = float(LABEL_W), []
        for kind in ("agent", "other", "unknown"):
            n = sum(_kind(p) == kind for p in members)
            if n:
                segments.append(Segment(x, n * scale, kind, n))
                x += n * scale
        bars.append(Bar(label, len(members), TOP + i * (BAR_H + GAP), tuple(segments)))
    height = TOP * 2 + len(bars) * (BAR_H + GAP)
    return Chart(tuple(bars), WIDTH, max(height, 40))

"""The caterer's count: how many lunches, per structure and in all.

Lunches whose form still waits for a reviewer are counted (the caterer needs
a number before every doubt is cleared) and said apart, so the figure can be
confirmed once the review is done.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from pipeline.papers.roster import Roster, by_structure

NAME_WIDTH = 56  # a long structure's name wraps, so the counts stay in one column


@dataclass(frozen=True)
class CatererCount:
    when: str
    place: str
    per_structure: tuple[tuple[str, int], ...]  # most lunches first
    total: int
    pending: int  # of the total, lunches on forms still in review
    undecided: int = 0  # not counted: forms whose lunch answer itself is still in review

    def text(self) -> str:
        """Plain text to send the caterer (or paste into a mail)."""
        width = min(max([len(s) for s, _ in self.per_structure] + [20]), NAME_WIDTH)
        lines = [f"Déjeuner du {self.when}", self.place, "",
                 "Repas par structure :"]
        for name, n in self.per_structure:
            *first, last = textwrap.wrap(name, width) or [""]
            lines += [f"  {part}" for part in first]
            lines.append(f"  {last.ljust(width)}  {n:>3}")
        lines += ["", f"  {'TOTAL'.ljust(width)}  {self.total:>3} repas"]
        if self.pending:
            lines.append(f"  dont {self.pending} sur des inscriptions encore en attente "
                         "de vérification")
        if self.undecided:
            lines.append(f"  et {self.undecided} inscription{'s' if self.undecided > 1 else ''} "
                         "dont la réponse au déjeuner reste à vérifier (non comptée"
                         f"{'s' if self.undecided > 1 else ''})")
        return "\n".join(lines) + "\n"


def count(roster: Roster) -> CatererCount:
    lunching = roster.lunching
    return CatererCount(
        when=roster.event.when.split(" - ")[0],
        place=roster.event.place,
        per_structure=tuple(by_structure(lunching)),
        total=len(lunching),
        pending=sum(p.needs_review for p in lunching),
        undecided=sum("dejeunera" in p.pending and not p.lunches for p in roster.people),
    )

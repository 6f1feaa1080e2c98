"""Finding work: fields by field, reason, batch, status or reviewer, and forms by name.

A reviewer looking for one person's form ("Dupont, the one who phoned") or for
every e-mail still flagged finds it here, and can reopen a field already decided.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.review import queue as q
from pipeline.store import Workspace

LIMIT = 200


@dataclass(frozen=True)
class Filters:
    field: str = ""
    reason: str = ""
    batch: str = ""
    reviewer: str = ""
    status: str = ""  # '' = waiting for review; 'decided', 'any'
    name: str = ""  # part of the form's nom or prénom, any case


@dataclass(frozen=True)
class Found:
    field: q.FieldView
    decided_by: str  # the latest reviewer to decide it, '' if none
    person: str  # "Prénom Nom" of its form


def batches(ws: Workspace) -> list[str]:
    return [r[0] for r in ws.db.execute("SELECT DISTINCT batch FROM files ORDER BY batch")]


def reviewers(ws: Workspace) -> list[str]:
    return [r[0] for r in ws.db.execute(
        "SELECT DISTINCT reviewer FROM decisions WHERE action IN ('confirm', 'correct') "
        "ORDER BY reviewer")]


_LAST = ("(SELECT d.reviewer FROM decisions d WHERE d.field_id = f.id AND d.action IN "
         "('confirm', 'correct') ORDER BY d.id DESC LIMIT 1)")
_PERSON = ("(SELECT TRIM(COALESCE(MAX(CASE WHEN n.field = 'prenom' THEN n.value END), '') "
           "|| ' ' || COALESCE(MAX(CASE WHEN n.field = 'nom' THEN n.value END), '')) "
           "FROM fields n WHERE n.page_id = f.page_id)")


def find(ws: Workspace, flt: Filters, limit: int = LIMIT) -> list[Found]:
    """Fields matching every filter given, worst first."""
    where, args = ["p.kind = 'form'"], []
    if flt.status == "decided":
        where.append("f.status IN ('confirmed', 'corrected')")
    elif flt.status != "any":
        where.append("f.status = 'review'")
    if flt.field:
        where.append("f.field = ?")
        args.append(flt.field)
    if flt.reason:
        where.append("instr(';' || f.reasons || ';', ?) > 0")
        args.append(f";{flt.reason};")
    if flt.batch:
        where.append("fi.batch = ?")
        args.append(flt.batch)
    if flt.reviewer:
        where.append(f"{_LAST} = ?")
        args.append(flt.reviewer)
    if flt.name:
        where.append("EXISTS (SELECT 1 FROM fields n WHERE n.page_id = f.page_id AND "
                     "n.field IN ('nom', 'prenom') AND lower(n.value) LIKE ? ESCAPE '\\')")
        like = flt.name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        args.append(f"%{like}%")
    sql = (q._FIELD_SQL.replace("SELECT ", f"SELECT {_LAST} AS decided_by, {_PERSON} AS person, ",
                                1)
           + "WHERE " + " AND ".join(where)
           + " ORDER BY f.status != 'review', f.confidence, fi.source_file, p.page, f.id LIMIT ?")
    rows = ws.db.execute(sql, (*args, limit)).fetchall()
    out = []
    for r in rows:
        d = dict(r)
        decided_by, person = d.pop("decided_by") or "", d.pop("person") or ""
        out.append(Found(q.FieldView(**{**d, "reasons": tuple(x for x in d["reasons"].split(";")
                                                                if x),
                                        "repairs": tuple(x for x in d["repairs"].split(";")
                                                         if x)}),
                         decided_by, person.strip()))
    return out

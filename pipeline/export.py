"""The workspace as tables: attendees, fields, pages, and the organiser's summary.

Column names and value formats here are a contract other tools depend on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.store import Workspace
from pipeline.template import Template, default_template
from pipeline.text_safety import neutralise
from pipeline.validate import check_address

ATTENDEE_COLUMNS = [
    "source_file", "page", "nom", "prenom", "structure", "fonction", "agent_collectivite",
    "adresse", "code_postal", "commune", "mail", "telephone", "participera", "dejeunera",
    "needs_review", "paiement",
]
FIELD_COLUMNS = ["source_file", "page", "field", "value", "confidence", "status", "reasons"]
PAGE_COLUMNS = ["source_file", "page", "kind", "detail"]


def fields_table(ws: Workspace) -> pd.DataFrame:
    rows = [
        {"source_file": r["source_file"], "page": r["page"], "field": r["field"],
         "value": r["value"], "confidence": round(r["confidence"], 3), "status": r["status"],
         "reasons": r["reasons"]}
        for r in ws.field_rows()
    ]
    return pd.DataFrame(rows, columns=FIELD_COLUMNS)


def pages_table(ws: Workspace) -> pd.DataFrame:
    rows = [{"source_file": r["source_file"], "page": r["page"], "kind": r["kind"],
             "detail": r["detail"]} for r in ws.page_rows()]
    return pd.DataFrame(rows, columns=PAGE_COLUMNS)


def attendees_table(ws: Workspace, template: Template | None = None,
                    include_merged: bool = False) -> pd.DataFrame:
    """One row per form page, with reviewers' corrections, in the fixed column order.

    A form a reviewer merged into an earlier one (the same person twice) is left
    out unless `include_merged`; one still to merge or keep needs review.
    """
    template = template or default_template()
    fields = fields_table(ws)
    if not include_merged:
        merged = ws.merged_pages()
        if merged:
            keys = list(zip(fields["source_file"], fields["page"], strict=True))
            fields = fields[[k not in merged for k in keys]]
    if fields.empty:
        return pd.DataFrame(columns=ATTENDEE_COLUMNS)
    wide = fields.pivot_table(
        index=["source_file", "page"], columns="field", values="value", aggfunc="first"
    )
    pending = (fields.assign(p=fields["status"].eq("review"))
               .groupby(["source_file", "page"])["p"].any())
    # a possible duplicate nobody settled is not final either, whatever its fields say
    unsettled = ws.unsettled_duplicate_pages()
    pending = pending | pending.index.map(lambda k: k in unsettled).to_series(
        index=pending.index)
    wide = wide.reindex(columns=template.field_ids).fillna("")
    wide["needs_review"] = pending.reindex(wide.index).fillna(False)
    wide = wide.reset_index()
    parsed = wide["adresse"].map(lambda a: check_address(a, "") if a else None)
    wide["code_postal"] = parsed.map(lambda p: p[1] if p else "")
    wide["commune"] = parsed.map(lambda p: p[2] if p else "")
    wide["mail"] = wide["mail"].str.lower()
    wide["needs_review"] = wide["needs_review"].map(lambda b: "true" if b else "false")
    paid = ws.payments()
    wide["paiement"] = [
        (paid.get((f, p), (None, None))[0] or "to_collect") if lunch == "oui" else ""
        for f, p, lunch in zip(wide["source_file"], wide["page"], wide["dejeunera"], strict=True)
    ]
    return wide[ATTENDEE_COLUMNS].sort_values(["source_file", "page"]).reset_index(drop=True)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Spreadsheets run a cell starting with = + - @ as a formula: make it plain text.

    Also when the sign is full-width (＝) or hidden behind invisible characters.
    """
    return df.map(neutralise)


def write_csv(df: pd.DataFrame, out: Path | None, excel: bool = False,
              raw: bool = False) -> str | None:
    """UTF-8 comma CSV; with `excel`, what French Excel opens cleanly (';', BOM).

    Every CSV is meant for a spreadsheet, so formulas are neutralised unless `raw`
    (values exactly as stored, for programs).
    """
    if not raw:
        df = neutralise_formulas(df)
    if excel:
        text = df.to_csv(index=False, sep=";", lineterminator="\r\n")
        if out is None:
            return text
        out.write_text(text, encoding="utf-8-sig", newline="")
        return None
    text = df.to_csv(index=False, lineterminator="\n")
    if out is None:
        return text
    out.write_text(text, encoding="utf-8", newline="")
    return None


@dataclass(frozen=True)
class Summary:
    forms: int
    attendees: int  # forms with a name
    participants: int
    agents: int
    lunches: int
    amount_eur: int  # due: the lunches not exempt, at the form's price
    not_final: int  # rows still waiting for a reviewer
    price_eur: int = 0
    collected_eur: int = 0
    exempt: int = 0  # lunches the organiser does not charge

    def lines(self) -> list[str]:
        return [
            f"forms:                   {self.forms}",
            f"attendees:               {self.attendees}",
            f"participants:            {self.participants}",
            f"agents de collectivité:  {self.agents}",
            f"lunches:                 {self.lunches}",
            f"amount due:              {self.amount_eur} € ({self.price_eur} € per lunch, "
            f"{self.exempt} exempt)",
            f"collected:               {self.collected_eur} €",
            f"amount to collect:       {self.amount_eur - self.collected_eur} €",
            f"rows not final (review): {self.not_final}",
        ]


def summary(attendees: pd.DataFrame, template: Template | None = None) -> Summary:
    """The counts and amounts; the lunch's price is the form's (its template's `event`)."""
    a = attendees
    event = (template or default_template()).event
    price = event.lunch.price_eur if event else 0
    lunches = int((a["dejeunera"] == "oui").sum())
    exempt = int((a["paiement"] == "exempt").sum())
    return Summary(
        forms=len(a),
        attendees=int(((a["nom"] != "") | (a["prenom"] != "")).sum()),
        participants=int((a["participera"] == "oui").sum()),
        agents=int((a["agent_collectivite"] == "oui").sum()),
        lunches=lunches,
        amount_eur=(lunches - exempt) * price,
        not_final=int((a["needs_review"] == "true").sum()),
        price_eur=price,
        collected_eur=int((a["paiement"] == "paid").sum()) * price,
        exempt=exempt,
    )

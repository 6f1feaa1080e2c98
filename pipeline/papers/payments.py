"""Setting a lunch's payment: paid, to collect, or exempt (the terminal and the web page).

Only a form that says it lunches has a payment; the message for any other
tells the organiser what to correct first.
"""

from __future__ import annotations

from pipeline.errors import ExitCode, FormscanError
from pipeline.papers.roster import Payment, Roster
from pipeline.store import Workspace


class PaymentError(FormscanError):
    exit_code = ExitCode.USAGE


def parse(state: str) -> Payment:
    try:
        return Payment(state)
    except ValueError:
        raise PaymentError(f"unknown payment {state!r}: use one of "
                           f"{', '.join(p.value for p in Payment)}") from None


def set_payment(ws: Workspace, roster: Roster, source_file: str, page: int, state: str,
                by: str) -> Payment:
    """Record `state` for the lunch on `source_file` page `page`; returns what was recorded."""
    payment = parse(state)
    person = next((p for p in roster.people if (p.source_file, p.page) == (source_file, page)),
                  None)
    if person is None:
        raise PaymentError(f"{source_file} page {page}: no such form in this workspace "
                           "(see `formscan payment list`)")
    if not person.lunches:
        raise PaymentError(
            f"{source_file} page {page} ({person.full_name}): the form says "
            f"dejeunera={person.dejeunera or 'empty'}, so there is no lunch to pay; if that is "
            f"wrong, correct it first: formscan review set -w WS {source_file} {page} "
            "dejeunera oui")
    page_id = ws.page_id(source_file, page)
    assert page_id is not None  # the roster holds only the workspace's pages
    ws.set_payment(page_id, payment.value, by)
    return payment

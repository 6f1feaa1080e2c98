"""The organiser's page in the review app: the day's figures, the lunches' payments, exports.

Mounted on the review app (same token, CSRF check and content policy); a
payment is recorded under the reviewer name the session gave, as decisions are.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from pipeline.export import attendees_table, summary
from pipeline.papers import bundle, chart, payments, roster, signin
from pipeline.papers.roster import Payment
from pipeline.store import Workspace
from pipeline.template import Template


def register(app: Flask, root: Path, tpl: Template) -> None:
    """Add /organiser and its exports to `app`, the review app for workspace `root`."""
    bp = Blueprint("organiser", __name__)

    def open_ws() -> Workspace:
        return Workspace(root, create=False)

    @bp.get("/organiser")
    def page() -> str:
        with open_ws() as ws:
            r = roster.build(ws, tpl)
            s = summary(attendees_table(ws, tpl), tpl)
            in_review = [(p, ws.page_id(p.source_file, p.page)) for p in r.people
                         if p.needs_review]
        still = sum(1 for p in r.coming if p.participera != "oui")
        return render_template(
            "organiser.html", r=r, s=s, still_participating=still,
            pending_forms=sum(p.needs_review for p in r.people),
            chart=chart.by_departement(r.coming), papers=bundle.PAPERS, payments=list(Payment),
            paid=r.count(Payment.PAID), to_collect=r.count(Payment.TO_COLLECT),
            exempt=r.count(Payment.EXEMPT), focus=request.args.get("focus", ""),
            pending_words=signin.pending_words, in_review=in_review,
            field_names=signin.FIELD_NAMES)

    @bp.post("/organiser/payment")
    def set_payment() -> Response:
        who = session.get("reviewer")
        if not who:
            return redirect(url_for("who"))
        source, state = request.form.get("source_file", ""), request.form.get("state", "")
        try:
            page_no = int(request.form.get("page", ""))
        except ValueError:
            abort(400, "Missing or bad form value 'page'.")
        with open_ws() as ws:
            try:
                recorded = payments.set_payment(ws, roster.build(ws, tpl), source, page_no,
                                                state, str(who))
            except payments.PaymentError as exc:
                flash(str(exc), "error")
                return redirect(url_for("organiser.page"))
        flash(f"{source} p.{page_no}: lunch {recorded.value.replace('_', ' ')}.", "ok")
        return redirect(url_for("organiser.page", focus=f"{source}#{page_no}"))

    @bp.get("/organiser/export/<key>")
    def download(key: str) -> Response:
        paper = bundle.BY_KEY.get(key)
        if paper is None:
            abort(404, "No such export.")
        with open_ws() as ws:
            data = bundle.make(ws, paper, tpl)
        resp = Response(data, mimetype=paper.mimetype)
        resp.headers["Content-Disposition"] = f'attachment; filename="{paper.filename}"'
        resp.headers["Cache-Control"] = "no-store"
        return resp

    app.register_blueprint(bp)

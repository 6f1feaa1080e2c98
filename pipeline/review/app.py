"""The reviewers' web app: one field at a time, the page view, the marks sweep, progress.

Server-side pages and plain forms (POST, then redirect to the next field), so it
needs no build step and works the same with or without its small script, which
only adds the keyboard shortcuts. All the review rules live in `queue`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import (
    Flask,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException, NotFound

from pipeline.review import complete, doubts, figures, find, forms, groups, images, labels, pairs
from pipeline.review import queue as q
from pipeline.review.accounts import WorkspaceAccounts
from pipeline.review.security import MAX_ID, Access, identity, install
from pipeline.store import Workspace
from pipeline.template import Template, default_template

T = TypeVar("T")
REVIEWER_NAME = re.compile(r"^[\w .@'-]{1,40}$")


def create_app(workspace: Path, reviewer_token: str | None = None,
               template: Template | None = None, secret_key: str | None = None,
               accounts: bool = False) -> Flask:
    """The app for one workspace; with `reviewer_token`, every request must carry it.

    With `accounts`, every reviewer comes in with their own token (see accounts.py)
    and is recorded under their account's name.
    """
    root = Path(workspace).resolve()
    with Workspace(root, create=False) as ws:  # fails now, with a clear message, if missing
        secret = secret_key or q.session_secret(ws)
    tpl = template or default_template()
    app = Flask(__name__)
    app.secret_key = secret
    app.config["WORKSPACE"] = root
    install(app, Access(reviewer_token, WorkspaceAccounts(str(root)) if accounts else None))
    _register(app, root, tpl)
    from pipeline.papers import web as organiser  # the organiser's page, its own package

    organiser.register(app, root, tpl)
    return app


def _register(app: Flask, root: Path, tpl: Template) -> None:
    def ws() -> Workspace:
        if "ws" not in g:
            g.ws = Workspace(root, create=False)
        return g.ws

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        w = g.pop("ws", None)
        if w is not None:
            w.close()

    def reviewer() -> str:
        name = session.get("reviewer")
        if not name:
            abort(redirect(url_for("who")))
        return identity(str(name))

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "reviewer": session.get("reviewer"),
            "progress": q.progress(ws()),
            "reason_label": labels.reason_label,
            "reason_help": labels.reason_help,
            "severe": labels.SEVERE,
            "label_of": lambda field_id: labels.field_label(tpl.field(field_id)),
            "option_of": lambda field_id, option: labels.option_label(tpl.field(field_id), option),
        }

    @app.errorhandler(q.NotFound)
    def _not_found(exc: q.NotFound) -> tuple[str, int]:
        return render_template("error.html", error=NotFound(str(exc))), 404

    @app.errorhandler(HTTPException)
    def _error(exc: HTTPException) -> tuple[str, int] | Response:
        if exc.code is None or exc.code < 400:
            return exc.get_response()
        return render_template("error.html", error=exc), exc.code or 500

    # --- reviewer name -----------------------------------------------------------------

    @app.get("/who")
    def who() -> str:
        return render_template("who.html")

    @app.post("/who")
    def who_post() -> Response:
        if session.get("account"):  # an account's name is its own, not typed
            return redirect(url_for("queue"))
        name = " ".join(request.form.get("name", "").split())
        if not REVIEWER_NAME.match(name):
            flash("Type your name (letters, digits, spaces, up to 40 characters).", "error")
            return redirect(url_for("who"))
        session["reviewer"] = name
        session.permanent = True
        return redirect(url_for("queue"))

    # --- the queue -----------------------------------------------------------------------

    def show(field: q.FieldView | None, back: str = "", error: str = "",
             typed: str | None = None, status: int = 200,
             rule: bool = False) -> tuple[str, int]:
        if field is None:
            return render_template(
                "done.html", held=q.held_by_others(ws(), reviewer()),
                unsettled=len(pairs.pairs(ws(), unsettled_only=True))), status
        spec = tpl.field(field.field)
        doubted = doubts.Doubts()
        if not spec.is_box and typed is None:
            doubted = doubts.doubts(field.value, doubts.alternatives(
                field.raw, q.readings(ws(), field.id), field.repairs), spec.kind.value)
        return render_template(
            "review.html",
            field=field,
            spec=spec,
            label=labels.field_label(spec),
            choices=labels.choice_keys(q.allowed_box_values(spec)) if spec.is_box else [],
            back=back,
            error=error,
            rule=rule,
            typed=field.value if typed is None else typed,
            doubts=doubted,
            held_by=field.claimed_by_other(reviewer()),
            history=q.history(ws(), field.id),
            pair=pairs.unsettled_for_page(ws(), field.page_id),
        ), status

    @app.get("/")
    def queue() -> tuple[str, int]:
        return show(q.next_field(ws(), reviewer()))

    @app.get("/field/<int:field_id>")
    def field(field_id: int) -> tuple[str, int]:
        back = "page" if request.args.get("back") == "page" else ""
        return show(_found(lambda: q.claim_field(ws(), field_id, reviewer())), back=back)

    def after(field: q.FieldView, back: str) -> Response:
        if back == "page":
            return redirect(url_for("page", page_id=field.page_id))
        return redirect(url_for("queue"))

    @app.post("/decide")
    def decide() -> Response | tuple[str, int]:
        who_ = reviewer()
        field_id, version = _int_form("field_id"), _int_form("version")
        value = request.form["choice"] if "choice" in request.form else request.form.get(
            "value", "")
        back = request.form.get("back", "")
        current = _found(lambda: q.get_field(ws(), field_id))
        try:
            d = q.decide(ws(), field_id, who_, value, version,
                         override=request.form.get("override") == "1", template=tpl)
        except q.InvalidValue as exc:
            return show(current, back=back, error=exc.problem, typed=value, status=422,
                        rule=isinstance(exc, q.RuleBroken))
        except q.Conflict as exc:
            # Refused, but what the reviewer typed stays in the box, over the new version.
            flash(f"{exc} What you typed is still here: Enter saves it over theirs, "
                  "Alt+Q goes on with the queue.", "conflict")
            return show(q.get_field(ws(), field_id), back=back, typed=value, status=409)
        shown = f"«{d.new_value}»" if d.new_value else "empty"
        verb = "confirmed as" if d.action == "confirm" else "corrected to"
        flash(f"{labels.field_label(tpl.field(current.field))} {verb} {shown}. "
              "Alt+U undoes it.", "ok")
        _flash_recheck(d.rechecked)
        return after(current, back)

    def _flash_recheck(r: Any) -> None:
        names = [labels.field_label(tpl.field(f)) for f in r.to_review]
        if names:
            flash(f"{', '.join(names)} now disagree{'s' if len(names) == 1 else ''} with the "
                  "form's rules: sent to review.", "conflict")
        names = [labels.field_label(tpl.field(f)) for f in r.released]
        if names:
            flash(f"{', '.join(names)} agree{'s' if len(names) == 1 else ''} with the form's "
                  "rules again: no longer to review.", "ok")

    @app.post("/skip")
    def skip() -> Response:
        q.skip(ws(), _int_form("field_id"), reviewer())
        flash("Skipped: it comes back after the other fields.", "ok")
        return redirect(url_for("queue"))

    @app.post("/undo")
    def undo() -> Response:
        try:
            field = q.undo(ws(), reviewer(), template=tpl)
        except q.Conflict as exc:
            flash(str(exc), "conflict")
            return redirect(url_for("queue"))
        if field is None:
            flash("Nothing to undo: you have not decided anything yet.", "error")
            return redirect(url_for("queue"))
        shown = f"«{field.value}»" if field.value else "empty"
        flash(f"Undone: {labels.field_label(tpl.field(field.field))} is back to {shown}.", "ok")
        return redirect(url_for("field", field_id=field.id))

    # --- claims: kept alive by the open page, released when it closes ---------------------

    def _ids() -> list[int]:
        try:
            return [int(x) for x in request.form.getlist("field_id")][:100]
        except ValueError:
            abort(400, "Bad field ids.")

    @app.post("/claims/renew")
    def renew() -> Response:
        return jsonify(renewed=q.renew_claims(ws(), _ids(), reviewer()))

    @app.post("/claims/release")
    def release() -> Response:
        q.release(ws(), _ids(), reviewer())
        return jsonify(ok=True)

    # --- finding work, reopening, figures -------------------------------------------------

    @app.get("/find")
    def find_page() -> str:
        a = request.args
        flt = find.Filters(field=a.get("field", ""), reason=a.get("reason", ""),
                           batch=a.get("batch", ""), reviewer=a.get("reviewer", ""),
                           status=a.get("status", ""), name=a.get("name", "")[:60])
        return render_template(
            "find.html", flt=flt, found=find.find(ws(), flt), fields=tpl.field_ids,
            reasons=list(labels.REASONS), batches=find.batches(ws()),
            reviewers=find.reviewers(ws()))

    @app.post("/reopen")
    def reopen() -> Response:
        try:
            f = q.reopen(ws(), _int_form("field_id"), reviewer(), _int_form("version"))
        except q.ReviewError as exc:
            flash(str(exc), "conflict")
            return redirect(request.referrer or url_for("find_page"))
        flash(f"{labels.field_label(tpl.field(f.field))} reopened: it is back in the queue.",
              "ok")
        return redirect(url_for("field", field_id=f.id))

    @app.get("/complete")
    def complete_address() -> Response:
        typed = request.args.get("q", "")[:40]
        return jsonify([{"code": c, "commune": n} for c, n in complete.complete(typed)])

    # --- possible duplicates ----------------------------------------------------------------

    @app.get("/duplicates")
    def duplicates() -> str:
        return render_template("duplicates.html", pairs=pairs.pairs(ws()),
                               fields=[f for f in tpl.fields])

    @app.post("/duplicates/settle")
    def settle() -> Response:
        decision = request.form.get("decision", "")
        if decision not in pairs.DECISIONS:
            abort(400, "The decision must be merged or kept.")
        try:
            p = pairs.settle(ws(), _int_form("pair_id"), decision, reviewer())
        except q.ReviewError as exc:
            flash(str(exc), "conflict")
        else:
            what = ("merged into the earlier form: the export leaves it out"
                    if decision == "merged" else "kept: two different people")
            flash(f"{p.later.source_file} p. {p.later.page} {what}.", "ok")
        back = request.form.get("back", "")
        return redirect(url_for("duplicates") if back == "duplicates" else url_for("queue"))

    # --- group verification and form at a time ----------------------------------------------

    @app.get("/group")
    def group_choice() -> str:
        return render_template("group_choice.html", counts=groups.counts(ws()))

    @app.get("/group/<name>")
    def group(name: str) -> str:
        if name not in tpl.field_ids:
            abort(404, "No such field on the form.")
        items = groups.group(ws(), name, reviewer(), tpl)
        return render_template("group.html", name=name, spec=tpl.field(name), items=items,
                               label=labels.field_label(tpl.field(name)))

    @app.post("/group/<name>")
    def group_post(name: str) -> Response:
        if name not in tpl.field_ids:
            abort(404, "No such field on the form.")
        items = _versions("item")
        rejected = {i for i, _ in _versions("reject")}
        result = groups.verify(ws(), reviewer(),
                               [(i, v) for i, v in items if i not in rejected],
                               [(i, v) for i, v in items if i in rejected], tpl)
        flash(f"{result.confirmed} confirmed, {result.rejected} sent back to the single-field "
              "queue.", "ok")
        for field_id, why in result.refused:
            f = q.get_field(ws(), field_id)
            flash(f"{f.source_file} p. {f.page}: not confirmed, {why}", "conflict")
        return redirect(url_for("group", name=name))

    def _versions(key: str) -> list[tuple[int, int]]:
        out = []
        for raw in request.form.getlist(key):
            field_id, _, version = raw.partition(":")
            try:
                out.append((int(field_id), int(version)))
            except ValueError:
                abort(400, f"Bad {key} value.")
        return out

    @app.get("/form")
    def form_next() -> Response | tuple[str, int]:
        page_id = forms.next_form(ws(), reviewer())
        if page_id is None:
            return show(None)
        return redirect(url_for("form_page", page_id=page_id))

    def show_form(page_id: int, refused: list[forms.Refused] | None = None,
                  status: int = 200) -> tuple[str, int]:
        pending = forms.claim_form(ws(), page_id, reviewer())
        fields = q.page_fields(ws(), page_id)
        if not fields:
            abort(404, "No form fields on this page.")
        refused_by = {r.field_id: r for r in refused or []}
        if refused:  # the refused ones again, even if no longer pending
            ids = {f.id for f in pending} | set(refused_by)
            pending = [f for f in fields if f.id in ids]
        path = images.workspace_image(root, fields[0].page_image)
        width, height = images.image_size(path) if path else (0, 0)
        areas = {f.id: images.field_areas(tpl, tpl.field(f.field), width) if width else []
                 for f in fields}
        page_url = (url_for("image", rel=(fields[0].page_image or "").removeprefix("images/"))
                    if path else "")
        doubted = {f.id: doubts.doubts(f.value, doubts.alternatives(
            f.raw, q.readings(ws(), f.id), f.repairs), tpl.field(f.field).kind.value)
            for f in pending if not tpl.field(f.field).is_box}
        return render_template(
            "form.html", first=fields[0], fields=fields, pending=pending, areas=areas,
            width=width, height=height, page_url=page_url, refused=refused_by,
            doubts=doubted, specs={f.id: tpl.field(f.field) for f in fields},
            choices={f.id: labels.choice_keys(q.allowed_box_values(tpl.field(f.field)))
                     for f in pending if tpl.field(f.field).is_box}), status

    @app.get("/form/<int:page_id>")
    def form_page(page_id: int) -> tuple[str, int]:
        return show_form(page_id)

    @app.post("/form/<int:page_id>")
    def form_post(page_id: int) -> Response | tuple[str, int]:
        overrides = set(request.form.getlist("override"))
        entries = [forms.Entry(i, v, request.form.get(f"value-{i}", ""), str(i) in overrides)
                   for i, v in _versions("item")]
        refused = forms.save_form(ws(), reviewer(), entries, tpl)
        if refused:
            return show_form(page_id, refused, status=422)
        flash(f"{len(entries)} field{'' if len(entries) == 1 else 's'} of this form saved.",
              "ok")
        return redirect(url_for("form_next"))

    # --- page view, marks, progress --------------------------------------------------------

    @app.get("/page/<int:page_id>")
    def page(page_id: int) -> str:
        fields = q.page_fields(ws(), page_id)
        if not fields:
            abort(404, "No form fields on this page.")
        path = images.workspace_image(root, fields[0].page_image)
        width, height = images.image_size(path) if path else (0, 0)
        items = [
            (f, images.field_areas(tpl, tpl.field(f.field), width) if width else [])
            for f in fields
        ]
        page_url = (
            url_for("image", rel=(fields[0].page_image or "").removeprefix("images/"))
            if path else "")
        return render_template("page.html", first=fields[0], items=items, width=width,
                               height=height, page_url=page_url,
                               focus=request.args.get("focus", type=int))

    @app.get("/marks")
    def marks() -> str:
        state = request.args.get("state", "all")
        states = {"ambiguous": ("ambiguous",), "marked": ("marked",),
                  "empty": ("empty",)}.get(state, ("ambiguous", "marked", "empty"))
        return render_template("marks.html", marks=q.marks_sweep(ws(), states), state=state,
                               focus=request.args.get("focus", type=int))

    @app.post("/marks/flip")
    def flip() -> Response:
        mark_id = _int_form("mark_id")
        try:
            q.flip_mark(ws(), mark_id, reviewer(), _int_form("version"), tpl)
        except q.ReviewError as exc:
            flash(str(exc), "conflict")
        state = request.form.get("state", "all")
        # No #anchor: scrolling to a fragment takes the focus away from the flipped tile.
        return redirect(url_for("marks", state=state, focus=mark_id))

    @app.get("/progress")
    def progress_page() -> str:
        return render_template("progress.html", figures=figures.figures(ws()),
                               duration=figures.duration)

    # --- images --------------------------------------------------------------------------

    @app.get("/images/<path:rel>")
    def image(rel: str) -> Response:
        path = images.resolve_image(root, rel)
        if path is None:
            abort(404, "No such image in this workspace.")
        return send_file(path, max_age=3600)

    @app.get("/field/<int:field_id>/image")
    def field_image(field_id: int) -> Response:
        f = _found(lambda: q.get_field(ws(), field_id))
        own = images.workspace_image(root, f.image)
        if own:
            return send_file(own, max_age=3600)
        page_img = images.workspace_image(root, f.page_image)
        if page_img is None:
            abort(404, "This field has no image.")
        return _png(images.field_crop(tpl, tpl.field(f.field), page_img))

    @app.get("/mark/<int:mark_id>/image")
    def mark_image(mark_id: int) -> Response:
        m = _found(lambda: q.get_mark(ws(), mark_id))
        page_img = images.workspace_image(root, m.page_image)
        if page_img is None:
            abort(404, "This box has no page image.")
        return _png(images.option_crop(tpl, tpl.field(m.field), m.option, page_img))


def _png(data: bytes) -> Response:
    resp = Response(data, mimetype="image/png")
    resp.cache_control.max_age = 3600
    resp.cache_control.private = True
    return resp


def _int_form(key: str) -> int:
    try:
        value = int(request.form[key])
    except (KeyError, ValueError):
        abort(400, f"Missing or bad form value {key!r}.")
    if not 0 <= value <= MAX_ID:
        abort(404, f"No such {key.removesuffix('_id')}.")
    return value


def _found(get: Callable[[], T]) -> T:
    try:
        return get()
    except q.NotFound as exc:
        abort(404, str(exc))

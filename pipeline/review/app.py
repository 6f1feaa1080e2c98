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
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException, NotFound

from pipeline.review import images, labels
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
             typed: str | None = None, status: int = 200) -> tuple[str, int]:
        if field is None:
            return render_template("done.html"), status
        spec = tpl.field(field.field)
        return render_template(
            "review.html",
            field=field,
            spec=spec,
            label=labels.field_label(spec),
            choices=labels.choice_keys(q.allowed_box_values(spec)) if spec.is_box else [],
            back=back,
            error=error,
            typed=field.value if typed is None else typed,
            held_by=field.claimed_by_other(reviewer()),
            history=q.history(ws(), field.id),
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
            return show(current, back=back, error=exc.problem, typed=value, status=422)
        except q.Conflict as exc:
            flash(str(exc), "conflict")
            return after(current, back)
        shown = f"«{d.new_value}»" if d.new_value else "empty"
        verb = "confirmed as" if d.action == "confirm" else "corrected to"
        flash(f"{labels.field_label(tpl.field(current.field))} {verb} {shown}. "
              "Alt+U undoes it.", "ok")
        return after(current, back)

    @app.post("/skip")
    def skip() -> Response:
        q.skip(ws(), _int_form("field_id"), reviewer())
        flash("Skipped: it comes back after the other fields.", "ok")
        return redirect(url_for("queue"))

    @app.post("/undo")
    def undo() -> Response:
        try:
            field = q.undo(ws(), reviewer())
        except q.Conflict as exc:
            flash(str(exc), "conflict")
            return redirect(url_for("queue"))
        if field is None:
            flash("Nothing to undo: you have not decided anything yet.", "error")
            return redirect(url_for("queue"))
        shown = f"«{field.value}»" if field.value else "empty"
        flash(f"Undone: {labels.field_label(tpl.field(field.field))} is back to {shown}.", "ok")
        return redirect(url_for("field", field_id=field.id))

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
        states = {"ambiguous": ("ambiguous",), "marked": ("marked",)}.get(
            state, ("ambiguous", "marked"))
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
        return render_template("progress.html")

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

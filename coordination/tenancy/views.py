"""The page where a user who holds roles in several förbund chooses which one to work in."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordination.audit.operations import log_access
from coordination.core.permissions import access
from coordination.extensions import db
from coordination.tenancy import operations
from coordination.tenancy.context import current_id

bp = Blueprint("tenancy", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


@bp.route("/forbund", methods=["GET", "POST"])
@access()
def choose():
    """List the user's förbund; choosing one makes every page and list that förbund's."""
    choices = operations.forbund_of_user(current_user.id)
    session[operations.CHOICES_KEY] = len(choices)
    errors: dict[str, list[str]] = {}
    next_url = _safe_next(request.values.get("next"))
    if request.method == "POST":
        picked = request.form.get("forbund", "")
        if picked.isdigit() and operations.choose(current_user, int(picked)):
            log_access("forbund", int(picked), action="choose")
            db.session.commit()
            return redirect(next_url)
        errors["forbund"] = [_("Välj ett av förbunden i listan.")]
    options = [(str(f.id), f.name) for f in choices]
    form = {"forbund": str(current_id() or "")}
    status = 422 if errors else 200
    return (
        render_template(
            "tenancy/choose.html", options=options, form=form, errors=errors, next_url=next_url
        ),
        status,
    )


def install(app) -> None:
    """Scope each request to the förbund it works in, and leave it at the end.

    A browser's förbund is the one chosen in this session (or the only one the user holds roles
    in); an API call's is its token's (coordination.auth). Runs before every other hook, so the
    user's roles are read within that förbund. A user who holds roles in several förbund and has
    chosen none is sent to the choice first.
    """

    def _enter_session_forbund():
        if request.path.startswith(("/api/", "/static/", "/healthz")):
            return None
        chosen = session.get(operations.SESSION_KEY)
        operations.enter(chosen if isinstance(chosen, int) else None)
        return None

    def _ask_for_a_choice():
        if request.path.startswith(("/api/", "/static/", "/healthz")) or request.endpoint in {
            "tenancy.choose",
            "auth.logout",
            "auth.language",
            "auth.account",
            "static",
        }:
            return None
        if current_id() is not None or not current_user.is_authenticated:
            return None
        if getattr(current_user, "platform_role", None):
            return None  # the installation's own pages (coordination/platform)
        choices = operations.forbund_of_user(current_user.id)
        session[operations.CHOICES_KEY] = len(choices)
        if len(choices) == 1 and operations.choose(current_user, choices[0].id):
            return None
        if choices:
            return redirect(url_for("tenancy.choose", next=request.full_path.rstrip("?")))
        return None

    app.before_request_funcs.setdefault(None, []).insert(0, _enter_session_forbund)
    app.before_request(_ask_for_a_choice)
    app.teardown_request(lambda _exc: operations.leave_request())

    @app.context_processor
    def _forbund():
        return {"current_forbund": operations.current_forbund}

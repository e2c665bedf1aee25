"""Login, logout, language choice and the admin pages for users."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlparse

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from coordination.audit.operations import log_access
from coordination.auth.models import User
from coordination.auth.operations import authenticate, create_user, set_active, set_roles
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import LANGUAGES
from coordination.core.permissions import access
from coordination.extensions import db
from coordination.organisations.models import OrganisationUnit
from workflows.organisation import Role

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and urlparse(target).netloc == "" and target.startswith("/"):
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@access(public=True)
def login():
    """Show the login form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    error = None
    if request.method == "POST":
        email = request.form.get("email", "")
        user = authenticate(email, request.form.get("password", ""))
        if user is None:
            error = _("Fel e-postadress eller lösenord.")
            log_access("login", None, action="login", outcome="failed", user=None)
            db.session.commit()
        else:
            session.clear()  # a fresh session at login: no fixation
            login_user(user)
            now = datetime.now(UTC).timestamp()
            session["login_at"] = now
            session["seen"] = now
            session.permanent = True
            log_access("login", user.id, action="login", user=user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("auth/login.html", error=error), status


@bp.post("/logout")
@access()
def logout():
    """Sign out and end the session."""
    logout_user()
    session.clear()
    flash(_("Du är utloggad."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
@access(public=True)
def language():
    """Switch the interface language."""
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))


def _units() -> list[OrganisationUnit]:
    return list(db.session.scalars(select(OrganisationUnit).order_by(OrganisationUnit.name)))


def _memberships_from_form() -> list[tuple[OrganisationUnit, str]]:
    """Read checkboxes named role-<unit id> into (unit, role) pairs."""
    pairs = []
    for unit in _units():
        for role in request.form.getlist(f"role-{unit.id}"):
            pairs.append((unit, role))
    return pairs


@bp.get("/admin/users")
@access(Role.ADMIN)
def users():
    """List every user with their roles."""
    people = list(db.session.scalars(select(User).order_by(User.name)))
    return render_template("auth/users.html", users=people)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def new_user():
    """Create a user with roles in units."""
    errors: dict = {}
    if request.method == "POST":
        try:
            create_user(
                email=request.form.get("email", ""),
                name=request.form.get("name", ""),
                password=request.form.get("password", ""),
                memberships=_memberships_from_form(),
                locale=request.form.get("locale", "sv"),
                phone=request.form.get("phone") or None,
            )
            log_access("user", None, action="create")
            db.session.commit()
            flash(_("Användaren är skapad."), "success")
            return redirect(url_for(".users"))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template(
        "auth/user_form.html",
        user=None,
        units=_units(),
        roles=list(Role),
        errors=errors,
        form=request.form,
        selected={
            (int(k[5:]), r)
            for k in request.form
            if k.startswith("role-")
            for r in request.form.getlist(k)
        },
    ), (422 if errors else 200)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def edit_user(user_id: int):
    """Change a user's roles, or deactivate and reactivate them."""
    user = db.session.get(User, user_id) or abort(404)
    errors: dict = {}
    if request.method == "POST":
        try:
            if request.form.get("action") == "deactivate":
                set_active(user, False, by=current_user)
                flash(_("Användaren är inaktiverad."), "success")
            elif request.form.get("action") == "activate":
                set_active(user, True, by=current_user)
                flash(_("Användaren är aktiverad igen."), "success")
            else:
                set_roles(user, _memberships_from_form())
                flash(_("Rollerna är sparade."), "success")
            log_access("user", user.id, action="update")
            db.session.commit()
            return redirect(url_for(".users"))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    selected = {(m.unit_id, m.role) for m in user.memberships}
    return render_template(
        "auth/user_form.html",
        user=user,
        units=_units(),
        roles=list(Role),
        errors=errors,
        form=request.form,
        selected=selected,
    ), (422 if errors else 200)

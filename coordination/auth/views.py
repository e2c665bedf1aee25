"""Login, logout, language choice and the admin pages for users."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlparse

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup
from sqlalchemy import select

from coordination.audit.operations import log_access
from coordination.auth import security
from coordination.auth.models import User
from coordination.auth.operations import (
    authenticate,
    create_user,
    set_active,
    set_password,
    set_roles,
)
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
    """Check email and password; then the second factor, or its enrolment."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    error = None
    status = 200
    if request.method == "POST":
        email = request.form.get("email", "")
        if security.is_locked(email):
            error = _("För många misslyckade försök. Vänta 15 minuter och försök igen.")
            status = 429
        else:
            user = authenticate(email, request.form.get("password", ""))
            if user is None:
                security.record_failure(email)
                log_access("login", None, action="login", outcome="failed", user=None)
                db.session.commit()
                error, status = _("Fel e-postadress eller lösenord."), 401
            else:
                next_url = _safe_next(request.args.get("next"))
                session.clear()
                session["pending_user"] = user.id
                session["pending_next"] = next_url
                session["pending_at"] = datetime.now(UTC).timestamp()
                if user.totp_enrolled_at is not None:
                    return redirect(url_for(".second_factor"))
                if security.totp_required():
                    session["enrol_secret"] = security.new_totp_secret()
                    return redirect(url_for(".enrol"))
                return _complete_login(user, email)
    return render_template("auth/login.html", error=error), status


def _pending_user() -> User | None:
    """Return the user who passed the password step in the last five minutes."""
    user_id = session.get("pending_user")
    started = session.get("pending_at", 0)
    if not user_id or datetime.now(UTC).timestamp() - started > 300:
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


def _complete_login(user: User, email: str):
    next_url = session.get("pending_next") or url_for("home.index")
    session.clear()  # a fresh session at login: no fixation
    security.clear_failures(email)
    session["sid"] = security.start_session(user)
    login_user(user)
    now = datetime.now(UTC).timestamp()
    session["login_at"] = now
    session["seen"] = now
    session.permanent = True
    log_access("login", user.id, action="login", user=user)
    db.session.commit()
    return redirect(next_url)


@bp.route("/login/code", methods=["GET", "POST"])
@access(public=True)
def second_factor():
    """Ask for the six-digit code from the authenticator app."""
    user = _pending_user()
    if user is None:
        return redirect(url_for(".login"))
    error, status = None, 200
    if request.method == "POST":
        if security.check_totp(user, request.form.get("code", "")):
            return _complete_login(user, user.email)
        security.record_failure(user.email)
        log_access("login", user.id, action="login", outcome="failed", user=user)
        db.session.commit()
        error, status = _("Koden stämmer inte. Skriv de sex siffrorna som appen visar nu."), 401
    return render_template("auth/code.html", error=error), status


@bp.route("/login/enrol", methods=["GET", "POST"])
@access(public=True)
def enrol():
    """Set up two-factor login the first time: scan the code, confirm with a six-digit code."""
    user = _pending_user()
    secret = session.get("enrol_secret")
    if user is None or not secret:
        return redirect(url_for(".login"))
    error, status = None, 200
    if request.method == "POST":
        if security.check_totp(user, request.form.get("code", ""), secret=secret):
            security.enrol_totp(user, secret)
            return _complete_login(user, user.email)
        error, status = _("Koden stämmer inte. Skriv de sex siffrorna som appen visar nu."), 422
    uri = security.provisioning_uri(user, secret)
    return render_template(
        "auth/enrol.html", error=error, secret=secret, qr=Markup(security.qr_svg(uri))
    ), status


@bp.post("/logout")
@access()
def logout():
    """Sign out and end the session, here and on the server."""
    security.end_session(session.get("sid"), "logout")
    log_access("login", current_user.id, action="logout")
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Du är utloggad."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@access()
def change_password():
    """Change one's own password; every session of the user ends."""
    errors: dict = {}
    if request.method == "POST":
        if authenticate(current_user.email, request.form.get("current", "")) is None:
            errors["current"] = [_("Det nuvarande lösenordet stämmer inte.")]
        if request.form.get("new", "") != request.form.get("confirm", ""):
            errors["confirm"] = [_("Lösenorden är inte lika.")]
        if not errors:
            try:
                set_password(current_user, request.form.get("new", ""))
                log_access("user", current_user.id, action="update")
                db.session.commit()
                logout_user()
                session.clear()
                flash(_("Lösenordet är bytt. Logga in med det nya lösenordet."), "success")
                return redirect(url_for(".login"))
            except ValidationFailed as exc:
                db.session.rollback()
                errors = {"new": exc.errors["password"]}
    return render_template("auth/password.html", errors=errors), (422 if errors else 200)


@bp.post("/language")
@access(public=True)
def language():
    """Switch the interface language."""
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))


def _units(user: User | None = None) -> list[OrganisationUnit]:
    """The units roles can be given in: the active ones, and those the user already has roles in."""
    held = [m.unit_id for m in user.memberships] if user is not None else []
    return list(
        db.session.scalars(
            select(OrganisationUnit)
            .where(OrganisationUnit.active.is_(True) | OrganisationUnit.id.in_(held))
            .order_by(OrganisationUnit.name)
        )
    )


def _memberships_from_form(user: User | None = None) -> list[tuple[OrganisationUnit, str]]:
    """Read checkboxes named role-<unit id> into (unit, role) pairs."""
    pairs = []
    for unit in _units(user):
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
                set_roles(user, _memberships_from_form(user))
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
        units=_units(user),
        roles=list(Role),
        errors=errors,
        form=request.form,
        selected=selected,
    ), (422 if errors else 200)

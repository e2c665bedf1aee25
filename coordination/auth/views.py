"""Login, logout, one's own account, language choice and the admin pages for users."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlparse

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from coordination.audit.operations import log_access
from coordination.auth import activation, security, throttling
from coordination.auth.models import User
from coordination.auth.oidc.providers import providers_for_login
from coordination.auth.oidc.views import provider_logout_url, to_provider
from coordination.auth.operations import (
    authenticate,
    create_user,
    resend_activation,
    revoke_token,
    set_active,
    set_password,
    set_roles,
    token_name,
)
from coordination.auth.queries import active_tokens, own_token
from coordination.auth.security import CodeOutcome
from coordination.auth.throttling import throttled
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import LANGUAGES
from coordination.core.paging import keyset_page
from coordination.core.permissions import access
from coordination.extensions import db
from coordination.organisations import grants
from coordination.organisations.models import Membership, OrganisationUnit, RoleGrant
from coordination.tenancy import operations as tenancy
from workflows.organisation import Role

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and urlparse(target).netloc == "" and target.startswith("/"):
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@access(public=True)
@throttled
def login():
    """Check email and password; then the second factor, or its enrolment."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    error = None
    status = 200
    if request.method == "POST":
        email = request.form.get("email", "")
        locked = throttling.locked_seconds(email)
        if locked:
            return throttling.too_many_attempts(locked)
        user = authenticate(email, request.form.get("password", ""))
        if user is None:
            throttling.record_failure(email)
            log_access("login", None, action="login", outcome="failed", user=None)
            db.session.commit()
            error, status = _("Fel e-postadress eller lösenord."), 401
        else:
            next_url = _safe_next(request.args.get("next"))
            session.clear()
            session["pending_next"] = next_url
            if user.totp_enrolled_at is None and not security.totp_required():
                return _complete_login(user, email)
            enrol_secret = None if user.totp_enrolled_at else security.new_totp_secret()
            session["pending_login"] = security.start_pending_login(user, enrol_secret=enrol_secret)
            db.session.commit()
            return redirect(url_for(".second_factor" if enrol_secret is None else ".enrol"))
    options = providers_for_login()
    return render_template("auth/login.html", error=error, providers_options=options), status


def _pending():
    """Return the live pending login of this browser, or None."""
    return security.pending_login(session.get("pending_login"))


def _back_to_password(message: str):
    """End this browser's pending login and ask for the password again."""
    session.pop("pending_login", None)
    flash(message, "error")
    return redirect(url_for(".login"))


def _complete_login(user: User, email: str):
    next_url = session.get("pending_next") or url_for("home.index")
    session.clear()  # a fresh session at login: no fixation
    throttling.clear_failures(email)
    session["sid"] = security.start_session(user)
    login_user(user)
    now = datetime.now(UTC).timestamp()
    session["login_at"] = now
    session["seen"] = now
    session.permanent = True
    tenancy.after_sign_in(user)  # the sign-in is logged in the user's förbund, when only one
    log_access("login", user.id, action="login", user=user)
    db.session.commit()
    return redirect(next_url)


def _code_answer(pending, outcome: CodeOutcome, template: str, status: int, **context):
    """Answer a code that was not accepted: wrong, too many (password again) or locked."""
    user = pending.user
    if outcome is CodeOutcome.LOCKED:
        seconds = security.code_lock_seconds(user)
        db.session.rollback()
        minutes = max(1, -(-seconds // 60))
        return throttling.too_many_attempts(
            seconds,
            _(
                "För många felaktiga koder. Vänta %(minutes)s minuter och logga in igen.",
                minutes=minutes,
            ),
        )
    log_access("login", user.id, action="login", outcome="failed", user=user)
    db.session.commit()
    if outcome is CodeOutcome.VOIDED:
        return _back_to_password(_("För många felaktiga koder. Logga in igen med ditt lösenord."))
    error = _("Koden stämmer inte. Skriv de sex siffrorna som appen visar nu.")
    return render_template(template, error=error, **context), status


@bp.route("/login/code", methods=["GET", "POST"])
@access(public=True)
@throttled
def second_factor():
    """Ask for the six-digit code from the authenticator app."""
    pending = _pending()
    if pending is None or pending.enrol_secret is not None:
        if "pending_login" in session:
            return _back_to_password(_("Inloggningen har avbrutits. Logga in igen."))
        return redirect(url_for(".login"))
    if request.method == "POST":
        user = pending.user
        outcome = security.verify_code(user, request.form.get("code", ""), pending=pending)
        if outcome is CodeOutcome.ACCEPTED:
            return _complete_login(user, user.email)
        return _code_answer(pending, outcome, "auth/code.html", 401)
    return render_template("auth/code.html", error=None)


@bp.route("/login/enrol", methods=["GET", "POST"])
@access(public=True)
@throttled
def enrol():
    """Set up two-factor login the first time: scan the code, confirm with a six-digit code."""
    pending = _pending()
    if pending is None or pending.enrol_secret is None:
        if "pending_login" in session:
            return _back_to_password(_("Inloggningen har avbrutits. Logga in igen."))
        return redirect(url_for(".login"))
    user, secret = pending.user, pending.enrol_secret
    uri = security.provisioning_uri(user, secret)
    context = {"secret": secret, "qr": Markup(security.qr_svg(uri))}
    if request.method == "POST":
        outcome = security.verify_code(
            user, request.form.get("code", ""), pending=pending, secret=secret
        )
        if outcome is CodeOutcome.ACCEPTED:
            security.enrol_totp(user, secret)
            return _complete_login(user, user.email)
        return _code_answer(pending, outcome, "auth/enrol.html", 422, **context)
    return render_template("auth/enrol.html", error=None, **context)


@bp.post("/logout")
@access()
def logout():
    """Sign out and end the session, here and on the server; then, for a session that began at
    an identity provider that offers it, at the provider too (RP-initiated logout)."""
    record = security.session_alive(current_user.id, session.get("sid"))
    provider_logout = provider_logout_url(record)
    security.end_session(session.get("sid"), "logout")
    log_access("login", current_user.id, action="logout")
    db.session.commit()
    logout_user()
    session.clear()
    if provider_logout is None:
        flash(_("Du är utloggad."), "info")
        return redirect(url_for("auth.login"))
    answer = to_provider(
        provider_logout,
        heading=_("Du är utloggad här"),
        text=_("Du skickas vidare för att logga ut även hos din organisations inloggningstjänst."),
        link=_("Logga ut hos inloggningstjänsten"),
    )
    flash(_("Du är utloggad."), "info")  # after the page: shown when the provider sends back
    return answer


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


@bp.route("/activate", methods=["GET", "POST"])
@access(public=True)
def activate():
    """Choose the password of a new account, with the link its owner was sent (once)."""
    token = request.values.get("t", "")
    user = activation.user_for_activation(token)
    if user is None:
        return render_template("auth/activate.html", token=None, errors={}), 400
    errors: dict = {}
    if request.method == "POST":
        if request.form.get("new", "") != request.form.get("confirm", ""):
            errors["confirm"] = [_("Lösenorden är inte lika.")]
        else:
            try:
                set_password(user, request.form.get("new", ""))
                log_access("user", user.id, action="activate", user=user)
                db.session.commit()
                logout_user()
                session.clear()
                flash(_("Ditt lösenord är sparat. Logga in med det."), "success")
                return redirect(url_for(".login"))
            except ValidationFailed as exc:
                db.session.rollback()
                errors = {"new": exc.errors["password"]}
    return render_template("auth/activate.html", token=token, errors=errors), (
        422 if errors else 200
    )


@bp.get("/account")
@access()
def account():
    """The signed-in user's own account: password and the API tokens that still work."""
    return _account_page({}), 200


def _account_page(errors: dict) -> str:
    return render_template(
        "auth/account.html",
        tokens=active_tokens(current_user),
        token_name=token_name,
        errors=errors,
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@access()
def revoke_api_token(token_id: int):
    """Revoke one of one's own API tokens."""
    token = own_token(current_user, token_id) or abort(404)
    try:
        revoke_token(token)
    except Conflict as exc:
        db.session.rollback()
        return _account_page({"_general": [exc.message]}), 409
    log_access("api_token", token.id, action="revoke")
    db.session.commit()
    flash(_("API-nyckeln %(name)s är återkallad.", name=token_name(token)), "success")
    return redirect(url_for(".account"))


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
    """Read checkboxes named role-<unit id> into (unit, role) pairs; the boxes offer only the
    roles there are, so another value is a malformed request (400), not a database error."""
    roles = {r.value for r in Role}
    pairs = []
    for unit in _units(user):
        for role in request.form.getlist(f"role-{unit.id}"):
            if role not in roles:
                abort(400)
            pairs.append((unit, role))
    return pairs


@bp.get("/admin/users")
@access(Role.ADMIN)
def users():
    """List the users with their roles, by name, a page at a time."""
    people = keyset_page(
        select(User).where(_of_this_forbund()),
        [User.name],
        User.id,
        options=[selectinload(User.memberships).selectinload(Membership.unit)],
    )
    return render_template("auth/users.html", users=people)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def new_user():
    """Create a user with roles in units."""
    errors: dict = {}
    if request.method == "POST":
        try:
            created = create_user(
                email=request.form.get("email", ""),
                name=request.form.get("name", ""),
                memberships=_memberships_from_form(),
                locale=request.form.get("locale", "sv"),
                phone=request.form.get("phone") or None,
                granted_by=current_user,
            )
            log_access("user", None, action="create")
            db.session.commit()
            flash(
                _(
                    "Användaren är skapad och får ett e-postmeddelande med en länk för att välja "
                    "sitt lösenord."
                ),
                "success",
            )
            _flash_waiting(created)
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


def _of_this_forbund():
    """The accounts are the installation's; a förbund's admin sees those who hold, or wait for,
    a role in it (both subqueries are scoped to the current förbund)."""
    return or_(User.id.in_(select(Membership.user_id)), User.id.in_(select(RoleGrant.user_id)))


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def edit_user(user_id: int):
    """Change a user's roles, or deactivate and reactivate them."""
    user = db.session.scalar(select(User).where(User.id == user_id, _of_this_forbund()))
    if user is None:
        abort(404)
    errors: dict = {}
    if request.method == "POST":
        try:
            if request.form.get("action") == "deactivate":
                set_active(user, False, by=current_user)
                flash(_("Användaren är inaktiverad."), "success")
            elif request.form.get("action") == "activate":
                set_active(user, True, by=current_user)
                flash(_("Användaren är aktiverad igen."), "success")
            elif request.form.get("action") == "resend_activation":
                resend_activation(user)
                flash(_("En ny länk för att välja lösenord är skickad till användaren."), "success")
            else:
                set_roles(user, _memberships_from_form(user), by=current_user)
                flash(_("Rollerna är sparade."), "success")
                _flash_waiting(user)
            log_access("user", user.id, action="update")
            db.session.commit()
            return redirect(url_for(".users"))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    waiting = {(g.unit_id, g.role) for g in grants.pending_for(user.id)}
    selected = {(m.unit_id, m.role) for m in user.memberships} | waiting
    return render_template(
        "auth/user_form.html",
        user=user,
        units=_units(user),
        roles=list(Role),
        errors=errors,
        form=request.form,
        selected=selected,
        waiting=waiting,
        awaits_activation=user.active and activation.awaits_activation(user),
    ), (422 if errors else 200)


def _flash_waiting(user: User) -> None:
    """Say which roles wait for a second administrator."""
    if grants.pending_for(user.id):
        flash(
            _(
                "Roller som ger tillgång till ärenden eller loggen gäller först när en annan "
                "administratör har godkänt dem."
            ),
            "info",
        )

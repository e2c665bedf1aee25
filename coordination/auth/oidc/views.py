"""Signing in through an organisation unit's identity provider, and the admins' settings for it.

POST /login/oidc sends the browser to the chosen unit's provider; GET /login/oidc/callback is
where it comes back (the one redirect URI for every provider: the flow in the browser's session
says which). Each refusal is a page in plain language, a "failed" login row in the access log and
a log line with the reason code and the unit, never anything about the person.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_user

from coordination.audit.operations import log_access
from coordination.auth import security
from coordination.auth.models import OIDC_CLAIMS, OidcProvider, User, UserSession
from coordination.auth.oidc import identities, providers
from coordination.auth.oidc.protocol import (
    Client,
    SignInFailed,
    Verified,
    begin,
    check_state,
    discover,
    finish,
    logout_url,
)
from coordination.auth.throttling import throttled
from coordination.core.errors import ValidationFailed
from coordination.core.parsing import is_digits
from coordination.core.permissions import access
from coordination.extensions import db
from coordination.organisations.models import OrganisationUnit
from coordination.tenancy import operations as tenancy
from workflows.organisation import Role

bp = Blueprint("oidc", __name__)
log = logging.getLogger(__name__)

FLOW_KEY = "oidc_flow"


def _redirect_uri() -> str:
    return current_app.config["COORD"]["BASE_URL"].rstrip("/") + url_for("oidc.callback")


def _client(provider: OidcProvider) -> Client:
    secret = providers.client_secret(provider)
    if secret is None:
        raise SignInFailed("configuration")
    return Client(provider.issuer, provider.client_id, secret, _redirect_uri())


def _messages() -> dict[str, str]:
    unreachable = _(
        "Det gick inte att nå din organisations inloggningstjänst. Försök igen om en stund. "
        "Kontakta din it-support om felet finns kvar."
    )
    again = _("Inloggningen kunde inte slutföras. Börja om från inloggningssidan.")
    invalid = _(
        "Svaret från inloggningstjänsten gick inte att lita på, så du är inte inloggad. "
        "Försök igen. Kontakta förbundets administratör om felet finns kvar."
    )
    return {
        "provider_unreachable": unreachable,
        "discovery_issuer": unreachable,
        "discovery_incomplete": unreachable,
        "configuration": _(
            "Inloggning med e-legitimation är inte färdigställd för din organisation. Kontakta "
            "förbundets administratör."
        ),
        "state": again,
        "flow_expired": _("Inloggningen tog för lång tid. Börja om från inloggningssidan."),
        "missing_code": again,
        "token_endpoint": again,
        "provider_error": _(
            "Inloggningstjänsten avbröt inloggningen. Börja om från inloggningssidan."
        ),
        "signature": invalid,
        "unknown_identity": _(
            "Din e-legitimation hör inte till något konto här. Be förbundets administratör att "
            "lägga in ditt HSA-id, personnummer eller din e-postadress på ditt konto."
        ),
        "wrong_organisation": _(
            "Din organisations inloggningstjänst kan inte logga in det här kontot. Välj den "
            "organisation där du har din roll."
        ),
        "deactivated": _("Ditt konto är inaktiverat. Kontakta förbundets administratör."),
        "email_unverified": _(
            "Inloggningstjänsten har inte bekräftat din e-postadress. Kontakta din it-support."
        ),
        "assurance": _(
            "Din roll ger tillgång till ärenden och kräver en e-legitimation med högre "
            "tillitsnivå (till exempel SITHS-kort eller BankID). Logga in igen med en sådan."
        ),
    }


def _message(reason: str) -> str:
    messages = _messages()
    if reason.startswith("claim_"):
        return (
            messages["signature"]
            if reason not in ("claim_missing", "claim_malformed")
            else (messages["unknown_identity"])
        )
    return messages.get(reason, messages["state"])


STATUS = {
    "provider_unreachable": 502,
    "discovery_issuer": 502,
    "discovery_incomplete": 502,
    "configuration": 503,
    "unknown_identity": 403,
    "wrong_organisation": 403,
    "deactivated": 403,
    "assurance": 403,
    "email_unverified": 403,
}


def _refuse(reason: str, *, unit_id: int | None = None, user: User | None = None):
    """Answer a failed sign-in: a clear page, a failed login in the access log, a log line."""
    db.session.rollback()
    log.warning("oidc sign-in refused: reason=%s unit=%s", reason, unit_id)
    log_access("login", None, action="login", outcome="failed", user=user, unit_id=unit_id)
    db.session.commit()
    page = render_template("auth/oidc_refused.html", message=_message(reason), reason=reason)
    return page, STATUS.get(reason, 401)


def _local(target: str) -> bool:
    """Tell whether a next address stays on this site (a path, never //host or /\\host)."""
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


@bp.post("/login/oidc")
@access(public=True)
@throttled
def start():
    """Send the browser to the chosen unit's identity provider."""
    raw = request.form.get("unit", "")
    provider = providers.provider_for_unit(int(raw)) if is_digits(raw) and len(raw) < 10 else None
    if provider is not None:
        tenancy.enter(provider.forbund_id)  # the unit is read within its förbund
    if provider is None or not provider.unit.active:
        options = providers.providers_for_login()
        return render_template(
            "auth/login.html",
            error=None,
            unit_error=_("Välj din organisation i listan."),
            providers_options=options,
        ), 422
    try:
        url, flow = begin(_client(provider), providers.requested_acr_values(provider))
    except SignInFailed as failure:
        return _refuse(failure.reason, unit_id=provider.unit_id)
    next_url = request.args.get("next") or ""
    session.pop(FLOW_KEY, None)
    session[FLOW_KEY] = {
        **flow,
        "provider_id": provider.id,
        "unit_id": provider.unit_id,
        "next": next_url if _local(next_url) else "",
    }
    return to_provider(
        url,
        heading=_("Du skickas till din organisations inloggning"),
        text=_("Om inget händer, fortsätt med knappen."),
        link=_("Fortsätt till inloggningen"),
    )


def to_provider(target: str, *, heading: str, text: str, link: str):
    """Send the browser to the provider from a page (a meta refresh and a link), not by
    redirecting the form's POST: CSP's form-action 'self' stops a form's redirect elsewhere."""
    page = render_template(
        "auth/oidc_redirect.html", target=target, heading=heading, text=text, link=link
    )
    return page, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.get("/login/oidc/callback")
@access(public=True)
def callback():
    """Finish the sign-in: state, code, ID token, the account and its assurance level."""
    flow = session.pop(FLOW_KEY, None)  # one use, whatever happens
    unit_id = flow.get("unit_id") if isinstance(flow, dict) else None
    try:
        check_state(flow, request.args.get("state"))
        assert isinstance(flow, dict)
        if request.args.get("error"):
            raise SignInFailed("provider_error")
        provider = db.session.get(OidcProvider, flow.get("provider_id"))
        if provider is not None:
            tenancy.enter(provider.forbund_id)  # the sign-in is within the unit's förbund
        if provider is None or provider.unit_id != unit_id or not provider.unit.active:
            raise SignInFailed("configuration")
        verified = finish(_client(provider), flow, request.args.get("code"))
        user = identities.match_user(provider, verified.claims)
    except SignInFailed as failure:
        return _refuse(failure.reason, unit_id=unit_id)
    if not providers.vouches_for(provider, user):
        return _refuse("wrong_organisation", unit_id=unit_id, user=user)
    acr = verified.claims.get("acr")
    acr = acr if isinstance(acr, str) else None
    for minimum in providers.required_levels(user, provider):
        if not providers.meets(acr, minimum):
            return _refuse("assurance", unit_id=unit_id, user=user)
    return _sign_in(user, provider, verified, _assurance(acr, verified.claims), flow)


def _assurance(acr: str | None, claims: dict) -> str | None:
    """Return what is recorded of the assurance: the acr and, if given, the amr values."""
    amr = claims.get("amr")
    parts = [acr] if acr else []
    if isinstance(amr, list) and all(isinstance(a, str) for a in amr) and amr:
        parts.append("amr=" + ",".join(amr))
    return " ".join(parts)[:200] or None


def _claim_text(claims: dict, name: str) -> str | None:
    value = claims.get(name)
    return value[:255] if isinstance(value, str) and value else None


def _sign_in(user: User, provider: OidcProvider, verified: Verified, assurance: str | None, flow):
    next_url = flow.get("next") or url_for("home.index")
    session.clear()  # a fresh session at login: no fixation
    session["sid"] = security.start_session(
        user,
        method="oidc",
        assurance=assurance,
        provider_id=provider.id,
        id_token=verified.id_token,
        provider_sub=_claim_text(verified.claims, "sub"),
        provider_sid=_claim_text(verified.claims, "sid"),
    )
    login_user(user)
    now = datetime.now(UTC).timestamp()
    session["login_at"] = now
    session["seen"] = now
    session.permanent = True
    tenancy.after_sign_in(user)
    tenancy.choose(user, provider.forbund_id)  # the förbund of the unit they signed in through
    log_access("login", user.id, action="login", user=user, assurance=assurance or "none")
    db.session.commit()
    log.info("oidc sign-in: unit=%s", provider.unit_id)
    return redirect(next_url)


def provider_logout_url(record: UserSession | None) -> str | None:
    """Return where RP-initiated logout sends the browser, or None (a password session, or a
    provider without end_session_endpoint or out of reach: the local logout stands alone)."""
    if record is None or record.method != "oidc" or record.provider_id is None:
        return None
    provider = db.session.get(OidcProvider, record.provider_id)
    id_token = record.id_token
    if provider is None or not id_token:
        return None
    try:
        endpoint = discover(provider.issuer).get("end_session_endpoint")
    except SignInFailed as failure:
        log.warning("oidc logout without the provider: reason=%s", failure.reason)
        return None
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        return None
    base = current_app.config["COORD"]["BASE_URL"].rstrip("/")
    return logout_url(
        endpoint,
        id_token=id_token,
        client_id=provider.client_id,
        post_logout_redirect_uri=base + url_for("auth.login"),
    )


# --- the admins' pages ------------------------------------------------------------------------


def _claim_options() -> list[tuple[str, str]]:
    names = {
        "hsa_id": _("HSA-id (hsa_id)"),
        "personnummer": _("Personnummer (personnummer)"),
        "email": _("E-postadress (email)"),
    }
    return [(claim, names[claim]) for claim in OIDC_CLAIMS]


@bp.route("/admin/units/<int:unit_id>/sign-in", methods=["GET", "POST"])
@access(Role.ADMIN)
def provider_settings(unit_id: int):
    """Set the unit's identity provider, or take it away."""
    unit = db.session.get(OrganisationUnit, unit_id) or abort(404)
    provider = providers.provider_for_unit(unit.id)
    errors: dict = {}
    form: dict = {
        "issuer": provider.issuer if provider else "",
        "client_id": provider.client_id if provider else "",
        "secret_env": provider.secret_env if provider else "",
        "claim": provider.claim if provider else "hsa_id",
        "min_acr": (provider.min_acr or "") if provider else "",
    }
    if request.method == "POST":
        if request.form.get("action") == "remove":
            if providers.remove_provider(unit):
                log_access("organisation_unit", unit.id, action="update")
                db.session.commit()
            flash(_("%(name)s loggar nu in med lösenord och kod.", name=unit.name), "success")
            return redirect(url_for("organisations.edit_unit", unit_id=unit.id))
        form = request.form
        try:
            providers.save_provider(
                unit,
                issuer=request.form.get("issuer"),
                client_id=request.form.get("client_id"),
                secret_env=request.form.get("secret_env"),
                claim=request.form.get("claim"),
                min_acr=request.form.get("min_acr"),
            )
            log_access("organisation_unit", unit.id, action="update")
            db.session.commit()
            flash(_("Inloggningen för %(name)s är sparad.", name=unit.name), "success")
            return redirect(url_for("organisations.edit_unit", unit_id=unit.id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template(
        "auth/oidc_provider.html",
        unit=unit,
        provider=provider,
        claims=_claim_options(),
        levels=[(level, level) for level in providers.acr_order()],
        redirect_uri=_redirect_uri(),
        secret_set=provider is not None and providers.client_secret(provider) is not None,
        errors=errors,
        form=form,
    ), (422 if errors else 200)


@bp.route("/admin/users/<int:user_id>/identity", methods=["GET", "POST"])
@access(Role.ADMIN)
def identity(user_id: int):
    """Set the HSA-id and personnummer a provider's sign-in is matched by."""
    user = db.session.get(User, user_id) or abort(404)
    errors: dict = {}
    form: dict = {"hsa_id": user.hsa_id or ""}
    if request.method == "POST":
        form = request.form
        try:
            identities.set_identity(
                user,
                hsa_id=request.form.get("hsa_id"),
                personnummer=request.form.get("personnummer"),
                clear=request.form.get("clear_personnummer") == "on",
            )
            log_access("user", user.id, action="update")
            db.session.commit()
            flash(_("Uppgifterna för inloggning med e-legitimation är sparade."), "success")
            return redirect(url_for("auth.edit_user", user_id=user.id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template("auth/identity.html", user=user, errors=errors, form=form), (
        422 if errors else 200
    )

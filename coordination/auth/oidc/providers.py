"""The units' identity providers, kept by admins, and the assurance levels they must reach.

A provider's client secret is read from the environment variable the admin names (the name is
stored, never the secret). An issuer is an https URL; http is accepted only on this machine
(127.0.0.1, localhost) for development and the tests.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlparse

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from coordination.auth.models import OIDC_CLAIMS, OidcProvider, User, UserSession
from coordination.core.errors import ValidationFailed
from coordination.extensions import db
from coordination.organisations.models import OrganisationUnit
from workflows.organisation import CASE_CONTENT_ROLES

ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,99}$")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def provider_for_unit(unit_id: int) -> OidcProvider | None:
    """Return the unit's provider, or None (its people sign in with password and code)."""
    return db.session.scalar(select(OidcProvider).where(OidcProvider.unit_id == unit_id))


def providers_for_login() -> list[tuple[str, str]]:
    """Return the login page's choice: (unit id, unit name) of every unit in use with a
    provider, by name, each unit read within its own förbund (and named with it when units of
    several förbund sign in through a provider)."""
    from coordination.tenancy.context import use
    from coordination.tenancy.models import Forbund

    forbund = {f.id: f.name for f in db.session.scalars(select(Forbund).where(Forbund.active))}
    options = []
    used = {f for f in db.session.scalars(select(OidcProvider.forbund_id).distinct()) if f}
    shown = sorted(used & set(forbund))
    for forbund_id in shown:
        with use(forbund_id):
            for unit_id, name in db.session.execute(
                select(OrganisationUnit.id, OrganisationUnit.name)
                .join(OidcProvider, OrganisationUnit.id == OidcProvider.unit_id)
                .where(OrganisationUnit.active.is_(True))
            ):
                label = f"{name} ({forbund[forbund_id]})" if len(shown) > 1 else name
                options.append((str(unit_id), label))
    return sorted(options, key=lambda option: option[1])


def client_secret(provider: OidcProvider) -> str | None:
    """Return the client secret from the environment variable the provider names, or None."""
    return os.environ.get(provider.secret_env) or None


def acr_order() -> list[str]:
    """Return the known assurance levels, lowest first (COORD_OIDC_ACR_ORDER)."""
    return [str(v) for v in current_app.config["COORD"]["OIDC_ACR_ORDER"]]


def meets(acr: str | None, minimum: str | None) -> bool:
    """Tell whether an assurance level reaches a minimum (an unknown level reaches none)."""
    if not minimum:
        return True
    order = acr_order()
    if acr not in order or minimum not in order:
        return False
    return order.index(acr) >= order.index(minimum)


def _case_minimum() -> str | None:
    value = current_app.config["COORD"]["OIDC_CASE_CONTENT_MIN_ACR"]
    return str(value) if value and value != "none" else None


def session_assurance_holds(user: User, record: UserSession) -> bool:
    """Tell whether a live session's assurance still suffices for the user's roles now.

    A person who signed in at a low level and has since been given a role that sees case content
    is signed out at their next request, rather than reading cases at that level.
    """
    minimum = _case_minimum()
    if record.method != "oidc" or minimum is None or not user.has_any_role(CASE_CONTENT_ROLES):
        return True
    acr = (record.assurance or "").split(" amr=")[0] or None
    return meets(acr, minimum)


def required_levels(user: User, provider: OidcProvider) -> list[str]:
    """Return the minima a sign-in must reach: the provider's own, and the one for case content."""
    levels = [provider.min_acr] if provider.min_acr else []
    case_minimum = _case_minimum()
    if case_minimum and user.has_any_role(CASE_CONTENT_ROLES):
        levels.append(case_minimum)
    return levels


def requested_acr_values(provider: OidcProvider) -> list[str]:
    """Return the acr_values to ask for: the known levels from the provider's minimum up."""
    order = acr_order()
    if provider.min_acr in order:
        return order[order.index(provider.min_acr) :]
    return order


def vouches_for(provider: OidcProvider, user: User) -> bool:
    """Tell whether the user belongs to a unit that signs in through this provider's issuer.

    A provider speaks only for its own organisation's people: an account in another organisation
    cannot be signed in by it, whatever its claims say.
    """
    unit_ids = [m.unit_id for m in user.memberships]
    if not unit_ids:
        return False
    return (
        db.session.scalar(
            select(OidcProvider.id)
            .where(OidcProvider.unit_id.in_(unit_ids), OidcProvider.issuer == provider.issuer)
            .limit(1)
        )
        is not None
    )


def _issuer_problem(issuer: str) -> str | None:
    parsed = urlparse(issuer)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        return _("Skriv utfärdarens adress, till exempel https://idp.example.se.")
    if parsed.scheme == "http" and parsed.hostname not in LOCAL_HOSTS:
        return _("Utfärdarens adress ska börja med https://.")
    if parsed.query or parsed.fragment:
        return _("Utfärdarens adress får inte ha frågor eller fragment (? eller #).")
    return None


def save_provider(
    unit: OrganisationUnit,
    *,
    issuer: str | None,
    client_id: str | None,
    secret_env: str | None,
    claim: str | None,
    min_acr: str | None,
) -> OidcProvider:
    """Set a unit's provider; every error at once, nothing saved on error."""
    errors: dict[str, list[str]] = {}
    issuer = (issuer or "").strip()
    client_id = (client_id or "").strip()
    secret_env = (secret_env or "").strip()
    min_acr = (min_acr or "").strip() or None
    problem = _issuer_problem(issuer) if len(issuer) <= 500 else _("Skriv högst 500 tecken.")
    if problem:
        errors["issuer"] = [problem]
    if not client_id:
        errors["client_id"] = [_("Skriv klient-id:t som utfärdaren gav förbundet.")]
    elif len(client_id) > 200:
        errors["client_id"] = [_("Skriv högst %(max)s tecken.", max=200)]
    if not ENV_NAME.match(secret_env):
        errors["secret_env"] = [
            _(
                "Skriv namnet på miljövariabeln med klienthemligheten: versaler, siffror och "
                "understreck, till exempel OIDC_REGION_SECRET."
            )
        ]
    if claim not in OIDC_CLAIMS:
        errors["claim"] = [_("Välj vilket påstående som identifierar användaren.")]
    if min_acr is not None and min_acr not in acr_order():
        errors["min_acr"] = [_("Välj en tillitsnivå i listan.")]
    if errors:
        raise ValidationFailed(_("Inloggningen kunde inte sparas."), errors=errors)
    provider = provider_for_unit(unit.id)
    if provider is None:
        provider = OidcProvider(unit_id=unit.id, forbund_id=unit.forbund_id)
        db.session.add(provider)
    provider.issuer = issuer
    provider.client_id = client_id
    provider.secret_env = secret_env
    provider.claim = str(claim)
    provider.min_acr = min_acr
    db.session.flush()
    return provider


def remove_provider(unit: OrganisationUnit) -> bool:
    """Take a unit's provider away (its people sign in with password and code); tell if one was."""
    provider = provider_for_unit(unit.id)
    if provider is None:
        return False
    db.session.delete(provider)
    db.session.flush()
    return True

"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0): the provider ends our sessions.

The provider POSTs a signed logout token naming its subject (sub) and/or its session (sid); the
sessions that began with that provider's sign-in for them end at once (end reason
"provider_logout"). The token is checked like an ID token (signature against the JWKS, iss, aud,
iat with the clock skew) plus the logout event and no nonce; only a configured provider's issuer
is ever asked for keys. A bad token is a 400 and a log line, and ends nothing.
"""

from __future__ import annotations

import logging

from flask import request
from sqlalchemy import select, update

from coordination.audit.operations import log_access
from coordination.auth.models import OidcProvider, User, UserSession
from coordination.auth.oidc.protocol import SignInFailed, unverified_issuer, verify_logout_token
from coordination.auth.oidc.views import bp
from coordination.core.db import utcnow
from coordination.core.permissions import access
from coordination.extensions import csrf, db

log = logging.getLogger(__name__)
NO_STORE = {"Cache-Control": "no-store"}


def _answer(status: int, reason: str | None = None):
    if reason:
        log.warning("oidc back-channel logout refused: reason=%s", reason)
    return ("", status, NO_STORE)


@bp.post("/login/oidc/backchannel-logout")
@access(public=True)
@csrf.exempt
def backchannel_logout():
    """End the sessions a provider's logout token names."""
    token = request.form.get("logout_token", "")
    issuer = unverified_issuer(token) if token and len(token) < 20_000 else None
    providers = (
        list(db.session.scalars(select(OidcProvider).where(OidcProvider.issuer == issuer)))
        if issuer
        else []
    )
    if not providers:
        return _answer(400, "unknown_issuer")
    try:
        claims = verify_logout_token(token, issuer, sorted({p.client_id for p in providers}))
    except SignInFailed as failure:
        return _answer(400, failure.reason)
    audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    ids = [p.id for p in providers if p.client_id in audience]
    named = select(UserSession.id, UserSession.user_id).where(
        UserSession.provider_id.in_(ids), UserSession.ended_at.is_(None)
    )
    if claims.get("sid"):
        named = named.where(UserSession.provider_sid == str(claims["sid"]))
    if claims.get("sub"):
        named = named.where(UserSession.provider_sub == str(claims["sub"]))
    rows = db.session.execute(named).all()
    if rows:
        db.session.execute(
            update(UserSession)
            .where(UserSession.id.in_([r.id for r in rows]))
            .values(ended_at=utcnow(), end_reason="provider_logout")
        )
        for user_id in sorted({r.user_id for r in rows}):
            log_access("login", user_id, action="logout", user=db.session.get(User, user_id))
    db.session.commit()
    log.info("oidc back-channel logout: sessions=%s", len(rows))
    return _answer(200)

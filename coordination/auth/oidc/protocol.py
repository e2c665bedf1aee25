"""The OpenID Connect authorization code flow with PKCE, on Authlib (DOMAIN.md §15).

`begin` discovers the provider (its /.well-known/openid-configuration, whose issuer must be the
configured one) and returns the URL to send the browser to, with the flow's secrets (state, nonce,
PKCE verifier) for the browser's session. `finish` checks the state, exchanges the code at the
token endpoint (client_secret_basic, the verifier), and validates the ID token against the
provider's JWKS: signature (only the algorithms the provider advertises, never "none"), iss, aud,
azp, exp and iat with a bounded clock skew, nonce and at_hash. Nothing is cached: a sign-in is rare
and a provider that rotated its keys is then seen at once.

Every failure raises SignInFailed with a reason code (never personal data) that the page and the
log name.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from flask import current_app
from joserfc import jws, jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

SCOPE = "openid email"
FLOW_LIFETIME_SECONDS = 600  # from the redirect to the provider until the browser comes back
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")


class SignInFailed(Exception):
    """A sign-in through a provider that did not succeed; `reason` says at which step."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Client:
    """What the relying party needs of one provider."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass(frozen=True)
class Verified:
    """A validated ID token: its claims and the raw token (for RP-initiated logout)."""

    claims: dict[str, Any]
    id_token: str
    end_session_endpoint: str | None


def _timeout() -> float:
    return float(current_app.config["COORD"]["OIDC_HTTP_TIMEOUT_SECONDS"])


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=_timeout(), headers={"Accept": "application/json"})
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise SignInFailed("provider_unreachable") from exc
    if not isinstance(body, dict):
        raise SignInFailed("provider_unreachable")
    return body


def discover(issuer: str) -> dict[str, Any]:
    """Return the provider's metadata; its issuer must be exactly the configured one."""
    metadata = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if metadata.get("issuer") != issuer:
        raise SignInFailed("discovery_issuer")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(key), str):
            raise SignInFailed("discovery_incomplete")
    return metadata


def begin(client: Client, acr_values: list[str]) -> tuple[str, dict[str, Any]]:
    """Return the provider's authorization URL and the flow to keep in the browser's session."""
    metadata = discover(client.issuer)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters, within PKCE's 43 to 128
    session = OAuth2Session(
        client.client_id,
        scope=SCOPE,
        redirect_uri=client.redirect_uri,
        code_challenge_method="S256",
    )
    extra = {"acr_values": " ".join(acr_values)} if acr_values else {}
    url, _state = session.create_authorization_url(
        metadata["authorization_endpoint"],
        state=state,
        code_verifier=verifier,
        nonce=nonce,
        **extra,
    )
    flow = {"state": state, "nonce": nonce, "verifier": verifier, "started": time.time()}
    return url, flow


def check_state(flow: dict[str, Any] | None, state: str | None) -> None:
    """Refuse a callback whose state is not the one this browser's flow sent (or has lapsed)."""
    if not isinstance(flow, dict) or not isinstance(flow.get("state"), str):
        raise SignInFailed("state")
    if not state or not hmac.compare_digest(flow["state"], state):
        raise SignInFailed("state")
    if time.time() - float(flow.get("started", 0)) > FLOW_LIFETIME_SECONDS:
        raise SignInFailed("flow_expired")


def finish(client: Client, flow: dict[str, Any], code: str | None) -> Verified:
    """Exchange the code and return the validated ID token (the state was checked already)."""
    if not code:
        raise SignInFailed("missing_code")
    metadata = discover(client.issuer)
    session = OAuth2Session(
        client.client_id,
        client.client_secret,
        redirect_uri=client.redirect_uri,
        token_endpoint_auth_method="client_secret_basic",
    )
    try:
        token = session.fetch_token(
            metadata["token_endpoint"],
            grant_type="authorization_code",
            code=code,
            code_verifier=flow["verifier"],
            timeout=_timeout(),
        )
    except requests.RequestException as exc:
        raise SignInFailed("provider_unreachable") from exc
    except (AuthlibBaseError, ValueError, KeyError) as exc:
        raise SignInFailed("token_endpoint") from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SignInFailed("token_endpoint")
    claims = _validate(client, metadata, id_token, flow["nonce"], token.get("access_token"))
    end_session = metadata.get("end_session_endpoint")
    return Verified(claims, id_token, end_session if isinstance(end_session, str) else None)


def _decode(metadata: dict[str, Any], token: str) -> jwt.Token:
    """Verify a token's signature with the provider's JWKS (its advertised algorithms only)."""
    advertised = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in advertised if a in SIGNING_ALGORITHMS]
    keys = _get_json(metadata["jwks_uri"])
    try:
        key_set = KeySet.import_key_set(keys)  # type: ignore[arg-type]
        return jwt.decode(token, key_set, algorithms=algorithms)
    except (JoseError, ValueError, TypeError) as exc:
        raise SignInFailed("signature") from exc


def _validate(
    client: Client, metadata: dict[str, Any], id_token: str, nonce: str, access_token: Any
) -> dict[str, Any]:
    decoded = _decode(metadata, id_token)
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {
            "iss": {"essential": True, "value": client.issuer},
            "aud": {"essential": True, "value": client.client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
        },
        {
            "nonce": nonce,
            "client_id": client.client_id,
            **({"access_token": access_token} if isinstance(access_token, str) else {}),
        },
    )
    skew = int(current_app.config["COORD"]["OIDC_CLOCK_SKEW_SECONDS"])
    try:
        claims.validate(leeway=skew)
    except ExpiredTokenError as exc:
        raise SignInFailed("claim_exp") from exc
    except ClaimError as exc:
        raise SignInFailed(f"claim_{_claim_name(exc)}") from exc
    except JoseError as exc:
        raise SignInFailed("claims") from exc
    if "nonce" not in claims:  # Authlib checks it only when present; this flow always sends one
        raise SignInFailed("claim_nonce")
    return dict(claims)


KNOWN_CLAIMS = ("iss", "aud", "azp", "sub", "exp", "iat", "nonce", "at_hash", "auth_time", "amr")


def _claim_name(exc: ClaimError) -> str:
    """Return which registered claim failed (for the log), or "other"."""
    names = str(getattr(exc, "claim", "")).split(",")  # a missing set comes comma-separated
    return names[0] if names[0] in KNOWN_CLAIMS else "other"


def logout_url(
    end_session_endpoint: str, *, id_token: str, client_id: str, post_logout_redirect_uri: str
) -> str:
    """Return the provider's end-session URL for RP-initiated logout."""
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": client_id,
            "post_logout_redirect_uri": post_logout_redirect_uri,
        }
    )
    separator = "&" if "?" in end_session_endpoint else "?"
    return f"{end_session_endpoint}{separator}{query}"


BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def unverified_issuer(token: str) -> str | None:
    """Return the iss a token claims, unverified: only to pick which configured provider to ask."""
    try:
        payload = json.loads(jws.extract_compact(token.encode("ascii")).payload)
    except (JoseError, ValueError, UnicodeError):
        return None
    issuer = payload.get("iss") if isinstance(payload, dict) else None
    return issuer if isinstance(issuer, str) else None


def verify_logout_token(token: str, issuer: str, client_ids: list[str]) -> dict[str, Any]:
    """Validate a back-channel logout token (OpenID Connect Back-Channel Logout 1.0, 2.6)."""
    decoded = _decode(discover(issuer), token)
    skew = int(current_app.config["COORD"]["OIDC_CLOCK_SKEW_SECONDS"])
    registry = JWTClaimsRegistry(
        leeway=skew,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "values": client_ids},  # type: ignore[typeddict-item]
        iat={"essential": True},
        events={"essential": True},
    )
    claims = decoded.claims
    try:
        registry.validate(claims)
    except ClaimError as exc:
        raise SignInFailed(f"claim_{_claim_name(exc)}") from exc
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise SignInFailed("logout_token")
    if "nonce" in claims or not (claims.get("sid") or claims.get("sub")):
        raise SignInFailed("logout_token")
    return claims

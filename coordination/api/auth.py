"""POST /api/v1/auth/token."""

from __future__ import annotations

from flask import current_app, jsonify
from marshmallow import RAISE, Schema, fields

from coordination.api import bp
from coordination.api.registry import endpoint, json_body
from coordination.audit.operations import log_access
from coordination.auth import security
from coordination.auth.operations import authenticate, issue_token
from coordination.core.errors import problem
from coordination.extensions import db


class TokenRequestSchema(Schema):
    """Credentials for a token."""

    class Meta:
        unknown = RAISE

    email = fields.String(required=True)
    password = fields.String(required=True)
    otp = fields.String(load_default=None)


class TokenSchema(Schema):
    """A bearer token and when it expires."""

    token = fields.String()
    expires_at = fields.AwareDateTime()


@endpoint(
    bp,
    "POST",
    "/auth/token",
    "Exchange email and password for a bearer token",
    body=TokenRequestSchema,
    response=TokenSchema,
    public=True,
)
def token():
    """Issue a bearer token for valid credentials."""
    data = TokenRequestSchema().load(json_body())
    if security.is_locked(data["email"]):
        return problem(429, "Too Many Requests", "Too many failed attempts; wait 15 minutes.")
    user = authenticate(data["email"], data["password"])
    second_factor_ok = user is not None and (
        security.check_totp(user, data["otp"] or "")
        if user.totp_enrolled_at is not None or security.totp_required()
        else True
    )
    if user is None or not second_factor_ok:
        security.record_failure(data["email"])
        log_access("login", None, action="login", outcome="failed", user=None)
        db.session.commit()
        detail = "Wrong email or password." if user is None else "Wrong or missing one-time code."
        return problem(401, "Unauthorized", detail)
    security.clear_failures(data["email"])
    secret, expires_at = issue_token(user, int(current_app.config["COORD"]["API_TOKEN_HOURS"]))
    log_access("login", user.id, action="login", user=user)
    db.session.commit()
    return jsonify(TokenSchema().dump({"token": secret, "expires_at": expires_at}))

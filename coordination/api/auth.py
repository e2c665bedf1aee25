"""POST /api/v1/auth/token, and the caller's own tokens: list and revoke."""

from __future__ import annotations

import logging

from flask import current_app, jsonify
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import RAISE, Schema, fields, validate

from coordination.api import bp
from coordination.api.registry import endpoint, json_body
from coordination.audit.operations import log_access
from coordination.auth import security, throttling
from coordination.auth.operations import authenticate, issue_token, revoke_token
from coordination.auth.queries import active_tokens, own_token
from coordination.auth.security import CodeOutcome
from coordination.core.errors import NotFound, ValidationFailed, problem
from coordination.extensions import db
from coordination.tenancy.operations import enter, forbund_of_user

logger = logging.getLogger(__name__)


class TokenRequestSchema(Schema):
    """Credentials for a token, and a label to know it by later."""

    class Meta:
        unknown = RAISE

    email = fields.String(required=True)
    password = fields.String(required=True)
    otp = fields.String(load_default=None)
    label = fields.String(load_default=None, validate=validate.Length(max=100))
    # The förbund the token works in, by its short name: required when the user holds roles in
    # several (DOMAIN.md §14); the only one otherwise.
    forbund = fields.String(load_default=None, validate=validate.Length(max=40))


class TokenSchema(Schema):
    """A bearer token and when it expires."""

    token = fields.String()
    expires_at = fields.AwareDateTime()


class TokenInfoSchema(Schema):
    """One of the caller's tokens that still work: never the secret."""

    id = fields.Integer()
    label = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    last_used_at = fields.AwareDateTime(allow_none=True)
    expires_at = fields.AwareDateTime()


def _refused(reason: str, user=None):
    """Count and log a refused token request; answer the same whatever the reason.

    Wrong password, wrong or missing code and a locked code step answer alike, so the answer does
    not tell whether the password was right; the server's log and the access log keep the reason
    (the access log names the account only when its password was right, as the login page does).
    """
    logger.warning("API token refused: %s (user id %s)", reason, user.id if user else "-")
    log_access("login", user.id if user else None, action="login", outcome="failed", user=user)
    db.session.commit()
    return problem(401, "Unauthorized", _("Fel e-postadress, lösenord eller engångskod."))


@endpoint(
    bp,
    "POST",
    "/auth/token",
    "Exchange email, password and one-time code for a bearer token",
    body=TokenRequestSchema,
    response=TokenSchema,
    public=True,
    responses={"429": "Too many failed attempts from this address or for this account"},
)
@throttling.throttled
def token():
    """Issue a bearer token for valid credentials."""
    data = TokenRequestSchema().load(json_body())
    email = data["email"]
    locked = throttling.locked_seconds(email)
    if locked:
        logger.warning("API token refused: address locked after wrong passwords")
        return throttling.too_many_attempts(locked)
    user = authenticate(email, data["password"])
    if user is None:
        throttling.record_failure(email)
        return _refused("wrong email or password")
    if user.totp_enrolled_at is not None or security.totp_required():
        outcome = security.verify_code(user, data["otp"] or "")
        if outcome is not CodeOutcome.ACCEPTED:
            # Counted like a wrong password too, so the address's lock does not tell either.
            throttling.record_failure(email)
            reason = "missing one-time code" if not data["otp"] else f"one-time code {outcome}"
            return _refused(reason, user)
    throttling.clear_failures(email)
    choices = forbund_of_user(user.id)
    if data["forbund"] is not None:
        choices = [f for f in choices if f.slug == data["forbund"]]
        if not choices:
            raise ValidationFailed(
                _("Kontrollera uppgifterna."),
                errors={"forbund": [_("Du har ingen roll i ett förbund med det kortnamnet.")]},
            )
    elif len(choices) > 1:
        raise ValidationFailed(
            _("Kontrollera uppgifterna."),
            errors={
                "forbund": [
                    _(
                        "Du har roller i flera förbund: ange vilket nyckeln gäller (%(slugs)s).",
                        slugs=", ".join(f.slug for f in choices),
                    )
                ]
            },
        )
    enter(choices[0].id if choices else None, user)
    hours = int(current_app.config["COORD"]["API_TOKEN_HOURS"])
    secret, expires_at = issue_token(user, hours, label=data["label"])
    log_access("login", user.id, action="login", user=user)
    db.session.commit()
    return jsonify(TokenSchema().dump({"token": secret, "expires_at": expires_at}))


@endpoint(
    bp,
    "GET",
    "/auth/tokens",
    "The caller's API tokens that still work (never their secrets)",
    response=TokenInfoSchema,
    many=True,
)
def tokens():
    """List the caller's unrevoked, unexpired tokens, newest first."""
    items = active_tokens(current_user)
    return jsonify({"items": TokenInfoSchema(many=True).dump(items), "total": len(items)})


@endpoint(
    bp,
    "DELETE",
    "/auth/tokens/<int:token_id>",
    "Revoke one of the caller's API tokens",
    status=204,
)
def revoke(token_id: int):
    """Revoke a token of the caller's (404 for anyone else's); 409 when it no longer works."""
    found = own_token(current_user, token_id)
    if found is None:
        raise NotFound(_("API-nyckeln finns inte."))
    revoke_token(found)
    log_access("api_token", found.id, action="revoke")
    db.session.commit()
    return "", 204

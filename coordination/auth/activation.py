"""Activating a new account: its owner chooses the password through a link sent to them.

An administrator who makes an account never knows its password: the account starts with none that
works, and the owner gets an email with a link. The link carries a token signed with the app's
secret key that names the account, a fingerprint of its (unusable) password hash and an expiry.
Choosing the password changes the hash, so a link works once; nothing of the token is stored or
logged (the email is rendered with a fresh one, and the access log drops query strings).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from coordination.auth.models import User
from coordination.core.db import utcnow
from coordination.extensions import db

ACTIVATION_VALID = timedelta(days=3)
UNSET = "unset:"  # the prefix of a password hash no password matches


def unusable_password_hash() -> str:
    """Return a password hash that no password matches (a new account's, until activated)."""
    return UNSET + secrets.token_hex(16)


def awaits_activation(user: User) -> bool:
    """Tell whether the account's owner has not chosen a password yet."""
    return user.password_hash.startswith(UNSET)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="account-activation")


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]


def activation_link(user: User, now: datetime | None = None) -> str:
    """Return the relative link with which the account's owner chooses a password."""
    expires = (now or utcnow()) + ACTIVATION_VALID
    token = _serializer().dumps(
        {"u": user.id, "p": _fingerprint(user), "e": int(expires.timestamp())}
    )
    return "/activate?" + urlencode({"t": token})


def user_for_activation(token: str, now: datetime | None = None) -> User | None:
    """Return the account a live, unused activation token names, else None."""
    try:
        data = _serializer().loads(token)
        user_id, fingerprint, expires = int(data["u"]), str(data["p"]), int(data["e"])
    except (BadData, KeyError, TypeError, ValueError):
        return None
    if (now or utcnow()).timestamp() >= expires:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or not awaits_activation(user):
        return None
    return user if secrets.compare_digest(_fingerprint(user), fingerprint) else None

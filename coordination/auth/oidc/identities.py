"""Who a provider's verified claim is: the HSA-id, personnummer or email of an existing account.

No account is ever created here: an identity without an active account is refused. The
personnummer is never stored: only its HMAC-SHA256 under a key derived from COORD_SECRET_KEY, so
that a copy of the database does not hold staff's personnummer (changing the secret key means the
admins enter the numbers again).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from coordination.auth.models import OidcProvider, User
from coordination.auth.oidc.protocol import SignInFailed
from coordination.core.errors import ValidationFailed
from coordination.extensions import db

HSA_ID = re.compile(r"^SE[0-9A-Z]{10}-[0-9A-Z]{1,50}$")
_INFO = b"coordination: personnummer digests"


def normalise_hsa_id(raw: str | None) -> str | None:
    """Return an HSA-id in its canonical form (upper case), or None if it is not one."""
    value = (raw or "").strip().upper()
    return value if HSA_ID.match(value) else None


def _luhn_ok(ten: str) -> bool:
    total = 0
    for position, char in enumerate(ten):
        number = int(char) * (2 if position % 2 == 0 else 1)
        total += number - 9 if number > 9 else number
    return total % 10 == 0


def normalise_personnummer(raw: str | None) -> str | None:
    """Return a personnummer as twelve digits (YYYYMMDDNNNN), or None if it is not one."""
    value = (raw or "").strip().replace("-", "").replace("+", "")
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return None
    return value if _luhn_ok(value[2:]) else None


def personnummer_digest(personnummer: str) -> str:
    """Return the keyed digest the account stores for a (normalised) personnummer."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        current_app.config["COORD"]["SECRET_KEY"].encode()
    )
    return hmac.new(key, personnummer.encode(), hashlib.sha256).hexdigest()


def _find(provider: OidcProvider, claims: dict[str, Any]) -> User | None:
    value = claims.get(provider.claim)
    if not isinstance(value, str) or not value.strip():
        raise SignInFailed("claim_missing")
    if provider.claim == "hsa_id":
        hsa_id = normalise_hsa_id(value)
        if hsa_id is None:
            raise SignInFailed("claim_malformed")
        return db.session.scalar(select(User).where(User.hsa_id == hsa_id))
    if provider.claim == "personnummer":
        number = normalise_personnummer(value)
        if number is None:
            raise SignInFailed("claim_malformed")
        digest = personnummer_digest(number)
        return db.session.scalar(select(User).where(User.personnummer_digest == digest))
    if claims.get("email_verified") is False:
        raise SignInFailed("email_unverified")
    return db.session.scalar(select(User).where(func.lower(User.email) == value.strip().lower()))


def match_user(provider: OidcProvider, claims: dict[str, Any]) -> User:
    """Return the active account the verified claim names; refuse an unknown or inactive one."""
    user = _find(provider, claims)
    if user is None:
        raise SignInFailed("unknown_identity")
    if not user.active:
        raise SignInFailed("deactivated")
    return user


def set_identity(user: User, *, hsa_id: str | None, personnummer: str | None, clear: bool) -> None:
    """Set the HSA-id (empty: none) and, if given, the personnummer (or clear it).

    Every error at once, nothing saved on error."""
    errors: dict[str, list[str]] = {}
    raw_hsa = (hsa_id or "").strip()
    canonical = normalise_hsa_id(raw_hsa) if raw_hsa else None
    if raw_hsa and canonical is None:
        errors["hsa_id"] = [_("Skriv ett HSA-id, till exempel SE2321000016-1234.")]
    elif canonical and db.session.scalar(
        select(User.id).where(User.hsa_id == canonical, User.id != user.id)
    ):
        errors["hsa_id"] = [_("Ett annat konto har redan det HSA-id:t.")]
    digest = None
    if (personnummer or "").strip():
        number = normalise_personnummer(personnummer)
        if number is None:
            errors["personnummer"] = [
                _("Skriv personnumret med tolv siffror, till exempel 19800101-1234.")
            ]
        else:
            digest = personnummer_digest(number)
            if db.session.scalar(
                select(User.id).where(User.personnummer_digest == digest, User.id != user.id)
            ):
                errors["personnummer"] = [_("Ett annat konto har redan det personnumret.")]
    if errors:
        raise ValidationFailed(_("Uppgifterna kunde inte sparas."), errors=errors)
    user.hsa_id = canonical
    if digest is not None:
        user.personnummer_digest = digest
    elif clear:
        user.personnummer_digest = None
    db.session.flush()

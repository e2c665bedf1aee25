"""Creating users, checking logins and issuing API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from coordination.auth.activation import awaits_activation, unusable_password_hash
from coordination.auth.events import ActivationOwed
from coordination.auth.models import ApiToken, User
from coordination.auth.passwords import hash_password, password_problems, verify_password
from coordination.auth.security import end_all_sessions
from coordination.core import events
from coordination.core.db import utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.extensions import db
from coordination.organisations.grants import apply_roles
from coordination.organisations.models import OrganisationUnit
from coordination.tenancy.context import current_id
from coordination.tenancy.operations import forbund_of_user
from workflows.organisation import Role

TOKEN_USE_PRECISION = timedelta(minutes=1)  # "last used" is written at most once a minute


def find_user(email: str) -> User | None:
    """Return the user with this email, case-insensitively."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def account_errors(email: str | None, name: str | None, password: str | None) -> dict:
    """Every problem with a new account's email, name and password (None: activation link)."""
    errors: dict[str, list[str]] = {}
    if not email or "@" not in email:
        errors.setdefault("email", []).append(_("Ange en giltig e-postadress."))
    elif find_user(email) is not None:
        errors.setdefault("email", []).append(_("Det finns redan en användare med den adressen."))
    if not (name or "").strip():
        errors.setdefault("name", []).append(_("Ange namn."))
    if password is not None and password_problems(password):
        errors.setdefault("password", []).append(_("Lösenordet ska ha minst 12 tecken."))
    return errors


def new_account(email: str, name: str, password: str | None, **fields) -> User:
    """Add a checked account; without a password it has none that works until activated."""
    user = User(
        email=email.strip().lower(),
        name=name.strip(),
        password_hash=unusable_password_hash() if password is None else hash_password(password),
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    return user


def create_user(
    *,
    email: str,
    name: str,
    password: str | None = None,
    memberships: list[tuple[OrganisationUnit, str]],
    locale: str = "sv",
    phone: str | None = None,
    granted_by: User | None = None,
) -> User:
    """Create a user with roles in units; all problems are reported at once.

    `granted_by` is the admin creating the user: roles that need a second administrator wait for
    one (coordination.organisations.grants). None means the trusted command line.
    Without a password (the administrators' page) the account has none that works until its
    owner chooses one through the activation link they are sent (coordination.auth.activation).
    """
    errors = account_errors(email, name, password)
    if not memberships:
        errors.setdefault("roles", []).append(_("Välj minst en roll i en enhet."))
    for _unit, role in memberships:
        if role not in {r.value for r in Role}:
            errors.setdefault("roles", []).append(_("Okänd roll: %(role)s.", role=role))
    if errors:
        raise ValidationFailed(_("Användaren kunde inte skapas."), errors=errors)
    user = new_account(email, name, password, locale=locale, phone=phone)
    apply_roles(user, memberships, by=granted_by)
    if password is None:
        events.record(db.session, ActivationOwed(user_id=user.id, occurred_at=utcnow()))
    return user


def resend_activation(user: User) -> None:
    """Owe the owner of an account without a password a new activation link."""
    if not awaits_activation(user) or not user.active:
        raise Conflict(_("Användaren har redan valt sitt lösenord."))
    events.record(db.session, ActivationOwed(user_id=user.id, occurred_at=utcnow()))


def set_roles(
    user: User, memberships: list[tuple[OrganisationUnit, str]], *, by: User | None = None
) -> None:
    """Replace a user's roles; a guarded role waits for a second admin unless `by` is None."""
    if not memberships:
        raise ValidationFailed(
            _("Användaren måste ha minst en roll."),
            errors={"roles": [_("Välj minst en roll i en enhet.")]},
        )
    for _unit, role in memberships:
        if role not in {r.value for r in Role}:
            raise ValidationFailed(
                _("Okänd roll: %(role)s.", role=role),
                errors={"roles": [_("Okänd roll: %(role)s.", role=role)]},
            )
    apply_roles(user, memberships, by=by)


def set_active(user: User, active: bool, *, by: User) -> None:
    """Activate or deactivate a user; deactivation ends their sessions and tokens."""
    if user.id == by.id and not active:
        raise Conflict(_("Du kan inte inaktivera ditt eget konto."))
    if not active and {f.id for f in forbund_of_user(user.id)} - {current_id()}:
        # The account is the person's, across förbund: one förbund's administrator ends the
        # roles here, never the work the person does in another förbund.
        raise Conflict(
            _(
                "Kontot har roller även i ett annat förbund och kan inte inaktiveras härifrån. "
                "Ta bort rollerna i det här förbundet i stället."
            )
        )
    user.active = active
    if not active:
        end_all_sessions(user, "deactivated")
        user.session_version += 1
        revoke_all_tokens(user)


def set_password(user: User, password: str) -> None:
    """Change a password; every session and API token of the user ends."""
    if password_problems(password):
        raise ValidationFailed(
            _("Lösenordet ska ha minst 12 tecken."),
            errors={"password": [_("Lösenordet ska ha minst 12 tecken.")]},
        )

    user.password_hash = hash_password(password)
    end_all_sessions(user, "password_changed")
    user.session_version += 1
    revoke_all_tokens(user)


def authenticate(email: str, password: str) -> User | None:
    """Return the active user whose email and password match, else None."""
    user = find_user(email or "")
    if not verify_password(user.password_hash if user else None, password or ""):
        return None
    if user is None or not user.active:
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, hours: int, label: str | None = None) -> tuple[str, datetime]:
    """Create an API token; return the secret (shown once) and its expiry."""
    secret = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=hours)
    label = (label or "").strip()[:100] or None
    db.session.add(
        ApiToken(
            user_id=user.id,
            forbund_id=current_id(),  # the förbund the token works in (DOMAIN.md §14)
            token_hash=_digest(secret),
            expires_at=expires_at,
            label=label,
        )
    )
    return secret, expires_at


def token_for(secret: str) -> ApiToken | None:
    """Return a valid, unexpired, unrevoked token of an active user, noting its use."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    if token is None or token.revoked or token.expires_at <= utcnow() or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_PRECISION:
        token.last_used_at = now
    return token


def revoke_token(token: ApiToken) -> None:
    """Revoke one API token; one already revoked or expired is a conflict."""
    if token.revoked or token.expires_at <= utcnow():
        raise Conflict(_("API-nyckeln %(name)s gäller redan inte längre.", name=token_name(token)))
    token.revoked = True


def revoke_all_tokens(user: User) -> None:
    """Revoke every API token of a user (password change, deactivation)."""
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
        .values(revoked=True)
    )


def token_name(token: ApiToken) -> str:
    """Return the name a person knows a token by: its label, or its number."""
    return token.label or _("nr %(number)s", number=token.id)

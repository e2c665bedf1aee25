"""Two-factor codes, the pending login between password and code, server-side sessions.

The numbers of the second factor (settings, see deploy/env.example):
- a pending login (password given, code not yet) lasts 5 minutes and ends after
  TOTP_MAX_FAILURES (5) wrong codes: then the password must be given again;
- every TOTP_MAX_FAILURES wrong codes in a row lock the account's code step (the right code is
  refused too) for TOTP_LOCK_MINUTES (1), doubled each further round (1, 2, 4, ... minutes) up to
  TOTP_LOCK_MAX_MINUTES (60); the count is forgotten at a right code and a day after the last wrong
  one, so a lock always expires. Someone holding the password gets about 35 guesses in the first
  hour and 5 an hour after that (each guess hits with a chance of about 3 in a million).
"""

from __future__ import annotations

import enum
import hashlib
import math
import secrets
from datetime import UTC, datetime, timedelta

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, select, update

from coordination.auth.models import PendingLogin, User, UserSession
from coordination.core.db import utcnow
from coordination.core.parsing import is_digits
from coordination.extensions import db

ISSUER = "Samordning"
PENDING_LIFETIME = timedelta(minutes=5)  # from the password to the code
FAILURE_MEMORY = timedelta(days=1)  # wrong codes older than this no longer count


def _setting(name: str):
    return current_app.config["COORD"][name]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- two-factor ------------------------------------------------------------------------------


def totp_required() -> bool:
    """Tell whether every user must use a second factor."""
    return bool(_setting("REQUIRE_TOTP"))


def new_totp_secret() -> str:
    """Return a fresh base32 secret for an authenticator app."""
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """Return the otpauth:// URI an authenticator app reads."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """Return the URI as an inline SVG QR code."""
    return segno.make(uri, error="m").svg_inline(scale=5, title="QR")


def enrol_totp(user: User, secret: str) -> None:
    """Store the confirmed secret (the column type encrypts it)."""
    user.totp_secret = secret
    user.totp_enrolled_at = utcnow()


class CodeOutcome(enum.StrEnum):
    """What became of one code given at the second-factor step."""

    ACCEPTED = "accepted"
    WRONG = "wrong"  # counted; the person may try again
    VOIDED = "voided"  # the pending login has ended: the password must be given again
    LOCKED = "locked"  # not even checked: the account's code step is locked for a while


def _matching_step(secret: str, code: str, last_step: int, now: float) -> int | None:
    """Return the unused time step (one step of clock drift allowed) whose code this is."""
    code = (code or "").strip().replace(" ", "")
    if not secret or not is_digits(code) or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    for step in (current - 1, current, current + 1):
        if step <= last_step:
            continue  # no replay of a code already used
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _lock_user(user: User) -> User:
    """Lock the user's row for the rest of the transaction and reload it (SELECT ... FOR UPDATE).

    Requests with the same code, or with many wrong ones, take turns here: the last used time step
    and the failure counts are read and written by one request at a time.
    """
    return db.session.execute(
        select(User)
        .where(User.id == user.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def code_lock_seconds(user: User) -> int:
    """Return for how many more seconds the account's code step is locked (0: open)."""
    if user.totp_locked_until is None:
        return 0
    return max(0, math.ceil((user.totp_locked_until - utcnow()).total_seconds()))


def _lock_minutes(rounds: int) -> int:
    """Return the lock after a number of rounds of wrong codes: doubling from the base, capped."""
    base, cap = int(_setting("TOTP_LOCK_MINUTES")), int(_setting("TOTP_LOCK_MAX_MINUTES"))
    return min(cap, base * 2 ** min(rounds - 1, 20))


def _count_failure(user: User, pending: PendingLogin | None, moment: datetime) -> CodeOutcome:
    limit = int(_setting("TOTP_MAX_FAILURES"))
    last = user.totp_last_failure_at
    if last is None or moment - last > FAILURE_MEMORY:
        user.totp_failures = 0
    user.totp_failures += 1
    user.totp_last_failure_at = moment
    if user.totp_failures % limit == 0:
        minutes = _lock_minutes(user.totp_failures // limit)
        user.totp_locked_until = moment + timedelta(minutes=minutes)
    if pending is None:
        return CodeOutcome.WRONG
    pending.failures += 1
    if pending.failures >= limit:
        pending.ended_at, pending.end_reason = moment, "too_many_codes"
        return CodeOutcome.VOIDED
    return CodeOutcome.WRONG


def verify_code(
    user: User,
    code: str,
    *,
    pending: PendingLogin | None = None,
    secret: str | None = None,
    now: float | None = None,
) -> CodeOutcome:
    """Check a code under the user's row lock; a wrong one counts against account and login.

    An accepted code's time step is spent (a code works once), and the pending login ends.
    """
    user = _lock_user(user)
    if pending is not None:
        db.session.refresh(pending, with_for_update=True)
        if not _usable(pending):
            return CodeOutcome.VOIDED
    if code_lock_seconds(user) > 0:
        return CodeOutcome.LOCKED
    moment = utcnow() if now is None else datetime.fromtimestamp(now, UTC)
    secret = secret or user.totp_secret or ""
    step = _matching_step(secret, code, user.totp_last_step, moment.timestamp())
    if step is None:
        outcome = _count_failure(user, pending, moment)
    else:
        user.totp_last_step = step
        user.totp_failures, user.totp_last_failure_at, user.totp_locked_until = 0, None, None
        if pending is not None:
            pending.ended_at, pending.end_reason = moment, "completed"
        outcome = CodeOutcome.ACCEPTED
    db.session.flush()
    return outcome


# --- the step between password and code -------------------------------------------------------


def _usable(pending: PendingLogin) -> bool:
    return pending.ended_at is None and pending.expires_at > utcnow() and pending.user.active


def start_pending_login(user: User, *, enrol_secret: str | None = None) -> str:
    """Record that the password was right; return the nonce for the cookie (its only copy)."""
    now = utcnow()
    db.session.execute(  # the user's spent ones are of no further use
        delete(PendingLogin).where(
            PendingLogin.user_id == user.id,
            PendingLogin.ended_at.is_not(None) | (PendingLogin.expires_at <= now),
        )
    )
    nonce = secrets.token_urlsafe(32)
    db.session.add(
        PendingLogin(
            user_id=user.id,
            nonce_hash=_digest(nonce),
            created_at=now,
            expires_at=now + PENDING_LIFETIME,
            enrol_secret=enrol_secret,
        )
    )
    db.session.flush()
    return nonce


def pending_login(nonce: str | None) -> PendingLogin | None:
    """Return the live pending login of a cookie's nonce, or None (ended, lapsed, unknown)."""
    if not nonce or not isinstance(nonce, str):
        return None
    pending = db.session.scalar(
        select(PendingLogin).where(PendingLogin.nonce_hash == _digest(nonce))
    )
    return pending if pending is not None and _usable(pending) else None


# --- server-side sessions ---------------------------------------------------------------------


def start_session(
    user: User,
    *,
    method: str = "password",
    assurance: str | None = None,
    provider_id: int | None = None,
    id_token: str | None = None,
    provider_sub: str | None = None,
    provider_sid: str | None = None,
) -> str:
    """Create a session record and return its secret (kept in the signed cookie).

    A sign-in through an identity provider records its assurance level, the provider and the ID
    token (encrypted at rest), which RP-initiated logout hands back to the provider.
    """
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=_digest(token),
            method=method,
            assurance=assurance,
            provider_id=provider_id,
            id_token=id_token,
            provider_sub=provider_sub,
            provider_sid=provider_sid,
        )
    )
    return token


def session_alive(user_id: int, token: str | None) -> UserSession | None:
    """Return the live session record for the cookie's secret, or None."""
    if not token:
        return None
    record = db.session.scalar(select(UserSession).where(UserSession.token_hash == _digest(token)))
    if record is None or record.user_id != user_id or record.ended_at is not None:
        return None
    return record


def end_session(token: str | None, reason: str) -> None:
    """End one session record (logout, timeout)."""
    if token:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _digest(token), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason)
        )


def end_all_sessions(user: User, reason: str) -> None:
    """End every session of a user (password change, deactivation)."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )

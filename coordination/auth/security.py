"""Two-factor codes, login throttling and server-side session records."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

import pyotp
import segno
from flask import current_app
from sqlalchemy import select, update

from coordination.auth.models import LoginThrottle, User, UserSession
from coordination.core.db import utcnow
from coordination.core.parsing import is_digits
from coordination.extensions import db

ISSUER = "Samordning"


def _setting(name: str):
    return current_app.config["COORD"][name]


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


def check_totp(user: User, code: str, secret: str | None = None, now: float | None = None) -> bool:
    """Verify a six-digit code (one step of clock drift allowed); a used code is refused."""
    secret = secret or user.totp_secret
    code = (code or "").strip().replace(" ", "")
    if not secret or not is_digits(code) or len(code) != 6:
        return False
    now = time.time() if now is None else now
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    for step in (current - 1, current, current + 1):
        if step <= user.totp_last_step:
            continue  # no replay of a code already used
        if secrets.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False


def enrol_totp(user: User, secret: str) -> None:
    """Store the confirmed secret."""
    user.totp_secret = secret
    user.totp_enrolled_at = utcnow()


# --- throttling ------------------------------------------------------------------------------


def _key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def is_locked(email: str) -> bool:
    """Tell whether too many failures have locked this address for now."""
    row = db.session.get(LoginThrottle, _key(email))
    return bool(row and row.locked_until and row.locked_until > utcnow())


def record_failure(email: str) -> None:
    """Count a failed login; the fifth within the window locks the address for a while."""
    now = utcnow()
    lock = timedelta(minutes=int(_setting("LOGIN_LOCK_MINUTES")))
    row = db.session.get(LoginThrottle, _key(email))
    if row is None:
        row = LoginThrottle(key=_key(email), failures=0, window_started_at=now)
        db.session.add(row)
    if now - row.window_started_at > lock:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    if row.failures >= int(_setting("LOGIN_MAX_FAILURES")):
        row.locked_until = now + lock


def clear_failures(email: str) -> None:
    """Forget the failures of an address after a successful login."""
    row = db.session.get(LoginThrottle, _key(email))
    if row is not None:
        db.session.delete(row)


# --- server-side sessions ---------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> str:
    """Create a session record and return its secret (kept in the signed cookie)."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=_digest(token)))
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

"""Throttling the sign-in: failed attempts per client address and per account, and the lock of an
address after repeated wrong passwords.

Two layers:
- Flask-Limiter counts failed attempts (answers 400 and up) at the password step, the code step and
  the token endpoint together: RATE_LIMIT_PER_IP per client address and RATE_LIMIT_PER_ACCOUNT per
  account (the email's hash), in Redis in production and tests (memory on the embedded default).
- `login_throttle` rows lock an address after LOGIN_MAX_FAILURES wrong passwords within
  LOGIN_LOCK_MINUTES, for LOGIN_LOCK_MINUTES; counted with an upsert under a row lock, so
  simultaneous failures are all counted.
Both answer 429 with Retry-After: the error page for people, problem+json for the API.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from datetime import timedelta

from flask import Flask, current_app, render_template, request, session
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from coordination.auth.models import LoginThrottle
from coordination.core.db import utcnow
from coordination.core.errors import problem, wants_json
from coordination.extensions import db


def _setting(name: str):
    return current_app.config["COORD"][name]


def account_key(email: str) -> str:
    """Return the key of an account in the counters: a hash of its address, never the address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


# --- wrong passwords per address (database) ---------------------------------------------------


def locked_seconds(email: str) -> int:
    """Return for how many more seconds wrong passwords have locked this address (0: open)."""
    row = db.session.get(LoginThrottle, account_key(email))
    if row is None or row.locked_until is None:
        return 0
    return max(0, math.ceil((row.locked_until - utcnow()).total_seconds()))


def _insert(table):
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def record_failure(email: str) -> None:
    """Count a wrong password; the LOGIN_MAX_FAILURES-th within the window locks the address.

    The row is created if missing (INSERT ... ON CONFLICT DO NOTHING) and then locked: two failures
    at the same moment wait for each other and both count.
    """
    key, now = account_key(email), utcnow()
    lock = timedelta(minutes=int(_setting("LOGIN_LOCK_MINUTES")))
    db.session.execute(
        _insert(LoginThrottle)
        .values(key=key, failures=0, window_started_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = db.session.execute(
        select(LoginThrottle)
        .where(LoginThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if now - row.window_started_at > lock:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    if row.failures >= int(_setting("LOGIN_MAX_FAILURES")):
        row.locked_until = now + lock
    db.session.flush()


def clear_failures(email: str) -> None:
    """Forget the failures of an address after a successful login."""
    row = db.session.get(LoginThrottle, account_key(email))
    if row is not None:
        db.session.delete(row)


# --- failed attempts per client and per account (Flask-Limiter) --------------------------------


def _account_of_request() -> str:
    """Return the account key the request is about ('' when it names none: not counted)."""
    email = None
    if request.path.startswith("/api/"):
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    elif request.endpoint == "auth.login":
        email = request.form.get("email")
    else:  # the code and enrolment steps: the account of the pending login
        from coordination.auth.security import pending_login

        pending = pending_login(session.get("pending_login"))
        email = pending.user.email if pending is not None else None
    return account_key(email) if isinstance(email, str) and email.strip() else ""


def _failed(response) -> bool:
    return response.status_code >= 400


def throttled(view: Callable) -> Callable:
    """Mark a sign-in view: its failed POSTs are counted per client address and per account."""
    view.sign_in_throttled = True  # type: ignore[attr-defined]  # read by install()
    return view


def install(app: Flask) -> None:
    """Give the app its own limiter and put the limits on every view marked `throttled`.

    One limiter per app (not one per process): each app counts in its own storage.
    """
    limiter = Limiter(key_func=get_remote_address)
    limiter.init_app(app)
    app.extensions["sign_in_limiter"] = limiter
    per_account = limiter.shared_limit(
        lambda: _setting("RATE_LIMIT_PER_ACCOUNT"),
        scope="signin-account",
        key_func=_account_of_request,
        methods=["POST"],
        deduct_when=_failed,
    )
    per_address = limiter.shared_limit(
        lambda: _setting("RATE_LIMIT_PER_IP"),
        scope="signin-ip",
        key_func=get_remote_address,
        methods=["POST"],
        deduct_when=_failed,
    )
    for endpoint, view in list(app.view_functions.items()):
        if getattr(view, "sign_in_throttled", False):
            app.view_functions[endpoint] = per_address(per_account(view))
    app.register_error_handler(RateLimitExceeded, rate_limit_exceeded)


def sign_in_limiter() -> Limiter:
    """Return the current app's limiter."""
    return current_app.extensions["sign_in_limiter"]


# --- the 429 answer ----------------------------------------------------------------------------


def too_many_attempts(seconds: int, message: str | None = None):
    """Answer 429 with Retry-After: the error page, or problem+json for the API."""
    seconds = max(1, int(seconds))
    minutes = max(1, math.ceil(seconds / 60))
    message = message or _(
        "För många misslyckade försök. Vänta %(minutes)s minuter och försök igen.",
        minutes=minutes,
    )
    if wants_json():
        response = problem(429, "Too Many Requests", message)
    else:
        response = current_app.make_response(
            (render_template("errors/error.html", status=429, message=message), 429)
        )
    response.headers["Retry-After"] = str(seconds)
    return response


def rate_limit_exceeded(_exc):
    """Answer a breached Flask-Limiter limit (registered for RateLimitExceeded)."""
    current = sign_in_limiter().current_limit
    seconds = int(current.reset_at - time.time()) if current is not None else 60
    return too_many_attempts(seconds)

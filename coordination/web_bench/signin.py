"""Signing the bench users in as people do: password, then the six-digit code (pyotp).

A code's time step is used once per user (the app refuses a replay), and the app accepts one step
of drift either way: `Codes` hands out the next unused step, waiting when both are spent.
Production sets the session cookie Secure; the bench talks plain HTTP to gunicorn on the loopback,
so the client keeps sending it (`insecure_cookies`).
"""

from __future__ import annotations

import re
import time

import pyotp

from coordination.web_bench.data import PASSWORD, totp_secret

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class SignInFailed(RuntimeError):
    """A sign-in did not end on a signed-in page."""


class Codes:
    """One-time codes per user, each time step used once."""

    def __init__(self) -> None:
        self.last: dict[int, int] = {}

    def code(self, user_id: int) -> str:
        """Return a code the app accepts now and has not seen for this user."""
        while True:
            current = int(time.time() // 30)
            # Not the previous step: a sign-in queued behind others must still find it valid.
            step = max(current, self.last.get(user_id, 0) + 1)
            if step <= current + 1:
                self.last[user_id] = step
                return pyotp.TOTP(totp_secret(user_id)).at(step * 30)
            time.sleep(max(0.2, (step - 1) * 30 - time.time() + 0.1))


def insecure_cookies(session) -> None:
    """Let a requests session send the Secure cookies it received over plain HTTP."""
    for cookie in session.cookies:
        cookie.secure = False


def csrf_token(text: str) -> str:
    found = _CSRF.search(text)
    if not found:
        raise SignInFailed("no CSRF token on the sign-in page")
    return found.group(1)


def sign_in(session, base: str, user_id: int, email: str, codes: Codes, name_prefix=None) -> None:
    """Sign a requests (or locust) session in through /login and /login/code."""
    extra = {"name": f"{name_prefix}login"} if name_prefix is not None else {}
    page = session.get(f"{base}/login", **extra)
    insecure_cookies(session)
    answer = session.post(
        f"{base}/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        **extra,
    )
    insecure_cookies(session)
    if answer.status_code != 302:
        raise SignInFailed(f"password step answered {answer.status_code}")
    page = session.get(f"{base}/login/code", **extra)
    insecure_cookies(session)
    answer = session.post(
        f"{base}/login/code",
        data={"code": codes.code(user_id), "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        **extra,
    )
    insecure_cookies(session)
    if answer.status_code != 302 or "/login" in answer.headers.get("Location", ""):
        raise SignInFailed(f"code step answered {answer.status_code}")


def api_token(session, base: str, user_id: int, email: str, codes: Codes, name_prefix=None) -> str:
    """Return a bearer token for the user (POST /api/v1/auth/token)."""
    extra = {"name": f"{name_prefix}token"} if name_prefix is not None else {}
    answer = session.post(
        f"{base}/api/v1/auth/token",
        json={"email": email, "password": PASSWORD, "otp": codes.code(user_id), "label": "bench"},
        **extra,
    )
    insecure_cookies(session)
    if answer.status_code != 200:
        raise SignInFailed(f"token request answered {answer.status_code}")
    return answer.json()["token"]

"""Configuration: defaults, then COORD_* environment variables, then explicit overrides."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"

DEFAULTS: dict[str, object] = {
    "ENV": "development",
    "SECRET_KEY": None,
    "DATABASE_URL": f"sqlite:///{INSTANCE / 'coordination.sqlite'}",
    # Several förbund (coordination/tenancy): the application connects as a role bound by the
    # row-level-security policies (DATABASE_URL); migrations run as the tables' owner, given here
    # (empty: DATABASE_URL, as on SQLite and in a single-role set-up). After each migration the
    # owner grants the rows to DATABASE_APP_ROLE when it is named (`flask forbund app-role`).
    "MIGRATION_DATABASE_URL": None,
    "DATABASE_APP_ROLE": None,
    "BROKER_URL": f"sqla+sqlite:///{INSTANCE / 'broker.sqlite'}",
    "RESULT_BACKEND": None,
    "ATTACHMENT_DIR": str(INSTANCE / "attachments"),
    "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
    "IDLE_TIMEOUT_MINUTES": 30,
    "ABSOLUTE_TIMEOUT_HOURS": 12,
    "API_TOKEN_HOURS": 8,
    "REQUIRE_TOTP": True,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_MINUTES": 15,
    # The second factor (see coordination/auth/security.py): wrong codes before a pending login
    # is void, and the account's code-step lock that doubles per voided round, up to a cap.
    "TOTP_MAX_FAILURES": 5,
    "TOTP_LOCK_MINUTES": 1,
    "TOTP_LOCK_MAX_MINUTES": 60,
    # Fernet key(s) for TOTP secrets at rest, comma-separated, the first encrypts; empty: derived
    # from SECRET_KEY.
    "TOTP_ENCRYPTION_KEY": None,
    # Failed sign-in attempts (password, code, API token) per client address and per account.
    "RATE_LIMIT_PER_IP": "30/minute,300/hour",
    "RATE_LIMIT_PER_ACCOUNT": "10/minute,40/hour",
    # Where the counters live; empty: the broker when it is Redis, else this process's memory.
    "RATE_LIMIT_STORAGE_URL": None,
    # Reverse proxies in front that append to X-Forwarded-For (1 behind nginx; 0: none).
    "TRUSTED_PROXIES": 0,
    # Signing in through an organisation unit's OpenID Connect provider (coordination/auth/oidc):
    # the assurance levels (acr) known, lowest first; the lowest a user holding a role that sees
    # case content must reach ("none": no requirement); the clock skew allowed on the ID token's
    # times; the timeout of each call to a provider.
    "OIDC_ACR_ORDER": [
        "http://id.elegnamnden.se/loa/1.0/loa1",
        "http://id.elegnamnden.se/loa/1.0/loa2",
        "http://id.elegnamnden.se/loa/1.0/loa3",
        "http://id.elegnamnden.se/loa/1.0/loa4",
    ],
    "OIDC_CASE_CONTENT_MIN_ACR": "http://id.elegnamnden.se/loa/1.0/loa3",
    "OIDC_CLOCK_SKEW_SECONDS": 60,
    "OIDC_HTTP_TIMEOUT_SECONDS": 10,
    "RETENTION_YEARS": 5,
    "ACCESS_LOG_YEARS": 5,
    "BASE_URL": "http://127.0.0.1:5000",
    "DEFAULT_LOCALE": "sv",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": 1025,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": False,
    "MAIL_FROM": "noreply@samordning.example",
    "SMS_BACKEND": "file",
    "SMS_FILE": str(INSTANCE / "sms.log"),
    "SMS_URL": None,
    "SMS_TOKEN": None,
    "SMTP_TIMEOUT": 30,
    "NOTIFY_QUIET_HOURS": True,
    "NOTIFY_MAX_ATTEMPTS": 5,
    "NOTIFY_BACKOFF_SECONDS": 60,
    "NOTIFY_REQUEUE_SECONDS": 300,
    "NOTIFY_SWEEP_SECONDS": 60,
    "NOTIFY_SWEEP_BATCH": 500,
    "LOG_FORMAT": "text",
    "BIND": "127.0.0.1:8000",
    "WEB_WORKERS": 2,
    "WEB_TIMEOUT": 30,
    "METRICS_ADDRESS": "127.0.0.1",
    "METRICS_PORT": 9100,
    "WORKER_METRICS_PORT": 9101,
    "HEARTBEAT_DIR": str(INSTANCE / "heartbeats"),
    "HEARTBEAT_SECONDS": 10,
    "HEARTBEAT_MAX_AGE": 60,
    "TASK_TIME_LIMIT": 300,
    "WORKER_MAX_TASKS_PER_CHILD": 500,
    "TESTING": False,
    # "fast" makes argon2id cheap for the test suite; production refuses anything but "standard".
    "PASSWORD_HASH_COST": "standard",
}

_BOOL = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False}


def _coerce(value: str, default: object) -> object:
    """Turn an environment string into the type of its default."""
    if isinstance(default, bool):
        return _BOOL.get(value.strip().lower(), False)
    if isinstance(default, int):
        return int(value)
    if isinstance(default, list | dict):
        return json.loads(value)
    return value


def load_settings(overrides: dict | None = None, environ: dict | None = None) -> dict:
    """Merge defaults, COORD_* variables and overrides; refuse an unsafe production config."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = environ.get(f"COORD_{key}")
        if raw is not None and raw != "":
            settings[key] = _coerce(raw, default)
    settings.update(overrides or {})
    if settings["PASSWORD_HASH_COST"] not in ("standard", "fast"):
        raise RuntimeError("COORD_PASSWORD_HASH_COST is 'standard' (the default) or 'fast'")
    if settings["ENV"] == "production":
        missing = [k for k in ("SECRET_KEY", "DATABASE_URL") if not settings.get(k)]
        if environ.get("COORD_DATABASE_URL") is None and "DATABASE_URL" not in (overrides or {}):
            missing.append("DATABASE_URL")
        if missing:
            raise RuntimeError(
                "Refusing to start in production without: "
                + ", ".join(f"COORD_{k}" for k in sorted(set(missing)))
            )
        if settings["PASSWORD_HASH_COST"] != "standard":
            raise RuntimeError("Refusing to start in production with COORD_PASSWORD_HASH_COST")
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = "development-only-secret-key-change-me"
    return settings


def engine_options(url: str) -> dict:
    """Return the engine's options: PostgreSQL's JIT off, which compiles a list's many small
    subqueries for seconds to save milliseconds (its cost estimate counts every row's subquery)."""
    options: dict = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"options": "-c jit=off"}
    return options


def flask_config(settings: dict) -> dict:
    """Translate settings into Flask and extension configuration keys."""
    secure = settings["ENV"] == "production"
    return {
        "SECRET_KEY": settings["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": settings["DATABASE_URL"],
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(settings["DATABASE_URL"]),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_NAME": "coord_session",
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(settings["ABSOLUTE_TIMEOUT_HOURS"])),
        "MAX_CONTENT_LENGTH": int(settings["ATTACHMENT_MAX_BYTES"]) + 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": settings["DEFAULT_LOCALE"],
        "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        "TESTING": bool(settings["TESTING"]),
        "RATELIMIT_STORAGE_URI": rate_limit_storage(settings),
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_KEY_PREFIX": "coord",
        "RATELIMIT_HEADERS_ENABLED": False,  # Retry-After is set on the 429 answers themselves
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,  # Redis down: count in each process
        "RATELIMIT_SWALLOW_ERRORS": True,
        "COORD": settings,
    }


def rate_limit_storage(settings: dict) -> str:
    """Return where the sign-in rate limits are counted: the setting, Redis, or memory."""
    if settings.get("RATE_LIMIT_STORAGE_URL"):
        return str(settings["RATE_LIMIT_STORAGE_URL"])
    broker = str(settings.get("BROKER_URL") or "")
    if broker.startswith(("redis://", "rediss://")):
        return broker
    return "memory://"  # the embedded default of `make run`: one process

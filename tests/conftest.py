"""Test setup: real PostgreSQL and Redis, migrations once per run, a rolled-back transaction each.

COORD_TEST_DATABASE_URL (default: a fresh `coord_test` database on 127.0.0.1:5432) and
COORD_TEST_REDIS_URL (default: redis://127.0.0.1:6379/15). A missing server stops the run with a
message saying what to start: the suite never silently skips.

Parallel workers (pytest-xdist, `pytest -n 4`) each get their own of both: worker gwN uses the
database `<name>_gwN` (coord_test_gw0, coord_test_gw1, ...) and the Redis database N below the
given one, counting down and wrapping from 0 to 15, never 13 (the production smoke test's): with the
default 15, gw0 uses 15 and gw1 14; with 1, gw0 uses 1 and gw1 0. A run without workers uses both
as given.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager

import pytest
import redis
from flask import g
from flask_sqlalchemy.session import Session as AppSession
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from coordination.app import create_app
from coordination.extensions import db
from coordination.tenancy import context as tenancy

FIRST_FORBUND = 1  # the förbund the migration creates: every test works in it unless it says

REDIS_DATABASES = 16
SMOKE_REDIS_DB = 13  # Makefile's SMOKE_REDIS_DB: `make prod-smoke` flushes it


def worker_number() -> int | None:
    """Return this xdist worker's number (gw1 -> 1), or None outside a parallel run."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") else None


def worker_database_url(url: str, number: int | None) -> str:
    """Return the worker's own database: the given name + `_gwN`."""
    if number is None:
        return url
    target = make_url(url)
    return target.set(database=f"{target.database}_gw{number}").render_as_string(
        hide_password=False
    )


def worker_redis_url(url: str, number: int | None) -> str:
    """Return the worker's own Redis database: N below the given one, skipping the smoke test's."""
    if number is None:
        return url
    found = re.match(r"^(.*/)(\d+)$", url)
    base, first = (found.group(1), int(found.group(2))) if found else (url.rstrip("/") + "/", 0)
    candidates = [(first - k) % REDIS_DATABASES for k in range(REDIS_DATABASES)]
    usable = [n for n in candidates if n != SMOKE_REDIS_DB or n == first]
    if number >= len(usable):
        pytest.exit(f"Worker gw{number} has no Redis database of its own left", returncode=3)
    return f"{base}{usable[number]}"


DATABASE_URL = worker_database_url(
    os.environ.get(
        "COORD_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/coord_test"
    ),
    worker_number(),
)
REDIS_URL = worker_redis_url(
    os.environ.get("COORD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), worker_number()
)


def _fresh_database(url: str) -> None:
    """Drop and recreate the test database so every run starts from the migrations."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    except Exception as exc:  # pragma: no cover - the message is the point
        pytest.exit(
            f"PostgreSQL is not reachable at {target.render_as_string(hide_password=True)}: {exc}\n"
            "Start PostgreSQL (see README, 'Running the tests') or set COORD_TEST_DATABASE_URL.",
            returncode=3,
        )
    finally:
        admin.dispose()


APP_ROLE = "coord_app"  # the application's role: bound by row-level security (tenancy/rls.py)


def app_role_url(url: str) -> str:
    """Return the database URL as the application's role sees it (the owner's with its name)."""
    return make_url(url).set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


def _check_redis(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:  # pragma: no cover
        pytest.exit(
            f"Redis is not reachable at {url}: {exc}\n"
            "Start Redis (see README, 'Running the tests') or set COORD_TEST_REDIS_URL.",
            returncode=3,
        )


def fresh_request_state(application) -> None:
    """Start each test request without the signed-in user and tokens of the one before."""

    def _fresh_request_state():
        # Test requests reuse the test's app context (and so its `g`); a real request never does.
        for key in ("_login_user", "access_refusals", "csrf_token"):
            g.pop(key, None)

    application.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_state)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The application on the test database, migrated once."""
    _fresh_database(DATABASE_URL)
    _check_redis(REDIS_URL)
    # The application connects as its own role, as in production: every test runs under the
    # förbund policies; the owner (the URL given) migrates and grants.
    application = create_app(
        {
            "DATABASE_URL": app_role_url(DATABASE_URL),
            "MIGRATION_DATABASE_URL": DATABASE_URL,
            "DATABASE_APP_ROLE": APP_ROLE,
            "BROKER_URL": REDIS_URL,
            "TESTING": True,
            "ATTACHMENT_DIR": str(tmp_path_factory.mktemp("attachments")),
            "SECRET_KEY": "test-secret",
            "PASSWORD_HASH_COST": "fast",  # argon2id at its lowest cost: tests make many users
        }
    )
    from flask_migrate import upgrade

    fresh_request_state(application)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


class _ConnectionBoundSession(AppSession):
    """Flask-SQLAlchemy's session always picks the engine; this one uses the test's connection."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return (
            self.bind if self.bind is not None else super().get_bind(mapper, clause, bind, **kwargs)
        )


def _owner_engine(application):
    engine = application.extensions.get("test_owner_engine")
    if engine is None:
        engine = application.extensions["test_owner_engine"] = create_engine(DATABASE_URL)
    return engine


@contextmanager
def as_table_owner():
    """Act as the tables' owner within the test's transaction (no policies, DDL allowed)."""
    db.session.execute(text("RESET ROLE"))
    try:
        yield
    finally:
        db.session.execute(text(f"SET LOCAL ROLE {APP_ROLE}"))


@pytest.fixture(autouse=True)
def _isolated(request):
    """Run each test inside a transaction that is rolled back afterwards."""
    if "workflows" in request.node.path.parts:
        yield  # pure domain rules need no database
        return
    app = request.getfixturevalue("app")
    if "committing" in request.keywords:
        with app.app_context(), tenancy.use(FIRST_FORBUND):
            yield
        return
    with app.app_context(), tenancy.use(FIRST_FORBUND):
        # The owner's connection, working as the application's role for the whole transaction:
        # the policies bind the test as they bind the application; `as_table_owner` lifts them
        # for a test that plays an attacker with the owner's rights.
        connection = _owner_engine(app).connect()
        outer = connection.begin()
        connection.exec_driver_sql(f"SET LOCAL ROLE {APP_ROLE}")
        original = db.session
        db.session = db._make_scoped_session(
            {
                "bind": connection,
                "class_": _ConnectionBoundSession,
                "join_transaction_mode": "create_savepoint",
            }
        )
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request):
    """Start each test with no failed sign-in attempts counted (Flask-Limiter's Redis counters)."""
    if "workflows" not in request.node.path.parts:
        request.getfixturevalue("app").extensions["sign_in_limiter"].reset()
    yield


class FormClient:
    """A test client that adds the CSRF token to form posts, as a browser would."""

    def __init__(self, client):
        self.client = client

    def __getattr__(self, name):
        return getattr(self.client, name)

    def csrf(self) -> str:
        page = self.client.get("/", follow_redirects=True)  # start page, or login when signed out
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
        assert found, "no CSRF token on the page"
        return found.group(1)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf())
        return self.client.post(url, data=data, **kwargs)

    def login(self, email: str, password: str):
        """Sign in as a person would: password, then the code from the authenticator app."""
        from coordination.auth.operations import find_user
        from tests.factories import totp_code

        response = self.post_form("/login", {"email": email, "password": password})
        if response.status_code == 302 and "/login/code" in response.headers["Location"]:
            user = find_user(email)
            db.session.refresh(user)
            response = self.post_form("/login/code", {"code": totp_code(user)})
        return response


@pytest.fixture()
def client(app):
    """A browser-like client (CSRF on)."""
    return FormClient(app.test_client())


@pytest.fixture()
def api(app):
    """A JSON API client; `api.as_user(user)` returns headers with a bearer token."""
    return app.test_client()

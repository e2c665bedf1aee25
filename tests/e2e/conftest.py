"""End-to-end setup: the real stack on this machine, driven by Debian's Chromium.

One stack per run: a fresh PostgreSQL database (the test database's name + `_e2e`, migrated with
`flask db upgrade`, dropped at the end), the web app under gunicorn with the production
config file (2 workers), a Celery worker on the test Redis database (flushed before and after), and
an SMTP sink. The data is committed, as in production; nothing here rolls back.

`make e2e` runs these tests (they carry the `e2e` marker, which the default run leaves out).
Chromium is /usr/bin/chromium (Debian's `chromium` package; COORD_E2E_CHROMIUM overrides) and
axe-core comes from `npm ci` in this folder. Screenshots go to test-output/e2e/.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from notifications.harness import (
    Process,
    SmtpSink,
    celery_worker,
    coordination_env,
    free_port,
    wait_until,
)
from tests.e2e.ui import Browser, Cast, Person

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUTPUT = ROOT / "test-output" / "e2e"
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("COORD_E2E_CHROMIUM", "/usr/bin/chromium")

TEST_DATABASE_URL = os.environ.get(
    "COORD_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/coord_test"
)
REDIS_URL = os.environ.get("COORD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD = "e2e-losenord-2026"
# The client secret of the OpenID Connect provider test_oidc.py starts; the app reads it from
# COORD_E2E_OIDC_SECRET, the variable the admin names on the unit's sign-in page.
OIDC_SECRET = "e2e-oidc-client-secret-2026"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each test's call report on the item (the journey stops at a failed step)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


@pytest.fixture(autouse=True)
def _isolated():
    """Override the suite's per-test transaction: the stack runs in other processes."""
    yield


def _e2e_database_url() -> str:
    url = make_url(TEST_DATABASE_URL)
    return url.set(database=f"{url.database}_e2e").render_as_string(hide_password=False)


def _recreate(url: str, *, drop_only: bool = False) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            if not drop_only:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def _preflight() -> None:
    """Stop the run with a message saying what is missing: the suite never silently skips."""
    if not Path(CHROMIUM).exists():
        pytest.exit(
            f"Chromium is not at {CHROMIUM}: `apt-get install chromium` (Debian's package).",
            returncode=3,
        )
    if not AXE.exists():
        pytest.exit("axe-core is missing: run `npm ci` in tests/e2e (make e2e does).", returncode=3)
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        pytest.exit(f"Redis is not reachable at {REDIS_URL}: {exc}", returncode=3)


def _seed(database_url: str, secret_key: str) -> dict[str, dict]:
    """Create what exists before the journey: units, one programme and a user per role.

    With the stack's secret key: the TOTP secrets are encrypted with a key derived from it.
    """
    import pyotp

    from coordination.app import create_app
    from coordination.auth.operations import create_user
    from coordination.auth.security import enrol_totp
    from coordination.codes.operations import ensure_default_codes
    from coordination.extensions import db
    from coordination.organisations.models import OrganisationUnit
    from coordination.programmes.models import Programme
    from coordination.tenancy.context import use

    app = create_app(
        {"DATABASE_URL": database_url, "BROKER_URL": REDIS_URL, "SECRET_KEY": secret_key}
    )
    people = {
        "referrer": ("remittent@e2e.example", "Rut Remittent", "kommun", "referrer"),
        "team_lead": ("samordnare@e2e.example", "Sam Samordnare", "forbund", "team_lead"),
        "coordinator": ("koordinator@e2e.example", "Kim Koordinator", "forbund", "coordinator"),
        "analyst": ("analytiker@e2e.example", "Ana Analytiker", "forbund", "analyst"),
        "admin": ("admin@e2e.example", "Ada Admin", "forbund", "admin"),
        "member_kommun": (
            "ledamot.kommun@e2e.example",
            "Lena Ledamot",
            "kommun",
            "conference_member",
        ),
        "member_af": ("ledamot.af@e2e.example", "Leo Ledamot", "af", "conference_member"),
        "member_fk": ("ledamot.fk@e2e.example", "Liv Ledamot", "fk", "conference_member"),
        "member_region": (
            "ledamot.region@e2e.example",
            "Lars Ledamot",
            "region",
            "conference_member",
        ),
    }
    with app.app_context(), use(1):  # the installation's first förbund
        ensure_default_codes()
        units = {
            "forbund": OrganisationUnit(
                name="Samordningsförbundet Södra Dalen", agency_kind="forbund"
            ),
            "kommun": OrganisationUnit(
                name="Dalby kommun, socialtjänsten", agency_kind="kommun", municipality="Dalby"
            ),
            "af": OrganisationUnit(name="Arbetsförmedlingen Dalby", agency_kind="af"),
            "fk": OrganisationUnit(name="Försäkringskassan Dalby", agency_kind="fk"),
            "region": OrganisationUnit(name="Vårdcentralen Dalby", agency_kind="region"),
        }
        db.session.add_all(units.values())
        db.session.add(Programme(name="Steget vidare", description="Samordnad rehabilitering."))
        db.session.flush()
        cast = {}
        for key, (email, name, unit, role) in people.items():
            user = create_user(
                email=email, name=name, password=PASSWORD, memberships=[(units[unit], role)]
            )
            secret = pyotp.random_base32()
            enrol_totp(user, secret)
            db.session.flush()
            cast[key] = {"id": user.id, "email": email, "name": name, "secret": secret}
        db.session.commit()
        db.engine.dispose()
    return cast


class Stack:
    """The running processes and what the tests need to reach them."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.database_url = _e2e_database_url()
        self.base_url = ""
        self.processes: list[Process] = []
        self.smtp = SmtpSink()
        self.password = PASSWORD
        self.cast: dict[str, dict] = {}

    def env(self, **extra) -> dict[str, str]:
        """The environment every process of the deployment shares."""
        env = coordination_env(
            self.database_url,
            REDIS_URL,
            self.smtp.port,
            SECRET_KEY=self.secret,
            BASE_URL=self.base_url,
            NOTIFY_QUIET_HOURS=False,
            NOTIFY_SWEEP_SECONDS=5,
            SMS_BACKEND="file",
            SMS_FILE=self.run_dir / "sms.log",
            ATTACHMENT_DIR=self.run_dir / "attachments",
            HEARTBEAT_DIR=self.run_dir / "heartbeats",
            HEARTBEAT_SECONDS=2,
            REQUIRE_TOTP=True,
            LOG_FORMAT="json",
            E2E_OIDC_SECRET=OIDC_SECRET,
            **extra,
        )
        env.pop("COORD_ENV", None)  # development settings: cookies over plain http on 127.0.0.1
        return env

    def start(self) -> Stack:
        self.secret = secrets.token_urlsafe(32)
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        _recreate(self.database_url)
        redis.Redis.from_url(REDIS_URL).flushdb()
        self.smtp.start()
        migrate = subprocess.run(
            [sys.executable, "-m", "flask", "db", "upgrade"],
            env=self.env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if migrate.returncode:
            raise RuntimeError(f"migration failed:\n{migrate.stdout}\n{migrate.stderr}")
        self.cast = _seed(self.database_url, self.secret)
        web = Process(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"],
            self.env(BIND=f"127.0.0.1:{port}", WEB_WORKERS=2, METRICS_PORT=free_port()),
            self.run_dir / "web.log",
        )
        worker = celery_worker(self.env(WORKER_METRICS_PORT=free_port()), self.run_dir, "e2e")
        self.processes = [web.start(), worker.start()]

        def _answers() -> bool:
            if web.popen.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{web.log()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/livez", timeout=2) as answer:
                    return answer.status == 200
            except (urllib.error.URLError, OSError):
                return False

        if not wait_until(_answers, 60, 0.2):
            raise RuntimeError(f"the web app did not answer:\n{web.log()[-3000:]}")
        if not wait_until(lambda: "ready" in worker.log(), 60, 0.2):
            raise RuntimeError(f"the worker did not start:\n{worker.log()[-3000:]}")
        return self

    def stop(self) -> None:
        for process in self.processes:
            process.stop()
        self.smtp.stop()
        redis.Redis.from_url(REDIS_URL).flushdb()
        _recreate(self.database_url, drop_only=True)

    def logs(self) -> str:
        return "\n".join(f"----- {p.log_path.name}\n{p.log()[-4000:]}" for p in self.processes)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The app, a worker, PostgreSQL, Redis and an SMTP sink, as deployed."""
    _preflight()
    if OUTPUT.exists():
        shutil.rmtree(OUTPUT)
    OUTPUT.mkdir(parents=True)
    running = Stack(tmp_path_factory.mktemp("e2e-stack"))
    try:
        running.start()
    except Exception:
        running.stop()
        raise
    yield running
    failed_logs = running.logs()
    running.stop()
    (OUTPUT / "stack.log").write_text(failed_logs)


@pytest.fixture(scope="session")
def browser(stack):
    """Chromium (Debian's), headless, driven by Playwright."""
    with Browser(CHROMIUM, stack.base_url, AXE, OUTPUT) as chromium:
        yield chromium


@pytest.fixture(scope="session")
def cast(stack, browser) -> Cast:
    """The people of the journey, each with their own browser (signed in on first use)."""
    people = {key: Person(browser, stack, key, **info) for key, info in stack.cast.items()}
    yield Cast(people)
    for person in people.values():
        person.close()


@pytest.fixture(scope="session")
def axe_results(browser):
    """Every page's serious and critical axe violations, collected over the run."""
    return browser.axe_results


def totp_step_wait() -> None:
    """Wait for the next 30-second step (a user who signs in three times in one step)."""
    time.sleep(30 - time.time() % 30 + 0.5)

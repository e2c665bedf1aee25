"""`make run`'s default: the SQLite file database and the embedded broker, no server needed.

The app is created as `make run` creates it (no COORD_DATABASE_URL, so a SQLite file; Kombu's
SQLAlchemy transport on SQLite as the broker; password-only login as deploy/run-local.sh sets),
only in a temporary folder. Then `flask db upgrade`, `flask seed-demo --if-empty` twice, and the
demo checks and journey of tests/test_demo.py on it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from coordination.app import create_app
from coordination.config import DEFAULTS
from coordination.extensions import db
from tests.conftest import fresh_request_state
from tests.test_demo import check_the_demo, walk_a_referral_to_a_case

pytestmark = pytest.mark.committing  # its own database file, outside the per-test transaction


@pytest.fixture()
def sqlite_app(app, tmp_path):
    """The app on SQLite files in tmp_path; afterwards Celery is pointed back at the suite's."""
    from notifications.celery_app import celery, configure

    assert str(DEFAULTS["DATABASE_URL"]).startswith("sqlite:///")
    assert str(DEFAULTS["BROKER_URL"]).startswith("sqla+sqlite:///")
    local = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'coordination.sqlite'}",
            "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
            "ATTACHMENT_DIR": str(tmp_path / "attachments"),
            "SMS_FILE": str(tmp_path / "sms.log"),
            "HEARTBEAT_DIR": str(tmp_path / "heartbeats"),
            "REQUIRE_TOTP": False,  # as deploy/run-local.sh starts it
            "PASSWORD_HASH_COST": "fast",
            "NOTIFY_QUIET_HOURS": False,  # deliveries are due at once, whatever the hour of the run
            "TESTING": True,
        }
    )
    fresh_request_state(local)
    celery.close()  # the next task is sent on the embedded broker, not a connection from before
    try:
        yield local
    finally:
        with local.app_context():
            db.session.remove()
            db.engine.dispose()
        configure(app)
        celery.close()


def test_make_run_migrates_seeds_and_walks_a_referral_to_a_case(sqlite_app):
    cli = sqlite_app.test_cli_runner()
    # Inside its own app context: the CLI would otherwise run on the suite's app (PostgreSQL).
    with sqlite_app.app_context():
        assert db.engine.url.get_backend_name() == "sqlite"
        upgraded = cli.invoke(args=["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        seeded = cli.invoke(args=["seed-demo", "--if-empty"])
        assert seeded.exit_code == 0, seeded.output
        assert "koordinator@demo.example" in seeded.output
        again = cli.invoke(args=["seed-demo", "--if-empty"])
        assert again.exit_code == 0 and "Demo data not loaded" in again.output

        logins = [
            (line.split()[1], line.split()[0]) for line in seeded.output.splitlines()[1:] if line
        ]
        check_the_demo(sqlite_app, logins)
        check_the_consent_rule_in_sql()
        walk_a_referral_to_a_case(sqlite_app)
        check_the_live_intake_migration(cli)

    broker = create_engine(sqlite_app.config["COORD"]["BROKER_URL"].removeprefix("sqla+"))
    try:  # the deliveries went to the embedded broker, for `make run`'s worker to take
        with broker.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM kombu_message")) > 0
    finally:
        broker.dispose()


def check_the_consent_rule_in_sql() -> None:
    """The SQL form of the consent rule (JSON array membership is dialect-specific) answers as
    the rule does on SQLite too, for every demo person and agency."""
    from sqlalchemy import literal, select

    from coordination.consent.models import Consent
    from coordination.consent.operations import agency_may_see, agency_may_see_sql
    from coordination.core.i18n import local_today

    today = local_today()
    people = set(db.session.scalars(select(Consent.person_id)))
    assert people
    for person in people:
        for agency in ("kommun", "af", "fk", "region", "forbund"):
            sql = db.session.scalar(select(agency_may_see_sql(person, literal(agency), today)))
            assert bool(sql) == agency_may_see(person, agency, today), (person, agency)


def check_the_live_intake_migration(cli) -> None:
    """0019_live_intake on SQLite: enrolled cases without a SUS record (as before the live
    intake) get theirs, so the reports count them again."""
    from coordination.statistics import reports
    from coordination.statistics.reports.base import Filters

    # The demo's history (records without a case) is not the migration's: leave the cases' own.
    history = "SELECT id FROM sus_participant WHERE case_id IS NULL"
    registrations = f"SELECT id FROM sus_registration WHERE participant_id IN ({history})"
    db.session.execute(text(f"DELETE FROM sus_support WHERE registration_id IN ({registrations})"))
    db.session.execute(text(f"DELETE FROM sus_registration WHERE id IN ({registrations})"))
    db.session.execute(text(f"DELETE FROM sus_participant WHERE id IN ({history})"))
    db.session.commit()
    enrolled = db.session.scalar(
        text("SELECT count(*) FROM case_record WHERE enrolled_on IS NOT NULL")
    )
    assert reports.run("participants", Filters()).rows[1].counts["total"] == enrolled >= 2
    for table in ("sus_support", "sus_registration", "sus_participant"):
        db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()
    assert reports.run("participants", Filters()).rows[1].counts["total"] == 0
    downgraded = cli.invoke(args=["db", "downgrade", "0018_more_page_indexes"])
    assert downgraded.exit_code == 0, downgraded.output
    upgraded = cli.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    db.session.expire_all()
    assert reports.run("participants", Filters()).rows[1].counts["total"] == enrolled
    intakes = db.session.scalar(
        text("SELECT count(*) FROM sus_registration WHERE occasion = 'intake'")
    )
    assert intakes == enrolled

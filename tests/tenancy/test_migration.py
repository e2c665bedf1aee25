"""Migrating an installation that served one förbund (DOMAIN.md §14): every existing row becomes
the first förbund's, named by its letterhead, and the policies hold from then on.

On a database of this module's own (it changes the schema), migrated to the revision before the
förbund, filled as that revision's application would, then migrated to the head.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from coordination.extensions import db
from coordination.tenancy.rls import TENANT_TABLES
from tests.conftest import app_role_url
from tests.installations import drop, installation, own_url

OWN_DATABASE = own_url("one_forbund")


@pytest.fixture(scope="module")
def owner_app(app, tmp_path_factory):
    """An installation whose migration the test runs itself."""
    application = installation(
        OWN_DATABASE, str(tmp_path_factory.mktemp("attachments")), migrate=False
    )
    yield application
    drop(application, OWN_DATABASE)


SINGLE_FORBUND_ROWS = [
    "INSERT INTO letterhead (name, updated_at) VALUES ('Finsam Västra Dalen', :now)",
    "INSERT INTO organisation_unit (name, agency_kind, active) "
    "VALUES ('Förbundskansliet', 'forbund', true)",
    "INSERT INTO day_off (date, name) VALUES (DATE '2027-01-07', 'Planeringsdag')",
    "INSERT INTO person (identity_number, coordination_number, birth_date, first_name, "
    "last_name, gender, preferred_channel, interpreter_needed, protected_identity, created_at) "
    "VALUES ('199001011234', false, DATE '1990-01-01', 'Gunnel', 'Ettförbund', 'kvinna', 'sms', "
    "false, false, :now)",
]


@pytest.mark.committing
def test_the_rows_of_a_single_forbund_installation_become_the_first_forbunds(owner_app):
    from flask_migrate import upgrade

    with owner_app.app_context():  # the application's role writes as that revision's app did
        upgrade(revision="0026_letterhead")
        now = datetime.now(UTC)
        for statement in SINGLE_FORBUND_ROWS:
            db.session.execute(text(statement), {"now": now})
        db.session.commit()
        db.session.remove()
        upgrade()

    owner = create_engine(OWN_DATABASE)  # the tables' owner sees every row, policies or not
    try:
        with owner.connect() as connection:
            forbund = connection.execute(text("SELECT id, slug, name FROM forbund")).all()
            assert [tuple(row) for row in forbund] == [(1, "forbund-1", "Finsam Västra Dalen")]
            for table in ("letterhead", "organisation_unit", "day_off", "person"):
                owners = connection.execute(text(f"SELECT DISTINCT forbund_id FROM {table}"))
                assert [tuple(row) for row in owners] == [(1,)], table
            policies = connection.execute(
                text("SELECT tablename FROM pg_policies WHERE policyname = 'forbund_isolation'")
            ).scalars()
            assert sorted(policies) == sorted(TENANT_TABLES)
    finally:
        owner.dispose()

    app_engine = create_engine(app_role_url(OWN_DATABASE))
    try:
        with app_engine.begin() as connection:  # the application's role, no förbund chosen
            assert connection.execute(text("SELECT count(*) FROM person")).scalar() == 0
        with app_engine.begin() as connection:  # within the first förbund: its participant
            connection.execute(text("SELECT set_config('app.forbund_id', '1', true)"))
            names = connection.execute(text("SELECT last_name FROM person")).scalars().all()
            assert names == ["Ettförbund"]
    finally:
        app_engine.dispose()

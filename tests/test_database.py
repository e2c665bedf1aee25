"""The migrations match the models, and tests do not leak rows into each other."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from coordination.extensions import db
from coordination.organisations.models import OrganisationUnit


def test_migrations_match_the_models():
    connection = db.session.connection()
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_migration_history_has_exactly_one_head(app):
    from alembic.script import ScriptDirectory

    from coordination.extensions import migrate

    config = migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads, write a merge revision: {heads}"


def test_default_code_lists_are_loaded_by_the_migration():
    from coordination.codes.operations import valid_codes

    assert "avbrutit_uteblivit" in valid_codes("exit_reason")
    assert len(valid_codes("support")) == 10


def test_isolation_a_commits_a_row():
    db.session.add(OrganisationUnit(name="Leak probe unit", agency_kind="af"))
    db.session.commit()
    count = db.session.scalar(
        select(func.count()).where(OrganisationUnit.name == "Leak probe unit")
    )
    assert count == 1


def test_isolation_b_sees_no_row_from_the_previous_test():
    count = db.session.scalar(
        select(func.count()).where(OrganisationUnit.name == "Leak probe unit")
    )
    assert count == 0

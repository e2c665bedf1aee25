"""Installations of a test's own: a database of its own, migrated, the application on it as its
own role (bound by the förbund policies), dropped afterwards. For tests that change the schema,
commit for real where no test may delete, or move data between installations."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from coordination.extensions import db
from tests.conftest import (
    APP_ROLE,
    DATABASE_URL,
    REDIS_URL,
    _fresh_database,
    app_role_url,
    fresh_request_state,
)


def own_url(suffix: str) -> str:
    """Return the URL (as the owner) of a database of the test's own: the test database's name
    with the suffix."""
    url = make_url(DATABASE_URL)
    return url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)


def installation(url: str, attachment_dir: str, *, migrate: bool = True):
    """Create the database afresh and the application on it; migrate it to the head unless
    told not to (the test migrates it itself)."""
    from flask_migrate import upgrade

    from coordination.app import create_app

    _fresh_database(url)
    application = create_app(
        {
            "DATABASE_URL": app_role_url(url),
            "MIGRATION_DATABASE_URL": url,
            "DATABASE_APP_ROLE": APP_ROLE,
            "BROKER_URL": REDIS_URL,
            "TESTING": True,
            "ATTACHMENT_DIR": attachment_dir,
            "SECRET_KEY": "test-secret",
            "PASSWORD_HASH_COST": "fast",
        }
    )
    fresh_request_state(application)
    if migrate:
        with application.app_context():
            upgrade()
    return application


def drop(application, url: str) -> None:
    """Close the application's connections and drop its database."""
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()

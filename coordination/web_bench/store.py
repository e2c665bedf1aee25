"""The bench's data sets: one PostgreSQL database per size, built by `data.build` and kept
between runs (a marker table says at which size, schema and generator), brought to a newer schema
by the migrations, and granted to the application's role the app connects as.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import psycopg

from coordination.web_bench import data as dataset

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "bench-web-secret-key-not-for-production-0123456789"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
MARKER = "bench_dataset"
# The app connects as deploy/ connects it: as the application's role, which the förbund policies
# bind (row-level security), never as the tables' owner. The floor's raw SQL runs as the owner.
APP_ROLE = "coord_bench_app"
progress = logging.getLogger("coordination.web_bench")


def database_name(participants: int) -> str:
    """Return the bench database of a size: coord_bench_web_20k, coord_bench_web_200k."""
    size = f"{participants // 1000}k" if participants % 1000 == 0 else str(participants)
    return f"coord_bench_web_{size}"


def _alembic_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "coordination" / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head() or ""


def _stored(url: str, participants: int, head: str) -> dataset.Dataset | None:
    """Return the data set already built at this size and schema, if there is one.

    One built by the same generator at an older schema is brought to this one by the
    migrations, as production's data is (a newer generator builds it again).
    """
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute(
                f"SELECT participants, schema_head, generator, description FROM {MARKER}"
            ).fetchone()
    except psycopg.Error:
        return None
    if row is None or (row[0], row[2]) != (participants, dataset.GENERATOR_VERSION):
        return None
    if row[1] != head and not _upgraded(url, row[1], head):
        return None
    return dataset.from_description(row[3])


def _upgraded(url: str, stored: str, head: str) -> bool:
    """Migrate a stored data set from its schema to the head; False if the head does not
    descend from it (another branch: build again)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "coordination" / "migrations"))
    script = ScriptDirectory.from_config(config)
    try:
        if stored not in {r.revision for r in script.iterate_revisions(head, "base")}:
            return False
    except Exception:  # an unknown revision: build again
        return False
    from flask_migrate import upgrade

    from coordination.app import create_app
    from coordination.extensions import db

    started = time.perf_counter()
    app = create_app(
        {
            "DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://"),
            "SECRET_KEY": SECRET_KEY,
        }
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"UPDATE {MARKER} SET schema_head = %s", (head,))
        conn.execute("VACUUM ANALYZE")
    progress.info(
        "data: migrated %s from %s to %s in %.1f s",
        url.rsplit("/", 1)[-1],
        stored,
        head,
        time.perf_counter() - started,
    )
    return True


def ensure_dataset(participants: int) -> tuple[str, dataset.Dataset]:
    """Reuse the data set of this size, or build it in a fresh database; return its URL."""
    name = database_name(participants)
    url = f"{PG_URL}/{name}"
    head = _alembic_head()
    if os.environ.get("BENCH_REBUILD") != "1":
        found = _stored(url, participants, head)
        if found is not None:
            progress.info("data: reusing %s (%s participants)", name, participants)
            return url, found
    started = time.perf_counter()
    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    from flask_migrate import upgrade

    from coordination.app import create_app
    from coordination.auth.passwords import hash_password

    app = create_app(
        {
            "DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://"),
            "SECRET_KEY": SECRET_KEY,
        }
    )
    with app.app_context():
        upgrade()
        password_hash = hash_password(dataset.PASSWORD)
        from coordination.extensions import db

        db.engine.dispose()
    progress.info("data: migrated %s in %.1f s", name, time.perf_counter() - started)
    with psycopg.connect(url) as conn:
        built = dataset.build(
            conn, participants, secret_key=SECRET_KEY, password_hash=password_hash
        )
        conn.execute(
            f"CREATE TABLE {MARKER} (participants int, schema_head text, generator text, "
            "description jsonb, built_at timestamptz DEFAULT now())"
        )
        conn.execute(
            f"INSERT INTO {MARKER} (participants, schema_head, generator, description) "
            "VALUES (%s, %s, %s, %s)",
            (participants, head, dataset.GENERATOR_VERSION, dataset.dumps(built)),
        )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    progress.info(
        "data: built %s (%s participants) in %.1f s",
        name,
        participants,
        time.perf_counter() - started,
    )
    return url, built


def app_role_url(url: str) -> str:
    """Grant the application's role the data set's rows; return the URL that connects as it."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from coordination.tenancy.rls import grant_app_role

    owner = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with owner.begin() as conn:
        grant_app_role(conn, APP_ROLE)
    owner.dispose()
    return make_url(url).set(username=APP_ROLE, password=None).render_as_string(False)

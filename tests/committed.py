"""Committing tests: note the highest ids before, delete every row added after.

`@pytest.mark.committing` tests commit for real (parallel sessions must see each other's rows), so
they clean up themselves: `marks = snapshot()` first, `purge(marks)` in a `finally`.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import IntegrityError

from coordination.extensions import db


@cache
def _owner():
    """The tables' owner, which every förbund's rows are visible to: the clean-up sees them all."""
    from tests.conftest import DATABASE_URL

    return create_engine(DATABASE_URL, pool_size=1)


def snapshot() -> dict[str, int]:
    """Return the highest id of every table with an integer id (to remove what the test adds)."""
    marks = {}
    with _owner().connect() as connection:
        for table in db.metadata.sorted_tables:
            if "id" in table.c and table.name != "access_log":
                marks[table.name] = connection.scalar(select(func.max(table.c.id))) or 0
    return marks


def purge(marks: dict[str, int]) -> None:
    """Delete every row added since the snapshot, retrying tables that others still reference."""
    db.session.rollback()
    pending = [t for t in reversed(db.metadata.sorted_tables) if t.name in marks]
    for _attempt in range(len(pending) + 1):
        left = []
        for table in pending:
            try:
                with _owner().begin() as connection:
                    connection.execute(table.delete().where(table.c.id > marks[table.name]))
            except IntegrityError:
                left.append(table)
        if not left:
            return
        pending = left
    raise AssertionError(f"could not clean up {[t.name for t in pending]}")

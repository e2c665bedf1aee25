"""Committing tests: note the highest ids before, delete every row added after.

`@pytest.mark.committing` tests commit for real (parallel sessions must see each other's rows), so
they clean up themselves: `marks = snapshot()` first, `purge(marks)` in a `finally`.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from coordination.extensions import db


def snapshot() -> dict[str, int]:
    """Return the highest id of every table with an integer id (to remove what the test adds)."""
    marks = {}
    for table in db.metadata.sorted_tables:
        if "id" in table.c and table.name != "access_log":
            marks[table.name] = db.session.scalar(select(func.max(table.c.id))) or 0
    return marks


def purge(marks: dict[str, int]) -> None:
    """Delete every row added since the snapshot, retrying tables that others still reference."""
    db.session.rollback()
    pending = [t for t in reversed(db.metadata.sorted_tables) if t.name in marks]
    for _attempt in range(len(pending) + 1):
        left = []
        for table in pending:
            try:
                with db.engine.begin() as connection:
                    connection.execute(table.delete().where(table.c.id > marks[table.name]))
            except IntegrityError:
                left.append(table)
        if not left:
            return
        pending = left
    raise AssertionError(f"could not clean up {[t.name for t in pending]}")

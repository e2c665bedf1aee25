"""Counting the SQL statements a request issues (the N+1 guard of list and case pages)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from coordination.extensions import db

# Transaction bookkeeping of the test's savepoints, not the page's work.
_BOOKKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    """Collect the statements sent to the database inside the block."""
    statements: list[str] = []

    def _record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_BOOKKEEPING):
            statements.append(statement)

    bind = db.session().get_bind()  # the test's connection (the owner's engine), or the app's
    engine = getattr(bind, "engine", bind)
    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _record)


def query_count(fetch) -> int:
    """Return how many statements `fetch()` sends; it must succeed (asserted by the caller)."""
    with counted_queries() as statements:
        fetch()
    return len(statements)

"""How a request's transaction ends when the view left it open: committed when it only read.

A view that changes something commits (or rolls back) itself. Many pages only read, and leave
their transaction open for the end of the request, where the session is removed and rolls it
back. A rollback of a read is harmless, but psycopg empties the connection's prepared statements
on every ROLLBACK, so no statement of the application would ever be planned once and reused
(PostgreSQL spends up to 7 ms planning a case's row each time). Here a transaction that wrote
nothing is committed instead: the same end for a read, and the statements stay prepared.

"Wrote" is anything but an ORM SELECT: a flush, an ORM UPDATE or DELETE, any other statement
through the session (text() included). A request that failed, or wrote and did not commit, is
still rolled back by the session's removal.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import event

from coordination.extensions import db

WROTE = "coordination.wrote"
log = logging.getLogger(__name__)


def _wrote(session, *_args) -> None:
    session.info[WROTE] = True


def _statement(state) -> None:
    if not state.is_select:
        state.session.info[WROTE] = True


def _ended(session, *_args) -> None:
    session.info.pop(WROTE, None)


def _end_request(exc: BaseException | None) -> None:
    session = db.session()
    if exc is not None or session.info.get(WROTE) or not session.in_transaction():
        return
    if session.new or session.dirty or session.deleted:
        return  # unflushed changes: the removal rolls them back, as always
    try:
        session.commit()
    except Exception:  # the removal rolls back; the response has gone already
        log.warning("ending a read-only request's transaction failed", exc_info=True)


HOOKS = (
    ("after_flush", _wrote),
    ("do_orm_execute", _statement),
    ("after_commit", _ended),
    ("after_rollback", _ended),
)


def install(app: Flask, session_class) -> None:
    """Commit a request's read-only transaction at its end (installing twice changes nothing)."""
    for name, hook in HOOKS:
        if not event.contains(session_class, name, hook):
            event.listen(session_class, name, hook)
    app.teardown_request(_end_request)

"""The current förbund: the tenant every query of this request, task or job is scoped to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_app_context
from sqlalchemy import text

from coordination.extensions import db

_current: ContextVar[int | None] = ContextVar("coordination_forbund_id", default=None)

# The PostgreSQL setting the row-level-security policies read (see rls.py).
SETTING = "app.forbund_id"


class NoForbund(RuntimeError):
    """A tenant row was written with no förbund chosen: a bug, never a user's mistake."""


def current_id() -> int | None:
    """Return the id of the förbund this work is scoped to, or None outside every förbund."""
    return _current.get()


def require_id() -> int:
    """Return the current förbund's id; raise when there is none (a new tenant row needs one)."""
    forbund_id = _current.get()
    if forbund_id is None:
        raise NoForbund("no förbund is chosen for this work")
    return forbund_id


def _apply_to_open_transaction() -> None:
    """Tell the database the new förbund when a transaction is already open (PostgreSQL).

    A transaction that begins later gets it from the session's `after_begin` hook (scoping.py).
    """
    if not has_app_context():
        return
    session = db.session()
    if not session.in_transaction():
        return
    tell(session.connection())


def tell(connection) -> None:
    """Set the current förbund for the connection's open transaction (PostgreSQL's policies
    read it); a connection of the session gets it at every begin (scoping.py), one taken from
    the engine directly needs this."""
    if connection.dialect.name == "postgresql":
        forbund_id = _current.get()
        connection.execute(
            text("SELECT set_config(:name, :value, true)"),
            {"name": SETTING, "value": "" if forbund_id is None else str(forbund_id)},
        )


def set_current(forbund_id: int | None) -> object:
    """Make `forbund_id` the current förbund; return the token that `reset` takes."""
    token = _current.set(forbund_id)
    _apply_to_open_transaction()
    return token


def reset(token) -> None:
    """Go back to the förbund that was current before `set_current` returned the token."""
    _current.reset(token)
    _apply_to_open_transaction()


@contextmanager
def use(forbund_id: int | None) -> Iterator[None]:
    """Work within one förbund (None: outside every förbund) for the duration of the block."""
    token = set_current(forbund_id)
    try:
        yield
    finally:
        reset(token)

"""The hash chain over the access log: each row's hash covers its fields and the previous hash."""

from __future__ import annotations

import hashlib

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from coordination.audit.models import AccessLogEntry
from coordination.core.db import utcnow

CHAIN_LOCK = 7_311_001  # pg_advisory_xact_lock key: one writer extends the chain at a time


def digest(entry: AccessLogEntry) -> str:
    """Return the hash of one row given its prev_hash."""
    return hashlib.sha256(entry.canonical().encode("utf-8")).hexdigest()


def _chain_new_entries(session: Session, flush_context, instances) -> None:
    new = [obj for obj in session.new if isinstance(obj, AccessLogEntry)]
    if not new:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Held until commit, so rows are chained in commit order and never fork.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    previous = connection.execute(
        select(AccessLogEntry.hash).order_by(AccessLogEntry.id.desc()).limit(1)
    ).scalar()
    previous = previous or ""
    for entry in new:
        _apply_defaults(entry)
        entry.prev_hash = previous
        entry.hash = digest(entry)
        previous = entry.hash


def _apply_defaults(entry: AccessLogEntry) -> None:
    """Fill the column defaults now, so the hash covers the values that will be stored."""
    if entry.at is None:
        entry.at = utcnow()
    for column in AccessLogEntry.__table__.columns:
        default = column.default
        if getattr(entry, column.key) is None and default is not None and default.is_scalar:
            setattr(entry, column.key, default.arg)


def install(session_class) -> None:
    """Chain every new access-log row as it is flushed (installing twice changes nothing)."""
    if not event.contains(session_class, "before_flush", _chain_new_entries):
        event.listen(session_class, "before_flush", _chain_new_entries)


def verify(session: Session) -> tuple[bool, int | None, int]:
    """Walk the chain from its oldest kept row; return (intact, first bad id, rows checked)."""
    previous: str | None = None
    checked = 0
    rows = session.execute(select(AccessLogEntry).order_by(AccessLogEntry.id)).scalars()
    for entry in rows:
        if previous is not None and entry.prev_hash != previous:
            return False, entry.id, checked
        if digest(entry) != entry.hash:
            return False, entry.id, checked
        previous = entry.hash
        checked += 1
    return True, None, checked

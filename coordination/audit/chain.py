"""The hash chain over the access log: each row's hash covers its fields and the previous hash.

Verification is incremental: each run continues from the last checkpoint (the last verified row
and its hash) and records a new one, so the work per run is what was written since. A full walk
from the oldest kept row stays available (`flask audit verify-chain --full`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from coordination.audit.models import CHAIN_COLUMNS, AccessLogEntry, ChainCheckpoint, canonical
from coordination.core.db import utcnow

CHAIN_LOCK = 7_311_001  # pg_advisory_xact_lock key: one writer extends the chain at a time
BATCH_ROWS = 2_000  # rows fetched from the database at a time while walking the chain


def digest(entry) -> str:
    """Return the hash of one row (an entry, or a row of CHAIN_COLUMNS) given its prev_hash."""
    return hashlib.sha256(canonical(entry).encode("utf-8")).hexdigest()


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


@dataclass
class Result:
    """The outcome of one walk over part of the chain."""

    intact: bool = True
    broken_at_id: int | None = None
    first_id: int | None = None
    last_id: int | None = None
    last_hash: str = ""
    rows_checked: int = 0


def _walk(
    session: Session, *, after_id: int | None, previous: str | None, limit: int | None
) -> Result:
    """Check rows after `after_id` in id order; `previous` is the hash the next row must carry.

    Only the hashed columns are read, a batch at a time, so memory stays flat however long the
    log. `previous` None accepts the first row's prev_hash (the oldest kept row after pruning).
    """
    columns = [getattr(AccessLogEntry, name) for name in CHAIN_COLUMNS]
    query = select(*columns).order_by(AccessLogEntry.id)
    if after_id is not None:
        query = query.where(AccessLogEntry.id > after_id)
    if limit is not None:
        query = query.limit(limit)
    result = Result(last_id=after_id, last_hash=previous or "")
    rows = session.execute(query.execution_options(yield_per=BATCH_ROWS))
    for row in rows:
        if result.first_id is None:
            result.first_id = row.id
        if (previous is not None and row.prev_hash != previous) or digest(row) != row.hash:
            result.intact, result.broken_at_id = False, row.id
            break
        previous = row.hash
        result.last_id, result.last_hash = row.id, row.hash
        result.rows_checked += 1
    rows.close()
    return result


def verify(session: Session) -> tuple[bool, int | None, int]:
    """Walk the whole chain from its oldest kept row; return (intact, first bad id, rows checked).

    Each verified checkpoint is an anchor too: a row it vouched for must still carry its hash, so
    rewriting the log and every hash after a row does not go unnoticed.
    """
    result = _walk(session, after_id=None, previous=None, limit=None)
    if not result.intact:
        return False, result.broken_at_id, result.rows_checked
    anchors = session.execute(
        select(ChainCheckpoint.last_id, ChainCheckpoint.last_hash, AccessLogEntry.hash)
        .join(AccessLogEntry, AccessLogEntry.id == ChainCheckpoint.last_id)
        .where(ChainCheckpoint.intact.is_(True), AccessLogEntry.hash != ChainCheckpoint.last_hash)
        .order_by(ChainCheckpoint.last_id)
        .limit(1)
    ).first()
    if anchors is not None:
        return False, anchors.last_id, result.rows_checked
    return True, None, result.rows_checked


def latest_checkpoint(session: Session) -> ChainCheckpoint | None:
    """Return the last recorded verification, if any."""
    return session.scalar(select(ChainCheckpoint).order_by(ChainCheckpoint.id.desc()).limit(1))


def unverified_rows(session: Session, checkpoint: ChainCheckpoint | None) -> int:
    """Count the log rows written after the checkpoint (not yet verified)."""
    query = select(func.count()).select_from(AccessLogEntry)
    if checkpoint is not None and checkpoint.last_id is not None:
        query = query.where(AccessLogEntry.id > checkpoint.last_id)
    return session.scalar(query) or 0


def verify_increment(
    session: Session, *, triggered_by: str, limit: int | None = None, user_id: int | None = None
) -> ChainCheckpoint:
    """Verify the rows written since the last checkpoint (at most `limit`) and record the result.

    The caller commits. A run that found a break records the last good row as where it stopped,
    so the next run checks the broken row again.
    """
    before = latest_checkpoint(session)
    after_id = before.last_id if before is not None else None
    previous = before.last_hash if before is not None and before.last_id is not None else None
    result = _walk(session, after_id=after_id, previous=previous, limit=limit)
    return _record(session, result, triggered_by=triggered_by, user_id=user_id, full=False)


def verify_full(session: Session, *, triggered_by: str = "cli") -> ChainCheckpoint:
    """Verify the whole chain from its oldest kept row and record the result (caller commits)."""
    intact, bad_id, checked = verify(session)
    last = session.execute(
        select(AccessLogEntry.id, AccessLogEntry.hash).order_by(AccessLogEntry.id.desc()).limit(1)
    ).first()
    result = Result(intact=intact, broken_at_id=bad_id, rows_checked=checked)
    if intact and last is not None:
        result.last_id, result.last_hash = last.id, last.hash
    elif not intact:
        # Continue later from the last good row before the break, as an incremental run would.
        good = session.execute(
            select(AccessLogEntry.id, AccessLogEntry.hash)
            .where(AccessLogEntry.id < bad_id)
            .order_by(AccessLogEntry.id.desc())
            .limit(1)
        ).first()
        if good is not None:
            result.last_id, result.last_hash = good.id, good.hash
    return _record(session, result, triggered_by=triggered_by, user_id=None, full=True)


def _record(
    session: Session, result: Result, *, triggered_by: str, user_id: int | None, full: bool
) -> ChainCheckpoint:
    checkpoint = ChainCheckpoint(
        verified_at=utcnow(),
        triggered_by=triggered_by,
        user_id=user_id,
        full=full,
        first_id=result.first_id,
        last_id=result.last_id,
        last_hash=result.last_hash,
        rows_checked=result.rows_checked,
        intact=result.intact,
        broken_at_id=result.broken_at_id,
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint

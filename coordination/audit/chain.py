"""The hash chain over the access log: each row's hash covers its fields and the previous hash.

A request only inserts its rows; a sweeper (`chain_pending`, run by beat every few seconds and by
every verification first) chains the committed ones afterwards, so no writer waits for another.

Verification is incremental: each run continues from the last checkpoint (the last verified row
and its hash) and records a new one, so the work per run is what was written since. A full walk
from the oldest kept row stays available (`flask audit verify-chain --full`).

Each förbund has its own chain (and the installation one of its own, for sign-ins before a förbund
is chosen): every statement here reads and writes the current förbund's rows only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import bindparam, func, or_, select, text, update
from sqlalchemy.orm import Session

from coordination.audit.models import CHAIN_COLUMNS, AccessLogEntry, ChainCheckpoint, canonical
from coordination.core.db import utcnow
from coordination.tenancy.context import current_id
from coordination.tenancy.scoping import own_rows

CHAIN_LOCK = 7_311_001  # pg_advisory_xact_lock key: held by sweepers only, never by writers
BATCH_ROWS = 2_000  # rows fetched from the database at a time while walking the chain
SWEEP_BATCH = 5_000  # rows a sweeper chains per statement round


def digest(entry) -> str:
    """Return the hash of one row (an entry, or a row of CHAIN_COLUMNS) given its prev_hash."""
    return hashlib.sha256(canonical(entry).encode("utf-8")).hexdigest()


def chain_pending(session: Session, *, wait: bool = True, limit: int | None = None) -> int | None:
    """Chain the committed rows not yet chained, in id order; return how many (None: busy).

    Writers only insert. Under an advisory lock that only sweepers take, this reads the chain's
    tail and gives each waiting row the next place (`chain_seq`), the tail's hash and its own. A
    row that commits after a later id was chained is simply chained later: the chain's order is
    the sweeper's, never the id's, so nothing forks and nothing is left out. The lock lasts until
    the caller commits; `wait=False` returns None at once when another sweeper holds it.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
        locked = connection.execute(  # one chain per förbund, and one sweeper per chain
            text(f"SELECT {function}(:key, :forbund)"),
            {"key": CHAIN_LOCK, "forbund": current_id() or 0},
        )
        if not wait and not locked.scalar():
            return None
    # Read after the lock, so this sees what the previous sweeper committed.
    tail = connection.execute(
        select(AccessLogEntry.chain_seq, AccessLogEntry.hash)
        .where(AccessLogEntry.chain_seq.is_not(None), own_rows(AccessLogEntry))
        .order_by(AccessLogEntry.chain_seq.desc())
        .limit(1)
    ).first()
    seq, previous = (tail.chain_seq, tail.hash) if tail is not None else (0, "")
    columns = [getattr(AccessLogEntry, name) for name in CHAIN_COLUMNS]
    table = AccessLogEntry.__table__
    fill = (
        update(table)
        .where(table.c.id == bindparam("row_id"), table.c.chain_seq.is_(None), own_rows(table))
        .values(chain_seq=bindparam("seq"), prev_hash=bindparam("prev"), hash=bindparam("own"))
    )
    chained = 0
    while limit is None or chained < limit:
        size = SWEEP_BATCH if limit is None else min(SWEEP_BATCH, limit - chained)
        rows = connection.execute(
            select(*columns)
            .where(AccessLogEntry.chain_seq.is_(None), own_rows(AccessLogEntry))
            .order_by(AccessLogEntry.id)
            .limit(size)
        ).all()
        if not rows:
            break
        values = []
        for row in rows:
            seq += 1
            own = digest(_Linked(row, previous))
            values.append({"row_id": row.id, "seq": seq, "prev": previous, "own": own})
            previous = own
        done = connection.execute(fill, values).rowcount
        if done != len(values):  # only a sweeper fills these columns, and only under the lock
            raise RuntimeError("access log rows were chained by someone else during a sweep")
        chained += len(values)
        if len(rows) < size:
            break
    if chained:
        _expire_loaded_entries(session)
    return chained


class _Linked:
    """A fetched row seen with the prev_hash it is about to get."""

    def __init__(self, row, prev_hash: str):
        self._row, self.prev_hash = row, prev_hash

    def __getattr__(self, name):
        return getattr(self._row, name)


def _expire_loaded_entries(session: Session) -> None:
    """Make entries already loaded in the session reload their chain columns."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, AccessLogEntry):
            session.expire(obj, ["chain_seq", "prev_hash", "hash"])


def unchained_rows(session: Session) -> int:
    """Count the committed rows the sweeper has not chained yet."""
    return (
        session.scalar(
            select(func.count())
            .select_from(AccessLogEntry)
            .where(AccessLogEntry.chain_seq.is_(None))
        )
        or 0
    )


@dataclass
class Result:
    """The outcome of one walk over part of the chain."""

    intact: bool = True
    broken_at_id: int | None = None
    first_id: int | None = None
    last_id: int | None = None
    last_seq: int | None = None
    last_hash: str = ""
    rows_checked: int = 0


def _walk(
    session: Session, *, after_seq: int | None, previous: str | None, limit: int | None
) -> Result:
    """Check chained rows after place `after_seq` in chain order; `previous` is the hash the next
    row must carry.

    Only the hashed columns are read, a batch at a time, so memory stays flat however long the
    log. `previous` None accepts the first row's prev_hash (the oldest kept row after pruning).
    """
    columns = [getattr(AccessLogEntry, name) for name in CHAIN_COLUMNS]
    query = (
        select(*columns)
        .where(AccessLogEntry.chain_seq.is_not(None))
        .order_by(AccessLogEntry.chain_seq)
    )
    if after_seq is not None:
        query = query.where(AccessLogEntry.chain_seq > after_seq)
    if limit is not None:
        query = query.limit(limit)
    result = Result(last_seq=after_seq, last_hash=previous or "")
    rows = session.execute(query.execution_options(yield_per=BATCH_ROWS))
    for row in rows:
        if result.first_id is None:
            result.first_id = row.id
        if (previous is not None and row.prev_hash != previous) or digest(row) != row.hash:
            result.intact, result.broken_at_id = False, row.id
            break
        previous = row.hash
        result.last_id, result.last_seq, result.last_hash = row.id, row.chain_seq, row.hash
        result.rows_checked += 1
    rows.close()
    if result.last_id is None and after_seq is not None:
        result.last_id = _id_at(session, after_seq)
    return result


def _id_at(session: Session, seq: int) -> int | None:
    return session.scalar(select(AccessLogEntry.id).where(AccessLogEntry.chain_seq == seq))


def verify(session: Session) -> tuple[bool, int | None, int]:
    """Chain what is waiting, then walk the whole chain from its oldest kept row; return (intact,
    first bad id, rows checked).

    Each verified checkpoint is an anchor too: a row it vouched for must still carry its hash, so
    rewriting the log and every hash after a row does not go unnoticed.
    """
    chain_pending(session)
    result = _walk(session, after_seq=None, previous=None, limit=None)
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
    """Count the log rows not yet verified: chained after the checkpoint, or not chained yet."""
    query = select(func.count()).select_from(AccessLogEntry)
    if checkpoint is not None and checkpoint.last_seq is not None:
        query = query.where(
            or_(AccessLogEntry.chain_seq > checkpoint.last_seq, AccessLogEntry.chain_seq.is_(None))
        )
    return session.scalar(query) or 0


def verify_increment(
    session: Session, *, triggered_by: str, limit: int | None = None, user_id: int | None = None
) -> ChainCheckpoint:
    """Chain what is waiting (at most `limit` rows), then verify the rows chained since the last
    checkpoint (at most `limit`) and record the result.

    The caller commits. A run that found a break records the last good row as where it stopped,
    so the next run checks the broken row again.
    """
    chain_pending(session, limit=limit)
    before = latest_checkpoint(session)
    after_seq = before.last_seq if before is not None else None
    previous = before.last_hash if before is not None and before.last_seq is not None else None
    result = _walk(session, after_seq=after_seq, previous=previous, limit=limit)
    return _record(session, result, triggered_by=triggered_by, user_id=user_id, full=False)


def verify_full(session: Session, *, triggered_by: str = "cli") -> ChainCheckpoint:
    """Verify the whole chain from its oldest kept row and record the result (caller commits)."""
    intact, bad_id, checked = verify(session)
    chained = AccessLogEntry.chain_seq.is_not(None)
    tail = select(AccessLogEntry.id, AccessLogEntry.chain_seq, AccessLogEntry.hash).where(chained)
    result = Result(intact=intact, broken_at_id=bad_id, rows_checked=checked)
    if intact:
        last = session.execute(tail.order_by(AccessLogEntry.chain_seq.desc()).limit(1)).first()
    else:
        # Continue later from the last good row before the break, as an incremental run would.
        bad_seq = select(AccessLogEntry.chain_seq).where(AccessLogEntry.id == bad_id)
        last = session.execute(
            tail.where(AccessLogEntry.chain_seq < bad_seq.scalar_subquery())
            .order_by(AccessLogEntry.chain_seq.desc())
            .limit(1)
        ).first()
    if last is not None:
        result.last_id, result.last_seq, result.last_hash = last.id, last.chain_seq, last.hash
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
        last_seq=result.last_seq,
        last_hash=result.last_hash,
        rows_checked=result.rows_checked,
        intact=result.intact,
        broken_at_id=result.broken_at_id,
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint

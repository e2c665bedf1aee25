"""The access log's periodic jobs: the sweeper that chains new rows (every few seconds) and the
check of the hash chain, continued from the last checkpoint.

Beat runs both (notifications.tasks wraps them); the auditor can run a bounded check on demand.
Each runs under its own transaction-level advisory lock, so two runs never overlap.
"""

from __future__ import annotations

import logging

from coordination.audit.chain import SWEEP_BATCH, chain_pending, verify_increment
from coordination.audit.models import ChainCheckpoint
from coordination.core.db import try_advisory_xact_lock
from coordination.extensions import db

log = logging.getLogger(__name__)

CHECK_LOCK = 7_311_103
JOB_BATCH = 50_000  # rows per transaction of the periodic job
REQUEST_BATCH = 20_000  # rows an auditor's request verifies at most (about a second)


def sweep_chain(batch: int = SWEEP_BATCH) -> dict:
    """Chain every committed row still waiting, a committed batch at a time (beat: every 5 s).

    Another sweeper already at work makes this one return at once: that one chains them.
    """
    ran, chained = False, 0
    while True:
        step = chain_pending(db.session, wait=False, limit=batch)
        db.session.commit()
        if step is None:
            return {"ran": ran, "chained": chained}
        ran, chained = True, chained + step
        if step < batch:
            return {"ran": ran, "chained": chained}


def verify_step(
    *, triggered_by: str, limit: int, user_id: int | None = None
) -> ChainCheckpoint | None:
    """Verify up to `limit` new rows and record a checkpoint; None if another run holds the lock.

    The caller commits.
    """
    if not try_advisory_xact_lock(CHECK_LOCK):
        return None
    return verify_increment(db.session, triggered_by=triggered_by, limit=limit, user_id=user_id)


def verify_chain(batch: int = JOB_BATCH) -> dict:
    """Continue the verification until every row written so far is checked or a break is found."""
    checked = 0
    checkpoint = None
    while True:
        step = verify_step(triggered_by="schedule", limit=batch)
        if step is None:
            db.session.rollback()
            return {"ran": checkpoint is not None, "rows_checked": checked}
        checkpoint = step
        db.session.commit()
        checked += checkpoint.rows_checked
        if not checkpoint.intact or checkpoint.rows_checked < batch:
            break
    if not checkpoint.intact:
        log.error("access log chain broken at row %s", checkpoint.broken_at_id)
    return {
        "ran": True,
        "rows_checked": checked,
        "intact": checkpoint.intact,
        "last_id": checkpoint.last_id,
        "broken_at_id": checkpoint.broken_at_id,
    }

"""The periodic check of the access log's hash chain, continued from the last checkpoint.

Beat runs it (notifications.tasks wraps it); the auditor can run a bounded step on demand. Under a
transaction-level advisory lock, so two runs never walk the same rows at once.
"""

from __future__ import annotations

import logging

from coordination.audit.chain import verify_increment
from coordination.audit.models import ChainCheckpoint
from coordination.core.db import try_advisory_xact_lock
from coordination.extensions import db

log = logging.getLogger(__name__)

CHECK_LOCK = 7_311_103
JOB_BATCH = 50_000  # rows per transaction of the periodic job
REQUEST_BATCH = 20_000  # rows an auditor's request verifies at most (about a second)


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

"""The daily duties, run by beat at night: retention, log pruning, due self-ratings.

Each belongs to its domain (people, audit, statistics); this runs them together, idempotently
(a second run the same day finds nothing left) and under a transaction-level advisory lock on
PostgreSQL, so two beats never overlap. notifications.tasks wraps it for Celery.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app

from coordination.audit.operations import prune_access_log
from coordination.core.db import try_advisory_xact_lock, utcnow
from coordination.core.i18n import local_today
from coordination.extensions import db
from coordination.people.retention import erase_expired
from coordination.statistics.operations import record_due_ratings

log = logging.getLogger(__name__)

DAILY_LOCK = 7_311_102


def daily_duties(now: datetime | None = None) -> dict:
    """Erase personal data past retention, prune the log past its keeping, announce ratings."""
    now = now or utcnow()
    if not try_advisory_xact_lock(DAILY_LOCK):
        db.session.rollback()
        return {"ran": False}
    settings = current_app.config["COORD"]
    erased = erase_expired(now, int(settings["RETENTION_YEARS"]))
    pruned = prune_access_log(now, int(settings["ACCESS_LOG_YEARS"]))
    ratings = record_due_ratings(local_today())
    db.session.commit()
    log.info(
        "daily duties: %d people erased, %d log rows past keeping, %d self-ratings due",
        erased,
        pruned,
        len(ratings),
    )
    return {"ran": True, "erased": erased, "log_rows_pruned": pruned, "ratings_due": len(ratings)}

"""The domain's periodic work, run by beat: conference cadence and cut-offs, daily duties.

Each job is idempotent (running it twice changes nothing the second time) and takes a
transaction-level advisory lock on PostgreSQL, so two beats or a slow run never overlap.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, text

from coordination.core.db import utcnow
from coordination.extensions import db

log = logging.getLogger(__name__)

CONFERENCE_LOCK = 7_311_101
DAILY_LOCK = 7_311_102


def _try_lock(key: int) -> bool:
    """Take a transaction-level advisory lock if free (always true on SQLite)."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return True
    return bool(
        connection.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar()
    )


def conference_cycle(now: datetime | None = None) -> dict:
    """Create conferences ahead by each programme's cadence and run the agenda cut-offs."""
    from coordination.conferences.operations import run_cutoffs, schedule_ahead
    from coordination.programmes.models import Programme

    now = now or utcnow()
    if not _try_lock(CONFERENCE_LOCK):
        db.session.rollback()
        return {"ran": False}
    created = 0
    for programme in db.session.scalars(select(Programme).where(Programme.active.is_(True))):
        created += len(schedule_ahead(programme, now))
    added = run_cutoffs(now)
    db.session.commit()
    return {"ran": True, "conferences_created": created, "agenda_items": len(added)}


def daily_duties(now: datetime | None = None) -> dict:
    """Erase personal data past retention, prune the log past its keeping, announce ratings."""
    from flask import current_app

    from coordination.audit.operations import prune_access_log
    from coordination.core.i18n import local_today
    from coordination.people.retention import erase_expired
    from coordination.statistics.operations import record_due_ratings

    now = now or utcnow()
    if not _try_lock(DAILY_LOCK):
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

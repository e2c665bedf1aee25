"""The conferences' periodic job, run by beat: conferences ahead by cadence, and agenda cut-offs.

Idempotent (a second run creates and adds nothing) and under a transaction-level advisory lock on
PostgreSQL, so two beats or a slow run never overlap. notifications.tasks wraps it for Celery.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from coordination.conferences.agenda import run_cutoffs
from coordination.conferences.operations import schedule_ahead
from coordination.core.db import try_advisory_xact_lock, utcnow
from coordination.extensions import db
from coordination.programmes.models import Programme

CONFERENCE_LOCK = 7_311_101


def conference_cycle(now: datetime | None = None) -> dict:
    """Create conferences ahead by each programme's cadence and run the agenda cut-offs."""
    now = now or utcnow()
    if not try_advisory_xact_lock(CONFERENCE_LOCK):
        db.session.rollback()
        return {"ran": False}
    created = 0
    for programme in db.session.scalars(select(Programme).where(Programme.active.is_(True))):
        created += len(schedule_ahead(programme, now))
    added = run_cutoffs(now)
    db.session.commit()
    return {"ran": True, "conferences_created": created, "agenda_items": len(added)}

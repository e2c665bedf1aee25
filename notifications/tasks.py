"""Celery tasks: they take ids, never objects, and their bodies are idempotent.

Beat runs five, each once per förbund (coordination.tenancy.jobs): the one sweep (every minute:
delivers every due reminder and enqueues undelivered notifications), the conferences' cycle, the
daily duties, the access log's sweeper (every 5 s) and its chain check (domain jobs, in
coordination; these are only their wrappers).
"""

from __future__ import annotations

import logging

from coordination.audit.jobs import sweep_chain, verify_chain
from coordination.conferences.jobs import conference_cycle
from coordination.jobs import daily_duties
from coordination.tenancy.jobs import each_forbund
from notifications.celery_app import celery
from notifications.delivery import deliver, sweep

log = logging.getLogger(__name__)


@celery.task(name="notifications.deliver_notification")
def deliver_notification(notification_id: int) -> str:
    """Deliver one notification by id (a second run sends nothing)."""
    return deliver(int(notification_id))


@celery.task(name="notifications.sweep")
def sweep_task() -> dict:
    """Deliver every due reminder, enqueue due messages the broker does not hold (every minute)."""
    return each_forbund(_sweep_one)


def _sweep_one() -> dict:
    result = sweep()
    if result.ran and (result.reminders_fired or result.enqueued):
        log.info(
            "sweep: %d reminders fired, %d deliveries enqueued",
            result.reminders_fired,
            len(result.enqueued),
        )
    return {
        "ran": result.ran,
        "reminders_fired": result.reminders_fired,
        "enqueued": len(result.enqueued),
    }


@celery.task(name="notifications.conference_cycle")
def conference_cycle_task() -> dict:
    """Schedule conferences by cadence and cut off agendas whose time has come (every 15 min)."""
    return each_forbund(conference_cycle)


@celery.task(name="notifications.daily_duties")
def daily_duties_task() -> dict:
    """Retention and due self-ratings, once a day at night."""
    return each_forbund(daily_duties)


@celery.task(name="notifications.verify_access_log")
def verify_access_log_task() -> dict:
    """Verify the access log rows written since the last checkpoint (every 15 min)."""
    return each_forbund(verify_chain, installation=True)


@celery.task(name="notifications.sweep_access_log")
def sweep_access_log_task() -> dict:
    """Chain the access log rows committed since the last sweep (every 5 s)."""
    return each_forbund(sweep_chain, installation=True)

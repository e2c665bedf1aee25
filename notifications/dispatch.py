"""The two event subscribers: rules write rows before the commit, deliveries are enqueued after."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from coordination.core import events
from coordination.core.db import utcnow
from coordination.core.events import DomainEvent
from notifications.outbox import enqueue, take_due_ids
from notifications.rules import RULES

log = logging.getLogger(__name__)

QUEUED = "NotificationsQueued"


def write_rows(session: Session, batch: list[DomainEvent]) -> None:
    """Apply the rules to a batch of events inside the committing transaction."""
    now = utcnow()
    for domain_event in batch:
        rule = RULES.get(domain_event.name)
        if rule is not None:
            rule(session, domain_event, now)
    due = take_due_ids(session)
    if due:
        # Announced after the commit like any event, so a rollback enqueues nothing.
        events.record(session, QUEUED, notification_ids=due)


def enqueue_committed(batch: list[DomainEvent]) -> None:
    """Enqueue delivery of the messages committed with this batch and due now."""
    ids = [i for e in batch if e.name == QUEUED for i in e.data["notification_ids"]]
    if ids:
        enqueue(ids)

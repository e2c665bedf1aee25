"""The two event subscribers: rules write rows before the commit, deliveries are enqueued after."""

from __future__ import annotations

import logging

from coordination.core import events
from coordination.core.db import DbSession
from coordination.core.events import DomainEvent
from notifications.events import NotificationsQueued
from notifications.outbox import enqueue, take_due_ids
from notifications.rules import RULES

log = logging.getLogger(__name__)


def write_rows(session: DbSession, batch: list[DomainEvent]) -> None:
    """Apply the rules to a batch of events inside the committing transaction.

    Each rule takes its "now" from the event (`occurred_at`, the recording operation's clock),
    never from the wall clock.
    """
    for domain_event in batch:
        rule = RULES.get(type(domain_event))
        if rule is not None:
            rule(session, domain_event)
    due = take_due_ids(session)
    if due:
        # Announced after the commit like any event, so a rollback enqueues nothing.
        queued = NotificationsQueued(notification_ids=tuple(due), occurred_at=batch[-1].occurred_at)
        events.record(session, queued)


def enqueue_committed(batch: list[DomainEvent]) -> None:
    """Enqueue delivery of the messages committed with this batch and due now."""
    ids = [i for e in batch if isinstance(e, NotificationsQueued) for i in e.notification_ids]
    if ids:
        enqueue(ids)

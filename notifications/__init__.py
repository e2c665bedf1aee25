"""Notifications: the Celery app, outbox and reminder rows, rules, rendering and delivery.

Invariants: nothing due later waits in the broker; a message is sent once per idempotency key;
no message carries personal data about a participant.
"""

from __future__ import annotations


def install(app) -> None:
    """Configure Celery, subscribe the rules to domain events, add the inbox pages and API."""
    from notifications.celery_app import configure

    configure(app)
    from notifications import models as _models  # noqa: F401  (metadata sees the tables)
    from notifications import tasks as _tasks  # noqa: F401  (the worker sees the tasks)

    subscribe()
    from notifications.cli import register_cli
    from notifications.views import register

    register(app)
    register_cli(app)


def subscribe() -> None:
    """Subscribe the rules and the delivery to domain events (again: no effect)."""
    from flask_sqlalchemy.session import Session as AppSession
    from sqlalchemy import event

    from coordination.core import events
    from notifications.dispatch import enqueue_committed, write_rows
    from notifications.outbox import forget_due_ids

    events.subscribe_outbox(write_rows)
    events.subscribe_after_commit(enqueue_committed)
    if not event.contains(AppSession, "after_rollback", forget_due_ids):
        event.listen(AppSession, "after_rollback", forget_due_ids)

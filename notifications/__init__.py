"""Notifications: the Celery app, outbox and reminder rows, rules, rendering and delivery.

Invariants: nothing due later waits in the broker; a message is sent once per idempotency key;
no message carries personal data about a participant.
"""

from __future__ import annotations


def install(app) -> None:
    """Configure the Celery app from the Flask app's settings."""
    from notifications.celery_app import configure

    configure(app)

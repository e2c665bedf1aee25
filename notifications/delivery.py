"""Delivering one notification, and the one sweep that delivers everything owed and re-enqueues.

deliver(): lock the row (FOR UPDATE SKIP LOCKED), skip it unless pending and due, send, and mark
it sent in the same transaction. A second run finds it sent (or locked) and sends nothing. Only a
crash between the server's acceptance and the commit of the sent mark (a single UPDATE and COMMIT)
can send twice, and then with the same Message-ID.

sweep(): under a PostgreSQL advisory lock (one sweep at a time, however many beats run), write the
reminders the clock makes owed (overdue escalation decisions), then claim the due rows of the one
reminder table (FOR UPDATE SKIP LOCKED): a user's reminder becomes their notifications, a
participant's is sent (notifications.meetings); each row's mark commits with its outcome, so a
second sweep finds nothing left. Last, enqueue due pending messages that are not in the broker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, text, update

from coordination.auth.models import User
from coordination.core.db import utcnow
from coordination.extensions import db
from coordination.organisations.calendar import working_calendar
from notifications.channels import mailer, sms_provider
from notifications.meetings import (
    owe_overdue_escalation_reminders,
    send_due_participant_reminders,
)
from notifications.models import Notification, Reminder
from notifications.outbox import (
    enqueue,
    owed_messages,
    preferences_of,
    requeue_after,
    take_due_ids,
    write_notifications,
)
from notifications.rendering import email_message, sms_text

log = logging.getLogger(__name__)

SWEEP_LOCK_KEY = 0x5E0F_0001  # pg advisory lock id of the sweep


def _settings() -> dict:
    return current_app.config["COORD"]


def backoff(attempts: int) -> timedelta:
    """Return the wait before the next attempt after `attempts` failed ones (doubling)."""
    base = int(_settings().get("NOTIFY_BACKOFF_SECONDS", 60))
    return timedelta(seconds=base * 2 ** max(attempts - 1, 0))


def send(notification: Notification, user: User) -> None:
    """Send one email or SMS; raise if the channel did not accept it."""
    if notification.channel == "email":
        mailer(_settings()).send(email_message(notification, user.email))
    elif notification.channel == "sms":
        if not user.phone:
            raise ValueError("the recipient has no phone number")
        sms_provider(_settings()).send(
            user.phone, sms_text(notification), notification.idempotency_key
        )
    else:
        raise ValueError(f"nothing to send on channel {notification.channel!r}")


def deliver(notification_id: int, now: datetime | None = None) -> str:
    """Send a notification once; return what happened (sent, retry, failed, or why skipped)."""
    session = db.session
    row = session.scalar(
        select(Notification)
        .where(Notification.id == notification_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if row is None:
        session.rollback()
        return "locked_or_missing"
    if row.status != "pending":
        session.rollback()
        return f"already_{row.status}"
    now = now or utcnow()
    if row.not_before > now:
        session.rollback()
        return "not_due"
    user = session.get(User, row.recipient_id)
    if user is None or not user.active:
        row.status = "cancelled"
        row.last_error = "recipient inactive"
        session.commit()
        return "cancelled"
    try:
        send(row, user)
    except Exception as exc:  # every channel failure is retried, then shown to admins
        outcome = _record_failure(row, exc, now)
        session.commit()
        log.warning("notification %s attempt %s: %s", row.id, row.attempts, outcome)
        return outcome
    # The in-flight window: from here to the end of the commit below.
    row.status = "sent"
    row.sent_at = utcnow()
    row.attempts += 1
    row.last_error = None
    session.commit()
    return "sent"


def _record_failure(row: Notification, exc: Exception, now: datetime) -> str:
    row.attempts += 1
    row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
    row.enqueued_at = None  # the next attempt is the sweep's, when not_before comes
    if row.attempts >= int(_settings().get("NOTIFY_MAX_ATTEMPTS", 5)):
        row.status = "failed"
        return "failed"
    row.not_before = now + backoff(row.attempts)
    return "retry"


@contextmanager
def sweep_lock() -> Iterator[bool]:
    """Hold the sweep's advisory lock for the block; yield False if another sweep holds it."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    with db.engine.connect() as connection:
        locked = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": SWEEP_LOCK_KEY})
        got = bool(locked.scalar())
        connection.commit()
        try:
            yield got
        finally:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SWEEP_LOCK_KEY})
                connection.commit()


@dataclass
class SweepResult:
    """What one sweep did."""

    ran: bool = True
    reminders_fired: int = 0  # users' reminders fired and participants' reminders handled
    enqueued: list[int] = field(default_factory=list)


def sweep(now: datetime | None = None) -> SweepResult:
    """Deliver every due reminder and enqueue due messages not in the broker; one sweep at once."""
    with sweep_lock() as got:
        if not got:
            return SweepResult(ran=False)
        result = SweepResult()
        owe_overdue_escalation_reminders(now)
        result.reminders_fired = deliver_due_reminders(now, result.enqueued)
        result.enqueued += enqueue_due(now)
        return result


def deliver_due_reminders(now: datetime | None, enqueued: list[int]) -> int:
    """Deliver the due rows of the reminder table, users' then participants'; return how many."""
    return fire_due_reminders(now, enqueued) + send_due_participant_reminders(now, enqueued)


def _batch_size() -> int:
    return int(_settings().get("NOTIFY_SWEEP_BATCH", 500))


def fire_due_reminders(now: datetime | None, enqueued: list[int]) -> int:
    """Turn users' due reminders into notifications, batch by batch; return how many fired."""
    session = db.session
    fired = 0
    while True:
        moment = now or utcnow()
        reminders = list(
            session.scalars(
                select(Reminder)
                .where(
                    Reminder.recipient_id.is_not(None),
                    Reminder.status == "pending",
                    Reminder.due_at <= moment,
                )
                .order_by(Reminder.due_at, Reminder.id)
                .limit(_batch_size())
                .with_for_update(skip_locked=True)
            )
        )
        if not reminders:
            session.rollback()
            return fired
        users = {
            u.id: u
            for u in session.scalars(
                select(User).where(User.id.in_({r.recipient_id for r in reminders}))
            )
        }
        preferences = preferences_of(session, users)
        calendar = working_calendar(session)
        owed: list[dict] = []
        for reminder in reminders:
            user = users.get(reminder.recipient_id) if reminder.recipient_id is not None else None
            if user is not None:
                owed += owed_messages(
                    moment,
                    recipient=user,
                    kind=reminder.kind,
                    template=reminder.template,
                    key=f"reminder:{reminder.id}",
                    link=reminder.link,
                    subject=(reminder.subject_type, reminder.subject_id),
                    params=reminder.params,
                    calendar=calendar,
                    preferences=preferences,
                )
            reminder.status = "fired"
            reminder.fired_at = moment
        write_notifications(session, owed)
        due = take_due_ids(session)
        session.commit()
        fired += len(reminders)
        done = enqueue(due)
        enqueued += done
        if len(done) < len(due) or len(reminders) < _batch_size():
            return fired


def enqueue_due(now: datetime | None = None) -> list[int]:
    """Claim due pending messages that no broker holds (or held too long) and enqueue them."""
    session = db.session
    enqueued: list[int] = []
    while True:
        moment = now or utcnow()
        stale = moment - requeue_after()
        ids = list(
            session.scalars(
                select(Notification.id)
                .where(
                    Notification.status == "pending",
                    Notification.not_before <= moment,
                    or_(Notification.enqueued_at.is_(None), Notification.enqueued_at < stale),
                )
                .order_by(Notification.not_before, Notification.id)
                .limit(_batch_size())
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            session.rollback()
            return enqueued
        session.execute(
            update(Notification)
            .where(Notification.id.in_(ids))
            .values(enqueued_at=moment)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        done = enqueue(ids)
        enqueued += done
        if len(done) < len(ids) or len(ids) < _batch_size():
            return enqueued

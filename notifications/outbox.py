"""Writing outbox rows: notifications per channel, reminders, cancellations, and enqueuing by id.

Rows are inserted with ON CONFLICT (idempotency_key) DO NOTHING, so a replayed event, a sweep that
runs twice or two concurrent writers never make a second row for the same key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from coordination.auth.models import User
from coordination.core.db import DbSession
from coordination.extensions import db
from coordination.organisations.calendar import working_calendar
from coordination.tenancy.context import tell
from notifications.kinds import KINDS
from notifications.models import Notification, NotificationPreference, Reminder
from workflows.calendar import WorkingCalendar

log = logging.getLogger(__name__)

_DUE_IDS = "notifications.due_ids"


def idempotency_key(*parts: object) -> str:
    """Join the parts that identify one owed message (event, subject, occurrence, recipient...)."""
    return ":".join(str(p) for p in parts if p is not None and p != "")


def _insert(session: DbSession, model, rows: list[dict]) -> dict[str, int]:
    """Insert rows whose idempotency key is new, in one statement; return {key: new id}."""
    if not rows:
        return {}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id, table.c.idempotency_key)
    )
    result = session.execute(statement, rows)
    return {key: new_id for new_id, key in result}


def preferences_of(session: DbSession, user_ids: Iterable[int]) -> dict[tuple[int, str, str], bool]:
    """Return the stored choices {(user_id, kind, channel): enabled} of some users."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.kind,
            NotificationPreference.channel,
            NotificationPreference.enabled,
        ).where(NotificationPreference.user_id.in_(ids))
    )
    return {(u, k, c): enabled for u, k, c, enabled in rows}


def channels_for(user: User, kind: str, preferences: dict[tuple[int, str, str], bool]) -> list[str]:
    """Return the channels a user gets a kind of message on: the inbox, then by preference."""
    defaults = KINDS[kind].defaults
    chosen = ["inbox"]
    for channel in ("email", "sms"):
        if preferences.get((user.id, kind, channel), channel in defaults):
            chosen.append(channel)
    if not user.phone and "sms" in chosen:
        chosen.remove("sms")
    return chosen


def send_time(now: datetime, kind: str, calendar: WorkingCalendar) -> datetime:
    """Return when a message may go out: at once if urgent, else inside working hours."""
    quiet_hours = bool(current_app.config["COORD"].get("NOTIFY_QUIET_HOURS", True))
    urgent = KINDS[kind].urgent or not quiet_hours
    return calendar.next_send_time(now, urgent=urgent)


def owed_messages(
    now: datetime,
    *,
    recipient: User,
    kind: str,
    template: str,
    key: str,
    calendar: WorkingCalendar,
    preferences: dict[tuple[int, str, str], bool],
    link: str | None = None,
    subject: tuple[str, int] | None = None,
    params: dict | None = None,
) -> list[dict]:
    """Return the notification rows owed to a user: the inbox item, then email/SMS by preference.

    The inbox item is delivered by existing. Email and SMS wait for working hours unless the kind
    is urgent; those due now are marked enqueued, since the commit hook enqueues them.
    """
    if not recipient.active:
        return []
    subject_type, subject_id = subject if subject else (None, None)
    rows = []
    for channel in channels_for(recipient, kind, preferences):
        row = dict(
            recipient_id=recipient.id,
            kind=kind,
            channel=channel,
            template=template,
            locale=recipient.locale or "sv",
            params=params or {},
            link=link,
            subject_type=subject_type,
            subject_id=subject_id,
            idempotency_key=idempotency_key(key, "user", recipient.id, channel),
            attempts=0,
            created_at=now,
        )
        if channel == "inbox":
            row.update(status="sent", sent_at=now, not_before=now, enqueued_at=None)
        else:
            not_before = send_time(now, kind, calendar)
            enqueued_at = now if not_before <= now else None
            row.update(
                status="pending", sent_at=None, not_before=not_before, enqueued_at=enqueued_at
            )
        rows.append(row)
    return rows


def write_notifications(session: DbSession, rows: list[dict]) -> list[int]:
    """Insert owed rows (a known key is skipped); remember the new ones due now; return new ids."""
    created = _insert(session, Notification, rows)
    due = [
        created[r["idempotency_key"]]
        for r in rows
        if r["idempotency_key"] in created and r["enqueued_at"] is not None
    ]
    if due:
        session.info.setdefault(_DUE_IDS, []).extend(due)
    return [created[r["idempotency_key"]] for r in rows if r["idempotency_key"] in created]


def notify(
    session: DbSession,
    now: datetime,
    *,
    recipient: User,
    kind: str,
    template: str,
    key: str,
    link: str | None = None,
    subject: tuple[str, int] | None = None,
    params: dict | None = None,
    calendar: WorkingCalendar | None = None,
    preferences: dict[tuple[int, str, str], bool] | None = None,
) -> list[int]:
    """Owe a user a message: an inbox item, plus email/SMS by preference; return the new ids."""
    if preferences is None:
        preferences = preferences_of(session, [recipient.id])
    rows = owed_messages(
        now,
        recipient=recipient,
        kind=kind,
        template=template,
        key=key,
        calendar=calendar or working_calendar(session),
        preferences=preferences,
        link=link,
        subject=subject,
        params=params,
    )
    return write_notifications(session, rows)


def remind(
    session: DbSession,
    now: datetime,
    *,
    recipient_id: int,
    kind: str,
    template: str,
    key: str,
    due_at: datetime,
    level: int,
    subject: tuple[str, int],
    link: str | None = None,
    params: dict | None = None,
) -> int | None:
    """Owe a user a reminder at due_at (the sweep fires it); return the new id or None."""
    reminder_key = idempotency_key(key, "user", recipient_id, "reminder", f"L{level}")
    row = dict(
        subject_type=subject[0],
        subject_id=subject[1],
        kind=kind,
        template=template,
        recipient_id=recipient_id,
        due_at=due_at,
        level=level,
        params=params or {},
        link=link,
        idempotency_key=reminder_key,
        status="pending",
        created_at=now,
    )
    return _insert(session, Reminder, [row]).get(reminder_key)


def cancel_pending(session: DbSession, subject: tuple[str, int], kinds: Iterable[str]) -> None:
    """Cancel the reminders and unsent messages of some kinds about a subject."""
    kinds = list(kinds)
    session.execute(
        update(Reminder)
        .where(
            Reminder.subject_type == subject[0],
            Reminder.subject_id == subject[1],
            Reminder.kind.in_(kinds),
            Reminder.status == "pending",
        )
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Notification)
        .where(
            Notification.subject_type == subject[0],
            Notification.subject_id == subject[1],
            Notification.kind.in_(kinds),
            Notification.status == "pending",
        )
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )


def take_due_ids(session: DbSession) -> list[int]:
    """Return and forget the ids of messages written on the session that are due now."""
    return session.info.pop(_DUE_IDS, [])


def forget_due_ids(session: DbSession) -> None:
    """Forget the remembered ids (the transaction that wrote them rolled back)."""
    session.info.pop(_DUE_IDS, None)


def enqueue(ids: Iterable[int]) -> list[int]:
    """Send a delivery task per id; return the ids enqueued.

    If the broker is down the rest are marked not enqueued (enqueued_at NULL) so that the next
    sweep enqueues them; nothing is lost either way, since the rows are committed.
    """
    from notifications.celery_app import celery
    from notifications.tasks import deliver_notification

    ids = list(ids)
    done: list[int] = []
    try:
        with celery.producer_or_acquire() as producer:  # one connection for the whole batch
            for notification_id in ids:
                deliver_notification.apply_async(args=[notification_id], producer=producer)
                done.append(notification_id)
    except Exception as exc:  # the broker is unreachable: the sweep takes over
        rest = ids[len(done) :]
        log.warning("broker unavailable, %d deliveries left to the sweep: %s", len(rest), exc)
        _unmark_enqueued(rest)
    return done


def _unmark_enqueued(ids: list[int]) -> None:
    try:
        with db.engine.begin() as connection:
            tell(connection)  # the förbund the notifications are of (row-level security)
            connection.execute(
                update(Notification)
                .where(Notification.id.in_(ids), Notification.status == "pending")
                .values(enqueued_at=None)
            )
    except Exception:  # the sweep's re-enqueue timeout still finds them
        log.exception("could not unmark %d notifications", len(ids))


def requeue_after() -> timedelta:
    """Return how long an enqueued, still pending message waits before the sweep re-enqueues it."""
    return timedelta(seconds=int(current_app.config["COORD"].get("NOTIFY_REQUEUE_SECONDS", 300)))

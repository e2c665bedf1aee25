"""The only place that changes inbox items, preferences and failed messages."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from coordination.core import events
from coordination.core.db import get_row, utcnow
from coordination.core.errors import Conflict, NotFound
from coordination.extensions import db
from notifications.events import NotificationsQueued
from notifications.kinds import KINDS
from notifications.models import OPTIONAL_CHANNELS, Notification, NotificationPreference


def inbox_item(user, notification_id: int) -> Notification:
    """Load one of the user's inbox items; anything else is 404."""
    item = db.session.get(Notification, notification_id)
    if item is None or item.channel != "inbox" or item.recipient_id != user.id:
        raise NotFound(_("Meddelandet finns inte."))
    return item


def mark_read(item: Notification, now: datetime | None = None) -> Notification:
    """Mark an inbox item as read (opening it twice changes nothing)."""
    if item.read_at is None:
        item.read_at = now or utcnow()
        db.session.flush()
    return item


def mark_done(item: Notification, now: datetime | None = None) -> Notification:
    """Mark an inbox item as done (and read); marking it again changes nothing."""
    now = now or utcnow()
    if item.read_at is None:
        item.read_at = now
    if item.done_at is None:
        item.done_at = now
    db.session.flush()
    return item


def mark_many(user, ids: list[int], *, done: bool, now: datetime | None = None) -> int:
    """Mark the user's own inbox items among `ids` as done (and read), or as read; another
    user's item, or an id that is not an inbox item, is left as it is. Return how many changed."""
    now = now or utcnow()
    if not ids:
        return 0
    mine = [
        Notification.id.in_(ids),
        Notification.recipient_id == user.id,
        Notification.channel == "inbox",
    ]
    read = db.session.execute(
        update(Notification)
        .where(*mine, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    changed = getattr(read, "rowcount", 0)
    if done:
        finished = db.session.execute(
            update(Notification)
            .where(*mine, Notification.done_at.is_(None))
            .values(done_at=now)
            .execution_options(synchronize_session=False)
        )
        changed = getattr(finished, "rowcount", 0)
    return int(changed or 0)


def preferences(user) -> dict[tuple[str, str], bool]:
    """Return the user's effective choice for every kind and optional channel."""
    stored = {
        (p.kind, p.channel): p.enabled
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    return {
        (kind, channel): stored.get((kind, channel), channel in spec.defaults)
        for kind, spec in KINDS.items()
        for channel in OPTIONAL_CHANNELS
    }


def set_preferences(user, chosen: set[tuple[str, str]]) -> None:
    """Store the user's choice for every kind and optional channel (unchosen means off)."""
    existing = {
        (p.kind, p.channel): p
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for kind in KINDS:
        for channel in OPTIONAL_CHANNELS:
            enabled = (kind, channel) in chosen
            row = existing.get((kind, channel))
            if row is None:
                db.session.add(
                    NotificationPreference(
                        user_id=user.id, kind=kind, channel=channel, enabled=enabled
                    )
                )
            else:
                row.enabled = enabled
    db.session.flush()


def resend(notification_id: int, now: datetime | None = None) -> Notification:
    """Give a failed message a fresh set of attempts, sent as soon as the commit is done."""
    now = now or utcnow()
    row = get_row(Notification, notification_id, lock=True, missing=_("Meddelandet finns inte."))
    if row.status != "failed":
        raise Conflict(_("Bara meddelanden som inte kunde skickas kan skickas igen."))
    row.status = "pending"
    row.attempts = 0
    row.not_before = now
    row.enqueued_at = now
    db.session.flush()
    events.record(db.session, NotificationsQueued(notification_ids=(row.id,), occurred_at=now))
    return row

"""The outbox (Notification), the reminders waiting to fall due, and users' channel preferences.

The reminder table is coordination.core.reminders.Reminder (an operation may owe a reminder without
importing notifications); it is re-exported here beside the outbox that delivers it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.core.reminders import REMINDER_STATUSES, Reminder
from coordination.extensions import db
from coordination.tenancy.models import TenantMixin

__all__ = [
    "CHANNELS",
    "NOTIFICATION_STATUSES",
    "OPTIONAL_CHANNELS",
    "REMINDER_STATUSES",
    "Notification",
    "NotificationPreference",
    "Reminder",
]

CHANNELS = ("inbox", "email", "sms")
OPTIONAL_CHANNELS = ("email", "sms")  # the inbox is always on
NOTIFICATION_STATUSES = ("pending", "sent", "failed", "cancelled")
UNREAD_SQL = "channel = 'inbox' AND read_at IS NULL AND done_at IS NULL"


class Notification(TenantMixin, db.Model):
    """One message owed to one user on one channel; an inbox item is the row itself.

    The idempotency key makes a replayed event or a repeated task harmless: a second row with the
    same key is never inserted, and a row is sent at most once (the sent mark and the send commit
    together; see notifications.delivery).
    """

    __tablename__ = "notification"
    __table_args__ = (
        check_in("channel", CHANNELS),
        check_in("status", NOTIFICATION_STATUSES),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        CheckConstraint("link IS NULL OR link LIKE '/%'", name="link_relative"),
        Index("ix_notification_due", "status", "not_before"),
        Index("ix_notification_inbox", "recipient_id", "channel", "created_at"),
        # The unread count in every page's header: only the unread inbox items are indexed.
        Index(
            "ix_notification_unread",
            "recipient_id",
            postgresql_where=text(UNREAD_SQL),
            sqlite_where=text(UNREAD_SQL),
        ),
        Index("ix_notification_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(10))
    template: Mapped[str] = mapped_column(String(60))
    locale: Mapped[str] = mapped_column(String(5), default="sv")
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # ids, dates and codes only
    link: Mapped[str | None] = mapped_column(String(300))  # relative, ids only
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column()
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def unread(self) -> bool:
        """Tell whether an inbox item has been neither opened nor marked done."""
        return self.read_at is None and self.done_at is None


class NotificationPreference(TenantMixin, db.Model):
    """A user's choice to receive (or not) one kind of message on email or SMS."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        UniqueConstraint(
            "forbund_id", "user_id", "kind", "channel", name="uq_notification_preference_choice"
        ),
        check_in("channel", OPTIONAL_CHANNELS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(10))
    enabled: Mapped[bool] = mapped_column(default=True)

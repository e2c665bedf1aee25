"""What the workflow owes someone later: one table of reminders, delivered by one sweep.

A reminder is owed either to a user (`recipient_id`: when it falls due the sweep turns it into
that user's notifications, status `fired`) or to the participant of a case (`case_id`: the sweep
sends the time only by the person's channel, status `sent`, or hands it to the coordinator's inbox,
`handed_over`). Operations write the reminders their change owes (the participant's reminder the
day before a meeting); the notification rules write the rest. The table lives here, at the bottom
of the domains, so that an operation can owe one without reaching up into `notifications`, which
delivers them (notifications.delivery). The idempotency key makes a second write of the same
reminder a no-op; the sent mark commits with the send.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from coordination.core.db import DbSession, UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.models import TenantMixin

REMINDER_STATUSES = ("pending", "fired", "sent", "handed_over", "failed", "cancelled")
PARTICIPANT_REMINDER = "participant_reminder"


class Reminder(TenantMixin, db.Model):
    """A message owed later, to a user or to a case's participant; the sweep delivers it at due_at.

    A user's reminder fires into notifications (`fired`); a participant's reminder is sent
    (`sent`), handed to the coordinator (`handed_over`) or, after its attempts, `failed`. `channel`
    is the participant's channel when it went out; `fired_at` when the sweep acted on it.
    """

    __tablename__ = "reminder"
    __table_args__ = (
        check_in("status", REMINDER_STATUSES),
        CheckConstraint("level >= 1", name="level_positive"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        CheckConstraint("(recipient_id IS NULL) <> (case_id IS NULL)", name="one_target"),
        CheckConstraint("link IS NULL OR link LIKE '/%'", name="link_relative"),
        Index("ix_reminder_due", "status", "due_at"),
        Index("ix_reminder_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(60))
    template: Mapped[str] = mapped_column(String(60))
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE")
    )
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    level: Mapped[int] = mapped_column(default=1)
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # ids, dates and codes only
    link: Mapped[str | None] = mapped_column(String(300))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    channel: Mapped[str | None] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def participant_reminder_key(meeting_id: int, case_id: int, sequence: int) -> str:
    """Return the idempotency key of a participant's reminder of one version of a meeting."""
    return f"ParticipantReminder:meeting:{meeting_id}:case:{case_id}:seq{sequence}"


def owe_participant_reminder(
    session: DbSession,
    *,
    meeting_id: int,
    case_id: int,
    sequence: int,
    due_at: datetime,
    now: datetime,
) -> int | None:
    """Owe a case's participant the reminder of a meeting at due_at; return the new id or None."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Reminder)
        .values(
            subject_type="meeting",
            subject_id=meeting_id,
            kind=PARTICIPANT_REMINDER,
            template=PARTICIPANT_REMINDER,
            recipient_id=None,
            case_id=case_id,
            due_at=due_at,
            level=1,
            params={"meeting_id": meeting_id, "sequence": sequence},
            link=None,
            idempotency_key=participant_reminder_key(meeting_id, case_id, sequence),
            status="pending",
            attempts=0,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Reminder.id)
    )
    return session.execute(statement).scalar()


def cancel_participant_reminders(
    session: DbSession, meeting_id: int, case_id: int | None = None
) -> None:
    """Cancel the pending participant reminders of a meeting (of one case, if given)."""
    query = update(Reminder).where(
        Reminder.kind == PARTICIPANT_REMINDER,
        Reminder.subject_type == "meeting",
        Reminder.subject_id == meeting_id,
        Reminder.status == "pending",
    )
    if case_id is not None:
        query = query.where(Reminder.case_id == case_id)
    session.execute(query.values(status="cancelled").execution_options(synchronize_session=False))

"""Meetings, attendees, attendance, group activities, ladder tasks, escalations, their history."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.models import TenantMixin
from workflows.meeting import AttendanceStatus, MeetingKind, MeetingStatus

ESCALATION_STATUSES = ("open", "withdrawn", "decided")
DECISIONS = ("continue", "discharge")
DISCHARGE_EXIT_REASON = "avbrutit_uteblivit"
TASK_KINDS = ("contact_after_miss", "follow_up_repeated_miss", "revise_plan")
LADDER_STEPS = (
    "first_miss_task",
    "repeated_miss_task",
    "escalation_opened",
    "escalation_withdrawn",
    "decided_continue",
    "decided_discharge",
    "correction",
    "task_cancelled",
)
GROUP_PRESETS = ("halsogrupp", "aktivitetsgrupp", "other")
_OPEN_ESCALATION = "status = 'open'"
_CURRENT_ENROLMENT = "left_at IS NULL"
_BOOKED = f"status = '{MeetingStatus.BOOKED.value}'"


class GroupActivity(TenantMixin, db.Model):
    """A group activity (hälsogrupp, aktivitetsgrupp) with a capacity and a session schedule."""

    __tablename__ = "group_activity"
    __table_args__ = (
        check_in("preset", GROUP_PRESETS),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("weeks >= 1", name="weeks_positive"),
        CheckConstraint("minutes >= 1", name="minutes_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    name: Mapped[str] = mapped_column(String(200))
    preset: Mapped[str] = mapped_column(String(20), default="other")
    capacity: Mapped[int] = mapped_column()
    weekdays: Mapped[list] = mapped_column(JSON, default=list)
    start_time: Mapped[time] = mapped_column(Time)
    minutes: Mapped[int] = mapped_column()
    first_date: Mapped[date] = mapped_column(Date)
    weeks: Mapped[int] = mapped_column()
    location: Mapped[str | None] = mapped_column(String(300))
    leader_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    programme = relationship("Programme")
    leader = relationship("User", foreign_keys=[leader_id])
    sessions: Mapped[list[Meeting]] = relationship(
        back_populates="group", order_by="Meeting.starts_at"
    )
    enrolments: Mapped[list[GroupEnrolment]] = relationship(
        back_populates="group", order_by="GroupEnrolment.id"
    )

    @property
    def current_enrolments(self) -> list[GroupEnrolment]:
        """Return the enrolments of the cases still in the group."""
        return [e for e in self.enrolments if e.left_at is None]


class GroupEnrolment(TenantMixin, db.Model):
    """A case taking part in a group activity."""

    __tablename__ = "group_enrolment"
    __table_args__ = (
        Index(
            "uq_group_enrolment_current",
            "group_id",
            "case_id",
            unique=True,
            postgresql_where=text(_CURRENT_ENROLMENT),
            sqlite_where=text(_CURRENT_ENROLMENT),
        ),
        Index("ix_group_enrolment_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("group_activity.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    group: Mapped[GroupActivity] = relationship(back_populates="enrolments")
    case = relationship("Case")


class Meeting(TenantMixin, db.Model):
    """A meeting of one case, or a session of a group activity; times are UTC."""

    __tablename__ = "meeting"
    __table_args__ = (
        check_in("kind", [k.value for k in MeetingKind]),
        check_in("status", [s.value for s in MeetingStatus]),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("(kind = 'group_session') = (group_id IS NOT NULL)", name="group_session"),
        CheckConstraint("(group_id IS NULL) = (case_id IS NOT NULL)", name="case_or_group"),
        CheckConstraint(
            "status <> 'cancelled' OR cancelled_at IS NOT NULL", name="cancelled_has_time"
        ),
        CheckConstraint("sequence >= 0", name="sequence_nonnegative"),
        Index("ix_meeting_case_starts", "case_id", "starts_at"),
        Index("ix_meeting_group_starts", "group_id", "starts_at"),
        Index("ix_meeting_organiser_starts", "organiser_id", "starts_at"),
        Index("ix_meeting_ends", "ends_at"),
        # Booked meetings in a time window, whatever their case or group (the day's meetings).
        # Partial: a case's own list (no status condition) keeps its per-case indexes instead of
        # walking this one in time order.
        Index(
            "ix_meeting_booked_starts",
            "starts_at",
            postgresql_where=text(_BOOKED),
            sqlite_where=text(_BOOKED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("group_activity.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default=MeetingStatus.BOOKED.value)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str | None] = mapped_column(String(300))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sequence: Mapped[int] = mapped_column(default=0)  # iCalendar SEQUENCE: +1 per change
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    case = relationship("Case")
    group: Mapped[GroupActivity | None] = relationship(back_populates="sessions")
    organiser = relationship("User", foreign_keys=[organiser_id])
    attendees: Mapped[list[MeetingAttendee]] = relationship(
        back_populates="meeting", order_by="MeetingAttendee.id", cascade="all, delete-orphan"
    )
    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="meeting", order_by="Attendance.case_id", cascade="all, delete-orphan"
    )

    @property
    def cancelled(self) -> bool:
        """Tell whether the meeting is cancelled."""
        return self.status == MeetingStatus.CANCELLED.value

    def attendance_of(self, case_id: int) -> Attendance | None:
        """Return the attendance registered for one case, if any."""
        return next((a for a in self.attendance if a.case_id == case_id), None)


class MeetingAttendee(TenantMixin, db.Model):
    """A member of staff invited to a meeting, from any agency; SamSIP invitees confirm."""

    __tablename__ = "meeting_attendee"
    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id", name="uq_meeting_attendee_user"),
        Index("ix_meeting_attendee_user", "user_id", "meeting_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    agency_kind: Mapped[str | None] = mapped_column(String(20))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship(back_populates="attendees")
    user = relationship("User")


class Attendance(TenantMixin, db.Model):
    """The participant's attendance at one meeting (for a group session: one per case)."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("meeting_id", "case_id", name="uq_attendance_meeting_case"),
        check_in("status", [s.value for s in AttendanceStatus]),
        Index("ix_attendance_case", "case_id"),
        # The attendance report counts per case and status from the index alone (0029).
        Index("ix_attendance_case_status", "forbund_id", "case_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(30))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    meeting: Mapped[Meeting] = relationship(back_populates="attendance")
    history: Mapped[list[AttendanceHistory]] = relationship(
        back_populates="attendance", order_by="AttendanceHistory.id", cascade="all, delete-orphan"
    )


class AttendanceHistory(TenantMixin, db.Model):
    """Every registration and correction of an attendance: from, to, who, when, why."""

    __tablename__ = "attendance_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    attendance_id: Mapped[int] = mapped_column(
        ForeignKey("attendance.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str | None] = mapped_column(Text)

    attendance: Mapped[Attendance] = relationship(back_populates="history")
    by = relationship("User")


class Escalation(TenantMixin, db.Model):
    """The third-miss escalation of a case: open until withdrawn or decided (one open per case)."""

    __tablename__ = "escalation"
    __table_args__ = (
        check_in("status", ESCALATION_STATUSES),
        check_in("decision", DECISIONS),
        CheckConstraint(
            "(status = 'decided') = (decision IS NOT NULL)", name="decided_has_decision"
        ),
        CheckConstraint(
            f"decision IS NULL OR decision <> 'discharge' "
            f"OR exit_reason = '{DISCHARGE_EXIT_REASON}'",
            name="discharge_has_exit_reason",
        ),
        CheckConstraint(
            "status <> 'withdrawn' OR withdrawn_at IS NOT NULL", name="withdrawn_has_time"
        ),
        # Two requests recording the third miss at once still open one escalation.
        Index(
            "uq_escalation_one_open_per_case",
            "case_id",
            unique=True,
            postgresql_where=text(_OPEN_ESCALATION),
            sqlite_where=text(_OPEN_ESCALATION),
        ),
        Index("ix_escalation_status_due", "status", "decision_due_at"),
        Index("ix_escalation_case", "case_id"),  # the missed count's reset, per case
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    missed_count: Mapped[int] = mapped_column()
    decision_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decision: Mapped[str | None] = mapped_column(String(12))
    comment: Mapped[str | None] = mapped_column(Text)
    exit_reason: Mapped[str | None] = mapped_column(String(60))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdraw_reason: Mapped[str | None] = mapped_column(Text)

    case = relationship("Case")
    referrer = relationship("User", foreign_keys=[referrer_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])


class Task(TenantMixin, db.Model):
    """Something a user owes a case by a time (the ladder's tasks); shown in their inbox."""

    __tablename__ = "case_task"
    __table_args__ = (
        check_in("kind", TASK_KINDS),
        CheckConstraint("done_at IS NULL OR cancelled_at IS NULL", name="done_or_cancelled"),
        Index("ix_case_task_assignee_open", "assignee_id", "done_at", "cancelled_at"),
        Index("ix_case_task_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalation.id"))
    assignee_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    case = relationship("Case")
    meeting = relationship("Meeting")
    assignee = relationship("User", foreign_keys=[assignee_id])

    @property
    def is_open(self) -> bool:
        """Tell whether the task is neither done nor cancelled."""
        return self.done_at is None and self.cancelled_at is None


class LadderStep(TenantMixin, db.Model):
    """One entry of a case's missed-meeting history: tasks, corrections, escalation steps."""

    __tablename__ = "ladder_step"
    __table_args__ = (check_in("kind", LADDER_STEPS), Index("ix_ladder_step_case", "case_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    missed_count: Mapped[int] = mapped_column(default=0)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalation.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("case_task.id"))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(Text)

    by = relationship("User")

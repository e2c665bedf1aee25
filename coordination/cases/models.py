"""Case, its history and coordinator assignments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from workflows.case import CaseState

_OPEN_SQL = f"state <> '{CaseState.CLOSED.value}'"


class Case(db.Model):
    """One person's enrolment in one programme (deltagande)."""

    __tablename__ = "case_record"
    __table_args__ = (
        check_in("state", [s.value for s in CaseState]),
        check_in("paused_from", [CaseState.ENROLLED.value, CaseState.ACTIVE.value]),
        CheckConstraint("complexity_weight BETWEEN 1 AND 3", name="complexity_weight_range"),
        CheckConstraint(
            "state IN ('waiting', 'closed') OR enrolled_on IS NOT NULL", name="enrolled_has_date"
        ),
        CheckConstraint("state <> 'paused' OR paused_from IS NOT NULL", name="paused_has_origin"),
        Index("ix_case_record_programme_state", "programme_id", "state"),
        # One open case per person and programme, whatever races the application loses.
        Index(
            "uq_case_open_person_programme",
            "person_id",
            "programme_id",
            unique=True,
            postgresql_where=text(_OPEN_SQL),
            sqlite_where=text(_OPEN_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=CaseState.WAITING.value)
    paused_from: Mapped[str | None] = mapped_column(String(20))
    complexity_weight: Mapped[int] = mapped_column(default=1)
    enrolled_on: Mapped[date | None] = mapped_column(Date)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    person = relationship("Person")
    programme = relationship("Programme")
    referral = relationship("Referral")
    history: Mapped[list[CaseHistory]] = relationship(
        back_populates="case", order_by="CaseHistory.id", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[CoordinatorAssignment]] = relationship(
        back_populates="case", order_by="CoordinatorAssignment.id", cascade="all, delete-orphan"
    )

    @property
    def active_assignment(self) -> CoordinatorAssignment | None:
        """Return the case's one active coordinator assignment, if any."""
        return next((a for a in self.assignments if a.active), None)


class CaseHistory(db.Model):
    """One transition of a case: from, to, who, when and why."""

    __tablename__ = "case_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("case_record.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="history")
    by = relationship("User")


class CoordinatorAssignment(db.Model):
    """A coordinator's responsibility for a case; exactly one is active at a time."""

    __tablename__ = "coordinator_assignment"
    __table_args__ = (
        CheckConstraint("active = (ended_at IS NULL)", name="active_has_no_end"),
        Index(
            "uq_coordinator_assignment_one_active",
            "case_id",
            unique=True,
            postgresql_where=text("active"),
            sqlite_where=text("active"),
        ),
        Index("ix_coordinator_assignment_coordinator_active", "coordinator_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    active: Mapped[bool] = mapped_column(default=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    case: Mapped[Case] = relationship(back_populates="assignments")
    coordinator = relationship("User", foreign_keys=[coordinator_id])
    assigned_by = relationship("User", foreign_keys=[assigned_by_id])

"""Case, its history and coordinator assignments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.models import TenantMixin
from workflows.case import CaseState, PauseReason
from workflows.caseload import DEFAULT_CAPACITY, LOADED_STATES

_OPEN_SQL = f"state <> '{CaseState.CLOSED.value}'"
_LOADED_SQL = "state IN (" + ", ".join(f"'{s.value}'" for s in sorted(LOADED_STATES)) + ")"


class Case(TenantMixin, db.Model):
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
        check_in("pause_reason", [r.value for r in PauseReason]),
        CheckConstraint(
            "state <> 'paused' OR (pause_reason IS NOT NULL AND expected_return_on IS NOT NULL)",
            name="paused_has_reason_and_return",
        ),
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
        # The start page's counts, read from indexes alone: the cases weighing on a coordinator
        # in id order with their weight (merged with the active assignments to sum every
        # coordinator's load), and the open cases by programme and state (queue and places).
        Index(
            "ix_case_record_loaded",
            "forbund_id",
            "id",
            "complexity_weight",
            postgresql_where=text(_LOADED_SQL),
            sqlite_where=text(_LOADED_SQL),
        ),
        Index(
            "ix_case_record_open_programme",
            "forbund_id",
            "programme_id",
            "state",
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
    pause_reason: Mapped[str | None] = mapped_column(String(20))
    pause_note: Mapped[str | None] = mapped_column(Text)
    expected_return_on: Mapped[date | None] = mapped_column(Date)
    complexity_weight: Mapped[int] = mapped_column(default=1)
    enrolled_on: Mapped[date | None] = mapped_column(Date)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    # The plan in force, kept by the action plans in every flush that writes a plan version
    # (`action_plans.in_force`): whether a version is signed, and its review date. The caseload
    # ranks every open case by its warnings from these, without reading a plan per case. Read
    # them in SQL only: an object loaded before the flush keeps its old values.
    plan_in_force: Mapped[bool] = mapped_column(default=False, server_default=false())
    plan_review_on: Mapped[date | None] = mapped_column(Date)

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

    @property
    def coordinator_id(self) -> int | None:
        """Return the id of the case's active coordinator, if any."""
        assignment = self.active_assignment
        return assignment.coordinator_id if assignment else None

    @property
    def coordinator_changes(self) -> int:
        """Return how many times the coordinator has changed (the continuity measure)."""
        return max(len(self.assignments) - 1, 0)


class CaseHistory(TenantMixin, db.Model):
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


class CoordinatorAssignment(TenantMixin, db.Model):
    """A coordinator's responsibility for a case; exactly one is active at a time."""

    __tablename__ = "coordinator_assignment"
    __table_args__ = (
        CheckConstraint("active = (ended_at IS NULL)", name="active_has_no_end"),
        CheckConstraint(
            "NOT over_capacity OR over_capacity_reason IS NOT NULL", name="over_capacity_has_reason"
        ),
        Index(
            "uq_coordinator_assignment_one_active",
            "case_id",
            unique=True,
            postgresql_where=text("active"),
            sqlite_where=text("active"),
        ),
        Index("ix_coordinator_assignment_coordinator_active", "coordinator_id", "active"),
        # The active assignments of one förbund in case order, with their coordinator: merged
        # with the loaded cases (ix_case_record_loaded) to sum every coordinator's load.
        Index(
            "ix_coordinator_assignment_active_load",
            "forbund_id",
            "case_id",
            "coordinator_id",
            postgresql_where=text("active"),
            sqlite_where=text("active"),
        ),
        # Every assignment of a case, ended ones too (the one above covers only the active one).
        Index("ix_coordinator_assignment_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    active: Mapped[bool] = mapped_column(default=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    over_capacity: Mapped[bool] = mapped_column(default=False)
    over_capacity_reason: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="assignments")
    coordinator = relationship("User", foreign_keys=[coordinator_id])
    assigned_by = relationship("User", foreign_keys=[assigned_by_id])


class CoordinatorProfile(TenantMixin, db.Model):
    """A coordinator's team and capacity in weighted cases, in one förbund (a coordinator of two
    has one in each); its row is locked while assigning."""

    __tablename__ = "coordinator_profile"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_nonnegative"),
        PrimaryKeyConstraint("forbund_id", "user_id", name="pk_coordinator_profile"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    team_unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisation_unit.id"))
    capacity: Mapped[int] = mapped_column(default=DEFAULT_CAPACITY)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user = relationship("User")
    team = relationship("OrganisationUnit")

"""Plan versions with their goals, actions and sign-offs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.models import TenantMixin
from workflows.action_plan import (
    PARTICIPANT,
    ActionContent,
    ActionStatus,
    GoalContent,
    GoalReviewOccasion,
    GoalStatus,
    PlanContent,
    PlanState,
    SignOffMethod,
)
from workflows.organisation import MEMBER_AGENCIES

_OPEN_SQL = f"state IN ('{PlanState.DRAFT.value}', '{PlanState.SIGNING.value}')"
AGENCIES = [a.value for a in MEMBER_AGENCIES]


class PlanVersion(TenantMixin, db.Model):
    """One version of a case's joint action plan."""

    __tablename__ = "plan_version"
    __table_args__ = (
        check_in("state", [s.value for s in PlanState]),
        check_in("overall_agency", AGENCIES),
        UniqueConstraint("case_id", "number", name="uq_plan_version_case_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("state <> 'signed' OR signed_at IS NOT NULL", name="signed_has_time"),
        # One version at a time is being drawn up or signed.
        Index(
            "uq_plan_version_one_open",
            "case_id",
            unique=True,
            postgresql_where=text(_OPEN_SQL),
            sqlite_where=text(_OPEN_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    state: Mapped[str] = mapped_column(String(20), default=PlanState.DRAFT.value)
    own_goal: Mapped[str] = mapped_column(Text, default="")
    long_term_goal: Mapped[str] = mapped_column(Text, default="")
    overall_agency: Mapped[str | None] = mapped_column(String(20))
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    review_on: Mapped[date | None] = mapped_column(Date)
    planned_exit_on: Mapped[date | None] = mapped_column(Date)
    exit_steps: Mapped[str] = mapped_column(Text, default="")
    change_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case = relationship("Case")
    coordinator = relationship("User", foreign_keys=[coordinator_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    goals: Mapped[list[PlanGoal]] = relationship(
        back_populates="version", order_by="PlanGoal.position", cascade="all, delete-orphan"
    )
    actions: Mapped[list[PlanAction]] = relationship(
        back_populates="version", order_by="PlanAction.position", cascade="all, delete-orphan"
    )
    sign_offs: Mapped[list[PlanSignOff]] = relationship(
        back_populates="version", order_by="PlanSignOff.id", cascade="all, delete-orphan"
    )

    def content(self) -> PlanContent:
        """Return what the version says, for rules and comparison."""
        return PlanContent(
            own_goal=self.own_goal or "",
            long_term_goal=self.long_term_goal or "",
            overall_agency=self.overall_agency,
            review_on=self.review_on,
            planned_exit_on=self.planned_exit_on,
            exit_steps=self.exit_steps or "",
            goals=tuple(GoalContent(g.text, g.target_on) for g in self.goals),
            actions=tuple(a.content() for a in self.actions),
        )

    @property
    def signed_parties(self) -> set[str]:
        """Return the parties that have signed this version."""
        return {s.party for s in self.sign_offs}


class PlanGoal(TenantMixin, db.Model):
    """A short-term goal of one version, with its date and how far it was reached.

    The status is progress, not a change of the plan: it is recorded at a plan review or at the
    exit (who and when with it) and carried to a later version that keeps the goal's text.
    """

    __tablename__ = "plan_goal"
    __table_args__ = (
        check_in("status", [s.value for s in GoalStatus]),
        check_in("status_occasion", [o.value for o in GoalReviewOccasion]),
        CheckConstraint(
            "(status IS NULL) = (status_at IS NULL) "
            "AND (status IS NULL) = (status_occasion IS NULL)",
            name="status_recorded",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_version.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)
    target_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str | None] = mapped_column(String(20))
    status_occasion: Mapped[str | None] = mapped_column(String(10))
    status_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    version: Mapped[PlanVersion] = relationship(back_populates="goals")
    status_by = relationship("User")


class PlanAction(TenantMixin, db.Model):
    """An action (insats) of one version: what, which agency and contact, when, status.

    `ref` stays the same for the same action across versions, so versions can be compared.
    """

    __tablename__ = "plan_action"
    __table_args__ = (
        check_in("agency", AGENCIES),
        check_in("status", [s.value for s in ActionStatus]),
        CheckConstraint("due_on IS NULL OR start_on IS NULL OR due_on >= start_on", name="dates"),
        UniqueConstraint("version_id", "ref", name="uq_plan_action_version_ref"),
        Index("ix_plan_action_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_version.id", ondelete="CASCADE"), index=True
    )
    ref: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(default=0)
    what: Mapped[str] = mapped_column(Text)
    agency: Mapped[str] = mapped_column(String(20))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    start_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ActionStatus.PLANNED.value)
    revision: Mapped[int] = mapped_column(default=1)

    version: Mapped[PlanVersion] = relationship(back_populates="actions")
    contact = relationship("User")

    def content(self) -> ActionContent:
        """Return the action as plain content."""
        return ActionContent(
            ref=self.ref,
            what=self.what,
            agency=self.agency,
            contact_id=self.contact_id,
            start_on=self.start_on,
            due_on=self.due_on,
            status=self.status,
        )


class PlanSignOff(TenantMixin, db.Model):
    """The participant's or one responsible agency's sign-off of one version."""

    __tablename__ = "plan_sign_off"
    __table_args__ = (
        UniqueConstraint("version_id", "party", name="uq_plan_sign_off_version_party"),
        check_in("party", [PARTICIPANT, *AGENCIES]),
        check_in("method", [m.value for m in SignOffMethod]),
        CheckConstraint(
            f"(party = '{PARTICIPANT}') = (method IS NOT NULL)",
            name="participant_has_method",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_version.id", ondelete="CASCADE"))
    party: Mapped[str] = mapped_column(String(20))
    method: Mapped[str | None] = mapped_column(String(20))
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    version: Mapped[PlanVersion] = relationship(back_populates="sign_offs")
    signed_by = relationship("User")

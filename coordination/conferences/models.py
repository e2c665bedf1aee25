"""Conference, its members, agenda, decisions and the agencies' positions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
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
from workflows.conference import AgendaStatus, ConferenceState, MemberRole, Outcome
from workflows.organisation import AgencyKind

ORIGINS = ("cadence", "manual")
AGENDA_ORIGINS = ("cutoff", "manual")
_HAS_PLACE = (
    "state IN ('planned', 'cancelled') "
    "OR length(trim(coalesce(place, ''))) > 0 OR length(trim(coalesce(video_link, ''))) > 0"
)


class Conference(TenantMixin, db.Model):
    """One meeting of a programme's referral conference (remissgrupp)."""

    __tablename__ = "conference"
    __table_args__ = (
        check_in("state", [s.value for s in ConferenceState]),
        check_in("origin", ORIGINS),
        CheckConstraint(_HAS_PLACE, name="published_has_place"),
        Index("ix_conference_programme_held_on", "programme_id", "held_on"),
        # The cadence creates at most one conference per programme and day, however often it runs.
        Index(
            "uq_conference_cadence_day",
            "programme_id",
            "held_on",
            unique=True,
            postgresql_where=text("origin = 'cadence'"),
            sqlite_where=text("origin = 'cadence'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    state: Mapped[str] = mapped_column(String(20), default=ConferenceState.PLANNED.value)
    origin: Mapped[str] = mapped_column(String(10), default="manual")
    held_on: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(300))
    video_link: Mapped[str | None] = mapped_column(String(500))
    agenda_cutoff_at: Mapped[datetime] = mapped_column(UTCDateTime)
    prepare_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cutoff_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    programme = relationship("Programme")
    members: Mapped[list[ConferenceMember]] = relationship(
        back_populates="conference", order_by="ConferenceMember.id", cascade="all, delete-orphan"
    )
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="conference", order_by="AgendaItem.number", cascade="all, delete-orphan"
    )

    @property
    def chair(self) -> ConferenceMember | None:
        """Return the chairing member (the team lead)."""
        return next((m for m in self.members if m.role == MemberRole.CHAIR.value), None)

    @property
    def agency_members(self) -> list[ConferenceMember]:
        """Return the members who represent an agency kind, in the agencies' order."""
        order = {a.value: i for i, a in enumerate(AgencyKind)}
        members = [m for m in self.members if m.role == MemberRole.MEMBER.value]
        return sorted(members, key=lambda m: order.get(m.agency, 99))

    @property
    def present_agencies(self) -> set[str]:
        """Return the agency kinds represented by members recorded as present."""
        return {m.agency for m in self.agency_members if m.present}

    @property
    def attendance_recorded(self) -> bool:
        """Tell whether attendance has been recorded for every member."""
        return bool(self.members) and all(m.present is not None for m in self.members)


class ConferenceMember(TenantMixin, db.Model):
    """A member of one conference: a representative of an agency kind, or the chair."""

    __tablename__ = "conference_member"
    __table_args__ = (
        UniqueConstraint("conference_id", "user_id", name="uq_conference_member_user"),
        check_in("agency", [k.value for k in AgencyKind]),
        check_in("role", [r.value for r in MemberRole]),
        # One representative per agency kind, and one chair.
        Index(
            "uq_conference_member_agency",
            "conference_id",
            "agency",
            unique=True,
            postgresql_where=text("role = 'member'"),
            sqlite_where=text("role = 'member'"),
        ),
        Index(
            "uq_conference_member_chair",
            "conference_id",
            unique=True,
            postgresql_where=text("role = 'chair'"),
            sqlite_where=text("role = 'chair'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    agency: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(10), default=MemberRole.MEMBER.value)
    present: Mapped[bool | None] = mapped_column()

    conference: Mapped[Conference] = relationship(back_populates="members")
    user = relationship("User")


class AgendaItem(TenantMixin, db.Model):
    """A referral on one conference's agenda, and what became of it there."""

    __tablename__ = "agenda_item"
    __table_args__ = (
        check_in("status", [s.value for s in AgendaStatus]),
        check_in("origin", AGENDA_ORIGINS),
        # A referral waits on one agenda at a time.
        Index(
            "uq_agenda_item_pending_referral",
            "referral_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conference.id", ondelete="CASCADE"), index=True
    )
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default=AgendaStatus.PENDING.value)
    origin: Mapped[str] = mapped_column(String(10), default="manual")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    conference: Mapped[Conference] = relationship(back_populates="agenda")
    referral = relationship("Referral")
    added_by = relationship("User")
    positions: Mapped[list[MemberPosition]] = relationship(
        back_populates="item", order_by="MemberPosition.id", cascade="all, delete-orphan"
    )


class MemberPosition(TenantMixin, db.Model):
    """An agency's position on a referral on the agenda, recorded by its member before the meeting.

    The chair's decision form starts from these; the decision keeps its own AgencyPosition rows.
    """

    __tablename__ = "member_position"
    __table_args__ = (
        UniqueConstraint("agenda_item_id", "agency", name="uq_member_position_agency"),
        check_in("agency", [k.value for k in AgencyKind]),
        CheckConstraint("length(trim(stance)) > 0", name="has_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="CASCADE"), index=True
    )
    agency: Mapped[str] = mapped_column(String(20))
    stance: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[AgendaItem] = relationship(back_populates="positions")
    recorded_by = relationship("User")


class Decision(TenantMixin, db.Model):
    """The conference's one decision on a referral, with the written joint recommendation."""

    __tablename__ = "decision"
    __table_args__ = (
        check_in("outcome", [o.value for o in Outcome]),
        CheckConstraint("length(trim(recommendation)) > 0", name="has_recommendation"),
        CheckConstraint("json_array_length(agencies) > 0", name="has_agencies"),
        CheckConstraint(
            "outcome <> 'admit' OR (coordinator_id IS NOT NULL AND complexity_weight IS NOT NULL)",
            name="admit_has_coordinator",
        ),
        CheckConstraint(
            "outcome <> 'recommend' OR (coordinator_id IS NULL AND complexity_weight IS NULL)",
            name="recommend_has_no_coordinator",
        ),
        CheckConstraint(
            "complexity_weight IS NULL OR complexity_weight BETWEEN 1 AND 3",
            name="complexity_weight_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(10))
    recommendation: Mapped[str] = mapped_column(Text)
    agencies: Mapped[list] = mapped_column(JSON)
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    complexity_weight: Mapped[int | None] = mapped_column()
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conference: Mapped[Conference] = relationship()
    coordinator = relationship("User", foreign_keys=[coordinator_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    positions: Mapped[list[AgencyPosition]] = relationship(
        back_populates="decision", order_by="AgencyPosition.id", cascade="all, delete-orphan"
    )
    referral = relationship(
        "Referral",
        primaryjoin="Referral.decision_id == Decision.id",
        foreign_keys="Referral.decision_id",
        uselist=False,
        viewonly=True,
    )


class AgencyPosition(TenantMixin, db.Model):
    """One represented agency's position (ställningstagande) on the referral."""

    __tablename__ = "agency_position"
    __table_args__ = (
        UniqueConstraint("decision_id", "agency", name="uq_agency_position_agency"),
        check_in("agency", [k.value for k in AgencyKind]),
        CheckConstraint("length(trim(stance)) > 0", name="has_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"))
    agency: Mapped[str] = mapped_column(String(20))
    stance: Mapped[str] = mapped_column(Text)

    decision: Mapped[Decision] = relationship(back_populates="positions")

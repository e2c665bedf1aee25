"""The exit registration, the return referral, packets, recommendation outcomes and follow-ups.

The database refuses a change to a finalised return referral or a delivered packet's content: the
triggers `return_referral_locked` and `packet_locked` (migration 0009_exits) stop an UPDATE that
touches the document, the signature or the hash, whoever sends it.
"""

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.models import TenantMixin
from workflows.return_referral import (
    FollowUpOccasion,
    PacketKind,
    RecommendationStatus,
    ReturnReferralState,
)


class ExitRegistration(TenantMixin, db.Model):
    """The exit of one case: the reason, means of support, occupation and work, and the date."""

    __tablename__ = "exit_registration"
    __table_args__ = (
        CheckConstraint("json_array_length(support_at_exit) > 0", name="has_support"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("case_record.id", ondelete="CASCADE"), unique=True
    )
    exit_reason: Mapped[str] = mapped_column(String(80))
    support_at_exit: Mapped[list] = mapped_column(JSON, default=list)
    occupation_at_exit: Mapped[str] = mapped_column(String(80))
    work_at_exit: Mapped[str] = mapped_column(String(80))
    exited_on: Mapped[date] = mapped_column(Date)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case = relationship("Case")
    registered_by = relationship("User")


class ReturnReferral(TenantMixin, db.Model):
    """The return referral (återremiss) of one case: drafted at exit, then locked and signed.

    `content` holds the whole document: the sections the coordinator writes, the
    recommendations, and the facts compiled from the referral, the plan, the meetings and the
    registrations. At finalising it gets its signature and the hash of its content.
    """

    __tablename__ = "return_referral"
    __table_args__ = (
        check_in("state", [s.value for s in ReturnReferralState]),
        CheckConstraint(
            "state = 'draft' OR (signed_by_id IS NOT NULL AND signed_at IS NOT NULL "
            "AND content_hash IS NOT NULL)",
            name="finalised_is_signed",
        ),
        CheckConstraint(
            "state <> 'draft' OR (signed_at IS NULL AND content_hash IS NULL)",
            name="draft_is_unsigned",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("case_record.id", ondelete="CASCADE"), unique=True
    )
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=ReturnReferralState.DRAFT.value)
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_hash: Mapped[str | None] = mapped_column(String(64))

    case = relationship("Case")
    referral = relationship("Referral")
    signed_by = relationship("User", foreign_keys=[signed_by_id])
    packet: Mapped[Packet | None] = relationship(back_populates="return_referral", uselist=False)


class Packet(TenantMixin, db.Model):
    """A document delivered to a referrer to acknowledge: a return referral or a recommendation.

    The content is a copy of the document as delivered, with its hash; the referrer acknowledges
    it once, and reminders run from `delivered_at` until then.
    """

    __tablename__ = "packet"
    __table_args__ = (
        check_in("kind", [k.value for k in PacketKind]),
        CheckConstraint(
            "(kind = 'return_referral') = (return_referral_id IS NOT NULL)",
            name="return_referral_has_document",
        ),
        CheckConstraint(
            "(kind = 'joint_recommendation') = (decision_id IS NOT NULL)",
            name="joint_recommendation_has_decision",
        ),
        CheckConstraint(
            "acknowledged_at IS NULL OR "
            "(acknowledged_by_id IS NOT NULL AND acknowledged_at >= delivered_at)",
            name="acknowledged_after_delivery",
        ),
        Index("ix_packet_recipient", "recipient_id", "acknowledged_at"),
        Index("ix_packet_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    return_referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("return_referral.id", ondelete="CASCADE"), unique=True
    )
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"), unique=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("organisation_unit.id"))
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    return_referral: Mapped[ReturnReferral | None] = relationship(back_populates="packet")
    referral = relationship("Referral")
    case = relationship("Case")
    person = relationship("Person")
    recipient = relationship("User", foreign_keys=[recipient_id])
    unit = relationship("OrganisationUnit")
    acknowledged_by = relationship("User", foreign_keys=[acknowledged_by_id])
    outcomes: Mapped[list[RecommendationOutcome]] = relationship(
        back_populates="packet", order_by="RecommendationOutcome.number", cascade="all, delete"
    )

    @property
    def recommendations(self) -> list[dict]:
        """Return the packet's recommendations as delivered: number, agency, text."""
        return list((self.content or {}).get("recommendations") or [])

    def outcome_of(self, number: int) -> RecommendationOutcome | None:
        """Return what the referrer recorded for one recommendation, if anything."""
        return next((o for o in self.outcomes if o.number == number), None)


class RecommendationOutcome(TenantMixin, db.Model):
    """What became of one recommendation of a packet, recorded by the referrer."""

    __tablename__ = "recommendation_outcome"
    __table_args__ = (
        UniqueConstraint("packet_id", "number", name="uq_recommendation_outcome_number"),
        check_in("status", [s.value for s in RecommendationStatus]),
        CheckConstraint(
            "status <> 'not_done' OR length(trim(coalesce(note, ''))) > 0",
            name="not_done_has_note",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    packet_id: Mapped[int] = mapped_column(ForeignKey("packet.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    packet: Mapped[Packet] = relationship(back_populates="outcomes")
    recorded_by = relationship("User")


class FollowUp(TenantMixin, db.Model):
    """A follow-up 6 or 12 months after exit: register means of support and occupation again."""

    __tablename__ = "follow_up"
    __table_args__ = (
        UniqueConstraint("case_id", "occasion", name="uq_follow_up_case_occasion"),
        check_in("occasion", [o.value for o in FollowUpOccasion]),
        CheckConstraint(
            "(registered_at IS NULL) = (registered_by_id IS NULL)", name="registered_by_someone"
        ),
        Index("ix_follow_up_open", "registered_at", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    occasion: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[date] = mapped_column(Date)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    case = relationship("Case")
    assignee = relationship("User", foreign_keys=[assignee_id])
    registered_by = relationship("User", foreign_keys=[registered_by_id])

    @property
    def done(self) -> bool:
        """Tell whether the follow-up has been registered."""
        return self.registered_at is not None


from coordination.exits import subscribers as _subscribers  # noqa: E402,F401

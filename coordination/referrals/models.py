"""Referral, its history and attachments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.models import TenantMixin
from workflows.referral import OPEN_STATES, ReferralState

OPEN_SQL = "state IN (" + ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATES)) + ")"


class Referral(TenantMixin, db.Model):
    """A referral; the person's details are kept as typed until submission links a Person."""

    __tablename__ = "referral"
    __table_args__ = (
        check_in("state", [s.value for s in ReferralState]),
        # Every decided referral has the conference's decision (its recommendation and agencies).
        CheckConstraint(
            "state <> 'decided' OR decision_id IS NOT NULL", name="decided_has_decision"
        ),
        Index("ix_referral_programme_state", "programme_id", "state"),
        # The referral list, newest change first, a page at a time (keyset on updated_at, id):
        # everything a team lead sees, one referrer's own, one state.
        Index("ix_referral_updated", "updated_at", "id"),
        Index("ix_referral_referrer_updated", "referrer_id", "updated_at", "id"),
        Index("ix_referral_state_updated", "state", "updated_at", "id"),
        # The open referrals of one förbund, counted by state on the team lead's start page, and
        # the overdue completions among them: read from the index alone (the closed ones of
        # every year are not in it).
        Index(
            "ix_referral_open_state",
            "forbund_id",
            "state",
            "completion_due_at",
            postgresql_where=text(OPEN_SQL),
            sqlite_where=text(OPEN_SQL),
        ),
        # One open referral per person and programme, whatever races the application loses.
        Index(
            "uq_referral_open_person_programme",
            "person_id",
            "programme_id",
            unique=True,
            postgresql_where=text(OPEN_SQL),
            sqlite_where=text(OPEN_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    state: Mapped[str] = mapped_column(String(30), default=ReferralState.DRAFT.value)
    version: Mapped[int] = mapped_column(Integer, default=1)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    referring_unit_id: Mapped[int] = mapped_column(ForeignKey("organisation_unit.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)

    # The person, as typed by the referrer.
    identity_number: Mapped[str] = mapped_column(String(20), default="")
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    gender: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    preferred_channel: Mapped[str | None] = mapped_column(String(10))
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    interpreter_language: Mapped[str | None] = mapped_column(String(60))
    protected_identity: Mapped[bool] = mapped_column(default=False)

    # The situation.
    home_municipality: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(80))
    agencies_needed: Mapped[list] = mapped_column(JSON, default=list)
    support_current: Mapped[list] = mapped_column(JSON, default=list)
    occupation: Mapped[str | None] = mapped_column(String(80))
    education: Mapped[str | None] = mapped_column(String(80))
    time_on_support: Mapped[str | None] = mapped_column(String(80))
    children_in_household: Mapped[bool | None] = mapped_column()
    background: Mapped[str] = mapped_column(Text, default="")
    question_to_conference: Mapped[str] = mapped_column(Text, default="")

    # Consent as recorded on the form (copied into a Consent row at submission).
    consent_given_on: Mapped[date | None] = mapped_column(Date)
    consent_form: Mapped[str | None] = mapped_column(String(10))
    consent_witness: Mapped[str | None] = mapped_column(String(200))
    consent_valid_until: Mapped[date | None] = mapped_column(Date)
    consent_agencies: Mapped[list] = mapped_column(JSON, default=list)
    consent_info_kinds: Mapped[list] = mapped_column(JSON, default=list)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    referral_date: Mapped[date | None] = mapped_column(Date)
    completion_note: Mapped[str | None] = mapped_column(Text)
    completion_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("decision.id", use_alter=True), unique=True
    )

    programme = relationship("Programme")
    referrer = relationship("User", foreign_keys=[referrer_id])
    referring_unit = relationship("OrganisationUnit")
    person = relationship("Person")
    history: Mapped[list[ReferralHistory]] = relationship(
        back_populates="referral", order_by="ReferralHistory.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="referral", order_by="Attachment.id", cascade="all, delete-orphan"
    )

    @property
    def display_name(self) -> str:
        """Return the name as typed (callers mask protected identities)."""
        return f"{self.first_name} {self.last_name}".strip()


class ReferralHistory(TenantMixin, db.Model):
    """One transition of a referral: from, to, who, when and why."""

    __tablename__ = "referral_history"
    __table_args__ = (Index("ix_referral_history_referral", "referral_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(30))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    referral: Mapped[Referral] = relationship(back_populates="history")
    by = relationship("User")


class Attachment(TenantMixin, db.Model):
    """A file attached to a referral, stored outside the web root under a random key."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="attachments")

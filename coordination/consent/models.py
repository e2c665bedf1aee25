"""The consent table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.models import TenantMixin

INFO_KINDS = ("health", "social_services", "employment", "benefits")
FORMS = ("written", "oral")


class Consent(TenantMixin, db.Model):
    """A person's consent, given at referral and carried over to their case."""

    __tablename__ = "consent"
    __table_args__ = (
        check_in("form", FORMS),
        CheckConstraint("form <> 'oral' OR witness IS NOT NULL", name="oral_has_witness"),
        CheckConstraint("valid_until IS NULL OR valid_until >= given_on", name="valid_after_given"),
        Index("ix_consent_person", "person_id"),
        Index("ix_consent_referral", "referral_id"),  # a conference member's agenda referrals
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    agencies: Mapped[list] = mapped_column(JSON, default=list)
    info_kinds: Mapped[list] = mapped_column(JSON, default=list)
    given_on: Mapped[date] = mapped_column(Date)
    form: Mapped[str] = mapped_column(String(10))
    witness: Mapped[str | None] = mapped_column(String(200))
    valid_until: Mapped[date | None] = mapped_column(Date)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawal_note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def covers(self, agencies, on: date, kinds=()) -> bool:
        """Tell whether the consent is in force on the date and covers every agency named (and
        every kind of information named)."""
        if self.withdrawn_at is not None or self.given_on > on:
            return False
        if self.valid_until is not None and self.valid_until < on:
            return False
        return set(agencies) <= set(self.agencies or []) and set(kinds) <= set(
            self.info_kinds or []
        )

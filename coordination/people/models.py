"""The person table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.models import TenantMixin

GENDERS = ("kvinna", "man", "annat")
CHANNELS = ("email", "sms", "phone", "letter")


class Person(TenantMixin, db.Model):
    """A participant; created when a referral naming them is first submitted."""

    __tablename__ = "person"
    __table_args__ = (
        check_in("gender", GENDERS),
        check_in("preferred_channel", CHANNELS),
        UniqueConstraint("forbund_id", "identity_number", name="uq_person_identity_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_number: Mapped[str] = mapped_column(String(12))
    coordination_number: Mapped[bool] = mapped_column(default=False)
    birth_date: Mapped[date] = mapped_column(Date)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    preferred_channel: Mapped[str] = mapped_column(String(10), default="sms")
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    interpreter_language: Mapped[str | None] = mapped_column(String(60))
    protected_identity: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def code(self) -> str:
        """Return the pseudonymous code shown instead of a protected person's name."""
        return f"P-{self.id:06d}"

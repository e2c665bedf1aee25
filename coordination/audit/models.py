"""The access log table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db

OUTCOMES = ("allowed", "refused", "failed")


class AccessLogEntry(db.Model):
    """One access: when (UTC), who, unit, role, what, which person, and the outcome."""

    __tablename__ = "access_log"
    __table_args__ = (
        check_in("outcome", OUTCOMES),
        Index("ix_access_log_person_at", "person_id", "at"),
        Index("ix_access_log_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisation_unit.id"))
    role: Mapped[str | None] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(80))
    person_id: Mapped[int | None] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(10), default="allowed")
    channel: Mapped[str] = mapped_column(String(10), default="web")

"""The access log table."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    break_glass: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")

    user = relationship("User", viewonly=True)

    def canonical(self) -> str:
        """Return the fields covered by the hash chain, in a fixed order."""
        parts = [
            self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            self.user_id,
            self.unit_id,
            self.role,
            self.action,
            self.object_type,
            self.object_id,
            self.person_id,
            self.outcome,
            self.channel,
            int(bool(self.break_glass)),
            self.reason,
            self.prev_hash,
        ]
        return "|".join("" if p is None else str(p) for p in parts)


class AuditSample(db.Model):
    """A random sample of log rows drawn for the periodic log review, signed off by a reviewer."""

    __tablename__ = "audit_sample"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    size: Mapped[int] = mapped_column()
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finding: Mapped[str | None] = mapped_column(Text)

    entries: Mapped[list[AuditSampleEntry]] = relationship(
        back_populates="sample", order_by="AuditSampleEntry.entry_id", cascade="all, delete-orphan"
    )
    created_by = relationship("User", foreign_keys=[created_by_id])
    signed_by = relationship("User", foreign_keys=[signed_by_id])


class AuditSampleEntry(db.Model):
    """One log row in a review sample."""

    __tablename__ = "audit_sample_entry"

    sample_id: Mapped[int] = mapped_column(
        ForeignKey("audit_sample.id", ondelete="CASCADE"), primary_key=True
    )
    entry_id: Mapped[int] = mapped_column(ForeignKey("access_log.id"), primary_key=True)

    sample: Mapped[AuditSample] = relationship(back_populates="entries")
    entry: Mapped[AccessLogEntry] = relationship()

"""The access log table."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.models import OptionalTenantMixin, TenantMixin

OUTCOMES = ("allowed", "refused", "failed")


class AccessLogEntry(OptionalTenantMixin, db.Model):
    """One access: when (UTC), who, unit, role, what, which person, and the outcome.

    The request only inserts it; the sweeper chains it shortly after (`chain_seq` NULL until then).
    """

    __tablename__ = "access_log"
    __table_args__ = (
        check_in("outcome", OUTCOMES),
        # The auditor's pages on (at, id) by person and by user (0018_more_page_indexes).
        Index("ix_access_log_person_at", "person_id", "at", "id"),
        Index("ix_access_log_user_at", "user_id", "at", "id"),
        # The sweeper's queue: the rows not yet chained, oldest first.
        Index(
            "ix_access_log_unchained",
            "id",
            postgresql_where=text("chain_seq IS NULL"),
            sqlite_where=text("chain_seq IS NULL"),
        ),
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
    # The assurance level (OpenID Connect acr) a sign-in through an identity provider reported.
    assurance: Mapped[str | None] = mapped_column(String(200))
    # Filled by the sweeper (coordination.audit.chain), never by the writer: the row's place in the
    # chain (the chain's order, not the id's), the previous row's hash and its own.
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")

    user = relationship("User", viewonly=True)

    def canonical(self) -> str:
        """Return the fields covered by the hash chain, in a fixed order."""
        return canonical(self)


# One row per place in its förbund's chain (the installation's own rows, written before a förbund
# is chosen, make chain 0): two sweepers can never fork it.
Index(
    "uq_access_log_chain_seq",
    func.coalesce(AccessLogEntry.forbund_id, 0),
    AccessLogEntry.chain_seq,
    unique=True,
)

# The columns a verification reads: enough to recompute a row's hash, nothing more.
CHAIN_COLUMNS = (
    "id chain_seq at user_id unit_id role action object_type object_id person_id outcome channel "
    "break_glass reason assurance prev_hash hash"
).split()


def canonical(row) -> str:
    """Return the fields of a log row (an entry, or a row of CHAIN_COLUMNS) the hash covers."""
    parts = [
        row.at.astimezone(UTC).isoformat(timespec="microseconds"),
        row.user_id,
        row.unit_id,
        row.role,
        row.action,
        row.object_type,
        row.object_id,
        row.person_id,
        row.outcome,
        row.channel,
        int(bool(row.break_glass)),
        row.reason,
        row.prev_hash,
    ]
    if row.assurance is not None:  # only sign-ins carry it: the rows before it hash as they did
        parts.append(f"acr={row.assurance}")
    return "|".join("" if p is None else str(p) for p in parts)


CHECK_TRIGGERS = ("schedule", "auditor", "cli")


class ChainCheckpoint(TenantMixin, db.Model):
    """One verification run of the hash chain: where it stopped, with which hash, and the result.

    The next incremental run continues after `last_seq` (the place of row `last_id` in the chain)
    from `last_hash`; a broken run keeps the
    last good row as its `last_id`, so every later run finds the break again until it is handled.
    """

    __tablename__ = "access_log_checkpoint"
    __table_args__ = (check_in("triggered_by", CHECK_TRIGGERS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    triggered_by: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    full: Mapped[bool] = mapped_column(default=False)
    first_id: Mapped[int | None] = mapped_column()
    last_id: Mapped[int | None] = mapped_column()
    last_seq: Mapped[int | None] = mapped_column(BigInteger)  # last_id's place in the chain
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    rows_checked: Mapped[int] = mapped_column(default=0)
    intact: Mapped[bool] = mapped_column(default=True)
    broken_at_id: Mapped[int | None] = mapped_column()


class ExtractRequest(TenantMixin, db.Model):
    """A request for a register extract (GDPR art. 15): who asked, when, whose identity was
    checked by whom. The extract is produced from the request, by the registrar.
    """

    __tablename__ = "extract_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the request outlives the person's erasure, like the access log.
    person_id: Mapped[int] = mapped_column(index=True)
    requester: Mapped[str] = mapped_column(String(200))
    received_on: Mapped[date] = mapped_column(Date)
    identity_check: Mapped[str] = mapped_column(String(200))
    identity_checked_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    produced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    produced_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    identity_checked_by = relationship("User", foreign_keys=[identity_checked_by_id])
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    produced_by = relationship("User", foreign_keys=[produced_by_id])


class AuditSample(TenantMixin, db.Model):
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


class AuditSampleEntry(TenantMixin, db.Model):
    """One log row in a review sample."""

    __tablename__ = "audit_sample_entry"

    sample_id: Mapped[int] = mapped_column(
        ForeignKey("audit_sample.id", ondelete="CASCADE"), primary_key=True
    )
    entry_id: Mapped[int] = mapped_column(ForeignKey("access_log.id"), primary_key=True)

    sample: Mapped[AuditSample] = relationship(back_populates="entries")
    entry: Mapped[AccessLogEntry] = relationship()

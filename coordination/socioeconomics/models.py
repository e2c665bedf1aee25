"""Price lists, programme costs and saved cohort calculations (DOMAIN.md §13)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.models import TenantMixin
from workflows.socioeconomics import ACTORS, KINDS, VARIABLES


class PriceList(TenantMixin, db.Model):
    """One version of a price list of one year.

    A version that a saved calculation used is never changed: editing it means copying it as the
    next version (`based_on_id` says which it came from).
    """

    __tablename__ = "socio_price_list"
    __table_args__ = (
        UniqueConstraint(
            "forbund_id", "name", "year", "version", name="uq_socio_price_list_version"
        ),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    year: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str | None] = mapped_column(String(500))
    based_on_id: Mapped[int | None] = mapped_column(
        ForeignKey("socio_price_list.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entries: Mapped[list[PriceEntry]] = relationship(
        back_populates="price_list",
        cascade="all, delete-orphan",
        order_by="(PriceEntry.variable, PriceEntry.code, PriceEntry.actor)",
    )

    @property
    def title(self) -> str:
        """The list's name, year and version as one line."""
        return f"{self.name} {self.year}, v{self.version}"


class PriceEntry(TenantMixin, db.Model):
    """What one code of a SUS variable costs (or brings) one actor per year, in whole kronor."""

    __tablename__ = "socio_price_entry"
    __table_args__ = (
        check_in("variable", VARIABLES),
        check_in("actor", ACTORS),
        check_in("kind", KINDS),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        UniqueConstraint(
            "price_list_id", "variable", "code", "actor", name="uq_socio_price_entry_code_actor"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(
        ForeignKey("socio_price_list.id", ondelete="CASCADE")
    )
    variable: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(80))
    actor: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str | None] = mapped_column(String(300))

    price_list: Mapped[PriceList] = relationship(back_populates="entries")


class ProgrammeCost(TenantMixin, db.Model):
    """A programme's cost in one year (a budget, or a cost per participant) and its funders'
    shares in percent (summing to 100)."""

    __tablename__ = "socio_programme_cost"
    __table_args__ = (
        UniqueConstraint("programme_id", "year", name="uq_socio_programme_cost_year"),
        CheckConstraint(
            "(budget IS NULL) <> (cost_per_participant IS NULL)", name="budget_or_per_participant"
        ),
        CheckConstraint("budget IS NULL OR budget >= 0", name="budget_not_negative"),
        CheckConstraint(
            "cost_per_participant IS NULL OR cost_per_participant >= 0",
            name="per_participant_not_negative",
        ),
        CheckConstraint(
            "share_kommun + share_region + share_af + share_fk + share_state = 100",
            name="shares_sum_100",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    budget: Mapped[int | None] = mapped_column(BigInteger)
    cost_per_participant: Mapped[int | None] = mapped_column(BigInteger)
    share_kommun: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(25))
    share_region: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(25))
    share_af: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(0))
    share_fk: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(0))
    share_state: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(50))
    source: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    programme = relationship("Programme")

    @property
    def shares(self) -> dict[str, Decimal]:
        """The shares by actor, in percent."""
        return {
            "kommun": Decimal(self.share_kommun),
            "region": Decimal(self.share_region),
            "af": Decimal(self.share_af),
            "fk": Decimal(self.share_fk),
            "state": Decimal(self.share_state),
        }


class SavedCalculation(TenantMixin, db.Model):
    """A cohort calculation kept for the board: its parameters, the price list it used and the
    figures as they were (aggregates only, never a person)."""

    __tablename__ = "socio_calculation"
    __table_args__ = (
        CheckConstraint("horizon_years >= 1", name="horizon_positive"),
        CheckConstraint("exited_to >= exited_from", name="period_order"),
        Index("ix_socio_calculation_price_list", "price_list_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    exited_from: Mapped[date] = mapped_column(Date)
    exited_to: Mapped[date] = mapped_column(Date)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("socio_price_list.id"))
    horizon_years: Mapped[int] = mapped_column(Integer)
    participants: Mapped[int] = mapped_column(Integer)
    used_exit_data: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme = relationship("Programme")
    price_list: Mapped[PriceList] = relationship()

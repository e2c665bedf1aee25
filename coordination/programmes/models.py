"""The programme table."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.models import TenantMixin
from workflows.case import PRIORITY_AGE_BAND
from workflows.programme import (
    TARGET_OCCASIONS,
    CountingMode,
    Eligibility,
    PriorityRule,
    TargetVariable,
)


class Programme(TenantMixin, db.Model):
    """A programme funded by the förbund, with its settings (defaults from ../shared/DOMAIN.md)."""

    __tablename__ = "programme"
    __table_args__ = (
        check_in("priority_rule", [r.value for r in PriorityRule]),
        check_in("counting_mode", [m.value for m in CountingMode]),
        CheckConstraint("min_age >= 0 AND min_age <= max_age", name="age_band"),
        CheckConstraint("min_agencies BETWEEN 1 AND 4", name="min_agencies_range"),
        CheckConstraint("capacity >= 0", name="capacity_nonnegative"),
        CheckConstraint("complexity_default BETWEEN 1 AND 3", name="complexity_range"),
        CheckConstraint(
            "priority_age_low >= 0 AND priority_age_low <= priority_age_high "
            "AND priority_age_high <= 120",
            name="priority_age_band",
        ),
        UniqueConstraint("forbund_id", "name", name="uq_programme_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    min_age: Mapped[int] = mapped_column(default=18)
    max_age: Mapped[int] = mapped_column(default=64)
    min_agencies: Mapped[int] = mapped_column(default=2)
    capacity: Mapped[int] = mapped_column(default=30)
    max_duration_days: Mapped[int | None] = mapped_column()
    duration_warning_percent: Mapped[int] = mapped_column(default=80)
    conference_weekday: Mapped[int] = mapped_column(default=1)  # Tuesday
    conference_interval_weeks: Mapped[int] = mapped_column(default=2)
    conference_first_date: Mapped[date | None] = mapped_column(Date)
    agenda_cutoff_working_days: Mapped[int] = mapped_column(default=3)
    prepare_reminder_working_days: Mapped[int] = mapped_column(default=2)
    quorum_all_named_agencies: Mapped[bool] = mapped_column(default=True)
    priority_rule: Mapped[str] = mapped_column(
        String(40), default=PriorityRule.AGE_25_45_CHILDREN_FIRST.value
    )
    missed_threshold: Mapped[int] = mapped_column(default=3)
    counting_mode: Mapped[str] = mapped_column(String(20), default=CountingMode.SINCE_RESET.value)
    group_sessions_count: Mapped[bool] = mapped_column(default=False)
    escalation_decision_working_days: Mapped[int] = mapped_column(default=5)
    plan_review_months: Mapped[int] = mapped_column(default=3)
    completion_deadline_working_days: Mapped[int] = mapped_column(default=10)
    complexity_default: Mapped[int] = mapped_column(default=1)
    priority_age_low: Mapped[int] = mapped_column(default=PRIORITY_AGE_BAND[0])
    priority_age_high: Mapped[int] = mapped_column(default=PRIORITY_AGE_BAND[1])

    @property
    def priority_age_band(self) -> tuple[int, int]:
        """Return the ages (inclusive) the priority rule puts first when there are children."""
        return (self.priority_age_low, self.priority_age_high)

    @property
    def eligibility(self) -> Eligibility:
        """Return the eligibility rule of the programme."""
        return Eligibility(self.min_age, self.max_age, self.min_agencies)


class ProgrammeTarget(TenantMixin, db.Model):
    """An outcome target of a programme: the share of a population whose SUS variable at an
    occasion is one of a set of codes (or of decided referrals with a joint recommendation)."""

    __tablename__ = "programme_target"
    __table_args__ = (
        check_in("variable", [v.value for v in TargetVariable]),
        check_in("occasion", list(TARGET_OCCASIONS)),
        CheckConstraint("target_percent BETWEEN 0 AND 100", name="target_percent_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    variable: Mapped[str] = mapped_column(String(40))
    occasion: Mapped[str | None] = mapped_column(String(20))
    codes: Mapped[list] = mapped_column(JSON, default=list)
    target_percent: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme = relationship("Programme")

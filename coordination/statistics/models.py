"""SUS participant records, their registrations per occasion, self-ratings and import batches."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.models import TenantMixin
from workflows.statistics import PROGRESSION_QUESTIONS, Occasion

SOURCES = ("import", "live")


class ImportBatch(TenantMixin, db.Model):
    """One accepted import file: who, when, how many participants (rejected files leave none)."""

    __tablename__ = "sus_import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"))
    participant_count: Mapped[int] = mapped_column(Integer, default=0)


class SusParticipant(TenantMixin, db.Model):
    """One person's participation as SUS sees it, from import or from a live case.

    `case_id` is a plain integer on purpose: the case table belongs to another package and the
    foreign key is added when both exist. `age_at_enrolment` and `months_in_programme` are derived
    by the operations (workflows.statistics) so that the reports can group on them in SQL.
    """

    __tablename__ = "sus_participant"
    __table_args__ = (
        check_in("source", SOURCES),
        CheckConstraint(
            "exited_on IS NULL OR exited_on >= enrolled_on", name="exit_after_enrolment"
        ),
        Index("ix_sus_participant_enrolled", "programme_id", "enrolled_on"),
        Index("ix_sus_participant_exited", "programme_id", "exited_on"),
        Index("ix_sus_participant_enrolled_on", "enrolled_on"),
        Index("ix_sus_participant_exited_on", "exited_on"),
        Index("ix_sus_participant_ref", "participant_ref"),
        Index("ix_sus_participant_ref_lower", func.lower(text("participant_ref"))),
        # The report by home municipality and the reports' list of municipalities (0029).
        Index("ix_sus_participant_municipality", "forbund_id", "home_municipality", "gender"),
        Index("uq_sus_participant_case", "case_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"))
    participant_ref: Mapped[str] = mapped_column(String(80))
    case_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(10), default="live")
    import_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("sus_import_batch.id", ondelete="CASCADE")
    )
    gender: Mapped[str | None] = mapped_column(String(20))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    home_municipality: Mapped[str | None] = mapped_column(String(100))
    referring_agency: Mapped[str | None] = mapped_column(String(40))
    # The member organisation's code (organisations.MemberOrganisation), which implies the kind.
    referring_organisation: Mapped[str | None] = mapped_column(String(40))
    enrolled_on: Mapped[date] = mapped_column(Date)
    exited_on: Mapped[date | None] = mapped_column(Date)
    exit_reason: Mapped[str | None] = mapped_column(String(80))
    age_at_enrolment: Mapped[int | None] = mapped_column(Integer)
    months_in_programme: Mapped[int | None] = mapped_column(Integer)
    rating_due_recorded_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme = relationship("Programme")
    registrations: Mapped[list[SusRegistration]] = relationship(
        back_populates="participant", cascade="all, delete-orphan", order_by="SusRegistration.id"
    )
    ratings: Mapped[list[ProgressionRating]] = relationship(
        back_populates="participant",
        cascade="all, delete-orphan",
        order_by="ProgressionRating.rated_on",
    )

    def registration(self, occasion: str) -> SusRegistration | None:
        """Return the registration of one occasion, if made."""
        return next((r for r in self.registrations if r.occasion == str(occasion)), None)


class SusRegistration(TenantMixin, db.Model):
    """The SUS variables of one participant at one occasion (intake, exit, follow-ups)."""

    __tablename__ = "sus_registration"
    __table_args__ = (
        check_in("occasion", [o.value for o in Occasion]),
        UniqueConstraint("participant_id", "occasion", name="uq_sus_registration_occasion"),
        Index("ix_sus_registration_occasion", "occasion", "participant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("sus_participant.id", ondelete="CASCADE")
    )
    occasion: Mapped[str] = mapped_column(String(20))
    registered_on: Mapped[date | None] = mapped_column(Date)
    work: Mapped[str | None] = mapped_column(String(80))
    occupation: Mapped[str | None] = mapped_column(String(80))
    education: Mapped[str | None] = mapped_column(String(80))
    time_on_support: Mapped[str | None] = mapped_column(String(80))

    participant: Mapped[SusParticipant] = relationship(back_populates="registrations")
    supports: Mapped[list[SusSupport]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="SusSupport.code"
    )

    @property
    def support_codes(self) -> list[str]:
        """Return the means of support registered on this occasion."""
        return [s.code for s in self.supports]


class SusSupport(TenantMixin, db.Model):
    """One means of support (a multi-valued variable) of one registration.

    The participant and the occasion are repeated from the registration so that the reports
    join supports straight to participants (one join less on large tables).
    """

    __tablename__ = "sus_support"
    __table_args__ = (
        Index("ix_sus_support_occasion_participant", "occasion", "participant_id", "code"),
    )

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("sus_registration.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("sus_participant.id", ondelete="CASCADE")
    )
    occasion: Mapped[str] = mapped_column(String(20))

    registration: Mapped[SusRegistration] = relationship(back_populates="supports")


_QUESTION_CHECKS = [
    CheckConstraint(f"{q} BETWEEN 1 AND 10", name=f"{q}_range") for q in PROGRESSION_QUESTIONS
]


class ProgressionRating(TenantMixin, db.Model):
    """A participant's self-rating on the ten progression questions, 1-10 each."""

    __tablename__ = "progression_rating"
    __table_args__ = (
        UniqueConstraint("participant_id", "rated_on", name="uq_progression_rating_day"),
        *_QUESTION_CHECKS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("sus_participant.id", ondelete="CASCADE"), index=True
    )
    rated_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    job_search_clarity: Mapped[int] = mapped_column(Integer)
    use_of_competences: Mapped[int] = mapped_column(Integer)
    managing_a_job: Mapped[int] = mapped_column(Integer)
    time_available: Mapped[int] = mapped_column(Integer)
    health_for_work: Mapped[int] = mapped_column(Integer)
    network_support: Mapped[int] = mapped_column(Integer)
    contacting_strangers: Mapped[int] = mapped_column(Integer)
    cooperation: Mapped[int] = mapped_column(Integer)
    managing_studies: Mapped[int] = mapped_column(Integer)
    job_goal_clarity: Mapped[int] = mapped_column(Integer)

    participant: Mapped[SusParticipant] = relationship(back_populates="ratings")

    @property
    def scores(self) -> list[int]:
        """Return the ten scores in question order."""
        return [getattr(self, q) for q in PROGRESSION_QUESTIONS]

    @property
    def total(self) -> int:
        """Return the sum of the ten scores."""
        return sum(self.scores)

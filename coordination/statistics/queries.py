"""Reads of SUS records: a case's participant record, when a self-rating is due, and the home
municipalities the reports' filter offers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from coordination.extensions import db
from coordination.statistics.models import (
    SusParticipant,
)
from workflows.statistics import (
    next_rating_due,
)


def participant_for_case(case_id: int) -> SusParticipant | None:
    """Return the SUS record of a case, if any."""
    return db.session.scalar(select(SusParticipant).where(SusParticipant.case_id == case_id))


def rating_due_on(participant: SusParticipant) -> date | None:
    """Return when the participant's next self-rating is due (None after exit)."""
    if participant.exited_on is not None:
        return None
    last = participant.ratings[-1].rated_on if participant.ratings else None
    return next_rating_due(last, participant.enrolled_on)


def home_municipalities() -> list[str]:
    """Return every home municipality a participant record names, in order.

    Read as a skip scan over ix_sus_participant_municipality: the first code, then each next one
    above the last (one index probe per municipality), not a grouping of every record.
    """
    codes = select(func.min(SusParticipant.home_municipality).label("code")).cte(
        "municipality_codes", recursive=True
    )
    following = (
        select(func.min(SusParticipant.home_municipality))
        .where(SusParticipant.home_municipality > codes.c.code)
        .scalar_subquery()
    )
    codes = codes.union_all(select(following).where(codes.c.code.is_not(None)))
    return list(
        db.session.scalars(
            select(codes.c.code).where(codes.c.code.is_not(None)).order_by(codes.c.code)
        )
    )

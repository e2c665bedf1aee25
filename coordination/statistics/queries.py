"""Reads of SUS records: a case's participant record and when a self-rating is due."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

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

"""The conference's part of retention (gallring): the decision's written text about the person."""

from __future__ import annotations

from sqlalchemy import select

from coordination.conferences.models import Decision
from coordination.extensions import db
from coordination.people.retention import ERASED_TEXT, eraser
from coordination.referrals.models import Referral


def _erase_decisions(person_id: int) -> None:
    """Blank the joint recommendation and the agencies' positions on the person's referrals.

    The decision rows stay (outcome, agencies, dates: the statistics count them); a CHECK
    constraint wants text in both columns, so they get the neutral ERASED_TEXT. This finds the
    decisions through Referral.person_id, so it must run before the referrals' eraser unlinks it.
    """
    decisions = db.session.scalars(
        select(Decision)
        .join(Referral, Referral.decision_id == Decision.id)
        .where(Referral.person_id == person_id)
    )
    for decision in decisions:
        decision.recommendation = ERASED_TEXT
        for position in decision.positions:
            position.stance = ERASED_TEXT


def register() -> None:
    """Add the conference decisions to retention."""
    eraser(_erase_decisions)

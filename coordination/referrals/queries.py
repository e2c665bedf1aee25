"""Reads of referrals that load what a page shows in a fixed number of statements."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from coordination.extensions import db
from coordination.referrals.models import Referral, ReferralHistory


def load_details(referral: Referral) -> Referral:
    """Load the referral page's parts at once: history with who did what, files, unit, programme."""
    return db.session.scalars(
        select(Referral)
        .where(Referral.id == referral.id)
        .options(
            joinedload(Referral.programme),
            joinedload(Referral.referring_unit),
            selectinload(Referral.history).joinedload(ReferralHistory.by),
            selectinload(Referral.attachments),
        )
    ).one()

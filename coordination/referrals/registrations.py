"""The referral's part of the register extract and of retention (gallring)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from coordination.audit.extract import record_of, section
from coordination.extensions import db
from coordination.people.retention import eraser, last_activity, still_open
from coordination.referrals.attachments import path_of
from coordination.referrals.models import Referral, ReferralHistory
from workflows.referral import OPEN_STATES


def _referrals(person_id: int) -> list[dict]:
    rows = db.session.scalars(select(Referral).where(Referral.person_id == person_id))
    names = (
        "id state programme_id referring_unit_id referral_date submitted_at home_municipality "
        "reason agencies_needed support_current occupation education time_on_support "
        "children_in_household background question_to_conference completion_note "
        "withdrawn_reason"
    ).split()
    return [record_of(r, names) for r in rows]


def _open_referral(person_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(func.count()).where(
                Referral.person_id == person_id,
                Referral.state.in_([s.value for s in OPEN_STATES]),
            )
        )
    )


def _referral_activity(person_id: int) -> datetime | None:
    return db.session.scalar(
        select(func.max(ReferralHistory.at))
        .join(Referral, Referral.id == ReferralHistory.referral_id)
        .where(Referral.person_id == person_id)
    )


def _erase_referrals(person_id: int) -> None:
    for referral in db.session.scalars(select(Referral).where(Referral.person_id == person_id)):
        for attachment in list(referral.attachments):
            Path(path_of(attachment)).unlink(missing_ok=True)
            db.session.delete(attachment)
        for name in (
            "identity_number first_name last_name background question_to_conference"
        ).split():
            setattr(referral, name, "")
        for name in (
            "phone email address interpreter_language consent_witness completion_note "
            "withdrawn_reason"
        ).split():
            setattr(referral, name, None)
        # The history keeps its states and times for the statistics; the notes typed about the
        # person (why it was withdrawn, what to complete, why it went back) go.
        for step in referral.history:
            step.note = None
        referral.person_id = None


def register() -> None:
    """Add the referrals to the register extract and to retention."""
    section(_l("Remisser"), _referrals)
    still_open(_open_referral)
    last_activity(_referral_activity)
    eraser(_erase_referrals)

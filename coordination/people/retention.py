"""Retention (gallring): erase the personal data of people whose business has long been closed.

Each domain that holds personal data registers an `eraser(person_id)` and a `still_open(person_id)`
check; statistics keep no identity and stay.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from coordination.extensions import db

ERASERS: list[Callable[[int], None]] = []
STILL_OPEN: list[Callable[[int], bool]] = []
LAST_ACTIVITY: list[Callable[[int], datetime | None]] = []


def eraser(func_: Callable[[int], None]) -> Callable[[int], None]:
    """Register a function that erases one domain's personal data about a person."""
    ERASERS.append(func_)
    return func_


def still_open(func_: Callable[[int], bool]) -> Callable[[int], bool]:
    """Register a check that keeps a person whose business in a domain is still open."""
    STILL_OPEN.append(func_)
    return func_


def last_activity(func_: Callable[[int], datetime | None]) -> Callable:
    """Register a function returning the last entry a domain holds about a person."""
    LAST_ACTIVITY.append(func_)
    return func_


@still_open
def _open_referral(person_id: int) -> bool:
    from coordination.referrals.models import Referral
    from workflows.referral import OPEN_STATES

    return bool(
        db.session.scalar(
            select(func.count()).where(
                Referral.person_id == person_id,
                Referral.state.in_([s.value for s in OPEN_STATES]),
            )
        )
    )


@last_activity
def _referral_activity(person_id: int) -> datetime | None:
    from coordination.referrals.models import Referral, ReferralHistory

    return db.session.scalar(
        select(func.max(ReferralHistory.at))
        .join(Referral, Referral.id == ReferralHistory.referral_id)
        .where(Referral.person_id == person_id)
    )


@eraser
def _erase_referrals(person_id: int) -> None:
    from coordination.referrals.attachments import path_of
    from coordination.referrals.models import Referral

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
        referral.person_id = None


@eraser
def _erase_consents(person_id: int) -> None:
    from coordination.consent.models import Consent

    for consent in db.session.scalars(select(Consent).where(Consent.person_id == person_id)):
        db.session.delete(consent)


def due_for_erasure(now: datetime, years: int) -> list[int]:
    """Return the people with nothing open and no entry for the retention period."""
    from coordination.people.models import Person

    limit = now - timedelta(days=round(365.25 * years))
    due = []
    for person_id in db.session.scalars(select(Person.id).order_by(Person.id)):
        if any(check(person_id) for check in STILL_OPEN):
            continue
        latest = [t for t in (f(person_id) for f in LAST_ACTIVITY) if t is not None]
        if latest and max(latest) < limit:
            due.append(person_id)
    return due


def erase_expired(now: datetime, years: int) -> int:
    """Erase everyone due; return how many people were erased (ids only are logged)."""
    from coordination.audit.operations import log_access
    from coordination.people.models import Person

    erased = 0
    for person_id in due_for_erasure(now, years):
        for erase in ERASERS:
            erase(person_id)
        db.session.flush()
        db.session.delete(db.session.get(Person, person_id))
        log_access("person", person_id, action="erase", person_id=person_id, user=None)
        erased += 1
    db.session.flush()
    return erased

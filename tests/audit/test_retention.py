"""Retention: personal data of long-closed business is erased; open business is kept."""

from datetime import timedelta

from sqlalchemy import select, update

from coordination.consent.models import Consent
from coordination.core.db import utcnow
from coordination.extensions import db
from coordination.people.models import Person
from coordination.people.retention import due_for_erasure, erase_expired
from coordination.referrals.models import Referral, ReferralHistory
from tests.factories import make_referral


def _age(referral, years: float) -> None:
    db.session.execute(
        update(ReferralHistory)
        .where(ReferralHistory.referral_id == referral.id)
        .values(at=utcnow() - timedelta(days=365.25 * years))
    )
    db.session.commit()


def test_withdrawn_long_ago_is_erased_and_open_is_kept():
    old = make_referral("withdrawn", first_name="Gammal")
    recent = make_referral("withdrawn")
    still_open = make_referral("submitted")
    _age(old, 6)
    _age(still_open, 6)
    person_id = old.person_id
    assert due_for_erasure(utcnow(), 5) == [person_id]
    assert erase_expired(utcnow(), 5) == 1
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Person, person_id) is None
    erased = db.session.get(Referral, old.id)
    assert erased.first_name == "" and erased.identity_number == "" and erased.person_id is None
    assert erased.state == "withdrawn"  # the statistics keep the referral without identity
    assert not db.session.scalars(select(Consent).where(Consent.person_id == person_id)).all()
    assert db.session.get(Referral, recent.id).person_id is not None
    assert db.session.get(Referral, still_open.id).person_id is not None

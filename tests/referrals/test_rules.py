"""Every validation rule of a referral submission, all errors at once, and the kept draft."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from coordination.core.errors import Conflict, ValidationFailed
from coordination.extensions import db
from coordination.referrals import operations as ops
from coordination.referrals.models import Referral
from tests.factories import (
    birth_for_age,
    identity_number,
    make_programme,
    make_referral,
    make_user,
)


def _submit_errors(**overrides) -> dict:
    referral = make_referral("draft", **overrides)
    with pytest.raises(ValidationFailed) as caught:
        ops.submit(referral, by=referral.referrer)
    return caught.value.errors


def test_a_complete_referral_is_submitted_with_a_person_consent_and_history():
    referral = make_referral("submitted")
    assert referral.state == "submitted"
    assert referral.person is not None
    assert referral.referral_date == ops.local_today()
    assert [h.to_state for h in referral.history] == ["draft", "submitted"]


def test_wrong_checksum():
    number = identity_number(birth_for_age(30))
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    errors = _submit_errors(identity_number=wrong)
    assert errors["identity_number"] == ["Kontrollsiffran stämmer inte. Kontrollera numret."]


def test_age_17_at_the_referral_date_is_too_young():
    errors = _submit_errors(identity_number=identity_number(birth_for_age(18) + timedelta(days=1)))
    assert errors["identity_number"] == [
        "Personen är 17 år. Insatsen tar emot personer från 18 år."
    ]


def test_age_18_on_the_birthday_is_accepted():
    referral = make_referral("submitted", identity_number=identity_number(birth_for_age(18)))
    assert referral.state == "submitted"


def test_age_65_is_too_old():
    errors = _submit_errors(identity_number=identity_number(birth_for_age(65)))
    assert errors["identity_number"] == [
        "Personen är 65 år. Insatsen tar emot personer upp till 64 år."
    ]


def test_one_agency_only_is_below_the_programme_minimum():
    errors = _submit_errors(agencies_needed=["af"], consent_agencies=["af"])
    assert errors["agencies_needed"] == [
        "Personen ska behöva stöd från minst 2 myndigheter. Du har valt 1."
    ]


def test_programme_minimum_is_a_setting():
    programme = make_programme(min_agencies=3)
    errors = _submit_errors(programme=programme)
    assert "minst 3 myndigheter" in errors["agencies_needed"][0]


def test_no_consent():
    errors = _submit_errors(
        consent_given_on=None, consent_form=None, consent_agencies=[], consent_info_kinds=[]
    )
    assert set(errors) >= {
        "consent_given_on",
        "consent_form",
        "consent_agencies",
        "consent_info_kinds",
    }


def test_consent_must_cover_every_named_agency():
    errors = _submit_errors(agencies_needed=["kommun", "fk"], consent_agencies=["kommun"])
    assert errors["consent_agencies"] == [
        "Samtycket täcker inte alla myndigheter som ska ge stöd. Saknas: Försäkringskassan."
    ]


def test_oral_consent_needs_a_witness():
    errors = _submit_errors(consent_form="oral", consent_witness=None)
    assert "consent_witness" in errors


def test_all_errors_are_reported_at_once_and_the_draft_is_kept():
    referral = make_referral(
        "draft",
        identity_number="19900101-0000",
        first_name="",
        agencies_needed=["af"],
        consent_given_on=None,
        background="",
    )
    db.session.commit()  # the pages and the API save the draft before trying to submit
    with pytest.raises(ValidationFailed) as caught:
        ops.submit(referral, by=referral.referrer)
    assert set(caught.value.errors) >= {
        "identity_number",
        "first_name",
        "agencies_needed",
        "consent_given_on",
        "background",
    }
    db.session.rollback()
    kept = db.session.get(Referral, referral.id)
    assert kept.state == "draft"
    assert kept.identity_number == "19900101-0000"
    assert kept.agencies_needed == ["af"]


def test_duplicate_open_referral_in_the_same_programme_is_refused_and_named():
    programme = make_programme()
    number = identity_number(birth_for_age(40))
    first = make_referral("submitted", programme=programme, identity_number=number)
    second = make_referral("draft", programme=programme, identity_number=number)
    with pytest.raises(Conflict) as caught:
        ops.submit(second, by=second.referrer)
    assert caught.value.status == 409
    assert f"remiss {first.id}" in caught.value.message
    assert caught.value.payload["open_referral_id"] == first.id


def test_same_person_in_another_programme_is_allowed():
    number = identity_number(birth_for_age(40))
    make_referral("submitted", identity_number=number)
    other = make_referral("submitted", identity_number=number)
    assert other.state == "submitted"


def test_after_withdrawal_the_person_can_be_referred_again():
    programme = make_programme()
    number = identity_number(birth_for_age(40))
    make_referral("withdrawn", programme=programme, identity_number=number)
    again = make_referral("submitted", programme=programme, identity_number=number)
    assert again.state == "submitted"


def test_completion_round_trip_keeps_history():
    referral = make_referral("completion_requested")
    assert referral.completion_due_at is not None
    ops.update_draft(referral, by=referral.referrer, data={"background": "Mer om hälsan."})
    ops.submit(referral, by=referral.referrer)
    assert [h.action for h in referral.history] == [
        "create",
        "submit",
        "request_completion",
        "submit",
    ]


def test_database_refuses_two_open_referrals_for_one_person_and_programme():
    from sqlalchemy.exc import IntegrityError

    programme = make_programme()
    first = make_referral("submitted", programme=programme)
    clone = make_referral("draft", programme=programme)
    clone.person_id = first.person_id
    clone.state = "submitted"
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_a_referral_for_another_referrer_is_invisible():
    from coordination.referrals.permissions import can_view, visible_query

    referral = make_referral("submitted")
    stranger = make_user("referrer")
    assert not can_view(stranger, referral)
    assert referral not in db.session.scalars(visible_query(stranger)).all()
    lead = make_user("team_lead")
    assert can_view(lead, referral)
    assert referral in db.session.scalars(select(Referral).where(Referral.id == referral.id)).all()

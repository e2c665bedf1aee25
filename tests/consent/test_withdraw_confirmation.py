"""Withdrawing consent goes through a confirmation page that asks why, on the referral's consent
page and on the case page; GET changes nothing, nor a POST without a reason."""

from __future__ import annotations

from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.consent.operations import consents_of
from coordination.extensions import db
from tests.factories import PASSWORD, admit_case, make_agency_user, make_referral, make_user


def _consent(person_id: int):
    db.session.expire_all()
    return consents_of(person_id)[0]


def _confirm_and_withdraw(client, list_url: str, url: str, person_id: int) -> None:
    listing = client.get(list_url).get_data(as_text=True)
    assert f'href="{url}"' in listing  # a link to the confirmation, not a button in the row
    page = client.get(url)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Återkalla samtycket?" in body and "Det går inte att ångra." in body
    assert "Återkalla samtycket</button>" in body and "Nej, tillbaka" in body
    assert _consent(person_id).withdrawn_at is None  # GET changed nothing

    for form in ({}, {"note": "  "}):
        refused = client.post_form(url, form)
        assert refused.status_code == 422
        assert "Skriv varför samtycket återkallas" in refused.get_data(as_text=True)
        assert _consent(person_id).withdrawn_at is None

    reason = "Personen bad om det muntligt vid mötet."
    done = client.post_form(url, {"note": reason}, follow_redirects=True)
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "Samtycket är återkallat." in text and f"Skäl: {reason}" in text
    consent = _consent(person_id)
    assert consent.withdrawn_at is not None and consent.withdrawal_note == reason


def test_the_referrer_withdraws_after_confirming_with_a_reason(client):
    referral = make_referral("submitted")
    consent = consents_of(referral.person_id)[0]
    client.login(referral.referrer.email, PASSWORD)
    _confirm_and_withdraw(
        client,
        f"/consent/referral/{referral.id}",
        f"/consent/{consent.id}/withdraw",
        referral.person_id,
    )
    reads = db.session.scalars(
        select(AccessLogEntry).where(
            AccessLogEntry.object_type == "consent", AccessLogEntry.action == "read"
        )
    ).all()
    assert any(e.object_id == str(consent.id) and e.person_id == referral.person_id for e in reads)


def test_the_coordinator_withdraws_on_the_case_page_after_confirming(client):
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator, referrer=make_agency_user("kommun"))
    consent = consents_of(case.person_id)[0]
    client.login(coordinator.email, PASSWORD)
    _confirm_and_withdraw(
        client,
        f"/cases/{case.id}",
        f"/cases/{case.id}/consents/{consent.id}/withdraw",
        case.person_id,
    )


def test_another_referrer_reaches_no_confirmation_page(client):
    referral = make_referral("submitted")
    consent = consents_of(referral.person_id)[0]
    client.login(make_user("referrer").email, PASSWORD)
    assert client.get(f"/consent/{consent.id}/withdraw").status_code == 404
    assert client.post_form(f"/consent/{consent.id}/withdraw", {"note": "x"}).status_code == 404
    assert _consent(referral.person_id).withdrawn_at is None

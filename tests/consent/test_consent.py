"""Recording and withdrawing consent, in the pages and the API."""

from datetime import timedelta

from coordination.consent.operations import consents_of, covering
from coordination.core.i18n import local_today
from coordination.extensions import db
from tests.factories import PASSWORD, make_referral, make_user, token_headers


def test_submission_records_the_consent_from_the_form():
    referral = make_referral("submitted")
    consents = consents_of(referral.person_id)
    assert len(consents) == 1
    assert covering(referral.person_id, ["kommun", "af"], local_today()) is consents[0]


def test_withdrawal_takes_effect_at_once(api):
    referral = make_referral("submitted")
    consent = consents_of(referral.person_id)[0]
    headers = token_headers(referral.referrer)
    response = api.post(
        f"/api/v1/consents/{consent.id}/withdraw", json={"note": "Muntligt"}, headers=headers
    )
    assert response.status_code == 200
    assert response.get_json()["withdrawn_at"]
    assert covering(referral.person_id, ["kommun"], local_today()) is None
    again = api.post(f"/api/v1/consents/{consent.id}/withdraw", json={}, headers=headers)
    assert again.status_code == 409


def test_record_a_new_consent_reports_every_error_at_once(api):
    referral = make_referral("submitted")
    headers = token_headers(referral.referrer)
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    bad = api.post(
        f"/api/v1/referrals/{referral.id}/consent",
        json={"agencies": [], "info_kinds": [], "given_on": tomorrow, "form": "oral"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"agencies", "info_kinds", "given_on", "witness"}
    good = api.post(
        f"/api/v1/referrals/{referral.id}/consent",
        json={
            "agencies": ["fk", "region"],
            "info_kinds": ["health"],
            "given_on": local_today().isoformat(),
            "form": "oral",
            "witness": "Eva Vittne",
        },
        headers=headers,
    )
    assert good.status_code == 201
    listed = api.get(f"/api/v1/referrals/{referral.id}/consents", headers=headers).get_json()
    assert listed["total"] == 2


def test_consent_page_records_and_withdraws(client):
    referral = make_referral("submitted")
    client.login(referral.referrer.email, PASSWORD)
    page = client.get(f"/consent/referral/{referral.id}")
    assert page.status_code == 200 and "Gäller" in page.get_data(as_text=True)
    response = client.post_form(f"/consent/referral/{referral.id}", {"agencies": ["fk"]})
    assert response.status_code == 422
    assert "Det finns fel i formuläret" in response.get_data(as_text=True)
    consent = consents_of(referral.person_id)[0]
    done = client.post_form(f"/consent/{consent.id}/withdraw", {})
    assert done.status_code == 302
    db.session.refresh(consent)
    assert consent.withdrawn_at is not None
    assert "Återkallat" in client.get(f"/consent/referral/{referral.id}").get_data(as_text=True)


def test_another_referrer_cannot_see_or_withdraw(api, client):
    referral = make_referral("submitted")
    stranger = make_user("referrer")
    consent = consents_of(referral.person_id)[0]
    headers = token_headers(stranger)
    assert (
        api.post(f"/api/v1/consents/{consent.id}/withdraw", json={}, headers=headers).status_code
        == 404
    )
    assert api.get(f"/api/v1/referrals/{referral.id}/consents", headers=headers).status_code == 404

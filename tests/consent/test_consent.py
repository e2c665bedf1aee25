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
    done = client.post_form(f"/consent/{consent.id}/withdraw", {"note": "Personen bad om det."})
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


def test_the_sql_form_of_the_consent_rule_answers_as_the_rule_does():
    """Lists that filter and count in SQL (the packets) ask agency_may_see_sql; it must give
    agency_may_see's answer for every state a consent can be in, and for the förbund's staff."""
    from sqlalchemy import literal, select

    from coordination.consent.operations import agency_may_see, agency_may_see_sql

    today = local_today()
    referral = make_referral("submitted")
    person = referral.person_id
    consent = consents_of(person)[0]
    consent.agencies = ["af", "kommun"]
    db.session.flush()
    covered, other = {"af", "kommun"}, "fk"

    def answers(agency):
        sql = db.session.scalar(select(agency_may_see_sql(person, literal(agency), today)))
        return bool(sql), agency_may_see(person, agency, today)

    states = {}
    for agency in (*sorted(covered), other, "forbund"):
        states[("in force", agency)] = answers(agency)
    consent.valid_until = today - timedelta(days=1)
    consent.given_on = today - timedelta(days=30)
    db.session.flush()
    states[("expired", next(iter(covered)))] = answers(next(iter(covered)))
    consent.valid_until, consent.given_on = None, today + timedelta(days=1)
    db.session.flush()
    states[("not yet given", next(iter(covered)))] = answers(next(iter(covered)))
    consent.given_on = today
    db.session.flush()
    consent.withdrawn_at = consent.recorded_at
    db.session.flush()
    states[("withdrawn", next(iter(covered)))] = answers(next(iter(covered)))
    states[("withdrawn", "forbund")] = answers("forbund")

    assert all(sql == rule for sql, rule in states.values()), states
    assert [state for state, (sql, _rule) in states.items() if sql] == [
        *(("in force", a) for a in sorted(covered)),
        ("in force", "forbund"),
        ("withdrawn", "forbund"),
    ]

"""Who sees a case: by relation and within consent; after a withdrawal the referrer sees nothing."""

import pytest

from coordination.consent import operations as consent_ops
from coordination.core.i18n import local_today
from coordination.extensions import db
from tests.factories import (
    PASSWORD,
    admit_case,
    make_agency_user,
    make_plan,
    make_user,
    token_headers,
)

RELATIONS = [
    # (who, page and API status)
    ("assigned coordinator", 200),
    ("another coordinator", 404),
    ("team lead", 200),
    ("referrer, consent covers the agency", 200),
    ("another referrer", 404),
    ("contact of a plan action, consent covers the agency", 200),
    ("contact of a plan action, consent does not cover the agency", 404),
    ("conference member", 404),
    ("admin", 403),
    ("analyst", 403),
]


@pytest.mark.parametrize(("who", "expected"), RELATIONS)
def test_case_access_by_relation(client, api, who, expected):
    coordinator = make_user("coordinator")
    referrer = make_agency_user("kommun")
    # The consent at referral covers kommun and af only.
    case = admit_case(coordinator=coordinator, referrer=referrer, consent_agencies=["kommun", "af"])
    contact_af = make_agency_user("af")
    contact_fk = make_agency_user("fk")
    make_plan(case, contact=contact_af)
    if who.endswith("does not cover the agency"):
        # A separate consent covers fk while the plan is drawn up, then is withdrawn.
        for_fk = consent_ops.record_consent(
            person_id=case.person_id,
            data={
                "agencies": ["fk"],
                "info_kinds": ["benefits"],
                "given_on": local_today(),
                "form": "written",
            },
            by=coordinator,
            today=local_today(),
        )
        make_plan(case, contact=contact_fk, agency="fk")  # the draft is edited in place
        consent_ops.withdraw_consent(for_fk, by=coordinator)
        db.session.commit()
    user = {
        "assigned coordinator": lambda: coordinator,
        "another coordinator": lambda: make_user("coordinator"),
        "team lead": lambda: make_user("team_lead"),
        "referrer, consent covers the agency": lambda: referrer,
        "another referrer": lambda: make_agency_user("kommun"),
        "contact of a plan action, consent covers the agency": lambda: contact_af,
        "contact of a plan action, consent does not cover the agency": lambda: contact_fk,
        "conference member": lambda: make_user("conference_member"),
        "admin": lambda: make_user("admin"),
        "analyst": lambda: make_user("analyst"),
    }[who]()
    client.login(user.email, PASSWORD)
    assert client.get(f"/cases/{case.id}").status_code == expected
    assert client.get(f"/cases/{case.id}/plan").status_code == expected
    headers = token_headers(user)
    assert api.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == expected
    assert api.get(f"/api/v1/cases/{case.id}/plan", headers=headers).status_code == expected
    listed = api.get("/api/v1/cases", headers=headers)
    if expected == 200:
        assert case.id in [item["id"] for item in listed.get_json()["items"]]
    elif listed.status_code == 200:
        assert case.id not in [item["id"] for item in listed.get_json()["items"]]


def test_after_the_consent_is_withdrawn_the_referrers_next_request_answers_404(api):
    referrer = make_agency_user("kommun")
    case = admit_case(referrer=referrer)
    headers = token_headers(referrer)
    assert api.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 200
    consents = api.get(f"/api/v1/referrals/{case.referral_id}/consents", headers=headers)
    (consent,) = consents.get_json()["items"]
    withdrawn = api.post(
        f"/api/v1/consents/{consent['id']}/withdraw", json={"note": "Återkallat."}, headers=headers
    )
    assert withdrawn.status_code == 200
    assert api.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 404
    assert api.get(f"/api/v1/cases/{case.id}/plan", headers=headers).status_code == 404
    ids = [i["id"] for i in api.get("/api/v1/cases", headers=headers).get_json()["items"]]
    assert case.id not in ids


def test_a_new_consent_recorded_on_the_case_lets_the_agency_see_it_again(api):
    coordinator = make_user("coordinator")
    referrer = make_agency_user("fk")
    case = admit_case(coordinator=coordinator, referrer=referrer, consent_agencies=["kommun", "af"])
    headers = token_headers(referrer)
    assert api.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 404
    recorded = api.post(
        f"/api/v1/cases/{case.id}/consent",
        json={
            "agencies": ["kommun", "af", "fk"],
            "info_kinds": ["employment", "benefits"],
            "given_on": case.enrolled_on.isoformat(),
            "form": "written",
        },
        headers=token_headers(coordinator),
    )
    assert recorded.status_code == 201
    assert recorded.get_json()["person_id"] == case.person_id
    assert api.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 200


def test_the_case_consent_api_reports_every_error_at_once(api):
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator)
    response = api.post(
        f"/api/v1/cases/{case.id}/consent",
        json={"agencies": [], "form": "oral"},
        headers=token_headers(coordinator),
    )
    assert response.status_code == 422
    assert {"agencies", "info_kinds", "given_on", "witness"} <= set(response.get_json()["errors"])


def test_a_coordinator_withdraws_a_consent_on_the_case_page(client):
    coordinator = make_user("coordinator")
    referrer = make_agency_user("kommun")
    case = admit_case(coordinator=coordinator, referrer=referrer)
    from coordination.consent.operations import consents_of

    (consent,) = consents_of(case.person_id)
    client.login(coordinator.email, PASSWORD)
    response = client.post_form(
        f"/cases/{case.id}/consents/{consent.id}/withdraw", {"note": "Deltagaren bad om det."}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert consents_of(case.person_id)[0].withdrawn_at is not None
    client.post_form("/logout")
    client.login(referrer.email, PASSWORD)
    assert client.get(f"/cases/{case.id}").status_code == 404


def test_a_protected_name_is_shown_only_to_the_assigned_coordinator(client, api):
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator, first_name="Skyddadsson", protected_identity=True)
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    for url in (f"/cases/{case.id}", "/cases/", f"/cases/{case.id}/plan"):
        body = client.get(url).get_data(as_text=True)
        assert "Skyddadsson" not in body and "070-123 45 67" not in body
        assert case.person.code in body
    body = api.get(f"/api/v1/cases/{case.id}", headers=token_headers(lead)).get_json()
    assert body["person"] == {
        "code": case.person.code,
        "name": None,
        "protected_identity": True,
    }
    client.post_form("/logout")
    client.login(coordinator.email, PASSWORD)
    assert "Skyddadsson" in client.get(f"/cases/{case.id}").get_data(as_text=True)

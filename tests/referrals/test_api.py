"""The referral API: create, submit, errors as problem+json, duplicates, visibility."""

from coordination.extensions import db
from tests.factories import (
    birth_for_age,
    identity_number,
    make_programme,
    make_referral,
    make_user,
    referral_data,
    token_headers,
)


def _json(data: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def test_create_and_submit_in_one_call(api):
    programme = make_programme()
    user = make_user("referrer")
    headers = token_headers(user)
    body = _json(referral_data()) | {"programme_id": programme.id, "submit": True}
    response = api.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["state"] == "submitted"
    assert [h["to_state"] for h in created["history"]] == ["draft", "submitted"]
    read = api.get(f"/api/v1/referrals/{created['id']}", headers=headers)
    assert read.get_json()["state"] == "submitted"


def test_validation_errors_come_all_at_once_and_the_draft_is_kept(api):
    programme = make_programme()
    user = make_user("referrer")
    headers = token_headers(user)
    body = _json(referral_data(agencies_needed=["af"], first_name="", consent_given_on=None))
    body |= {"programme_id": programme.id, "submit": True}
    response = api.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 422
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert {"agencies_needed", "first_name", "consent_given_on"} <= set(problem["errors"])
    draft = api.get(f"/api/v1/referrals/{problem['referral_id']}", headers=headers).get_json()
    assert draft["state"] == "draft"
    assert draft["agencies_needed"] == ["af"]


def test_unknown_and_mistyped_fields_are_rejected_together(api):
    programme = make_programme()
    headers = token_headers(make_user("referrer"))
    body = {"programme_id": programme.id, "colour": "blue", "consent_given_on": "yesterday"}
    response = api.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 422
    assert {"colour", "consent_given_on"} <= set(response.get_json()["errors"])


def test_duplicate_answers_409_naming_the_open_referral(api):
    programme = make_programme()
    number = identity_number(birth_for_age(35))
    first = make_referral("submitted", programme=programme, identity_number=number)
    headers = token_headers(make_user("referrer"))
    body = _json(referral_data(identity_number=number)) | {
        "programme_id": programme.id,
        "submit": True,
    }
    response = api.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["open_referral_id"] == first.id
    assert str(first.id) in response.get_json()["detail"]


def test_another_referrers_referral_answers_404(api):
    referral = make_referral("submitted")
    headers = token_headers(make_user("referrer"))
    assert api.get(f"/api/v1/referrals/{referral.id}", headers=headers).status_code == 404
    assert api.get("/api/v1/referrals/999999", headers=headers).status_code == 404


def test_withdraw_and_illegal_transition(api):
    referral = make_referral("submitted")
    headers = token_headers(referral.referrer)
    response = api.post(
        f"/api/v1/referrals/{referral.id}/withdraw", json={"reason": "x"}, headers=headers
    )
    assert response.json["state"] == "withdrawn"
    again = api.post(f"/api/v1/referrals/{referral.id}/submit", headers=headers)
    assert again.status_code in (403, 409)


def test_team_lead_requests_completion_and_referrer_resubmits(api):
    referral = make_referral("submitted")
    lead = make_user("team_lead")
    response = api.post(
        f"/api/v1/referrals/{referral.id}/request-completion",
        json={"note": "Beskriv hälsan."},
        headers=token_headers(lead),
    )
    assert response.status_code == 200
    assert response.json["state"] == "completion_requested"
    headers = token_headers(referral.referrer)
    patched = api.patch(
        f"/api/v1/referrals/{referral.id}", json={"background": "Mer."}, headers=headers
    )
    assert patched.status_code == 200
    resubmitted = api.post(f"/api/v1/referrals/{referral.id}/submit", headers=headers)
    assert resubmitted.json["state"] == "submitted"


def test_referrer_cannot_request_completion(api):
    referral = make_referral("submitted")
    response = api.post(
        f"/api/v1/referrals/{referral.id}/request-completion",
        json={"note": "x"},
        headers=token_headers(referral.referrer),
    )
    assert response.status_code == 403


def test_list_is_paginated_and_filtered(api):
    user = make_user("referrer")
    programme = make_programme()
    for _ in range(3):
        make_referral("draft", programme=programme, referrer=user)
    make_referral("submitted", programme=programme, referrer=user)
    headers = token_headers(user)
    page = api.get("/api/v1/referrals?per_page=2&page=1", headers=headers).get_json()
    assert page["total"] == 4 and len(page["items"]) == 2
    drafts = api.get("/api/v1/referrals?state=draft", headers=headers).get_json()
    assert drafts["total"] == 3
    bad = api.get("/api/v1/referrals?per_page=500", headers=headers)
    assert bad.status_code == 422 and "per_page" in bad.get_json()["errors"]


def test_protected_identity_is_masked_for_the_team_lead(api):
    referral = make_referral("submitted", protected_identity=True)
    lead = make_user("team_lead")
    body = api.get(f"/api/v1/referrals/{referral.id}", headers=token_headers(lead)).get_json()
    assert body["first_name"] is None and body["identity_number"] is None
    assert "Testa" not in str(body)


def test_catalogue_and_openapi(api):
    make_programme(name="Steget")
    headers = token_headers(make_user("referrer"))
    programmes = api.get("/api/v1/programmes", headers=headers).get_json()
    assert any(p["name"] == "Steget" and p["min_age"] == 18 for p in programmes["items"])
    spec = api.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/referrals/{referral_id}/submit" in spec["paths"]
    assert "ReferralCreateSchema" in spec["components"]["schemas"]
    db.session.rollback()

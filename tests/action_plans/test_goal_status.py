"""Goals reached at a plan review: recorded on the plan page and through the API, with who and when,
kept when a later version keeps the goal."""

from __future__ import annotations

from datetime import timedelta

from coordination.auth.models import User
from coordination.core.i18n import local_today
from coordination.extensions import db
from tests.factories import (
    PASSWORD,
    make_admitted_case,
    make_agency_user,
    make_plan,
    plan_input,
    token_headers,
)

GOALS = [
    {"text": "Klara en praktikvecka.", "target_on": local_today() + timedelta(days=60)},
    {"text": "Ta bussen själv till praktiken.", "target_on": local_today() + timedelta(days=30)},
]


def _case_with_plan():
    case = make_admitted_case()
    contact = make_agency_user("af")
    version = make_plan(case, contact=contact, signed=True, goals=GOALS)
    coordinator = db.session.get(User, case.coordinator_id)
    return case, version, coordinator, contact


def test_the_coordinator_records_at_a_review_how_far_each_goal_was_reached(client):
    case, version, coordinator, _contact = _case_with_plan()
    client.login(coordinator.email, PASSWORD)
    page = client.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    assert "Följ upp delmålen" in page
    assert page.count("Inte bedömt ännu") == 2
    first, second = version.goals

    refused = client.post_form(
        f"/cases/{case.id}/plan/goals",
        {"goals.0.goal_id": first.id, "goals.0.status": "klart"},
    )
    assert refused.status_code == 422
    assert "Fel:" in refused.get_data(as_text=True)

    saved = client.post_form(
        f"/cases/{case.id}/plan/goals",
        {
            "goals.0.goal_id": first.id,
            "goals.0.status": "reached",
            "goals.1.goal_id": second.id,
            "goals.1.status": "partly_reached",
        },
    )
    assert saved.status_code == 302
    page = client.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    assert "Delmålens status är sparad." in page
    assert "Nått (vid uppföljning av planen," in page
    assert "Delvis nått (vid uppföljning av planen," in page
    assert coordinator.name in page
    assert "Inte bedömt ännu" not in page


def test_a_referrer_may_not_record_goal_status(client):
    case, version, _coordinator, _contact = _case_with_plan()
    client.login(case.referral.referrer.email, PASSWORD)
    refused = client.post_form(
        f"/cases/{case.id}/plan/goals",
        {"goals.0.goal_id": version.goals[0].id, "goals.0.status": "reached"},
    )
    assert refused.status_code == 403
    db.session.expire_all()
    assert version.goals[0].status is None


def test_the_api_records_and_returns_goal_status_and_a_new_version_keeps_it(api):
    case, version, coordinator, contact = _case_with_plan()
    headers = token_headers(coordinator)
    goals = api.get(f"/api/v1/cases/{case.id}/plan", headers=headers).get_json()["goals"]
    assert [g["status"] for g in goals] == [None, None]

    bad = api.post(
        f"/api/v1/cases/{case.id}/plan/goal-review",
        json={"goals": [{"goal_id": 999999, "status": "reached"}]},
        headers=headers,
    )
    assert bad.status_code == 422
    assert "goals.0.goal_id" in bad.get_json()["errors"]

    response = api.post(
        f"/api/v1/cases/{case.id}/plan/goal-review",
        json={"goals": [{"goal_id": goals[0]["id"], "status": "not_reached"}]},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    first = response.get_json()["goals"][0]
    assert first["status"] == "not_reached"
    assert first["status_occasion"] == "review"
    assert first["status_by_id"] == coordinator.id
    assert first["status_at"] is not None
    assert response.get_json()["goals"][1]["status"] is None

    # A change of the signed plan makes version 2; the goal it keeps keeps its status.
    changed = plan_input(contact=contact, goals=GOALS, change_note="Ny praktikplats.")
    changed["actions"][0]["what"] = "Praktik i lager, två dagar i veckan."
    body = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in changed.items()}
    body["goals"] = [{"text": g["text"], "target_on": g["target_on"].isoformat()} for g in GOALS]
    body["actions"] = [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in a.items()}
        for a in changed["actions"]
    ]
    saved = api.put(f"/api/v1/cases/{case.id}/plan", json=body, headers=headers)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["number"] == 2
    assert [g["status"] for g in saved.get_json()["goals"]] == ["not_reached", None]

"""Pause with a reason and the expected return, and resume: recorded with who, when and why."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.cases import operations as ops
from coordination.cases.models import Case
from coordination.core.i18n import local_today
from coordination.extensions import db
from tests.factories import PASSWORD, admit_case, make_plan, make_user, token_headers
from workflows.errors import TransitionRefused


def test_pause_and_resume_an_active_case_through_the_api(api):
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator)
    make_plan(case, signed=True)
    assert case.state == "active"
    headers = token_headers(coordinator)
    back_on = (local_today() + timedelta(days=60)).isoformat()
    paused = api.post(
        f"/api/v1/cases/{case.id}/pause",
        json={"reason": "parental_leave", "note": "", "expected_return_on": back_on},
        headers=headers,
    )
    assert paused.status_code == 200
    body = paused.get_json()
    assert (body["state"], body["paused_from"], body["pause_reason"]) == (
        "paused",
        "active",
        "parental_leave",
    )
    assert body["expected_return_on"] == back_on
    resumed = api.post(
        f"/api/v1/cases/{case.id}/resume", json={"note": "Tillbaka."}, headers=headers
    )
    assert resumed.status_code == 200
    assert resumed.get_json()["state"] == "active"
    assert resumed.get_json()["pause_reason"] is None
    db.session.expire_all()
    history = db.session.get(Case, case.id).history
    assert [(h.action, h.from_state, h.to_state) for h in history[-2:]] == [
        ("pause", "active", "paused"),
        ("resume", "paused", "active"),
    ]
    assert history[-2].by_id == coordinator.id and "Föräldraledighet" in history[-2].reason
    assert history[-1].reason == "Tillbaka."


def test_a_pause_needs_a_reason_and_a_future_return_all_errors_at_once(api):
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator)
    response = api.post(
        f"/api/v1/cases/{case.id}/pause",
        json={"reason": "other", "expected_return_on": local_today().isoformat()},
        headers=token_headers(coordinator),
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"note", "expected_return_on"}
    missing = api.post(
        f"/api/v1/cases/{case.id}/pause",
        json={"reason": None, "expected_return_on": None},
        headers=token_headers(coordinator),
    )
    assert set(missing.get_json()["errors"]) == {"reason", "expected_return_on"}
    # A date that cannot be read does not hide the other rules' errors.
    unreadable = api.post(
        f"/api/v1/cases/{case.id}/pause",
        json={"reason": "other", "note": "", "expected_return_on": "31/12/2099"},
        headers=token_headers(coordinator),
    )
    assert unreadable.status_code == 422
    assert set(unreadable.get_json()["errors"]) == {"note", "expected_return_on"}
    assert unreadable.get_json()["errors"]["note"] == ["Beskriv orsaken till uppehållet."]


def test_a_case_paused_before_its_plan_was_signed_resumes_as_active_once_it_is():
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator)
    version = make_plan(case)
    ops.pause(
        case,
        reason="illness",
        expected_return_on=local_today() + timedelta(days=14),
        by=coordinator,
    )
    db.session.commit()
    from coordination.action_plans import operations as plan_ops

    for party in plan_ops.missing_of(version):
        signer = coordinator if party == "participant" else version.actions[0].contact
        plan_ops.sign_off(
            case, party=party, method="phone" if party == "participant" else None, by=signer
        )
    db.session.commit()
    assert case.state == "paused"  # signing does not end the pause
    ops.resume(case, by=coordinator)
    db.session.commit()
    assert case.state == "active"
    assert [h.action for h in case.history][-2:] == ["resume", "activate"]


def test_pause_and_resume_on_the_case_page(client):
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator)
    client.login(coordinator.email, PASSWORD)
    bad = client.post_form(
        f"/cases/{case.id}/pause", {"pause_reason": "", "expected_return_on": "31/12/2099"}
    )
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "Välj orsak till uppehållet." in page
    assert 'name="expected_return_on" value="31/12/2099"' in page  # kept as typed
    shown = db.session.scalars(
        select(AccessLogEntry.action).where(
            AccessLogEntry.object_type == "case",
            AccessLogEntry.object_id == str(case.id),
            AccessLogEntry.user_id == coordinator.id,
        )
    ).all()
    assert shown == ["read"]  # the page shown again with the person is a logged read
    # The summary links to the pause reasons, and the error stands there only.
    assert '<a href="#field-pause_reason">Välj orsak till uppehållet.</a>' in page
    assert page.count('id="error-pause_reason"') == 1 and 'id="error-reason"' not in page
    back_on = local_today() + timedelta(days=30)
    done = client.post_form(
        f"/cases/{case.id}/pause",
        {"pause_reason": "illness", "expected_return_on": back_on.isoformat()},
    )
    assert done.status_code == 302
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Orsak: Sjukdom." in page
    assert f"Personen väntas tillbaka {back_on.isoformat()}." in page
    assert client.post_form(f"/cases/{case.id}/resume", {}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "enrolled"


def test_a_paused_case_cannot_be_paused_again_and_an_enrolled_one_not_resumed(api):
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator)
    with pytest.raises(TransitionRefused):
        ops.resume(case, by=coordinator)
    db.session.rollback()
    response = api.post(
        f"/api/v1/cases/{case.id}/resume", json={}, headers=token_headers(coordinator)
    )
    assert response.status_code == 409
    ops.pause(case, reason="illness", expected_return_on=local_today() + timedelta(days=3), by=None)
    with pytest.raises(TransitionRefused):
        ops.pause(
            case, reason="illness", expected_return_on=local_today() + timedelta(days=3), by=None
        )

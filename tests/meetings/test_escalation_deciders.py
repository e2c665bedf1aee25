"""Who decides an escalation (§8): the team lead, the case's coordinator and the referring
referrer. Every other party who sees the case reads the escalation but cannot decide it, on the
page or through the API, and nothing changes when they try."""

from datetime import UTC, datetime, timedelta

import pytest

from coordination.extensions import db
from coordination.meetings import ladder, queries
from tests.factories import (
    PASSWORD,
    make_agency_user,
    make_case,
    make_meeting,
    make_plan,
    make_user,
    token_headers,
)

PAST = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)


def _escalated_case():
    """A case whose participant missed three meetings, with a plan action of another agency."""
    referrer = make_agency_user("kommun")
    case = make_case(referrer=referrer)
    contact = make_agency_user("af")
    make_plan(case, contact=contact)
    coordinator = case.active_assignment.coordinator
    for day in range(3):
        start = PAST + timedelta(days=day)
        meeting = make_meeting(case, starts_at=start, now=start - timedelta(days=1))
        ladder.record_attendance(meeting, status="missed", by=coordinator)
    db.session.commit()
    escalation = queries.open_escalation(case.id)
    assert escalation is not None
    return case, escalation, {"referrer": referrer, "contact": contact, "coordinator": coordinator}


def _unchanged(case, escalation):
    db.session.expire_all()
    assert queries.open_escalation(case.id).id == escalation.id
    assert escalation.status == "open" and escalation.decision is None
    assert case.state == "enrolled"


def test_a_plan_action_contact_of_another_agency_reads_but_cannot_decide(client, api, enqueued):
    case, escalation, people = _escalated_case()
    contact = people["contact"]
    # Through the API: the contact sees the ladder but may not decide, whatever they send.
    headers = token_headers(contact)
    assert api.get(f"/api/v1/cases/{case.id}/escalation", headers=headers).status_code == 200
    for decision in ("continue", "discharge"):
        response = api.post(
            f"/api/v1/cases/{case.id}/escalation/decision",
            json={"decision": decision, "comment": "Avsluta."},
            headers=headers,
        )
        assert response.status_code == 403
    _unchanged(case, escalation)
    # On the page: no form, and a forged post is refused.
    client.login(contact.email, PASSWORD)
    page = client.get(f"/meetings/escalations/{escalation.id}")
    assert page.status_code == 200
    assert "Registrera beslutet" not in page.get_data(as_text=True)
    assert "Läs och besluta" not in client.get(f"/meetings/cases/{case.id}").get_data(as_text=True)
    for decision in ("continue", "discharge"):
        response = client.post_form(
            f"/meetings/escalations/{escalation.id}/decision", {"decision": decision}
        )
        assert response.status_code == 403
    _unchanged(case, escalation)


def test_no_one_else_decides(client, api, enqueued):
    case, escalation, people = _escalated_case()
    other_referrer = make_agency_user("kommun")  # same agency as the referrer, not the referrer
    other_coordinator = make_user("coordinator")
    outsiders = [other_referrer, other_coordinator, make_user("conference_member")]
    for user in outsiders:
        response = api.post(
            f"/api/v1/cases/{case.id}/escalation/decision",
            json={"decision": "discharge"},
            headers=token_headers(user),
        )
        assert response.status_code == 404
    admin = make_user("admin")
    response = api.post(
        f"/api/v1/cases/{case.id}/escalation/decision",
        json={"decision": "discharge"},
        headers=token_headers(admin),
    )
    assert response.status_code in (403, 404)
    client.login(other_coordinator.email, PASSWORD)
    assert client.get(f"/meetings/escalations/{escalation.id}").status_code == 404
    response = client.post_form(
        f"/meetings/escalations/{escalation.id}/decision", {"decision": "discharge"}
    )
    assert response.status_code == 404
    _unchanged(case, escalation)


def test_the_referrer_without_a_valid_consent_cannot_decide(api, enqueued):
    from coordination.consent import operations as consent_ops
    from coordination.consent.models import Consent

    case, escalation, people = _escalated_case()
    for consent in db.session.query(Consent).filter_by(person_id=case.person_id):
        consent_ops.withdraw_consent(consent, by=people["coordinator"])
    db.session.commit()
    response = api.post(
        f"/api/v1/cases/{case.id}/escalation/decision",
        json={"decision": "continue"},
        headers=token_headers(people["referrer"]),
    )
    assert response.status_code == 404
    _unchanged(case, escalation)


@pytest.mark.parametrize("who", ["team_lead", "coordinator", "referrer"])
def test_each_decider_decides_through_the_api(api, enqueued, who):
    case, escalation, people = _escalated_case()
    user = make_user("team_lead") if who == "team_lead" else people[who]
    response = api.post(
        f"/api/v1/cases/{case.id}/escalation/decision",
        json={"decision": "continue"},
        headers=token_headers(user),
    )
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    assert escalation.decision == "continue" and escalation.decided_by_id == user.id


@pytest.mark.parametrize("who", ["team_lead", "coordinator", "referrer"])
def test_each_decider_sees_the_form_and_decides_on_the_page(client, enqueued, who):
    case, escalation, people = _escalated_case()
    user = make_user("team_lead") if who == "team_lead" else people[who]
    client.login(user.email, PASSWORD)
    page = client.get(f"/meetings/escalations/{escalation.id}").get_data(as_text=True)
    assert "Registrera beslutet" in page
    confirm = client.post_form(
        f"/meetings/escalations/{escalation.id}/decision", {"decision": "discharge"}
    )
    assert confirm.status_code == 200  # the confirmation page; nothing is recorded yet
    assert "Avsluta insatsen" in confirm.get_data(as_text=True)
    response = client.post_form(
        f"/meetings/escalations/{escalation.id}/decision",
        {"decision": "discharge", "confirm": "yes", "comment": "Ingen kontakt trots brev."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert escalation.decision == "discharge" and escalation.decided_by_id == user.id

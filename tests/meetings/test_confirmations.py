"""Discharging after missed meetings and cancelling a meeting go through a confirmation page that
asks why; the reason is kept (with the decision, on the meeting) and shown."""

from __future__ import annotations

from coordination.extensions import db
from coordination.meetings import queries
from tests.factories import PASSWORD
from tests.meetings.test_escalation_deciders import _escalated_case, _unchanged


def test_a_discharge_is_confirmed_with_a_reason(client, enqueued):
    case, escalation, people = _escalated_case()
    client.login(people["coordinator"].email, PASSWORD)
    decide = f"/meetings/escalations/{escalation.id}/decision"

    # Choosing "discharge" on the escalation's form leads to the confirmation, nothing recorded.
    chosen = client.post_form(decide, {"decision": "discharge", "comment": "Ingen kontakt."})
    body = chosen.get_data(as_text=True)
    assert chosen.status_code == 200
    assert "Avsluta insatsen för deltagande" in body and "Det går inte att ångra." in body
    assert "Ingen kontakt.</textarea>" in body  # the comment becomes the reason, editable
    assert "Nej, tillbaka till eskaleringen" in body
    _unchanged(case, escalation)
    page = client.get(f"/meetings/escalations/{escalation.id}/discharge")
    assert page.status_code == 200
    _unchanged(case, escalation)

    refused = client.post_form(decide, {"decision": "discharge", "confirm": "yes", "comment": " "})
    assert refused.status_code == 422
    assert "Skriv varför insatsen avslutas." in refused.get_data(as_text=True)
    _unchanged(case, escalation)

    reason = "Ingen kontakt trots hembesök och två brev."
    done = client.post_form(decide, {"decision": "discharge", "confirm": "yes", "comment": reason})
    assert done.status_code == 302
    db.session.expire_all()
    decided = db.session.get(type(escalation), escalation.id)
    assert decided.decision == "discharge" and decided.comment == reason
    assert queries.open_escalation(case.id) is None
    history = client.get(f"/meetings/cases/{case.id}").get_data(as_text=True)
    assert reason in history


def test_continue_needs_no_confirmation(client, enqueued):
    case, escalation, people = _escalated_case()
    client.login(people["coordinator"].email, PASSWORD)
    response = client.post_form(
        f"/meetings/escalations/{escalation.id}/decision", {"decision": "continue"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert queries.open_escalation(case.id) is None


def test_cancelling_a_case_meeting_is_confirmed_with_a_reason(client, enqueued):
    from coordination.meetings.models import Meeting
    from tests.factories import make_case, make_meeting

    case = make_case()
    meeting = make_meeting(case)
    coordinator = case.active_assignment.coordinator
    client.login(coordinator.email, PASSWORD)
    url = f"/meetings/{meeting.id}/cancel"
    detail = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert f'href="{url}"' in detail  # a link to the confirmation, not a one-click button
    page = client.get(url)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Det går inte att ångra." in body and "Nej, tillbaka till mötet" in body
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == "booked"  # GET changed nothing

    refused = client.post_form(url, {"cancel_reason": "  "})
    assert refused.status_code == 422
    assert "Skriv varför mötet ställs in." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == "booked"

    reason = "Deltagaren är sjuk; mötet bokas om."
    done = client.post_form(url, {"cancel_reason": reason}, follow_redirects=True)
    assert done.status_code == 200
    assert reason in done.get_data(as_text=True)
    db.session.expire_all()
    cancelled = db.session.get(Meeting, meeting.id)
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == reason

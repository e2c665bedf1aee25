"""Issue 16's access-log gaps: every page that shows a person logs its read, also when it is shown
again after a refused change; refusals name the object and its person; SUS participants are read
with their person and only by those with a reason to."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.extensions import db
from tests.factories import (
    PASSWORD,
    make_case,
    make_conference,
    make_meeting,
    make_referral,
    make_return_referral,
    make_sus_participant,
    make_user,
)
from workflows.statistics import PROGRESSION_QUESTIONS


def _rows(**where) -> list[AccessLogEntry]:
    query = select(AccessLogEntry)
    for key, value in where.items():
        query = query.where(getattr(AccessLogEntry, key) == value)
    return list(db.session.scalars(query.order_by(AccessLogEntry.id)))


def _last_id() -> int:
    return max((r.id for r in _rows()), default=0)


def _coordinator(case):
    from coordination.auth.models import User

    return db.session.get(User, case.coordinator_id)


# --- 1. a page shown again after a refused change logs its read ------------------------------


def _rejected_upload():
    referral = make_referral("completion_requested")  # editable, and its person is registered
    request = (
        f"/referrals/{referral.id}/attachments",
        {"file": (BytesIO(b"MZ\x90\x00"), "program.exe")},
    )
    return referral.referrer, request, ("referral", referral.id, referral.person_id)


def _refused_submit():
    referral = make_referral("draft", first_name="")
    request = (f"/referrals/{referral.id}/submit", {})
    assert referral.person_id is None  # a draft's person is not in the register yet
    return referral.referrer, request, ("referral", referral.id, None)


def _refused_exit_form():
    case = make_case()
    request = (f"/cases/{case.id}/exit", {"exit_reason": ""})
    return _coordinator(case), request, ("case", case.id, case.person_id)


def _unconfirmed_finalise():
    document = make_return_referral("completed")
    request = (f"/return-referrals/{document.id}/finalise", {})
    person = document.case.person_id
    return _coordinator(document.case), request, ("return_referral", document.id, person)


def _stale_return_referral_edit():
    document = make_return_referral("draft")
    request = (f"/return-referrals/{document.id}/edit", {"version": "0", "purpose": "Ny text."})
    person = document.case.person_id
    return _coordinator(document.case), request, ("return_referral", document.id, person)


def _refused_outcomes():
    document = make_return_referral("acknowledged")
    packet = document.packet
    request = (f"/packets/{packet.id}/outcomes", {"outcome_1": "not_done"})  # a reason needed
    return document.referral.referrer, request, ("packet", packet.id, packet.person_id)


def _refused_attendance():
    case = make_case()
    meeting = make_meeting(case, starts_at=None)
    request = (f"/meetings/{meeting.id}/attendance", {"status": "nonsense"})
    return _coordinator(case), request, ("meeting", meeting.id, case.person_id)


def _refused_rating():
    case = make_case()
    participant = make_sus_participant(case_id=case.id, enrolled_on=date(2024, 1, 10))
    scores = {q: "11" for q in PROGRESSION_QUESTIONS}
    request = (f"/statistics/participants/{participant.id}/ratings", scores)
    return _coordinator(case), request, ("sus_participant", participant.id, case.person_id)


REFUSED_CHANGES = {
    "a rejected upload on the referral page": _rejected_upload,
    "a refused submit of a referral": _refused_submit,
    "a refused exit form": _refused_exit_form,
    "a return referral signed without the confirmation": _unconfirmed_finalise,
    "a stale edit of a return referral": _stale_return_referral_edit,
    "refused outcomes on a packet": _refused_outcomes,
    "a refused attendance on a meeting": _refused_attendance,
    "a refused self-rating": _refused_rating,
}


@pytest.mark.parametrize("situation", REFUSED_CHANGES)
def test_a_page_shown_again_after_a_refused_change_logs_its_read(client, situation):
    user, (url, data), (object_type, object_id, person_id) = REFUSED_CHANGES[situation]()
    client.login(user.email, PASSWORD)
    before = _last_id()
    response = client.post_form(url, data)
    assert 400 <= response.status_code < 500, response.status_code
    assert "<form" in response.get_data(as_text=True)  # the page again, not an error page
    reads = [
        (r.object_type, r.object_id, r.person_id)
        for r in _rows(action="read", outcome="allowed", user_id=user.id)
        if r.id > before
    ]
    assert (object_type, str(object_id), person_id) in reads


# --- 2. refusals name the object and its person ----------------------------------------------


def test_a_refused_read_names_the_object_and_its_person_on_the_auditors_page(client):
    referral = make_referral("submitted")
    stranger = make_user("referrer")
    client.login(stranger.email, PASSWORD)
    assert client.get(f"/referrals/{referral.id}").status_code == 404
    refused = _rows(outcome="refused", user_id=stranger.id)
    assert [(r.object_type, r.object_id, r.person_id) for r in refused] == [
        ("referral", str(referral.id), referral.person_id)
    ]
    client.post_form("/logout")
    auditor = make_user("auditor")
    client.login(auditor.email, PASSWORD)
    page = client.get(f"/audit/person/{referral.person_id}").get_data(as_text=True)
    assert f"/audit/user/{stranger.id}" in page and "Nekad" in page


def test_a_refused_change_of_an_object_the_user_may_see_names_it(client):
    referral = make_referral("submitted")  # the referrer sees it but may no longer edit it
    client.login(referral.referrer.email, PASSWORD)
    assert client.get(f"/referrals/{referral.id}/edit").status_code == 403
    refused = _rows(outcome="refused", user_id=referral.referrer.id)
    assert [(r.object_type, r.object_id, r.person_id) for r in refused] == [
        ("referral", str(referral.id), referral.person_id)
    ]


def test_a_refused_id_that_does_not_exist_names_the_id_without_a_person(client):
    user = make_user("coordinator")
    client.login(user.email, PASSWORD)
    assert client.get("/cases/987654").status_code == 404
    refused = _rows(outcome="refused", user_id=user.id)
    assert [(r.object_type, r.object_id, r.person_id) for r in refused] == [
        ("case", "987654", None)
    ]


def test_a_role_refused_at_the_door_names_the_object_of_the_address(client):
    case = make_case()
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    assert client.get(f"/cases/{case.id}").status_code == 403
    refused = _rows(outcome="refused", user_id=admin.id)
    assert [(r.object_type, r.object_id) for r in refused] == [("case", str(case.id))]


def test_a_refused_consent_withdrawal_names_the_consent(client):
    stranger = make_user("referrer")
    client.login(stranger.email, PASSWORD)
    assert client.post_form("/consent/424242/withdraw", {"note": "x"}).status_code == 404
    refused = _rows(outcome="refused", user_id=stranger.id)
    assert [(r.object_type, r.object_id, r.person_id) for r in refused] == [
        ("consent", "424242", None)
    ]


# --- 3 and 5. SUS participants: read with their person, by those with a reason to -----------


def test_a_sus_participant_is_read_with_the_person_of_its_case(client):
    case = make_case()
    participant = make_sus_participant(case_id=case.id)
    coordinator = _coordinator(case)
    client.login(coordinator.email, PASSWORD)
    ref = participant.participant_ref
    assert ref in client.get(f"/statistics/participants?ref={ref}").get_data(as_text=True)
    assert client.get(f"/statistics/participants/{participant.id}").status_code == 200
    assert client.get(f"/statistics/participants/{participant.id}/radar.svg").status_code == 200
    rows = _rows(object_type="sus_participant", user_id=coordinator.id)
    assert [(r.action, r.person_id) for r in rows] == [
        ("list", case.person_id),
        ("read", case.person_id),
        ("read", case.person_id),
    ]


def test_only_the_case_coordinator_and_team_leads_read_and_rate_a_participant(client):
    case = make_case()
    participant = make_sus_participant(case_id=case.id, enrolled_on=date(2024, 1, 10))
    imported = make_sus_participant(enrolled_on=date(2024, 1, 10))  # no case: history
    url = f"/statistics/participants/{participant.id}"
    rating = {"rated_on": "2024-02-01", **{q: "5" for q in PROGRESSION_QUESTIONS}}

    other = make_user("coordinator")
    client.login(other.email, PASSWORD)
    ref = participant.participant_ref
    assert url not in client.get(f"/statistics/participants?ref={ref}").get_data(as_text=True)
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/radar.svg").status_code == 404
    assert client.post_form(f"{url}/ratings", rating).status_code == 404
    assert client.get(f"/statistics/participants/{imported.id}").status_code == 404
    db.session.expire_all()
    assert participant.ratings == []
    refused = _rows(outcome="refused", user_id=other.id)
    assert ("sus_participant", str(participant.id), case.person_id) in [
        (r.object_type, r.object_id, r.person_id) for r in refused
    ]
    client.post_form("/logout")

    client.login(_coordinator(case).email, PASSWORD)
    assert client.get(url).status_code == 200
    assert client.post_form(f"{url}/ratings", rating).status_code == 302
    client.post_form("/logout")

    client.login(make_user("team_lead").email, PASSWORD)
    assert client.get(url).status_code == 200
    assert client.get(f"/statistics/participants/{imported.id}").status_code == 200


# --- 4. the conference page's addable referrals are logged -----------------------------------


def test_the_conference_page_logs_each_referral_it_offers_for_the_agenda(client):
    conference = make_conference()
    waiting = make_referral("submitted", programme=conference.programme)
    lead = conference.chair.user
    client.login(lead.email, PASSWORD)
    page = client.get(f"/conferences/{conference.id}").get_data(as_text=True)
    assert f"Remiss {waiting.id}" in page
    listed = _rows(object_type="referral", action="list", user_id=lead.id)
    assert [(r.object_id, r.person_id) for r in listed] == [(str(waiting.id), waiting.person_id)]

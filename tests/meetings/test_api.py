"""The meeting API: booking, attendance through the ladder, the escalation decision, permissions,
and the OpenAPI description."""

from datetime import UTC, datetime, timedelta

from coordination.extensions import db
from coordination.meetings import ladder
from coordination.meetings.models import Meeting
from tests.factories import make_case, make_meeting, make_unit, make_user, token_headers

PAST = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)


def _book(api, case, headers, **body):
    starts = body.pop("starts_at", datetime.now(UTC).replace(microsecond=0) + timedelta(days=3))
    payload = {
        "kind": "coaching",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "location": "Förbundets kontor",
        "attendee_ids": [],
        **body,
    }
    return api.post(f"/api/v1/cases/{case.id}/meetings", json=payload, headers=headers)


def test_the_coordinator_books_every_kind_and_reads_it_back(api, enqueued):
    case = make_case()
    headers = token_headers(case.active_assignment.coordinator)
    for kind in ("coaching", "three_party", "network", "samsip", "home_visit", "follow_up"):
        location = None if kind == "home_visit" else "Jobbtorget"
        response = _book(api, case, headers, kind=kind, location=location)
        assert response.status_code == 201, (kind, response.get_json())
        body = response.get_json()
        assert body["kind"] == kind and body["sequence"] == 0
        assert body["ics_url"] == f"/api/v1/meetings/{body['id']}.ics"
    listed = api.get(f"/api/v1/cases/{case.id}/meetings", headers=headers).get_json()
    assert listed["total"] == 6


def test_booking_reports_every_problem_at_once(api):
    case = make_case()
    headers = token_headers(case.active_assignment.coordinator)
    starts = datetime.now(UTC) + timedelta(days=2)
    response = api.post(
        f"/api/v1/cases/{case.id}/meetings",
        json={
            "kind": "home_visit",
            "starts_at": starts.isoformat(),
            "ends_at": (starts - timedelta(hours=1)).isoformat(),
            "location": "Storgatan 1",
            "attendee_ids": [999999],
        },
        headers=headers,
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"ends_at", "location", "attendee_ids"}
    assert response.headers["Content-Type"] == "application/problem+json"


def test_an_agency_the_consent_does_not_cover_cannot_be_invited(api):
    case = make_case(consent_agencies=["kommun", "af"])
    headers = token_headers(case.active_assignment.coordinator)
    fk = make_user("referrer", unit=make_unit("fk"))
    response = _book(api, case, headers, attendee_ids=[fk.id])
    assert response.status_code == 422
    assert "Försäkringskassan" in response.get_json()["errors"]["attendee_ids"][0]


def test_who_may_book_see_and_decide(api):
    referrer = make_user("referrer")
    case = make_case(referrer=referrer)
    stranger = make_user("coordinator")
    other_referrer = make_user("referrer")
    # The referrer may call a SamSIP meeting, not book a coaching session.
    assert _book(api, case, token_headers(referrer)).status_code == 403
    assert _book(api, case, token_headers(referrer), kind="samsip").status_code == 201
    # Someone unconnected to the case does not learn it exists.
    assert _book(api, case, token_headers(stranger)).status_code == 404
    meeting = make_meeting(case)
    for user in (stranger, other_referrer):
        assert (
            api.get(f"/api/v1/meetings/{meeting.id}", headers=token_headers(user)).status_code
            == 404
        )
        assert (
            api.get(f"/api/v1/meetings/{meeting.id}.ics", headers=token_headers(user)).status_code
            == 404
        )
    decision = api.post(
        f"/api/v1/cases/{case.id}/escalation/decision",
        json={"decision": "continue"},
        headers=token_headers(stranger),
    )
    assert decision.status_code == 404
    admin = make_user("admin")
    assert (
        api.get(f"/api/v1/meetings/{meeting.id}", headers=token_headers(admin)).status_code == 403
    )


def test_attendance_climbs_the_ladder_and_the_referrer_decides_through_the_api(api, enqueued):
    referrer = make_user("referrer")
    case = make_case(referrer=referrer)
    coordinator = case.active_assignment.coordinator
    headers = token_headers(coordinator)
    results = []
    for day in range(3):
        start = PAST + timedelta(days=day)
        meeting = make_meeting(case, starts_at=start, now=start - timedelta(days=1))
        response = api.post(
            f"/api/v1/meetings/{meeting.id}/attendance", json={"status": "missed"}, headers=headers
        )
        assert response.status_code == 200, response.get_json()
        (item,) = response.get_json()["items"]
        results.append((item["missed_count"], item["ladder_actions"]))
    assert results == [
        (1, ["first_miss_task"]),
        (2, ["repeated_miss_task"]),
        (3, ["open_escalation"]),
    ]
    ladder = api.get(f"/api/v1/cases/{case.id}/escalation", headers=token_headers(referrer))
    body = ladder.get_json()
    assert body["escalated"] is True and body["missed_count"] == 3
    assert [e["status"] for e in body["escalations"]] == ["open"]
    response = api.post(
        f"/api/v1/cases/{case.id}/escalation/decision",
        json={"decision": "continue", "comment": "Ny plan med hembesök varannan vecka."},
        headers=token_headers(referrer),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["decision"] == "continue"
    again = api.post(
        f"/api/v1/cases/{case.id}/escalation/decision",
        json={"decision": "discharge"},
        headers=token_headers(referrer),
    )
    assert again.status_code == 409
    body = api.get(f"/api/v1/cases/{case.id}/escalation", headers=headers).get_json()
    assert body["missed_count"] == 0 and body["escalated"] is False
    assert "revise_plan" in [t["kind"] for t in body["open_tasks"]]
    tasks = api.get("/api/v1/tasks", headers=headers).get_json()
    revise = next(t for t in tasks["items"] if t["kind"] == "revise_plan")
    done = api.post(f"/api/v1/tasks/{revise['id']}/done", headers=headers)
    assert done.status_code == 200 and done.get_json()["done_at"]


def test_a_discharge_through_the_api_starts_the_exit(api, enqueued):
    case = make_case()
    coordinator = case.active_assignment.coordinator
    for day in range(3):
        start = PAST + timedelta(days=day)
        meeting = make_meeting(case, starts_at=start, now=start - timedelta(days=1))
        ladder.record_attendance(meeting, status="missed", by=coordinator)
    db.session.commit()
    lead = make_user("team_lead")
    response = api.post(
        f"/api/v1/cases/{case.id}/escalation/decision",
        json={"decision": "discharge", "comment": "Ingen kontakt trots hembesök."},
        headers=token_headers(lead),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["decision"], body["exit_reason"]) == ("discharge", "avbrutit_uteblivit")
    db.session.refresh(case)
    assert case.state == "exiting"


def test_attended_cannot_be_recorded_before_the_meeting_but_a_cancellation_can(api, enqueued):
    case = make_case()
    headers = token_headers(case.active_assignment.coordinator)
    meeting = make_meeting(case)
    early = api.post(
        f"/api/v1/meetings/{meeting.id}/attendance", json={"status": "attended"}, headers=headers
    )
    assert early.status_code == 422
    ok = api.post(
        f"/api/v1/meetings/{meeting.id}/attendance",
        json={"status": "cancelled_by_participant"},
        headers=headers,
    )
    assert ok.status_code == 200
    bad = api.post(
        f"/api/v1/meetings/{meeting.id}/attendance", json={"status": "late"}, headers=headers
    )
    assert bad.status_code == 422


def test_a_cancelled_meeting_takes_no_attendance_and_cannot_be_cancelled_twice(api, enqueued):
    case = make_case()
    headers = token_headers(case.active_assignment.coordinator)
    meeting = make_meeting(case)
    assert (
        api.post(f"/api/v1/meetings/{meeting.id}/cancel", json={}, headers=headers).status_code
        == 200
    )
    assert (
        api.post(f"/api/v1/meetings/{meeting.id}/cancel", json={}, headers=headers).status_code
        == 409
    )
    response = api.post(
        f"/api/v1/meetings/{meeting.id}/attendance",
        json={"status": "cancelled_by_staff"},
        headers=headers,
    )
    assert response.status_code == 409
    assert db.session.get(Meeting, meeting.id).sequence == 1


def test_the_openapi_document_describes_the_meeting_endpoints(api):
    spec = api.get("/api/v1/openapi.json").get_json()
    for path, method in (
        ("/api/v1/cases/{case_id}/meetings", "post"),
        ("/api/v1/meetings/{meeting_id}.ics", "get"),
        ("/api/v1/meetings/{meeting_id}/attendance", "post"),
        ("/api/v1/cases/{case_id}/escalation/decision", "post"),
        ("/api/v1/groups", "post"),
    ):
        assert method in spec["paths"][path], path
    assert "EscalationDecisionSchema" in spec["components"]["schemas"]


def test_the_parties_within_consent_call_samsip_meetings_and_a_withdrawal_ends_it(api, client):
    from coordination.consent import operations as consent_ops
    from coordination.consent.models import Consent
    from tests.factories import PASSWORD, make_agency_user, make_plan

    referrer = make_agency_user("kommun")
    case = make_case(referrer=referrer)
    contact = make_agency_user("af")
    make_plan(case, contact=contact)
    # The contact of a plan action is a party of the case and may call a SamSIP meeting.
    assert _book(api, case, token_headers(contact), kind="samsip").status_code == 201
    for consent in db.session.query(Consent).filter_by(person_id=case.person_id):
        consent_ops.withdraw_consent(consent, by=case.active_assignment.coordinator)
    db.session.commit()
    # Without a consent neither the referrer nor the contact learns the case exists.
    for user in (referrer, contact):
        assert _book(api, case, token_headers(user), kind="samsip").status_code == 404
    client.login(referrer.email, PASSWORD)
    assert client.get(f"/meetings/cases/{case.id}").status_code == 404
    assert client.get(f"/meetings/cases/{case.id}/new").status_code == 404

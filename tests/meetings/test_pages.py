"""The meeting pages as a person uses them: book, register attendance, see the ladder act, decide,
set up a group; and the section the case page includes."""

from datetime import UTC, datetime, timedelta

from flask import render_template_string
from flask_login import login_user

from coordination.extensions import db
from coordination.meetings import ladder, queries
from coordination.meetings.models import Meeting
from tests.factories import PASSWORD, make_case, make_meeting, make_programme, make_unit, make_user
from workflows.calendar import STOCKHOLM

PAST = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_coordinator_books_a_meeting_on_the_page(client, enqueued):
    case = make_case()
    coordinator = case.active_assignment.coordinator
    colleague = make_user("referrer", unit=make_unit("af"))
    client.login(coordinator.email, PASSWORD)
    page = _page(client, f"/meetings/cases/{case.id}")
    assert "Boka möte" in page and "0 av 3" in page
    form = _page(client, f"/meetings/cases/{case.id}/new")
    assert 'name="attendee_ids"' in form and colleague.name in form
    day = (datetime.now(STOCKHOLM) + timedelta(days=5)).date().isoformat()
    response = client.post_form(
        f"/meetings/cases/{case.id}/new",
        {
            "kind": "three_party",
            "day": day,
            "start": "09:30",
            "end": "10:30",
            "location": "Jobbtorget",
            "attendee_ids": [str(colleague.id)],
        },
    )
    assert response.status_code == 302
    meeting = db.session.scalar(db.select(Meeting).where(Meeting.case_id == case.id))
    assert meeting.starts_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") == f"{day} 09:30"
    detail = _page(client, response.headers["Location"])
    assert "Trepartsmöte" in detail and colleague.name in detail
    assert f"/meetings/{meeting.id}/invitation.ics" in detail
    ics = client.get(f"/meetings/{meeting.id}/invitation.ics")
    assert ics.status_code == 200 and b"BEGIN:VCALENDAR" in ics.data


def test_a_booking_with_errors_keeps_what_was_typed_and_lists_every_error(client):
    case = make_case()
    client.login(case.active_assignment.coordinator.email, PASSWORD)
    response = client.post_form(
        f"/meetings/cases/{case.id}/new",
        {"kind": "", "day": "i morgon", "start": "10:00", "end": "", "location": "Rum 7"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Det finns fel i formuläret" in page
    for anchor in ("#field-kind", "#field-day", "#field-end"):
        assert anchor in page
    assert 'value="Rum 7"' in page


def test_the_booking_form_reads_a_day_and_times_typed_with_spaces(client, enqueued):
    case = make_case()
    client.login(case.active_assignment.coordinator.email, PASSWORD)
    day = (datetime.now(STOCKHOLM) + timedelta(days=6)).date().isoformat()
    response = client.post_form(
        f"/meetings/cases/{case.id}/new",
        {"kind": "three_party", "day": f" {day} ", "start": " 13:15", "end": "14:00 "},
    )
    assert response.status_code == 302
    meeting = db.session.scalar(db.select(Meeting).where(Meeting.case_id == case.id))
    assert meeting.starts_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") == f"{day} 13:15"


def test_registering_misses_on_the_page_shows_the_ladder_acting(client, enqueued):
    referrer = make_user("referrer")
    case = make_case(referrer=referrer)
    coordinator = case.active_assignment.coordinator
    client.login(coordinator.email, PASSWORD)
    messages = []
    for day in range(3):
        start = PAST + timedelta(days=day)
        meeting = make_meeting(case, starts_at=start, now=start - timedelta(days=1))
        response = client.post_form(
            f"/meetings/{meeting.id}/attendance", {"status": "missed"}, follow_redirects=True
        )
        assert response.status_code == 200
        messages.append(response.get_data(as_text=True))
    assert "erbjuda hembesök" in messages[0]
    assert "samordnaren ett besked" in messages[1]
    assert "eskalerat till den remitterande myndigheten" in messages[2]
    overview = _page(client, "/meetings/")
    assert "Kontakta deltagaren och erbjud hembesök" in overview
    page = _page(client, f"/meetings/cases/{case.id}")
    assert "3 av 3" in page and "Ärendet är eskalerat" in page
    assert "Eskalering till remitterande myndighet" in page  # the history
    (task,) = [t for t in queries.open_tasks(case_id=case.id) if t.kind == "contact_after_miss"]
    assert "Markera som klar" in _page(client, f"/meetings/tasks/{task.id}")
    assert client.post_form(f"/meetings/tasks/{task.id}/done").status_code == 302
    db.session.refresh(task)
    assert task.done_at is not None

    client.post_form("/logout")
    client.login(referrer.email, PASSWORD)
    escalation = queries.open_escalation(case.id)
    page = _page(client, f"/meetings/escalations/{escalation.id}")
    assert "Registrera beslutet" in page
    missing = client.post_form(f"/meetings/escalations/{escalation.id}/decision", {})
    assert missing.status_code == 422
    decided = client.post_form(
        f"/meetings/escalations/{escalation.id}/decision",
        {"decision": "continue", "comment": "Reviderad plan."},
    )
    assert decided.status_code == 302
    db.session.refresh(escalation)
    assert escalation.decision == "continue"


def test_a_protected_participant_is_a_code_to_everyone_but_the_coordinator(client):
    referrer = make_user("referrer")
    case = make_case(
        referrer=referrer, first_name="Skyddad", last_name="Persson", protected_identity=True
    )
    client.login(referrer.email, PASSWORD)
    page = _page(client, f"/meetings/cases/{case.id}")
    assert "Skyddad" not in page and case.person.code in page
    client.post_form("/logout")
    client.login(case.active_assignment.coordinator.email, PASSWORD)
    assert "Skyddad Persson" in _page(client, f"/meetings/cases/{case.id}")


def test_others_do_not_see_a_case_s_meetings(client):
    case = make_case()
    meeting = make_meeting(case)
    stranger = make_user("coordinator")
    client.login(stranger.email, PASSWORD)
    assert client.get(f"/meetings/cases/{case.id}").status_code == 404
    assert client.get(f"/meetings/{meeting.id}").status_code == 404
    assert client.get(f"/meetings/{meeting.id}/invitation.ics").status_code == 404


def test_an_invitee_confirms_on_the_meeting_page(client, enqueued):
    case = make_case()
    invitee = make_user("referrer", unit=make_unit("region"))
    meeting = make_meeting(case, kind="samsip", attendees=[invitee])
    client.login(invitee.email, PASSWORD)
    page = _page(client, f"/meetings/{meeting.id}")
    assert "Bekräfta att jag kommer" in page
    assert client.post_form(f"/meetings/{meeting.id}/confirm").status_code == 302
    assert "Bekräfta att jag kommer" not in _page(client, f"/meetings/{meeting.id}")
    assert "SamSIP" in _page(client, "/meetings/")


def test_a_group_is_set_up_and_filled_on_the_pages(client, enqueued):
    programme = make_programme()
    lead = make_user("team_lead")
    case = make_case(programme=programme)
    client.login(lead.email, PASSWORD)
    form = _page(client, "/meetings/groups/new")
    assert "Hälsogrupp" in form
    response = client.post_form(
        "/meetings/groups/new",
        {
            "programme_id": str(programme.id),
            "name": "Aktivitetsgrupp hösten",
            "preset": "aktivitetsgrupp",
            "first_date": "2027-01-11",
            "leader_id": str(lead.id),
            "location": "Träffpunkten",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = _page(client, response.headers["Location"])
    assert "0 av högst 10" in page and "Skriv in" in page
    group_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    enrolled = client.post_form(
        f"/meetings/groups/{group_id}/enrol", {"case_id": str(case.id)}, follow_redirects=True
    )
    assert "1 av högst 10" in enrolled.get_data(as_text=True)
    assert "Aktivitetsgrupp hösten" in _page(client, "/meetings/groups/")
    calendar = client.get(f"/meetings/groups/{group_id}/sessions.ics")
    assert calendar.data.count(b"BEGIN:VEVENT") == 20


def test_a_group_form_value_that_cannot_be_read_is_refused_and_nothing_is_created(client):
    from coordination.meetings.models import GroupActivity

    programme = make_programme()
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    response = client.post_form(
        "/meetings/groups/new",
        {
            "programme_id": str(programme.id),
            "name": "Hälsogrupp våren",
            "preset": "halsogrupp",
            "capacity": "tio",
            "first_date": "2027-01-11",
            "leader_id": str(lead.id),
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "#field-capacity" in page and 'value="Hälsogrupp våren"' in page
    assert db.session.scalar(db.select(GroupActivity)) is None


def test_the_case_page_section_shows_the_next_meeting_missed_count_and_escalation(app):
    case = make_case()
    meeting = make_meeting(case)
    coordinator = case.active_assignment.coordinator
    template = '{% include "meetings/_case_section.html" ignore missing %}'
    with app.test_request_context("/cases/1"):
        login_user(coordinator)
        html = render_template_string(template, case=case)
    assert "Möten och närvaro" in html and "0 av 3" in html
    assert meeting.starts_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") in html
    stranger = make_user("coordinator")
    with app.test_request_context("/cases/1"):
        login_user(stranger)
        assert "Möten och närvaro" not in render_template_string(template, case=case)


def test_the_summary_for_the_caseload(enqueued):
    quiet, busy = make_case(), make_case()
    coordinator = busy.active_assignment.coordinator
    upcoming = make_meeting(busy)
    for day in range(3):
        start = PAST + timedelta(days=day)
        meeting = make_meeting(busy, starts_at=start, now=start - timedelta(days=1))
        ladder.record_attendance(meeting, status="missed", by=coordinator)
    db.session.commit()
    summary = queries.case_meeting_summary([quiet.id, busy.id])
    assert summary[quiet.id]["next_meeting_at"] is None
    assert (summary[quiet.id]["missed_count"], summary[quiet.id]["escalated"]) == (0, False)
    assert summary[busy.id]["next_meeting_at"] == upcoming.starts_at
    assert (summary[busy.id]["missed_count"], summary[busy.id]["escalated"]) == (3, True)

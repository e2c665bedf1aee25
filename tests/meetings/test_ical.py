"""Invitations: parsed back with the icalendar library, Stockholm times across the DST change,
one UID for a meeting's whole life with a rising SEQUENCE, CANCEL on cancellation, and the .ics
attached to the invitation email."""

from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from coordination.extensions import db
from coordination.meetings import operations as ops
from notifications.delivery import deliver, sweep
from notifications.models import Notification
from tests.factories import make_case, make_meeting, make_unit, make_user, token_headers

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# The last Sunday of March 2027 is the 28th: clocks go from 02:00 CET to 03:00 CEST.
SATURDAY_BEFORE = date(2027, 3, 27)
MONDAY_AFTER = date(2027, 3, 29)


def at_ten(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=STOCKHOLM).astimezone(UTC)


def events_of(data: bytes):
    calendar = Calendar.from_ical(data)
    return calendar, [c for c in calendar.walk("VEVENT")]


@pytest.fixture(autouse=True)
def _quiet(enqueued, settings):
    """Messages go out at any hour; deliveries are captured."""


def test_meetings_on_both_sides_of_the_dst_change_read_back_as_ten_local(api):
    case = make_case()
    coordinator = case.active_assignment.coordinator
    headers = token_headers(coordinator)
    for day, offset in ((SATURDAY_BEFORE, timedelta(hours=1)), (MONDAY_AFTER, timedelta(hours=2))):
        meeting = make_meeting(case, starts_at=at_ten(day))
        response = api.get(f"/api/v1/meetings/{meeting.id}.ics", headers=headers)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/calendar")
        body = response.get_data()
        assert (
            b"DTSTART;TZID=Europe/Stockholm:" + day.strftime("%Y%m%d").encode() + b"T100000" in body
        )
        calendar, (event,) = events_of(body)
        start = event.decoded("dtstart")
        assert start.astimezone(STOCKHOLM).hour == 10
        assert start.utcoffset() == offset
        assert start.astimezone(UTC) == meeting.starts_at
        # The VTIMEZONE travels with the invitation and gives the same answer on its own.
        (vtimezone,) = calendar.walk("VTIMEZONE")
        assert str(vtimezone["TZID"]) == "Europe/Stockholm"
        from_vtimezone = vtimezone.to_tz()
        local = datetime(day.year, day.month, day.day, 10, 0, tzinfo=from_vtimezone)
        assert local.utcoffset() == offset
        assert str(calendar["METHOD"]) == "REQUEST"


def test_a_change_keeps_the_uid_raises_the_sequence_and_a_cancellation_is_a_cancel(api):
    case = make_case()
    coordinator = case.active_assignment.coordinator
    headers = token_headers(coordinator)
    meeting = make_meeting(case, starts_at=at_ten(MONDAY_AFTER))
    _, (first,) = events_of(api.get(f"/api/v1/meetings/{meeting.id}.ics", headers=headers).data)
    moved = at_ten(MONDAY_AFTER + timedelta(days=1))
    response = api.patch(
        f"/api/v1/meetings/{meeting.id}",
        json={"starts_at": moved.isoformat(), "ends_at": (moved + timedelta(hours=1)).isoformat()},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    _, (second,) = events_of(api.get(f"/api/v1/meetings/{meeting.id}.ics", headers=headers).data)
    assert str(second["UID"]) == str(first["UID"])
    assert second.decoded("sequence") == first.decoded("sequence") + 1
    assert second.decoded("dtstart").astimezone(STOCKHOLM).day == 30
    response = api.post(f"/api/v1/meetings/{meeting.id}/cancel", json={}, headers=headers)
    assert response.status_code == 200
    calendar, (third,) = events_of(
        api.get(f"/api/v1/meetings/{meeting.id}.ics", headers=headers).data
    )
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(third["STATUS"]) == "CANCELLED"
    assert str(third["UID"]) == str(first["UID"])
    assert third.decoded("sequence") == 2


def test_the_invitation_names_neither_the_participant_nor_a_home_visits_address(api):
    case = make_case(first_name="Kerstin", last_name="Hemligsson")
    meeting = make_meeting(case, kind="home_visit", starts_at=at_ten(MONDAY_AFTER))
    headers = token_headers(case.active_assignment.coordinator)
    body = api.get(f"/api/v1/meetings/{meeting.id}.ics", headers=headers).get_data(as_text=True)
    assert "Kerstin" not in body and "Hemligsson" not in body
    assert case.person.identity_number not in body
    _, (event,) = events_of(body.encode())
    assert "LOCATION" not in event
    assert f"deltagande {case.id}" in str(event["SUMMARY"])


def test_invitees_get_an_email_with_text_html_and_the_ics(api, sink):
    case = make_case()
    colleague = make_user("referrer", unit=make_unit("af"))
    meeting = make_meeting(
        case, kind="three_party", starts_at=at_ten(MONDAY_AFTER), attendees=[colleague]
    )
    email = db.session.scalar(
        db.select(Notification).where(
            Notification.recipient_id == colleague.id,
            Notification.channel == "email",
            Notification.template == "meeting_invitation",
        )
    )
    assert email is not None
    assert deliver(email.id) == "sent"
    (received,) = [m for m in sink.messages if colleague.email in m.to]
    parsed = message_from_bytes(received.raw, policy=policy.default)
    types = [part.get_content_type() for part in parsed.walk()]
    assert {"text/plain", "text/html", "text/calendar"} <= set(types)
    (ics,) = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert ics.get_filename() == f"mote-{meeting.id}.ics"
    assert ics.get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(ics.get_payload(decode=True))
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == meeting.uid
    attendees = [str(a) for a in event.get("ATTENDEE")]
    assert f"mailto:{colleague.email}" in attendees


def test_a_removed_invitee_gets_a_cancel_and_the_others_the_update(api, sink):
    case = make_case()
    stays, goes = (
        make_user("referrer", unit=make_unit("af")),
        make_user("referrer", unit=make_unit("fk")),
    )
    meeting = make_meeting(case, starts_at=at_ten(MONDAY_AFTER), attendees=[stays, goes])
    ops.change_meeting(
        ops.get_meeting(meeting.id, lock=True),
        ops.MeetingInput(
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            location="Jobbtorget",
            attendee_ids=[stays.id],
        ),
        by=case.active_assignment.coordinator,
    )
    db.session.commit()
    rows = {
        (n.recipient_id, n.template)
        for n in db.session.scalars(
            db.select(Notification).where(
                Notification.subject_type == "meeting",
                Notification.subject_id == meeting.id,
                Notification.channel == "email",
                Notification.status == "pending",
            )
        )
    }
    assert (stays.id, "meeting_changed") in rows
    assert (goes.id, "meeting_cancelled") in rows
    # The first invitations were not yet sent: they are outdated and never go out.
    assert (stays.id, "meeting_invitation") not in rows
    cancel = db.session.scalar(
        db.select(Notification).where(
            Notification.recipient_id == goes.id,
            Notification.template == "meeting_cancelled",
            Notification.channel == "email",
        )
    )
    assert deliver(cancel.id) == "sent"
    (received,) = [m for m in sink.messages if goes.email in m.to]
    parsed = message_from_bytes(received.raw, policy=policy.default)
    (ics,) = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert ics.get_param("method") == "CANCEL"
    assert sweep  # the sweep is exercised in test_reminders

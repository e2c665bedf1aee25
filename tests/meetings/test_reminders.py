"""Reminders with the clock passed in: the participant's the day before (the time only, by their
channel), the coordinator's to register attendance one working day after, SamSIP invitees'
until they confirm, and the team leads' each working day an escalation decision is overdue."""

import json
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import or_, select

from coordination.extensions import db
from coordination.meetings import ladder, queries
from coordination.meetings import operations as ops
from notifications.delivery import sweep
from notifications.models import Notification, Reminder
from tests.factories import make_case, make_meeting, make_unit, make_user, token_headers
from workflows.calendar import STOCKHOLM, WorkingCalendar

CAL = WorkingCalendar()


def in_days(days: int, hour: int = 10) -> datetime:
    """A time `days` days ahead at hour:00 in Stockholm, as UTC."""
    day = datetime.now(STOCKHOLM).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=STOCKHOLM).astimezone(UTC)


def inbox(user, template: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.recipient_id == user.id,
                Notification.channel == "inbox",
                Notification.template == template,
            )
        )
    )


@pytest.fixture(autouse=True)
def _quiet(enqueued, settings):
    """Messages go out at any hour; deliveries are captured."""


def participant_reminders(meeting) -> list[Reminder]:
    """The participant's reminders of a meeting: rows of the one reminder table, owed to a case."""
    return list(
        db.session.scalars(
            select(Reminder)
            .where(
                Reminder.kind == "participant_reminder",
                Reminder.subject_type == "meeting",
                Reminder.subject_id == meeting.id,
            )
            .order_by(Reminder.id)
        )
    )


def _person_case(**person):
    case = make_case(first_name="Astrid", last_name="Hemlig", **person)
    return case


def test_the_participant_gets_an_sms_the_day_before_with_the_time_only(sms_file):
    case = _person_case(preferred_channel="sms", phone="070-765 43 21")
    meeting = make_meeting(case, starts_at=in_days(3))
    (reminder,) = participant_reminders(meeting)
    assert (reminder.case_id, reminder.recipient_id) == (case.id, None)
    assert reminder.due_at == in_days(2)
    sweep(now=reminder.due_at - timedelta(minutes=1))
    assert not sms_file.exists()
    sweep(now=reminder.due_at + timedelta(minutes=1))
    (line,) = sms_file.read_text(encoding="utf-8").splitlines()
    sent = json.loads(line)
    assert sent["text"] == "Du har ett möte i morgon kl. 10.00. Välkommen!"
    for secret in ("Astrid", "Hemlig", case.person.identity_number, "Förbundets kontor"):
        assert secret not in sent["text"]
    assert "http" not in sent["text"]
    db.session.refresh(reminder)
    assert (reminder.status, reminder.channel) == ("sent", "sms")
    sweep(now=reminder.due_at + timedelta(minutes=5))
    assert len(sms_file.read_text(encoding="utf-8").splitlines()) == 1  # sent once


def test_the_participant_who_prefers_email_gets_text_and_html_without_personal_data(sink):
    case = _person_case(preferred_channel="email", email="astrid@example.org")
    meeting = make_meeting(case, starts_at=in_days(4, 14))
    sweep(now=in_days(3, 14) + timedelta(minutes=1))
    (received,) = [m for m in sink.messages if "astrid@example.org" in m.to]
    parsed = message_from_bytes(received.raw, policy=policy.default)
    assert {p.get_content_type() for p in parsed.walk()} >= {"text/plain", "text/html"}
    assert "Du har ett möte i morgon kl. 14.00. Välkommen!" in received.text
    for secret in ("Astrid", "Hemlig", case.person.identity_number, "Förbundets kontor"):
        assert secret not in received.text and secret not in received.subject
    assert meeting.id  # the email has no link to it either
    assert "/meetings/" not in received.text


def test_a_participant_who_prefers_the_phone_is_reminded_by_the_coordinator(sms_file):
    case = _person_case(preferred_channel="phone", phone="070-765 43 21")
    meeting = make_meeting(case, starts_at=in_days(3))
    sweep(now=in_days(2) + timedelta(minutes=1))
    assert not sms_file.exists()
    (item,) = inbox(case.active_assignment.coordinator, "participant_contact")
    assert item.link == f"/meetings/{meeting.id}"
    (reminder,) = participant_reminders(meeting)
    assert reminder.status == "handed_over"


def test_a_moved_meeting_moves_the_reminder_and_a_cancelled_one_sends_none(sms_file):
    case = _person_case(preferred_channel="sms", phone="070-765 43 21")
    coordinator = case.active_assignment.coordinator
    meeting = make_meeting(case, starts_at=in_days(3))
    ops.change_meeting(
        ops.get_meeting(meeting.id, lock=True),
        ops.MeetingInput(starts_at=in_days(5), ends_at=in_days(5, 11), location="Rum 4"),
        by=coordinator,
    )
    db.session.commit()
    rows = participant_reminders(meeting)
    assert [(r.status, r.params["sequence"], r.due_at) for r in rows] == [
        ("cancelled", 0, in_days(2)),
        ("pending", 1, in_days(4)),
    ]
    ops.cancel_meeting(ops.get_meeting(meeting.id, lock=True), by=coordinator)
    db.session.commit()
    sweep(now=in_days(4) + timedelta(minutes=1))
    assert not sms_file.exists()


def test_an_unregistered_attendance_is_reminded_one_working_day_after_the_meeting():
    case = make_case()
    coordinator = case.active_assignment.coordinator
    meeting = make_meeting(case, starts_at=in_days(2), minutes=60)
    due = CAL.add_working_days(meeting.ends_at, 1)
    sweep(now=due - timedelta(minutes=1))
    assert inbox(coordinator, "attendance_reminder") == []
    sweep(now=due + timedelta(minutes=1))
    (item,) = inbox(coordinator, "attendance_reminder")
    assert item.link == f"/meetings/{meeting.id}"


def test_a_registered_attendance_needs_no_reminder():
    case = make_case()
    coordinator = case.active_assignment.coordinator
    meeting = make_meeting(case, starts_at=in_days(2), minutes=60)
    ladder.record_attendance(
        meeting, status="attended", by=coordinator, now=meeting.starts_at + timedelta(hours=1)
    )
    db.session.commit()
    sweep(now=CAL.add_working_days(meeting.ends_at, 2))
    assert inbox(coordinator, "attendance_reminder") == []


def test_samsip_invitees_are_reminded_until_they_confirm(api):
    referrer = make_user("referrer")
    case = make_case(referrer=referrer)
    af, fk = (
        make_user("referrer", unit=make_unit("af")),
        make_user("referrer", unit=make_unit("fk")),
    )
    starts = in_days(14)
    response = api.post(
        f"/api/v1/cases/{case.id}/meetings",
        json={
            "kind": "samsip",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "location": "Kommunhuset, sal Åsen",
            "attendee_ids": [af.id, fk.id, case.active_assignment.coordinator_id],
        },
        headers=token_headers(referrer),  # any party of the case may call a SamSIP meeting
    )
    assert response.status_code == 201, response.get_json()
    meeting_id = response.get_json()["id"]
    confirmed = api.post(f"/api/v1/meetings/{meeting_id}/confirm", headers=token_headers(af))
    assert confirmed.status_code == 200
    attendees = {a["user_id"]: a["confirmed_at"] for a in confirmed.get_json()["attendees"]}
    assert attendees[af.id] is not None and attendees[fk.id] is None
    assert attendees[referrer.id] is not None  # the one who called it
    sweep(now=starts - timedelta(hours=1))
    assert inbox(af, "meeting_confirmation_reminder") == []
    assert len(inbox(fk, "meeting_confirmation_reminder")) == 2  # two working days in, day before


def _escalated_case():
    lead = make_user("team_lead")
    case = make_case()
    coordinator = case.active_assignment.coordinator
    for day in (10, 9, 8):
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=day)
        meeting = make_meeting(case, starts_at=start, now=start - timedelta(days=1))
        ladder.record_attendance(meeting, status="missed", by=coordinator)
    db.session.commit()
    return lead, case, queries.open_escalation(case.id)


def test_an_overdue_decision_reminds_the_team_lead_then_each_working_day():
    lead, case, escalation = _escalated_case()
    due = escalation.decision_due_at
    assert due.astimezone(STOCKHOLM).time() == time(17, 0)
    sweep(now=due - timedelta(minutes=1))
    assert inbox(lead, "escalation_overdue") == []
    sweep(now=due + timedelta(minutes=1))
    sweep(now=due + timedelta(minutes=2))
    assert len(inbox(lead, "escalation_overdue")) == 1
    next_day = CAL.next_working_day(due.astimezone(STOCKHOLM).date())
    morning = datetime.combine(next_day, time(9), tzinfo=STOCKHOLM)
    sweep(now=morning)
    assert len(inbox(lead, "escalation_overdue")) == 2
    saturday = morning + timedelta(days=(5 - morning.weekday()) % 7 or 7)
    sweep(now=saturday)
    assert len(inbox(lead, "escalation_overdue")) == 2  # no reminder on a day off
    ladder.decide_escalation(case, decision="continue", by=lead)
    db.session.commit()
    sweep(now=datetime.combine(CAL.next_working_day(saturday.date()), time(9), tzinfo=STOCKHOLM))
    assert len(inbox(lead, "escalation_overdue")) == 2


def test_a_participant_and_an_escalation_reminder_are_one_table_delivered_once(sms_file):
    lead, _case, escalation = _escalated_case()
    moment = escalation.decision_due_at + timedelta(minutes=1)
    participant = _person_case(preferred_channel="sms", phone="070-765 43 21")
    meeting = make_meeting(participant, starts_at=escalation.decision_due_at + timedelta(hours=20))
    sweep(now=moment)
    sweep(now=moment + timedelta(minutes=1))
    rows = db.session.scalars(
        select(Reminder)
        .where(
            or_(
                Reminder.recipient_id == lead.id,
                Reminder.subject_id == meeting.id,
            ),
            Reminder.kind.in_(("participant_reminder", "escalation_overdue")),
        )
        .order_by(Reminder.kind)
    ).all()
    assert [(r.kind, r.case_id, r.recipient_id, r.status) for r in rows] == [
        ("escalation_overdue", None, lead.id, "fired"),
        ("participant_reminder", participant.id, None, "sent"),
    ]
    assert len(sms_file.read_text(encoding="utf-8").splitlines()) == 1
    assert len(inbox(lead, "escalation_overdue")) == 1

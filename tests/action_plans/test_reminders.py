"""The plan's reminders (§9) as reminder rows: who gets them, when, and what cancels them."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from coordination.action_plans import operations as plan_ops
from coordination.cases import operations as case_ops
from coordination.core.i18n import local_today
from coordination.extensions import db
from coordination.organisations.calendar import working_calendar
from notifications import case_rules
from notifications.models import Notification, Reminder
from tests.factories import (
    admit_case,
    make_agency_user,
    make_conference,
    make_plan,
    make_programme,
    make_unit,
    make_user,
)


def morning(day) -> datetime:
    calendar = working_calendar()
    return datetime.combine(day, calendar.day_start, tzinfo=calendar.tz).astimezone(UTC)


def pending(case) -> set[tuple[str, int, datetime]]:
    """Return (template, recipient, due_at) of the case's pending plan reminders."""
    rows = db.session.scalars(
        select(Reminder).where(
            Reminder.subject_type == "case",
            Reminder.subject_id == case.id,
            Reminder.kind.in_(case_rules.REMINDER_KINDS),
            Reminder.status == "pending",
        )
    )
    return {(r.template, r.recipient_id, r.due_at) for r in rows}


@pytest.fixture()
def team():
    """A coordinator and the team lead of their team."""
    unit = make_unit("forbund")
    return make_user("coordinator", unit=unit), make_user("team_lead", unit=unit)


def test_enrolment_owes_the_coordinator_and_team_lead_a_reminder_if_the_plan_is_unsigned(team):
    coordinator, lead = team
    case = admit_case(coordinator=coordinator)
    due = morning(working_calendar().add_working_days(case.enrolled_on, 20))
    assert pending(case) == {
        ("plan_unsigned", coordinator.id, due),
        ("plan_unsigned", lead.id, due),
    }


def test_a_signed_plan_owes_action_review_and_exit_reminders_and_cancels_the_unsigned_one(team):
    coordinator, lead = team
    contact = make_agency_user("af")
    case = admit_case(coordinator=coordinator)
    version = make_plan(case, contact=contact, signed=True)
    calendar = working_calendar()
    action = version.actions[0]
    assert pending(case) == {
        (
            "plan_action_due_soon",
            contact.id,
            morning(calendar.add_working_days(action.due_on, -5)),
        ),
        ("plan_action_overdue", contact.id, morning(calendar.next_working_day(action.due_on))),
        ("plan_review_due", coordinator.id, morning(_on_or_before(version.review_on))),
        (
            "planned_exit_ahead",
            coordinator.id,
            morning(_on_or_before(version.planned_exit_on - timedelta(days=28))),
        ),
    }
    cancelled = db.session.scalars(
        select(Reminder.template).where(
            Reminder.subject_id == case.id, Reminder.status == "cancelled"
        )
    ).all()
    assert sorted(cancelled) == ["plan_unsigned", "plan_unsigned"]


def _on_or_before(day):
    calendar = working_calendar()
    return day if calendar.is_working_day(day) else calendar.previous_working_day(day)


def test_eighty_percent_of_the_maximum_duration_goes_to_coordinator_and_team_lead(team):
    coordinator, lead = team
    programme = make_programme(max_duration_days=200)
    conference = make_conference(programme, state="published", present="all")
    case = admit_case(coordinator=coordinator, conference=conference)
    due = morning(_on_or_before(case.enrolled_on + timedelta(days=160)))
    owed = {(t, r, d) for t, r, d in pending(case) if t == "case_duration_warning"}
    assert owed == {
        ("case_duration_warning", coordinator.id, due),
        ("case_duration_warning", lead.id, due),
    }


def test_a_new_coordinator_takes_over_the_reminders(team):
    coordinator, lead = team
    case = admit_case(coordinator=coordinator)
    newcomer = make_user("coordinator")
    case_ops.assign_coordinator(case, newcomer, reason="Sjukskriven.", by=lead)
    db.session.commit()
    recipients = {recipient for _t, recipient, _d in pending(case)}
    assert newcomer.id in recipients and coordinator.id not in recipients
    inbox = db.session.scalar(
        select(Notification).where(
            Notification.recipient_id == newcomer.id,
            Notification.channel == "inbox",
            Notification.template == "coordinator_assigned",
        )
    )
    assert inbox is not None and inbox.link == f"/cases/{case.id}"


def test_a_pause_stops_the_reminders_and_resuming_brings_them_back(team):
    coordinator, _lead = team
    case = admit_case(coordinator=coordinator)
    make_plan(case, signed=True)
    before = {(t, r) for t, r, _d in pending(case)}
    case_ops.pause(
        case, reason="illness", expected_return_on=local_today() + timedelta(days=20), by=None
    )
    db.session.commit()
    assert pending(case) == set()
    case_ops.resume(case, by=coordinator)
    db.session.commit()
    assert {(t, r) for t, r, _d in pending(case)} == before


def test_a_done_action_owes_its_contact_nothing_more(team):
    coordinator, _lead = team
    contact = make_agency_user("af")
    case = admit_case(coordinator=coordinator)
    version = make_plan(case, contact=contact, signed=True)
    plan_ops.set_action_status(version.actions[0], "done", by=contact)
    db.session.commit()
    assert {t for t, r, _d in pending(case) if r == contact.id} == set()


def test_a_reminder_that_fell_due_before_the_sweep_survives_a_later_change(team):
    """A case event between a reminder's due time and the sweep (or in a beat outage) keeps it."""
    coordinator, lead = team
    case = admit_case(coordinator=coordinator)
    due = morning(working_calendar().add_working_days(case.enrolled_on, 20))
    case_rules.sync_case_reminders(db.session, case.id, due + timedelta(hours=3))
    db.session.commit()
    assert pending(case) == {
        ("plan_unsigned", coordinator.id, due),
        ("plan_unsigned", lead.id, due),
    }
    # Once the plan is signed the reminder is no longer owed, due or not.
    make_plan(case, signed=True)
    case_rules.sync_case_reminders(db.session, case.id, due + timedelta(hours=4))
    db.session.commit()
    assert {t for t, _r, _d in pending(case)} & {"plan_unsigned"} == set()


def test_recomputing_the_reminders_twice_writes_nothing_new(team):
    coordinator, _lead = team
    case = admit_case(coordinator=coordinator)
    make_plan(case, signed=True)
    count = db.session.scalar(select(db.func.count()).select_from(Reminder))
    now = datetime.now(UTC)
    case_rules.sync_case_reminders(db.session, case.id, now)
    case_rules.sync_case_reminders(db.session, case.id, now)
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(Reminder)) == count


def test_a_new_version_asks_the_contacts_to_sign(team):
    coordinator, _lead = team
    contact = make_agency_user("af")
    case = admit_case(coordinator=coordinator)
    make_plan(case, contact=contact)
    item = db.session.scalar(
        select(Notification).where(
            Notification.recipient_id == contact.id,
            Notification.channel == "inbox",
            Notification.template == "plan_sign_off_requested",
        )
    )
    from notifications.rendering import title_of

    assert item.link == f"/cases/{case.id}/plan"
    assert title_of(item) == f"Deltagande {case.id}: godkänn handlingsplanen, version 1"


def test_the_referrer_signs_for_the_referring_agency_in_charge_and_is_asked_to(team):
    coordinator, _lead = team
    referrer = make_agency_user("kommun")
    case = admit_case(coordinator=coordinator, referrer=referrer)
    make_plan(case, contact=make_agency_user("af"), overall_agency="kommun")
    asked = db.session.scalars(
        select(Notification.recipient_id).where(
            Notification.template == "plan_sign_off_requested", Notification.channel == "inbox"
        )
    ).all()
    assert referrer.id in asked


def test_the_sweep_fires_a_due_action_reminder_into_the_contacts_inbox(team, monkeypatch):
    from notifications.delivery import fire_due_reminders
    from notifications.rendering import title_of
    from notifications.tasks import deliver_notification

    monkeypatch.setattr(deliver_notification, "apply_async", lambda *a, **k: None)
    coordinator, _lead = team
    contact = make_agency_user("af")
    case = admit_case(coordinator=coordinator, first_name="Hemlig")
    version = make_plan(case, contact=contact, signed=True)
    later = morning(working_calendar().add_working_days(version.actions[0].due_on, -5))
    fire_due_reminders(later + timedelta(minutes=1), [])
    item = db.session.scalar(
        select(Notification).where(
            Notification.recipient_id == contact.id,
            Notification.channel == "inbox",
            Notification.template == "plan_action_due_soon",
        )
    )
    assert item is not None
    title = title_of(item)
    assert title.startswith(f"Deltagande {case.id}: en insats du är kontaktperson för")
    assert "Hemlig" not in title and item.link == f"/cases/{case.id}/plan"


def test_the_exit_ends_the_plan_reminders(team):
    from coordination.exits import operations as exit_ops
    from tests.factories import exit_data

    coordinator, _lead = team
    case = admit_case(coordinator=coordinator)
    make_plan(case, signed=True)
    assert pending(case)
    exit_ops.register_exit(case, data=exit_data(), by=coordinator)
    db.session.commit()
    assert case.state == "exiting"
    assert pending(case) == set()

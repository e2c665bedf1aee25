"""Deadlines a user or the API sets skip the förbund's own days off, not only weekends and public
holidays: the completion deadline of a referral, and the plan's default review date."""

from __future__ import annotations

from datetime import timedelta

from coordination.action_plans import operations as plan_ops
from coordination.auth.models import User
from coordination.core.i18n import local_today
from coordination.extensions import db
from coordination.organisations.calendar import add_day_off
from tests.factories import (
    PASSWORD,
    make_admitted_case,
    make_agency_user,
    make_referral,
    make_user,
    plan_input,
    token_headers,
)
from workflows.action_plan import default_review_on
from workflows.calendar import STOCKHOLM, WorkingCalendar


def _local_day(iso: str):
    from datetime import datetime

    return datetime.fromisoformat(iso).astimezone(STOCKHOLM).date()


def _day_off_inside(days: int):
    """Add a day off on the third working day from today; return the deadline `days` working
    days from today without and with it."""
    today = local_today()
    plain = WorkingCalendar()
    day_off = plain.add_working_days(today, 3)
    add_day_off(day_off, "Studiedag för förbundet")
    db.session.commit()
    return (
        plain.add_working_days(today, days),
        WorkingCalendar([day_off]).add_working_days(today, days),
    )


def test_the_api_completion_deadline_skips_a_day_off(api):
    referral = make_referral("submitted")
    without, expected = _day_off_inside(referral.programme.completion_deadline_working_days)
    assert expected != without
    response = api.post(
        f"/api/v1/referrals/{referral.id}/request-completion",
        json={"note": "Beskriv hälsan."},
        headers=token_headers(make_user("team_lead")),
    )
    assert response.status_code == 200, response.get_json()
    assert _local_day(response.get_json()["completion_due_at"]) == expected


def test_the_page_completion_deadline_skips_a_day_off(client):
    referral = make_referral("submitted")
    without, expected = _day_off_inside(referral.programme.completion_deadline_working_days)
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    response = client.post_form(
        f"/referrals/{referral.id}/request-completion", {"note": "Beskriv hälsan."}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert referral.completion_due_at.astimezone(STOCKHOLM).date() == expected != without


def test_a_chosen_deadline_on_a_day_off_moves_to_the_next_working_day(api):
    referral = make_referral("submitted")
    plain = WorkingCalendar()
    chosen = plain.add_working_days(local_today(), 4)
    add_day_off(chosen, "Planeringsdag")
    db.session.commit()
    response = api.post(
        f"/api/v1/referrals/{referral.id}/request-completion",
        json={"note": "Beskriv hälsan.", "due_on": chosen.isoformat()},
        headers=token_headers(make_user("team_lead")),
    )
    assert response.status_code == 200, response.get_json()
    assert _local_day(response.get_json()["completion_due_at"]) == plain.next_working_day(chosen)


def test_the_default_review_date_skips_a_day_off():
    case = make_admitted_case()
    today = local_today()
    start = max(case.enrolled_on or today, today)
    plain = WorkingCalendar()
    default = plain.working_day_on_or_after(
        default_review_on(start, case.programme.plan_review_months)
    )
    add_day_off(default, "Förbundets personaldag")
    db.session.commit()
    contact = make_agency_user("af")
    coordinator = db.session.get(User, case.coordinator_id)
    data = plan_input(contact=contact, review_on=None)
    version = plan_ops.save_plan(case, data, by=coordinator).version
    assert version.review_on == WorkingCalendar([default]).working_day_on_or_after(default)
    assert version.review_on > default
    assert version.review_on - default < timedelta(days=7)

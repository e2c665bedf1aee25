"""The start page's to-do list ("Att göra", issue 20): everything open for the user, soonest
deadline first and the items without one last, each linking to where it is done; the
coordinator's capacity figure; a constant number of statements for three times the rows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from coordination.cases.models import CoordinatorProfile
from coordination.cases.queries import load_of
from coordination.conferences.models import MemberPosition
from coordination.core.formats import percent_text
from coordination.extensions import db
from coordination.meetings.models import Escalation, Task
from tests.factories import (
    PASSWORD,
    make_agency_user,
    make_case,
    make_conference,
    make_plan,
    make_referral,
    make_return_referral,
    make_user,
)
from tests.querycount import query_count


def _escalation(case, due: datetime, referrer=None) -> Escalation:
    escalation = Escalation(
        case_id=case.id,
        status="open",
        opened_at=due - timedelta(days=10),
        missed_count=3,
        decision_due_at=due,
        referrer_id=referrer.id if referrer else None,
    )
    db.session.add(escalation)
    db.session.commit()
    return escalation


def _task(case, assignee, due: datetime) -> Task:
    task = Task(case_id=case.id, assignee_id=assignee.id, kind="revise_plan", due_at=due)
    db.session.add(task)
    db.session.commit()
    return task


def _capacity(user, capacity: int) -> None:
    """Give the coordinator a capacity (the profile is stored when the first case is assigned)."""
    profile = db.session.scalar(
        select(CoordinatorProfile).where(CoordinatorProfile.user_id == user.id)
    )
    if profile is None:
        db.session.add(CoordinatorProfile(user_id=user.id, capacity=capacity))
    else:
        profile.capacity = capacity
    db.session.commit()


def _todo(client) -> list[tuple[str, str]]:
    """The to-do list's items in order: (kind, link)."""
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    listed = page.split('id="todo-heading"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<li data-kind="([a-z_]+)"><a href="([^"]+)"', listed)


def test_the_coordinators_list_puts_the_escalation_first_and_the_undated_items_last(client):
    coordinator = make_user("coordinator")
    first = make_case(coordinator=coordinator)
    second = make_case(coordinator=coordinator)
    make_plan(second)  # a draft: the participant has not signed it
    now = datetime.now(UTC)
    task = _task(first, coordinator, now + timedelta(days=5))
    escalation = _escalation(second, now + timedelta(days=2))
    overdue = _task(second, coordinator, now - timedelta(days=1))
    client.login(coordinator.email, PASSWORD)

    items = _todo(client)
    assert items[:3] == [
        ("task", f"/meetings/tasks/{overdue.id}"),
        ("escalation", f"/meetings/escalations/{escalation.id}"),
        ("task", f"/meetings/tasks/{task.id}"),
    ]
    undated = items[3:]
    assert ("participant_sign", f"/cases/{second.id}/plan") in undated
    assert ("new_case", f"/cases/{first.id}") in undated
    assert ("new_case", f"/cases/{second.id}") in undated
    page = client.get("/").get_data(as_text=True)
    assert "Försenad:" in page
    assert f"Boka första mötet och skriv handlingsplanen för deltagande {first.id}" in page
    assert f"Boka första mötet för deltagande {second.id}" in page
    assert "2 nya deltaganden utan handlingsplan eller första möte" in page


def test_an_escalation_due_first_comes_before_an_undated_plan_to_sign(client):
    contact = make_agency_user("af")
    case = make_case(referrer=contact)
    make_plan(case, contact=contact)
    escalation = _escalation(case, datetime.now(UTC) + timedelta(days=20), referrer=contact)
    client.login(contact.email, PASSWORD)

    items = _todo(client)
    assert items == [
        ("escalation", f"/meetings/escalations/{escalation.id}"),
        ("plan_sign", f"/cases/{case.id}/plan"),
    ]
    page = client.get("/").get_data(as_text=True)
    assert f"Godkänn handlingsplanen för deltagande {case.id}, version 1, för" in page


def test_the_referrer_acknowledges_a_packet_within_two_weeks(client):
    referrer = make_agency_user("af")
    returned = make_return_referral("delivered", case=make_case(referrer=referrer))
    packet = returned.packet
    client.login(referrer.email, PASSWORD)

    assert ("packet", f"/packets/{packet.id}") in _todo(client)
    page = client.get("/").get_data(as_text=True)
    assert f"Kvittera återremissen för remiss {packet.referral_id}" in page


def test_a_member_prepares_each_agenda_item_until_the_agency_position_is_recorded(client):
    conference = make_conference(state="published", started=False)
    referral = make_referral("on_agenda", conference=conference)
    member = conference.agency_members[0]
    client.login(member.user.email, PASSWORD)

    link = f"/conferences/{conference.id}/referrals/{referral.id}"
    assert _todo(client) == [("agenda_item", link)]
    page = client.get("/").get_data(as_text=True)
    assert f"Förbered myndighetens ställningstagande till remiss {referral.id}" in page

    item = next(i for i in conference.agenda if i.referral_id == referral.id)
    db.session.add(
        MemberPosition(
            agenda_item_id=item.id,
            agency=member.agency,
            stance="Ja.",
            recorded_by_id=member.user_id,
        )
    )
    db.session.commit()
    assert ("agenda_item", link) not in _todo(client)


def test_the_team_lead_sees_the_over_capacity_coordinator(client):
    lead = make_user("team_lead")
    coordinator = make_user("coordinator")
    calm = make_user("coordinator")
    make_case(coordinator=calm)
    for _ in range(2):
        make_case(coordinator=coordinator)
    _capacity(coordinator, 1)
    load = load_of([coordinator.id])[coordinator.id]
    client.login(lead.email, PASSWORD)

    items = _todo(client)
    assert ("over_capacity", f"/cases/?coordinator_id={coordinator.id}") in items
    assert ("over_capacity", f"/cases/?coordinator_id={calm.id}") not in items
    page = client.get("/").get_data(as_text=True)
    percent = percent_text(100 * load, decimals=0)
    assert f"{coordinator.name} har {percent} av kapaciteten" in page


def test_the_coordinators_start_page_shows_the_capacity_figure(client):
    coordinator = make_user("coordinator")
    for _ in range(3):
        make_case(coordinator=coordinator)
    _capacity(coordinator, 2)
    load = load_of([coordinator.id])[coordinator.id]
    client.login(coordinator.email, PASSWORD)

    page = client.get("/").get_data(as_text=True)
    percent = percent_text(100 * load / 2, decimals=0)
    assert f"3 deltaganden, {percent} av kapaciteten" in page
    assert "3 nya deltaganden utan handlingsplan eller första möte" in page


@pytest.mark.parametrize("role", ["coordinator", "referrer", "team_lead"])
def test_every_kind_of_item_costs_the_same_statements_at_three_times_the_rows(client, role):
    user = make_agency_user("af", *{role, "referrer"})
    coordinator = user if role == "coordinator" else make_user("coordinator")
    client.login(user.email, PASSWORD)
    due = datetime.now(UTC) + timedelta(days=3)

    def rows(n: int) -> None:
        for _ in range(n):
            case = make_case(coordinator=coordinator, referrer=user)
            make_plan(case, contact=user)
            _escalation(case, due, referrer=user)
            _task(case, user, due)
            make_return_referral("delivered", case=make_case(referrer=user))

    def statements() -> int:
        client.get("/")  # after the factories' commits, the signed-in user is loaded again
        return query_count(lambda: client.get("/"))

    if role == "team_lead":
        busy = make_user("coordinator")
        make_case(coordinator=busy)
        make_case(coordinator=busy)
        _capacity(busy, 1)
    rows(1)
    few = statements()
    kinds_few = {kind for kind, _ in _todo(client)}
    rows(2)
    many = statements()
    assert many == few
    expected = {"plan_sign", "task", "escalation"}
    expected |= {
        "coordinator": {"participant_sign", "new_case"},
        "referrer": {"packet"},
        "team_lead": {"over_capacity"},
    }[role]
    assert expected <= kinds_few


def test_the_referrer_signs_for_the_agency_in_charge_without_an_action_of_its_own(client):
    referrer = make_user("referrer")  # a kommun unit
    case = make_case(referrer=referrer)
    make_plan(case, contact=make_agency_user("af"), overall_agency="kommun")
    client.login(referrer.email, PASSWORD)

    assert ("plan_sign", f"/cases/{case.id}/plan") in _todo(client)
    page = client.get("/").get_data(as_text=True)
    assert f"Godkänn handlingsplanen för deltagande {case.id}, version 1, för Kommun" in page

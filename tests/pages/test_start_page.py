"""The start page at size: a constant number of statements whatever the number of rows, for each
role, and its long lists (tasks, escalations) shown fifty at a time with their count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from coordination.core import paging
from coordination.extensions import db
from coordination.meetings.models import Escalation, Task
from tests.factories import PASSWORD, make_case, make_user
from tests.querycount import query_count


def _tasks(case, assignee, n: int, due: datetime) -> None:
    """n open tasks with the same due time (ties in the sort key)."""
    db.session.add_all(
        Task(case_id=case.id, assignee_id=assignee.id, kind="revise_plan", due_at=due)
        for _ in range(n)
    )
    db.session.commit()


def _escalations(cases, referrer, due: datetime) -> None:
    db.session.add_all(
        Escalation(
            case_id=c.id,
            status="open",
            opened_at=due - timedelta(days=10),
            missed_count=3,
            decision_due_at=due,
            referrer_id=referrer.id,
        )
        for c in cases
    )
    db.session.commit()


def _start_page(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["referrer", "team_lead", "coordinator", "conference_member"])
def test_the_start_page_sends_as_many_statements_for_three_times_the_rows(client, role):
    user = make_user(role)
    coordinator = user if role == "coordinator" else make_user("coordinator")
    case = make_case(coordinator=coordinator)
    others = [make_case(coordinator=make_user("coordinator")) for _ in range(6)]
    due = datetime.now(UTC) + timedelta(days=3)
    client.login(user.email, PASSWORD)

    _tasks(case, user, 2, due)
    _escalations(others[:2], user, due)
    _start_page(client)  # after the factories' commits, the signed-in user is loaded again
    few = query_count(lambda: _start_page(client))

    _tasks(case, user, 4, due)
    _escalations(others[2:], user, due)
    _start_page(client)
    many = query_count(lambda: _start_page(client))
    assert many == few


def test_the_team_leads_escalations_are_paged_without_losing_or_repeating_a_tie(client):
    lead = make_user("team_lead")
    cases = [make_case() for _ in range(3)]
    due = datetime.now(UTC) + timedelta(days=3)
    _escalations(cases, make_user("referrer"), due)
    client.login(lead.email, PASSWORD)

    seen: list[str] = []
    url = "/"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paging, "PAGE_SIZE", 2)
        first = client.get(url).get_data(as_text=True)
        assert "Visar 1–2 av 3" in first
        seen += re.findall(r"/meetings/escalations/(\d+)", first)
        following = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
        second = client.get(following).get_data(as_text=True)
        assert "Visar 3–3 av 3" in second
        seen += re.findall(r"/meetings/escalations/(\d+)", second)
        back = re.search(r'href="([^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
        assert "Visar 1–2 av 3" in client.get(back).get_data(as_text=True)
    expected = sorted(str(e.id) for e in db.session.scalars(db.select(Escalation)))
    assert sorted(seen) == expected

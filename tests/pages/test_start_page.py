"""The start page at size: a constant number of statements whatever the number of rows, for each
role, and its long lists (tasks, escalations) shown fifty at a time with their count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from coordination.core import paging
from coordination.extensions import db
from coordination.meetings.models import Escalation, Task
from tests.factories import PASSWORD, make_case, make_programme, make_referral, make_user
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


def test_a_page_number_past_the_end_shows_the_last_page(client):
    lead = make_user("team_lead")
    _escalations([make_case() for _ in range(3)], make_user("referrer"), datetime.now(UTC))
    client.login(lead.email, PASSWORD)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paging, "PAGE_SIZE", 2)
        page = client.get("/?todo_page=9").get_data(as_text=True)
    assert "Visar 3–3 av 3" in page
    assert len(re.findall(r"/meetings/escalations/(\d+)", page)) == 1


def _states(section: str) -> dict[str, int]:
    """The referrer's table of referrals per status: {state: number}."""
    rows = re.findall(
        r'state=(\w+)">[^<]*</a></th>\s*<td class="table__numeric">(\d+)</td>', section
    )
    return {state: int(n) for state, n in rows}


def _referrals():
    """A referrer who is also a team lead with two referrals, another referrer with five."""
    both = make_user("referrer", "team_lead")
    programme = make_programme()
    make_referral("draft", programme=programme, referrer=both)
    make_referral("submitted", programme=programme, referrer=both)
    other = make_user("referrer")
    for state in ("submitted", "submitted", "completion_requested", "withdrawn", "draft"):
        make_referral(state, programme=programme, referrer=other)
    return both, other


def _section(page: str, heading: str) -> str:
    return page.split(f'id="{heading}"', 1)[1].split("</section>", 1)[0]


def test_the_team_lead_counts_every_open_referral_and_their_own_as_referrer(client):
    both, _other = _referrals()
    client.login(both.email, PASSWORD)
    page = _start_page(client)
    mine = _section(page, "referrer-heading")
    assert _states(mine) == {"draft": 1, "submitted": 1}
    assert "behöver kompletteras" not in mine  # the completion asked of the other referrer
    lead = _section(page, "team-lead-heading")
    assert "3 remisser är inskickade och väntar på behandling." in lead
    assert "Väntar på komplettering (1)" in lead
    assert "På dagordningen" not in lead


def test_the_referrer_counts_their_own_referrals_by_state(client):
    _both, other = _referrals()
    client.login(other.email, PASSWORD)
    page = _start_page(client)
    theirs = _section(page, "referrer-heading")
    assert _states(theirs) == {
        "completion_requested": 1,
        "draft": 1,
        "submitted": 2,
        "withdrawn": 1,
    }
    assert "1 remiss behöver kompletteras." in theirs
    assert 'id="team-lead-heading"' not in page

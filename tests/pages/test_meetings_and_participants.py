"""The meetings page and the statistics' participant search at size: as many statements for three
times the rows, as each role that sees them, pages that lose and repeat no row, and one log row
for each row shown."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from coordination.audit.models import AccessLogEntry
from coordination.core import paging
from coordination.extensions import db
from tests.factories import (
    PASSWORD,
    make_case,
    make_meeting,
    make_programme,
    make_sus_participant,
    make_user,
)
from tests.querycount import query_count


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _statements(client, url: str) -> int:
    _page(client, url)  # after the factories' commits, the signed-in user is loaded again
    return query_count(lambda: _page(client, url))


def _meetings(case, n: int, *, attendees=(), at: datetime | None = None) -> None:
    at = at or datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    for _ in range(n):
        make_meeting(case, starts_at=at, attendees=attendees)  # one start: ties in the sort key


@pytest.mark.parametrize("role", ["coordinator", "team_lead"])
def test_the_meetings_page_sends_as_many_statements_for_three_times_the_meetings(client, role):
    coordinator = make_user("coordinator")
    viewer = coordinator if role == "coordinator" else make_user("team_lead")
    case = make_case(coordinator=coordinator)
    attendees = () if viewer is coordinator else (viewer,)
    client.login(viewer.email, PASSWORD)

    _meetings(case, 2, attendees=attendees)
    few = _statements(client, "/meetings/")
    _meetings(make_case(coordinator=coordinator), 4, attendees=attendees)
    many = _statements(client, "/meetings/")
    assert many == few


def test_the_meetings_page_pages_ties_without_loss_or_repeat_and_logs_the_rows_shown(client):
    coordinator = make_user("coordinator")
    _meetings(make_case(coordinator=coordinator), 5)
    client.login(coordinator.email, PASSWORD)
    logged_before = db.session.scalar(
        select(func.count())
        .select_from(AccessLogEntry)
        .where(AccessLogEntry.object_type == "meeting")
    )

    seen: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paging, "PAGE_SIZE", 2)
        url, statuses = "/meetings/", []
        while url:
            html = _page(client, url)
            statuses += re.findall(r"Visar (\d+–\d+ av \d+)", html)
            seen += re.findall(r'href="/meetings/(\d+)"', html)
            following = re.search(r'href="([^"]+)" rel="next"', html)
            url = following.group(1).replace("&amp;", "&") if following else None
    assert statuses == ["1–2 av 5", "3–4 av 5", "5–5 av 5"]
    assert len(seen) == 5 and len(set(seen)) == 5
    logged = db.session.scalar(
        select(func.count())
        .select_from(AccessLogEntry)
        .where(AccessLogEntry.object_type == "meeting")
    )
    assert logged - logged_before == 5  # two, two and one: the rows shown, never the whole list


@pytest.mark.parametrize("role", ["coordinator", "team_lead"])
def test_the_participant_search_sends_as_many_statements_for_three_times_the_matches(client, role):
    viewer = make_user(role)
    programme = make_programme()
    client.login(viewer.email, PASSWORD)

    def participants(n: int) -> None:
        # A coordinator finds only the participants of cases they coordinate (issue 16).
        for _ in range(n):
            case = (
                make_case(programme=programme, coordinator=viewer)
                if role == "coordinator"
                else None
            )
            make_sus_participant(
                participant_ref="ABC-1",
                programme_id=programme.id,
                ratings=[(date(2024, 3, 1), 5)],
                case_id=case.id if case else None,
            )

    participants(2)
    few = _statements(client, "/statistics/participants?ref=abc-1")
    participants(4)
    many = _statements(client, "/statistics/participants?ref=abc-1")
    assert many == few
    assert "Visar 1–6 av 6" in _page(client, "/statistics/participants?ref=abc-1")

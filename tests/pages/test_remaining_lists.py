"""The remaining list pages at size: the conference page and list, groups, exits, the audit pages,
the admin's users and the meetings page of referrers and plan contacts send as many statements for
three times the rows, as each role that sees them; the paged lists lose and repeat no row."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from coordination.audit import review
from coordination.audit.models import AccessLogEntry
from coordination.core import paging
from coordination.core.i18n import local_today
from coordination.extensions import db
from coordination.meetings import groups as group_ops
from tests.factories import (
    PASSWORD,
    decide_referral,
    make_agency_user,
    make_case,
    make_conference,
    make_meeting,
    make_plan,
    make_programme,
    make_referral,
    make_return_referral,
    make_user,
)
from tests.querycount import query_count


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _statements(client, url: str) -> int:
    _page(client, url)  # after the factories' commits, the signed-in user is loaded again
    db.session.expire_all()  # as a new request finds them: nothing the factories loaded is kept
    return query_count(lambda: _page(client, url))


def _walk(client, url: str, link: str) -> tuple[list[str], list[str]]:
    """Follow the next-page links from url: the pager's statuses and the ids the link shows."""
    statuses: list[str] = []
    seen: list[str] = []
    while url:
        html = _page(client, url)
        statuses += re.findall(r"Visar (\d+–\d+ av \d+)", html)
        seen += re.findall(link, html)
        following = re.search(r'href="([^"]+)" rel="next"', html)
        url = following.group(1).replace("&amp;", "&") if following else None
    return statuses, seen


# --- the conference page and list ------------------------------------------------------------


def _agenda(conference, n: int) -> None:
    """n referrals on the agenda, every other one decided (with its case when admitted)."""
    for i in range(n):
        referral = make_referral("on_agenda", conference=conference)
        if i % 2:
            decide_referral(referral, conference, outcome="admit" if i % 4 == 1 else "recommend")


@pytest.mark.parametrize("role", ["team_lead", "conference_member"])
def test_the_conference_page_sends_as_many_statements_for_three_times_the_agenda(client, role):
    conference = make_conference(state="published", present="all")
    viewer = conference.chair.user if role == "team_lead" else conference.agency_members[0].user
    client.login(viewer.email, PASSWORD)
    url = f"/conferences/{conference.id}"

    _agenda(conference, 2)
    for _ in range(2):
        make_referral("submitted", programme=conference.programme)  # to add, for the team lead
    few = _statements(client, url)
    _agenda(conference, 4)
    for _ in range(4):
        make_referral("submitted", programme=conference.programme)
    many = _statements(client, url)
    assert many == few


def test_the_referrals_to_add_are_paged_without_loss_or_repeat(client):
    conference = make_conference()
    waiting = [make_referral("submitted", programme=conference.programme) for _ in range(5)]
    client.login(conference.chair.user.email, PASSWORD)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paging, "PAGE_SIZE", 2)
        statuses, seen = _walk(client, f"/conferences/{conference.id}", r'<option value="(\d+)"')
    assert statuses == ["1–2 av 5", "3–4 av 5", "5–5 av 5"]
    assert sorted(seen) == sorted(str(r.id) for r in waiting)


def test_the_conference_list_sends_as_many_statements_for_three_times_the_conferences(client):
    lead = make_user("team_lead")
    programme = make_programme()
    client.login(lead.email, PASSWORD)

    def conferences(days) -> None:
        for d in days:  # scheduled as if on that day: ten working days later
            make_conference(programme, chair=lead, now=datetime.now(UTC) + timedelta(days=d))

    conferences([20, -60])
    few = _statements(client, "/conferences/")
    conferences([30, 40, -70, -80])
    many = _statements(client, "/conferences/")
    assert many == few


# --- groups -----------------------------------------------------------------------------------


def _groups(leader, cases, n: int, first: date) -> None:
    for _ in range(n):
        group = group_ops.create_group(
            group_ops.GroupInput(
                programme_id=cases[0].programme_id,
                name="Hälsogrupp",
                preset="halsogrupp",
                first_date=first,
                leader_id=leader.id,
            ),
            by=leader,
        )
        for case in cases:
            group_ops.enrol(group, case, by=leader)
    db.session.commit()


@pytest.mark.parametrize("role", ["coordinator", "team_lead"])
def test_the_groups_page_sends_as_many_statements_for_three_times_the_groups(client, role):
    coordinator = make_user("coordinator")
    viewer = coordinator if role == "coordinator" else make_user("team_lead")
    leader = make_user("coordinator")  # the coordinator sees them through their participant
    case = make_case(coordinator=coordinator)
    client.login(viewer.email, PASSWORD)

    _groups(leader, [case], 2, date(2027, 3, 1))
    few = _statements(client, "/meetings/groups/")
    _groups(leader, [case], 4, date(2027, 3, 1))
    many = _statements(client, "/meetings/groups/")
    assert many == few


def test_the_groups_page_shows_a_coordinator_only_the_groups_of_their_participants(client):
    coordinator = make_user("coordinator")
    leader = make_user("coordinator")
    _groups(leader, [make_case(coordinator=coordinator)], 3, date(2027, 3, 1))
    _groups(leader, [make_case()], 2, date(2027, 3, 1))  # another coordinator's participant
    client.login(coordinator.email, PASSWORD)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paging, "PAGE_SIZE", 2)
        statuses, seen = _walk(client, "/meetings/groups/", r'href="/meetings/groups/(\d+)"')
    assert statuses == ["1–2 av 3", "3–3 av 3"]
    assert len(set(seen)) == 3


# --- exits ------------------------------------------------------------------------------------


def test_the_exits_page_sends_as_many_statements_for_three_times_the_cases(client):
    coordinator = make_user("coordinator")
    client.login(coordinator.email, PASSWORD)

    def cases(n: int) -> None:
        for i in range(n):
            case = make_case(coordinator=coordinator)
            if i % 2:
                make_return_referral(case=case)  # exiting, with its draft

    cases(2)
    few = _statements(client, "/exits/")
    cases(4)
    many = _statements(client, "/exits/")
    assert many == few


def test_the_exits_page_sends_as_many_statements_for_three_times_the_packets(client):
    referrer = make_agency_user("af")
    client.login(referrer.email, PASSWORD)

    def packets(n: int) -> None:
        for _ in range(n):
            make_return_referral("delivered", case=make_case(referrer=referrer))

    packets(2)
    few = _statements(client, "/exits/")
    packets(4)
    many = _statements(client, "/exits/")
    assert many == few


def test_the_exits_page_pages_the_cases_and_logs_the_rows_shown(client):
    coordinator = make_user("coordinator")
    cases = [make_case(coordinator=coordinator) for _ in range(3)]
    client.login(coordinator.email, PASSWORD)

    def logged() -> int:
        return db.session.scalar(
            select(func.count())
            .select_from(AccessLogEntry)
            .where(
                AccessLogEntry.object_type == "case",
                AccessLogEntry.action == "list",
                AccessLogEntry.user_id == coordinator.id,
            )
        )

    before = logged()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paging, "PAGE_SIZE", 2)
        statuses, seen = _walk(client, "/exits/", r'href="/cases/(\d+)/exit"')
    assert statuses == ["1–2 av 3", "3–3 av 3"]
    assert sorted(seen) == sorted(str(c.id) for c in cases)
    assert logged() - before == 3  # two, then one: the rows shown


# --- the audit pages --------------------------------------------------------------------------


def _entries(n: int, *, user_id: int, person_id: int, at: datetime) -> None:
    db.session.add_all(
        AccessLogEntry(
            at=at,
            user_id=user_id,
            action="read",
            object_type="case",
            object_id=str(i),
            person_id=person_id,
        )
        for i in range(n)
    )
    db.session.commit()


def test_the_audit_pages_send_as_many_statements_for_three_times_the_entries(client):
    auditor = make_user("auditor")
    case = make_case()
    reader = make_user("coordinator")
    at = datetime.now(UTC) - timedelta(hours=1)
    client.login(auditor.email, PASSWORD)
    urls = [f"/audit/person/{case.person_id}", f"/audit/user/{reader.id}"]

    _entries(2, user_id=reader.id, person_id=case.person_id, at=at)
    few = [_statements(client, url) for url in urls]
    _entries(4, user_id=reader.id, person_id=case.person_id, at=at)
    many = [_statements(client, url) for url in urls]
    assert many == few


def test_the_audit_person_page_pages_ties_on_the_time_without_loss_or_repeat(client):
    auditor = make_user("auditor")
    case = make_case()
    reader = make_user("coordinator")
    _entries(5, user_id=reader.id, person_id=case.person_id, at=datetime(2026, 1, 5, tzinfo=UTC))
    client.login(auditor.email, PASSWORD)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paging, "PAGE_SIZE", 2)
        statuses, seen = _walk(client, f"/audit/user/{reader.id}", r"read case (\d+)")
    assert statuses == ["1–2 av 5", "3–4 av 5", "5–5 av 5"]
    assert sorted(seen) == ["0", "1", "2", "3", "4"]


def test_the_review_sample_sends_as_many_statements_for_three_times_the_entries(client):
    auditor = make_user("auditor")
    reader = make_user("coordinator")
    case = make_case()
    client.login(auditor.email, PASSWORD)
    # A period of its own (only these rows), at midday: the sample's period is in local days,
    # and late in the UTC evening the UTC date is already the next local day.
    at = datetime.combine(local_today() - timedelta(days=400), time(12), tzinfo=UTC)

    def sample(n: int) -> str:
        _entries(n, user_id=reader.id, person_id=case.person_id, at=at)
        drawn = review.draw_sample(start=at.date(), end=at.date(), size=n, by=auditor)
        db.session.commit()
        assert len(drawn.entries) == n
        return f"/audit/samples/{drawn.id}"

    few = _statements(client, sample(2))
    many = _statements(client, sample(6))
    assert many == few


# --- the admin's users ------------------------------------------------------------------------


def test_the_users_page_sends_as_many_statements_for_three_times_the_users(client):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    for _ in range(2):
        make_agency_user("af", "referrer", "conference_member")
    few = _statements(client, "/admin/users")
    for _ in range(4):
        make_agency_user("region", "referrer")
    many = _statements(client, "/admin/users")
    assert many == few


# --- the meetings page of those who see a case through the consent ----------------------------


@pytest.mark.parametrize("role", ["referrer", "plan_contact"])
def test_the_meetings_page_is_constant_for_referrers_and_plan_contacts(client, role):
    viewer = make_agency_user("af")
    client.login(viewer.email, PASSWORD)

    def meetings(n: int) -> None:
        for _ in range(n):
            if role == "referrer":
                case = make_case(referrer=viewer)
            else:
                case = make_case()
                make_plan(case, contact=viewer)
            make_meeting(case, attendees=(viewer,))

    meetings(2)
    few = _statements(client, "/meetings/")
    assert len(re.findall(r'href="/meetings/(\d+)"', _page(client, "/meetings/"))) == 2
    meetings(4)
    many = _statements(client, "/meetings/")
    assert many == few
    assert len(re.findall(r'href="/meetings/(\d+)"', _page(client, "/meetings/"))) == 6

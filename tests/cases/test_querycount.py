"""The N+1 guard of the case pages and the case API: the statements a request sends do not grow
with the number of cases, coordinators, meetings or waiting cases (counted at n and at 3n)."""

from datetime import UTC, datetime, timedelta

from coordination.auth.models import User
from coordination.cases.models import Case
from coordination.conferences.models import Conference
from coordination.extensions import db
from tests.factories import (
    PASSWORD,
    admit_case,
    make_conference,
    make_meeting,
    make_plan,
    make_programme,
    make_user,
    record_meeting,
    token_headers,
)
from tests.querycount import counted_queries, query_count


def _coordinator_of(case_id: int) -> int:
    return db.session.get(Case, case_id).coordinator_id


def _missed_meeting(case_id: int, days_ago: int) -> None:
    """A past meeting of the case that the participant missed."""
    starts = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago)
    record_meeting(case_id, starts, "missed")
    db.session.commit()


def _busy_case(coordinator_id=None, conference_id=None) -> int:
    """A case with everything the pages show: a signed plan, a meeting ahead, a missed one."""
    case = admit_case(
        coordinator=db.session.get(User, coordinator_id) if coordinator_id else None,
        conference=db.session.get(Conference, conference_id) if conference_id else None,
        complexity_weight=1,  # a coordinator's dozen cases stay within the capacity
    )
    make_plan(case, signed=True)
    make_meeting(case)
    _missed_meeting(case.id, 10)
    return case.id


def _statements(get, url: str, **kwargs) -> int:
    """Return how many statements one request for the page sends, from an empty session (as a
    request in production starts)."""
    db.session.commit()
    db.session.expunge_all()

    def fetch():
        response = get(url, **kwargs)
        assert response.status_code == 200, response.status_code

    return query_count(fetch)


def _same_at_n_and_3n(get, urls, add_cases, n: int = 2, **kwargs) -> None:
    """Count each page with n cases, add 2n more, and count again: the counts are equal.

    Each page is asked once before counting: the first use of a sign-in or a token writes."""
    add_cases(n)
    for url in urls:
        get(url(), **kwargs)
    before = {url(): _statements(get, url(), **kwargs) for url in urls}
    add_cases(2 * n)
    after = {url(): _statements(get, url(), **kwargs) for url in urls}
    assert list(after.values()) == list(before.values()), (before, after)


def test_the_coordinators_caseload_and_case_pages_do_not_grow_with_the_cases(client, api):
    coordinator = make_user("coordinator")
    conference = make_conference(state="published", present="all")
    ids = (coordinator.id, conference.id)
    cases = []

    def add(k):
        cases.extend(_busy_case(*ids) for _ in range(k))

    client.login(coordinator.email, PASSWORD)
    _same_at_n_and_3n(
        client.get,
        [
            lambda: "/cases/",
            lambda: "/cases/?sort=next_meeting&dir=asc",
            lambda: "/cases/?sort=missed&warnings=1",
            lambda: f"/cases/{cases[0]}",
        ],
        add,
    )
    headers = token_headers(db.session.get(User, ids[0]))
    _same_at_n_and_3n(
        api.get,
        [lambda: "/api/v1/cases?per_page=100", lambda: f"/api/v1/cases/{cases[0]}"],
        add,
        headers=headers,
    )


def test_the_team_leads_pages_do_not_grow_with_cases_and_coordinators(client, api):
    lead = make_user("team_lead")
    conference_id = make_conference(state="published", present="all").id
    cases = []

    def add(k):  # every case with a coordinator of its own: coordinators grow too
        cases.extend(_busy_case(conference_id=conference_id) for _ in range(k))

    client.login(lead.email, PASSWORD)
    lead_id = lead.id
    sorts = ["warnings", "coordinator", "review_on", "days", "open_actions", "state"]
    _same_at_n_and_3n(
        client.get,
        [
            lambda: "/cases/",
            *[lambda s=s: f"/cases/?sort={s}" for s in sorts],
            lambda: f"/cases/?coordinator_id={_coordinator_of(cases[0])}",
            lambda: f"/cases/{cases[0]}",
            lambda: "/cases/coordinators",
        ],
        add,
    )
    headers = token_headers(db.session.get(User, lead_id))
    _same_at_n_and_3n(
        api.get,
        [
            lambda: "/api/v1/cases?per_page=100",
            lambda: "/api/v1/cases?per_page=2&page=2",
            lambda: f"/api/v1/cases/{cases[0]}",
        ],
        add,
        headers=headers,
    )


def test_the_case_page_does_not_grow_with_its_meetings_and_history(client):
    lead = make_user("team_lead")
    case_id = _busy_case()
    client.login(lead.email, PASSWORD)

    def add(k):
        for _ in range(k):
            make_meeting(db.session.get(Case, case_id))
            _missed_meeting(case_id, 3)

    _same_at_n_and_3n(client.get, [lambda: f"/cases/{case_id}"], add)


def test_the_queue_does_not_grow_with_the_waiting_cases(client):
    programme = make_programme(capacity=1)
    conference_id = make_conference(programme, state="published", present="all").id
    admit_case(conference=db.session.get(Conference, conference_id))
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)

    def add(k):
        for _ in range(k):
            conference = db.session.get(Conference, conference_id)
            assert admit_case(conference=conference).state == "waiting"

    _same_at_n_and_3n(client.get, [lambda: "/cases/queue"], add)


def test_a_coordinator_with_only_assigned_cases_sends_no_empty_case_query(api):
    """Nothing to check beyond the assigned cases: no `IN (NULL)`, which PostgreSQL plans under
    the förbund policy as a parallel scan of every case before finding it returns nothing."""
    coordinator = make_user("coordinator")
    case_id = _busy_case(coordinator.id)
    headers = token_headers(db.session.get(User, coordinator.id))
    api.get("/api/v1/cases", headers=headers)  # the token's first use writes
    with counted_queries() as statements:
        response = api.get("/api/v1/cases", headers=headers)
    assert response.status_code == 200
    assert [item["id"] for item in response.get_json()["items"]] == [case_id]
    assert not [s for s in statements if "IN (NULL)" in s]


def test_a_coordinator_without_cases_gets_an_empty_api_list_without_an_empty_case_query(api):
    coordinator = make_user("coordinator")
    _busy_case()  # someone else's
    headers = token_headers(db.session.get(User, coordinator.id))
    api.get("/api/v1/cases", headers=headers)  # the token's first use writes
    with counted_queries() as statements:
        response = api.get("/api/v1/cases", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"items": [], "total": 0}
    assert not [s for s in statements if "IN (NULL)" in s]

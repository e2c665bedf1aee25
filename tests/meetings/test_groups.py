"""Group activities: the schedule generates the sessions, capacity holds, attendance in bulk, and
group sessions count towards the ladder only when the programme says so."""

from datetime import UTC, date, datetime, timedelta

import pytest

from coordination.core.errors import Conflict
from coordination.extensions import db
from coordination.meetings import groups as group_ops
from coordination.meetings import queries
from tests.factories import make_case, make_programme, make_user, token_headers
from workflows.calendar import STOCKHOLM


def _group(programme, leader, **fields):
    group = group_ops.create_group(
        group_ops.GroupInput(
            programme_id=programme.id,
            name=fields.pop("name", "Hälsogrupp våren"),
            preset=fields.pop("preset", "halsogrupp"),
            first_date=fields.pop("first_date", date(2027, 3, 1)),
            leader_id=leader.id,
            **fields,
        ),
        by=leader,
    )
    db.session.commit()
    return group


def test_a_halsogrupp_gets_its_sessions_and_holds_twelve(api, enqueued):
    programme = make_programme()
    leader = make_user("coordinator")
    response = api.post(
        "/api/v1/groups",
        json={
            "programme_id": programme.id,
            "name": "Hälsogrupp våren",
            "preset": "halsogrupp",
            "first_date": "2027-03-01",
            "leader_id": leader.id,
            "location": "Träffpunkten",
        },
        headers=token_headers(leader),
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["capacity"] == 12 and body["weeks"] == 12 and body["weekdays"] == [1, 3]
    # 24 Tuesdays and Thursdays, less Kristi himmelsfärdsdag (Thursday 6 May 2027).
    assert len(body["sessions"]) == 23
    local = [datetime.fromisoformat(s["starts_at"]).astimezone(STOCKHOLM) for s in body["sessions"]]
    assert {(t.hour, t.minute) for t in local} == {(10, 0)}


def test_enrolment_stops_at_capacity(enqueued):
    programme = make_programme()
    leader = make_user("coordinator")
    group = _group(programme, leader, capacity=2)
    cases = [make_case(programme=programme) for _ in range(3)]
    for case in cases[:2]:
        group_ops.enrol(group, case, by=leader)
    db.session.commit()
    with pytest.raises(Conflict, match="full"):
        group_ops.enrol(group, cases[2], by=leader)
    db.session.rollback()
    with pytest.raises(Conflict):
        group_ops.enrol(group, cases[0], by=leader)


@pytest.mark.parametrize(("counts", "expected"), [(False, 0), (True, 1)])
def test_bulk_attendance_and_whether_group_sessions_count(api, enqueued, counts, expected):
    programme = make_programme(group_sessions_count=counts)
    leader = make_user("coordinator")
    today = datetime.now(UTC).date()
    start = today - timedelta(days=today.weekday() + 35)  # a Monday five weeks ago
    group = _group(programme, leader, first_date=start, weeks=1, weekdays=[0, 1, 2, 3, 4])
    cases = [make_case(programme=programme) for _ in range(2)]
    for case in cases:
        group_ops.enrol(group, case, by=leader)
    db.session.commit()
    session = group.sessions[0]
    response = api.post(
        f"/api/v1/meetings/{session.id}/attendance",
        json={
            "attendance": [
                {"case_id": cases[0].id, "status": "attended"},
                {"case_id": cases[1].id, "status": "missed"},
            ]
        },
        headers=token_headers(leader),
    )
    assert response.status_code == 200, response.get_json()
    items = {i["case_id"]: i for i in response.get_json()["items"]}
    assert items[cases[1].id]["missed_count"] == expected
    assert queries.missed_count(cases[1]).current == expected
    assert bool(queries.open_tasks(case_id=cases[1].id)) is counts
    outsider = make_case(programme=programme)
    refused = api.post(
        f"/api/v1/meetings/{session.id}/attendance",
        json={"status": "missed", "case_id": outsider.id},
        headers=token_headers(leader),
    )
    assert refused.status_code == 422

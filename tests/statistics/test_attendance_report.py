"""The attendance-and-escalations report (../shared/DOMAIN.md §8, §12): exact figures on the page,
in the CSV export and in the API, from a small set of meetings and escalations."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from coordination.extensions import db
from coordination.meetings.models import Escalation
from coordination.statistics import reports
from tests.factories import (
    PASSWORD,
    make_case,
    make_programme,
    make_user,
    record_meeting,
    token_headers,
)

MARCH = {"date_from": "2030-03-01", "date_to": "2030-03-31"}


def _at(day: int, hour: int = 9, month: int = 3) -> datetime:
    return datetime(2030, month, day, hour, tzinfo=UTC)


def _escalation(case, opened_at, status, decision=None):
    db.session.add(
        Escalation(
            case_id=case.id,
            status=status,
            opened_at=opened_at,
            missed_count=3,
            decision_due_at=opened_at + timedelta(days=7),
            decision=decision,
            decided_at=opened_at + timedelta(days=2) if decision else None,
            exit_reason="avbrutit_uteblivit" if decision == "discharge" else None,
            withdrawn_at=opened_at + timedelta(days=1) if status == "withdrawn" else None,
        )
    )
    db.session.flush()


@pytest.fixture()
def meetings():
    """A woman's case and a man's case with their March 2030 meetings and escalations."""
    programme = make_programme(capacity=10)
    woman = make_case(programme=programme, gender="kvinna")
    man = make_case(programme=programme, gender="man")
    for day, status in (
        (4, "attended"),
        (11, "attended"),
        (18, "attended"),
        (19, "missed"),
        (20, "cancelled_by_participant"),
    ):
        record_meeting(woman.id, _at(day), status)
    record_meeting(woman.id, _at(31, 21, 3), "attended")  # 23:00 on 31 March in Stockholm
    record_meeting(woman.id, _at(31, 22, 3), "missed")  # 00:00 on 1 April: outside
    record_meeting(woman.id, _at(25, 9, 2), "attended")  # February: outside
    record_meeting(woman.id, _at(26), None)  # nothing registered: not counted
    for day, status in (
        (5, "attended"),
        (12, "missed"),
        (13, "missed"),
        (14, "cancelled_by_staff"),
    ):
        record_meeting(man.id, _at(day), status)
    _escalation(woman, _at(6), "decided", "continue")
    _escalation(woman, _at(21), "withdrawn")
    _escalation(man, _at(15), "decided", "discharge")
    _escalation(man, _at(20, 9, 2), "withdrawn")  # February: outside
    db.session.commit()
    return programme


def test_attendance_figures_in_the_api(api, meetings):
    headers = token_headers(make_user("analyst"))
    body = api.get(
        "/api/v1/statistics/attendance",
        query_string={"programme_id": meetings.id, **MARCH},
        headers=headers,
    ).get_json()
    rows = {r["code"]: r for r in body["rows"]}
    counts = {code: (r["kvinna"], r["man"], r["annat"], r["total"]) for code, r in rows.items()}
    assert counts == {
        "attended": (4, 1, 0, 5),
        "missed": (1, 2, 0, 3),
        "cancelled_by_participant": (1, 0, 0, 1),
        "cancelled_by_staff": (0, 1, 0, 1),
        "attendance_rate": (4, 1, 0, 5),
        "escalations": (2, 1, 0, 3),
        "escalation_continue": (1, 0, 0, 1),
        "escalation_discharge": (0, 1, 0, 1),
        "escalation_withdrawn": (1, 0, 0, 1),
        "escalation_open": (0, 0, 0, 0),
    }
    # Registered attendance: 6 for her, 4 for him, the denominator of the first four rows.
    assert body["denominator"] == {
        "kvinna": 6,
        "man": 4,
        "annat": 0,
        "total": 10,
        "suppressed": [],
    }
    assert rows["attended"]["percent"] == {
        "kvinna": 66.7,
        "man": 25.0,
        "annat": None,
        "total": 50.0,
    }
    # The rate: came, of the meetings that were not cancelled (came + missed).
    assert rows["attendance_rate"]["denominator"]["total"] == 8
    assert rows["attendance_rate"]["percent"] == {
        "kvinna": 80.0,
        "man": 33.3,
        "annat": None,
        "total": 62.5,
    }
    assert rows["escalations"]["percent"]["total"] is None  # a count, no share
    assert rows["escalation_continue"]["percent"]["total"] == 33.3  # of the 3 escalations
    assert body["totals"]["total"] == 10  # the registered meetings, not the rows added up
    assert body["totals_label"] == "Möten med registrerad närvaro (nämnare)"

    other = make_programme()
    empty = api.get(
        "/api/v1/statistics/attendance",
        query_string={"programme_id": other.id, **MARCH},
        headers=headers,
    ).get_json()
    assert all(r["total"] == 0 for r in empty["rows"])


def test_attendance_page_and_csv(client, meetings):
    user = make_user("analyst")
    client.login(user.email, PASSWORD)
    query = f"programme_id={meetings.id}&date_from=2030-03-01&date_to=2030-03-31"
    page = client.get(f"/statistics/reports/attendance?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rate = html[html.index('<th scope="row">Närvarograd') :].split("</tr>", 1)[0]
    cells = [c.split("</td>")[0] for c in rate.split('<td class="table__numeric">')[1:]]
    assert cells == ["4", "80,0", "1", "33,3", "0", "–", "5", "62,5", "8"]
    assert "Möten med registrerad närvaro (nämnare)" in html
    assert "reports/attendance/chart.svg" in html
    chart = client.get(f"/statistics/reports/attendance/chart.svg?{query}")
    assert chart.status_code == 200 and b"<svg" in chart.data

    text = client.get(f"/statistics/reports/attendance/export.csv?{query}").get_data()
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Kod")
    assert rows[header][-1] == "Nämnare, totalt"
    by_code = {r[0]: r for r in rows[header + 1 :] if r}
    assert by_code["missed"][2:] == ["1", "16.7", "2", "50.0", "0", "", "3", "30.0", "10"]
    assert by_code["attendance_rate"][8:] == ["5", "62.5", "8"]
    assert by_code["escalation_discharge"][2:] == [
        "0",
        "0.0",
        "1",
        "100.0",
        "0",
        "",
        "1",
        "33.3",
        "3",
    ]
    total = next(r for r in rows[header + 1 :] if r and r[1].startswith("Möten med registrerad"))
    assert total[8] == "10"


def test_attendance_is_registered_last():
    assert list(reports.REPORTS)[-1] == "attendance"

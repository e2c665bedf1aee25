"""The caseload in SQL: keyset pages that lose and repeat no row in any order, the warnings and
the missed count that the database computes agreeing with the rules of workflows, and the page's
links, count and access log."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from coordination.action_plans.models import PlanVersion
from coordination.audit.models import AccessLogEntry
from coordination.cases import caseload as reads
from coordination.cases.models import Case
from coordination.core.i18n import local_today
from coordination.extensions import db
from coordination.meetings import queries as meeting_queries
from coordination.meetings.models import Escalation
from tests.factories import (
    PASSWORD,
    admit_case,
    make_conference,
    make_meeting,
    make_plan,
    make_programme,
    make_user,
    record_meeting,
)
from workflows.calendar import WorkingCalendar

CALENDAR = WorkingCalendar()


def _escalate(case_id: int) -> None:
    db.session.add(
        Escalation(
            case_id=case_id,
            status="open",
            missed_count=3,
            decision_due_at=datetime.now(UTC) + timedelta(days=10),
        )
    )
    db.session.flush()


# --- keyset pages ---------------------------------------------------------------------------


@pytest.fixture()
def ties():
    """Eight cases with ties in every column: same states, meetings at the same time, the same
    coordinator, the same enrolment day, and some without a value (no meeting, no plan, no
    coordinator)."""
    lead = make_user("team_lead")
    first, second = make_user("coordinator"), make_user("coordinator")
    conference = make_conference(state="published", present="all")
    cases = [
        admit_case(conference=conference, coordinator=first if i % 3 else second) for i in range(8)
    ]
    same_time = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    enrolled = local_today() - timedelta(days=40)
    for i, case in enumerate(cases):
        if i in (1, 2, 5):
            make_meeting(case, starts_at=same_time)
        if i == 6:
            make_meeting(case, starts_at=same_time + timedelta(days=1))
        if i in (2, 3, 7):
            make_plan(case, signed=True)
        if i in (0, 4):
            record_meeting(case.id, datetime.now(UTC) - timedelta(days=2), "missed")
        if i == 4:
            _escalate(case.id)
        case.enrolled_on = enrolled if i % 2 else enrolled + timedelta(days=i)
    ended = cases[7].active_assignment
    ended.active, ended.ended_at = False, datetime.now(UTC)
    db.session.commit()
    return lead, [c.id for c in cases]


def _value(row: reads.CaseRow, sort: str):
    return {
        "id": row.case.id,
        "state": row.case.state,
        "coordinator": row.coordinator.id if row.coordinator else None,
        "next_meeting": row.next_meeting_at,
        "missed": row.missed_count,
        "open_tasks": row.open_tasks,
        "open_actions": row.open_actions,
        "review_on": row.review_on,
        "days": row.days,
        "warnings": len(row.warnings),
    }[sort]


def _walk(lead, flt, *, size: int):
    """Follow the next links from the first page, then the previous links back."""
    today = local_today()
    pages = [reads.caseload_page(lead, flt, today=today, calendar=CALENDAR, size=size)]
    while pages[-1].next is not None:
        pages.append(
            reads.caseload_page(
                lead, flt, today=today, calendar=CALENDAR, size=size, after=pages[-1].next
            )
        )
    back = [pages[-1]]
    while back[-1].previous is not None:
        back.append(
            reads.caseload_page(
                lead, flt, today=today, calendar=CALENDAR, size=size, before=back[-1].previous
            )
        )
    return pages, back[::-1]


@pytest.mark.parametrize("sort", reads.SORTS)
def test_keyset_pages_lose_and_repeat_no_row_in_any_order(ties, sort):
    lead, ids = ties
    for descending in (False, True):
        flt = reads.CaseloadFilter(sort=sort, descending=descending)
        whole = reads.caseload_page(lead, flt, today=local_today(), calendar=CALENDAR, size=100)
        everyone = [r.case.id for r in whole.rows]
        assert sorted(set(everyone) & set(ids)) == sorted(ids) and whole.total == len(everyone)
        forward, backward = _walk(lead, flt, size=3)
        walked = [r.case.id for p in forward for r in p.rows]
        assert walked == everyone, (sort, descending)
        assert [[r.case.id for r in p.rows] for p in backward] == [
            [r.case.id for r in p.rows] for p in forward
        ]
        assert [p.first for p in forward] == list(range(1, len(everyone) + 1, 3))
        assert all(p.total == len(everyone) for p in forward + backward)
        # The order: the sort value (rows without one last), ties by case number.
        values = [_value(r, sort) for r in whole.rows]
        present = [v for v in values if v is not None]
        assert values == present + [None] * (len(values) - len(present))
        for i in range(len(values) - 1):
            a, b = values[i], values[i + 1]
            if a == b:
                assert whole.rows[i].case.id < whole.rows[i + 1].case.id
            elif sort != "coordinator" and a is not None and b is not None:
                assert (a > b) if descending else (a < b)
        if sort == "coordinator":  # by name: each coordinator's cases together
            seen = [v for i, v in enumerate(present) if i == 0 or present[i - 1] != v]
            assert len(seen) == len(set(seen))


def test_a_cursor_that_cannot_be_read_is_the_first_page():
    assert reads.parse_cursor("warnings", "x", "12") is None
    assert reads.parse_cursor("next_meeting", "2026-01-01T10:00:00", "12") is None  # no zone
    assert reads.parse_cursor("state", "flying", "12") is None
    assert reads.parse_cursor("id", "1", "²") is None
    assert reads.parse_cursor("days", "2026-02-30", "3") is None
    assert reads.parse_cursor("review_on", "", "3") == reads.Cursor(None, 3)
    cursor = reads.Cursor(datetime(2026, 5, 4, 8, 30, tzinfo=UTC), 7)
    assert reads.parse_cursor("next_meeting", *reads.cursor_text(cursor)) == cursor


# --- the rules agree --------------------------------------------------------------------------


def _sql_warning_counts(ids: list[int], today: date) -> dict[int, int]:
    cols = reads.CaseColumns(today=today, calendar=CALENDAR)
    query = select(Case.id, cols.warning_count).where(Case.id.in_(ids))
    return dict(db.session.execute(query).all())


def test_the_warnings_in_sql_agree_with_the_rule_day_by_day_over_the_holidays():
    lead = make_user("team_lead")
    long = make_conference(make_programme(max_duration_days=60), state="published", present="all")
    short = make_conference(
        make_programme(max_duration_days=30, duration_warning_percent=50),
        state="published",
        present="all",
    )
    endless = make_conference(make_programme(), state="published", present="all")
    unsigned = admit_case(conference=long)
    signed = admit_case(conference=short)
    make_plan(signed, signed=True)
    escalated = admit_case(conference=endless)
    _escalate(escalated.id)
    paused_like_waiting = admit_case(conference=endless)
    start = date(2026, 12, 10)  # Christmas, New Year and Epiphany within the next 20 working days
    for case, enrolled in (
        (unsigned, start),
        (signed, start - timedelta(days=3)),
        (escalated, start + timedelta(days=2)),
        (paused_like_waiting, start),
    ):
        case.enrolled_on = enrolled
    version = db.session.scalar(select(PlanVersion).where(PlanVersion.case_id == signed.id))
    version.review_on = start + timedelta(days=25)
    paused_like_waiting.state = "waiting"
    paused_like_waiting.enrolled_on = None
    db.session.commit()
    ids = [unsigned.id, signed.id, escalated.id, paused_like_waiting.id]
    seen = set()
    for offset in range(0, 75):
        today = start + timedelta(days=offset)
        rows = reads.rows_for(ids, lead, today=today, calendar=CALENDAR)
        rule = {r.case.id: len(r.warnings) for r in rows}
        seen |= {(r.case.id, tuple(r.warnings)) for r in rows}
        assert _sql_warning_counts(ids, today) == rule, today
        only = reads.caseload_page(
            lead,
            reads.CaseloadFilter(warnings_only=True),
            today=today,
            calendar=CALENDAR,
            size=100,
        )
        assert {r.case.id for r in only.rows} & set(ids) == {i for i, n in rule.items() if n}
    # Every warning was met on the way, and its absence too.
    met = {w for _case, found in seen for w in found}
    assert met == {"escalated", "plan_unsigned", "review_overdue", "near_max_duration"} | {
        "over_max_duration"
    }
    assert (unsigned.id, ()) in seen


def test_the_missed_count_in_sql_agrees_with_the_ladder_in_both_counting_modes():
    lead = make_user("team_lead")
    programme = make_programme()
    case = admit_case(conference=make_conference(programme, state="published", present="all"))
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(days=60)
    record_meeting(case.id, t, "missed")
    record_meeting(case.id, t + timedelta(days=1), "missed")
    record_meeting(case.id, t + timedelta(days=2), "attended")
    record_meeting(case.id, t + timedelta(days=3), "missed")
    record_meeting(case.id, t + timedelta(days=4), "cancelled_by_participant")
    record_meeting(case.id, t + timedelta(days=5), "missed")
    record_meeting(case.id, t + timedelta(days=6), None)  # not registered yet
    # Two at the same time: the later id (attended) ends the run the earlier id (missed) began.
    record_meeting(case.id, t + timedelta(days=7), "missed")
    record_meeting(case.id, t + timedelta(days=7), "attended")
    record_meeting(case.id, t + timedelta(days=8), "missed")
    cancelled = record_meeting(case.id, t + timedelta(days=9), "missed")
    cancelled.status, cancelled.cancelled_at = "cancelled", t
    db.session.commit()

    def both() -> tuple[int, int]:
        db.session.expire_all()
        row = reads.rows_for([case.id], lead, today=local_today(), calendar=CALENDAR)[0]
        ladder = meeting_queries.missed_count(db.session.get(Case, case.id)).current
        return row.missed_count, ladder

    counts = {}
    for mode in ("since_reset", "consecutive"):
        programme.counting_mode = mode
        db.session.commit()
        counts[mode] = both()
        assert counts[mode][0] == counts[mode][1], mode
    assert counts == {"since_reset": (6, 6), "consecutive": (1, 1)}
    # A `continue` decision resets the count: only the misses after it count.
    db.session.add(
        Escalation(
            case_id=case.id,
            status="decided",
            decision="continue",
            missed_count=3,
            decision_due_at=t,
            decided_at=t + timedelta(days=4, hours=2),
        )
    )
    db.session.commit()
    for mode in ("since_reset", "consecutive"):
        programme.counting_mode = mode
        db.session.commit()
        sql, ladder = both()
        assert sql == ladder, mode


# --- the page ---------------------------------------------------------------------------------


def test_the_caseload_pages_link_count_and_log_only_the_rows_shown(client, monkeypatch):
    monkeypatch.setattr(reads, "PAGE_SIZE", 2)
    coordinator = make_user("coordinator")
    conference = make_conference(state="published", present="all")
    for _ in range(5):
        admit_case(conference=conference, coordinator=coordinator, complexity_weight=1)
    client.login(coordinator.email, PASSWORD)

    def logged() -> int:
        return len(
            db.session.scalars(
                select(AccessLogEntry).where(
                    AccessLogEntry.user_id == coordinator.id, AccessLogEntry.action == "list"
                )
            ).all()
        )

    def link(page: str, rel: str) -> str | None:
        found = re.search(rf'<a href="([^"]+)" rel="{rel}" aria-label="([^"]+)"', page)
        return found.group(1).replace("&amp;", "&") if found else None

    first = client.get("/cases/?sort=id&dir=asc").get_data(as_text=True)
    assert "Visar 1–2 av 5" in first
    assert logged() == 2
    assert link(first, "prev") is None
    assert 'aria-label="Nästa sida: deltaganden efter nummer 2 i listan"' in first
    second = client.get(link(first, "next")).get_data(as_text=True)
    assert "Visar 3–4 av 5" in second and logged() == 4
    third = client.get(link(second, "next")).get_data(as_text=True)
    assert "Visar 5–5 av 5" in third and link(third, "next") is None
    back = client.get(link(third, "prev")).get_data(as_text=True)
    assert "Visar 3–4 av 5" in back
    again = client.get(link(back, "prev")).get_data(as_text=True)
    assert "Visar 1–2 av 5" in again and link(again, "prev") is None
    assert client.get("/cases/?sort=id&after=x&after_id=1").status_code == 200


def test_the_start_page_counts_the_coordinators_caseload(client):
    coordinator = make_user("coordinator")
    conference = make_conference(state="published", present="all")
    quiet = admit_case(conference=conference, coordinator=coordinator)
    loud = admit_case(conference=conference, coordinator=coordinator)
    _escalate(loud.id)
    quiet.enrolled_on = quiet.enrolled_on  # no warnings: enrolled today, no plan due yet
    db.session.commit()
    client.login(coordinator.email, PASSWORD)
    page = client.get("/").get_data(as_text=True)
    assert "2 deltaganden i din ärendelista" in page
    assert "1 deltagande med varningar" in page


def test_the_missed_count_finds_a_cases_escalations_by_index():
    """The caseload's missed count reads each case's `continue` decisions (migration 0016)."""
    from sqlalchemy import inspect

    indexes = inspect(db.session.connection()).get_indexes("escalation")
    whole = [i for i in indexes if not i.get("dialect_options", {}).get("postgresql_where")]
    assert any(i["column_names"][:1] == ["case_id"] for i in whole)

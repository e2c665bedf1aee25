"""The floor of each page: the raw SQL (psycopg) that returns the rows the page shows.

A list's floor is one page of it, as the issue asks the lists to become (keyset, 50 rows, the
count in SQL): the team lead's caseload and the referral list show 50 rows, the API its 20; a
coordinator's caseload is all of their open cases. The floor app (`app`) serves these same rows
on the same paths, as plain HTML or JSON, for the 20-user mix against gunicorn; it knows the user
from the `X-Bench-User` header.
"""

from __future__ import annotations

import html
import json
import os
from datetime import date, datetime

PAGE = 50
API_PAGE = 20
OPEN_STATES = "('enrolled', 'active', 'paused', 'exiting')"

_CASE_COLUMNS = """
    c.id, c.state, c.enrolled_on, c.complexity_weight, p.id, p.first_name, p.last_name,
    p.protected_identity, u.id, u.name, pv.number, pv.state, pvs.number,
    coalesce(pvs.review_on, pv.review_on),
    (SELECT count(*) FROM plan_action a WHERE a.version_id = coalesce(pvs.id, pv.id)
        AND a.status IN ('planned', 'ongoing')),
    (SELECT min(m.starts_at) FROM meeting m WHERE m.case_id = c.id AND m.status = 'booked'
        AND m.starts_at > now()),
    (SELECT count(*) FROM attendance t WHERE t.case_id = c.id AND t.status = 'missed'),
    EXISTS (SELECT 1 FROM escalation e WHERE e.case_id = c.id AND e.status = 'open'),
    (SELECT count(*) FROM case_task k WHERE k.case_id = c.id AND k.done_at IS NULL
        AND k.cancelled_at IS NULL)
"""
_CASE_JOINS = """
    JOIN person p ON p.id = c.person_id
    LEFT JOIN coordinator_assignment ca ON ca.case_id = c.id AND ca.active
    LEFT JOIN user_account u ON u.id = ca.coordinator_id
    LEFT JOIN LATERAL (SELECT id, number, state, review_on FROM plan_version
                       WHERE case_id = c.id ORDER BY number DESC LIMIT 1) pv ON true
    LEFT JOIN LATERAL (SELECT id, number, review_on FROM plan_version
                       WHERE case_id = c.id AND state = 'signed'
                       ORDER BY number DESC LIMIT 1) pvs ON true
"""
_COORDINATOR_CASES = f"""
    SELECT {_CASE_COLUMNS} FROM case_record c {_CASE_JOINS}
    WHERE ca.coordinator_id = %(user)s AND c.state IN {OPEN_STATES}
    ORDER BY c.id
"""


def _all(cur, sql: str, params: dict | None = None) -> list:
    cur.execute(sql, params or {})
    return cur.fetchall()


def caseload_coordinator(cur, user: int) -> list:
    """A coordinator's open cases, every column of the caseload."""
    return _all(cur, _COORDINATOR_CASES, {"user": user})


def api_cases_coordinator(cur, user: int) -> list:
    """The API's first page of a coordinator's cases, and their number."""
    rows = _all(
        cur,
        f"SELECT {_CASE_COLUMNS} FROM case_record c {_CASE_JOINS} "
        "WHERE ca.coordinator_id = %(user)s ORDER BY c.id LIMIT %(n)s",
        {"user": user, "n": API_PAGE},
    )
    total = _all(
        cur,
        "SELECT count(*) FROM coordinator_assignment WHERE coordinator_id = %(user)s AND active",
        {"user": user},
    )
    return [*rows, *total]


def api_cases_team_lead(cur, user: int) -> list:
    """The API's first page of every case, and their number."""
    rows = _all(
        cur,
        f"SELECT {_CASE_COLUMNS} FROM case_record c {_CASE_JOINS} ORDER BY c.id LIMIT %(n)s",
        {"n": API_PAGE},
    )
    return [*rows, *_all(cur, "SELECT count(*) FROM case_record")]


def _warning_dates(cur) -> dict:
    """The dates the warnings compare with today, as the app's `workflows.caseload` gives them."""
    from zoneinfo import ZoneInfo

    from workflows.calendar import WorkingCalendar
    from workflows.caseload import warning_thresholds

    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    days_off = [r[0] for r in _all(cur, "SELECT date FROM day_off")]
    thresholds = warning_thresholds(today, WorkingCalendar(extra_days_off=days_off))
    limits = _all(
        cur,
        "SELECT id, max_duration_days, duration_warning_percent FROM programme "
        "WHERE max_duration_days > 0",
    )
    return {
        "today": today,
        "plan_by": thresholds.plan_unsigned_by,
        "limits": [
            (pid, thresholds.over_max_by(days), thresholds.near_max_by(days, percent))
            for pid, days, percent in limits
        ]
        or [(0, today, today)],
    }


def caseload_team_lead(cur, user: int) -> list:
    """The first page of every open case, warnings first as the page sorts, and their number.

    The warnings counted as `workflows.caseload.warnings` counts them: an open escalation, the
    plan unsigned 20 working days after enrolment or its review date past, and the programme's
    maximum duration reached or near.
    """
    dates = _warning_dates(cur)
    pids, over, near = (list(column) for column in zip(*dates["limits"], strict=True))
    return _all(
        cur,
        f"""
        WITH ranked AS MATERIALIZED (
            SELECT c.id,
                (EXISTS (SELECT 1 FROM escalation e
                         WHERE e.case_id = c.id AND e.status = 'open'))::int
                + (CASE WHEN c.plan_in_force THEN coalesce(c.plan_review_on < %(today)s, false)
                        ELSE c.enrolled_on <= %(plan_by)s END)::int
                + coalesce((c.enrolled_on <= lim.over_by)::int, 0)
                + coalesce((c.enrolled_on > lim.over_by AND c.enrolled_on <= lim.near_by)::int, 0)
                AS warnings
            FROM case_record c
            LEFT JOIN unnest(%(pids)s::int[], %(over)s::date[], %(near)s::date[])
                AS lim(programme_id, over_by, near_by)
                ON lim.programme_id = c.programme_id
            WHERE c.state IN {OPEN_STATES}
        ),
        page AS (SELECT * FROM ranked ORDER BY warnings DESC, id LIMIT %(n)s)
        SELECT {_CASE_COLUMNS}, page.warnings, (SELECT count(*) FROM ranked)
        FROM page JOIN case_record c ON c.id = page.id {_CASE_JOINS}
        ORDER BY page.warnings DESC, c.id
        """,
        {
            "today": dates["today"],
            "plan_by": dates["plan_by"],
            "pids": pids,
            "over": over,
            "near": near,
            "n": PAGE,
        },
    )


def case_page(cur, user: int, case_id: int) -> list:
    """One case: its row, plan with goals and actions, meetings, consents, history, loads."""
    params = {"case": case_id}
    rows = _all(
        cur,
        f"SELECT {_CASE_COLUMNS} FROM case_record c {_CASE_JOINS} WHERE c.id = %(case)s",
        params,
    )
    rows += _all(
        cur,
        "SELECT v.id, v.number, v.state, v.own_goal, v.review_on, g.text, "
        "g.target_on FROM plan_version v LEFT JOIN plan_goal g ON g.version_id = "
        "v.id WHERE v.case_id = %(case)s",
        params,
    )
    rows += _all(
        cur,
        "SELECT a.* FROM plan_action a JOIN plan_version v ON v.id = a.version_id "
        "WHERE v.case_id = %(case)s ORDER BY v.number, a.position",
        params,
    )
    rows += _all(
        cur,
        "SELECT id, kind, status, starts_at, ends_at FROM meeting "
        "WHERE case_id = %(case)s ORDER BY starts_at",
        params,
    )
    rows += _all(
        cur,
        "SELECT s.* FROM consent s JOIN case_record c ON c.person_id = s.person_id "
        "WHERE c.id = %(case)s",
        params,
    )
    rows += _all(
        cur,
        "SELECT h.*, u.name FROM case_history h LEFT JOIN user_account u "
        "ON u.id = h.by_id WHERE h.case_id = %(case)s ORDER BY h.id",
        params,
    )
    rows += _all(
        cur,
        "SELECT a.*, u.name FROM coordinator_assignment a JOIN user_account u "
        "ON u.id = a.coordinator_id WHERE a.case_id = %(case)s ORDER BY a.id",
        params,
    )
    rows += _all(
        cur,
        f"""
        SELECT u.id, u.name, p.capacity, count(c.id), coalesce(sum(c.complexity_weight), 0)
        FROM coordinator_profile p JOIN user_account u ON u.id = p.user_id
        LEFT JOIN coordinator_assignment a ON a.coordinator_id = u.id AND a.active
        LEFT JOIN case_record c ON c.id = a.case_id AND c.state IN {OPEN_STATES}
        GROUP BY u.id, u.name, p.capacity ORDER BY u.name
        """,
    )
    return rows


def referral_list(cur, user: int, lead: bool = True) -> list:
    """The first page of the referrals the user sees (a team lead: all), newest change first."""
    return _all(
        cur,
        "SELECT r.id, r.first_name, r.last_name, r.protected_identity, r.referrer_id, r.state, "
        "r.updated_at, g.name FROM referral r JOIN programme g ON g.id = r.programme_id "
        "WHERE (%(lead)s AND r.state <> 'draft') OR r.referrer_id = %(user)s "
        "ORDER BY r.updated_at DESC, r.id DESC LIMIT %(n)s",
        {"user": user, "n": PAGE, "lead": lead},
    )


def account(cur, user: int) -> list:
    """The user's own account page: their name and their API tokens that still work.

    The page reads almost nothing, so its figure is what any signed-in page costs before it
    reads its own rows (session, user, header, rendering, the access log).
    """
    return _all(
        cur,
        "SELECT u.name, t.id, t.label, t.expires_at FROM user_account u LEFT JOIN api_token t "
        "ON t.user_id = u.id AND NOT t.revoked AND t.expires_at > now() WHERE u.id = %(user)s",
        {"user": user},
    )


def inbox(cur, user: int) -> list:
    """The first page of the inbox, its count and the unread count."""
    params = {"user": user, "n": PAGE}
    rows = _all(
        cur,
        "SELECT id, template, params, link, read_at, done_at, created_at FROM notification "
        "WHERE recipient_id = %(user)s AND channel = 'inbox' AND done_at IS NULL "
        "ORDER BY created_at DESC, id DESC LIMIT %(n)s",
        params,
    )
    return rows + _all(
        cur,
        "SELECT count(*), count(*) FILTER (WHERE read_at IS NULL) FROM notification "
        "WHERE recipient_id = %(user)s AND channel = 'inbox' AND done_at IS NULL",
        params,
    )


def start_coordinator(cur, user: int) -> list:
    """A coordinator's start page: caseload counts, today's meetings, tasks, escalations."""
    params = {"user": user}
    rows = _all(
        cur,
        f"""
        SELECT count(*), count(*) FILTER (WHERE e.id IS NOT NULL)
        FROM coordinator_assignment a JOIN case_record c ON c.id = a.case_id
        LEFT JOIN escalation e ON e.case_id = c.id AND e.status = 'open'
        WHERE a.coordinator_id = %(user)s AND a.active AND c.state IN {OPEN_STATES}
        """,
        params,
    )
    rows += _all(
        cur,
        "SELECT id, case_id, kind, starts_at FROM meeting WHERE organiser_id = %(user)s "
        "AND status = 'booked' AND starts_at >= date_trunc('day', now()) "
        "AND starts_at < date_trunc('day', now()) + interval '1 day' ORDER BY starts_at",
        params,
    )
    rows += _all(
        cur,
        "SELECT id, case_id, kind, due_at FROM case_task WHERE assignee_id = %(user)s "
        "AND done_at IS NULL AND cancelled_at IS NULL ORDER BY due_at, id",
        params,
    )
    rows += _all(
        cur,
        "SELECT e.id, e.case_id, e.decision_due_at FROM escalation e JOIN coordinator_assignment "
        "a ON a.case_id = e.case_id AND a.active WHERE a.coordinator_id = %(user)s "
        "AND e.status = 'open' ORDER BY e.decision_due_at",
        params,
    )
    return rows + _unread(cur, user)


def start_team_lead(cur, user: int) -> list:
    """A team lead's start page: referrals by state, queue and places, escalations, overdue."""
    rows = _all(cur, "SELECT state, count(*) FROM referral WHERE state <> 'draft' GROUP BY state")
    rows += _all(
        cur,
        "SELECT programme_id, count(*) FILTER (WHERE state = 'waiting'), "
        f"count(*) FILTER (WHERE state IN {OPEN_STATES}) FROM case_record "
        "WHERE state <> 'closed' GROUP BY programme_id",
    )
    rows += _all(
        cur,
        "SELECT id, case_id, decision_due_at FROM escalation WHERE status = 'open' "
        "ORDER BY decision_due_at",
    )
    rows += _all(
        cur,
        "SELECT count(*) FROM case_task WHERE done_at IS NULL AND cancelled_at IS NULL "
        "AND due_at < now()",
    )
    return rows + _next_conference(cur, user) + _unread(cur, user)


def start_referrer(cur, user: int) -> list:
    """A referrer's start page: their referrals by state, packets and escalations."""
    params = {"user": user}
    rows = _all(
        cur,
        "SELECT state, count(*) FROM referral WHERE referrer_id = %(user)s GROUP BY state",
        params,
    )
    rows += _all(
        cur,
        "SELECT id FROM packet WHERE recipient_id = %(user)s AND acknowledged_at IS NULL",
        params,
    )
    rows += _all(
        cur,
        "SELECT id, case_id FROM escalation WHERE referrer_id = %(user)s AND status = 'open'",
        params,
    )
    return rows + _unread(cur, user)


def start_member(cur, user: int) -> list:
    """A conference member's start page: the next conference and its agenda."""
    return _next_conference(cur, user) + _unread(cur, user)


def _next_conference(cur, user: int) -> list:
    return _all(
        cur,
        """
        SELECT c.id, c.held_on, i.number, r.id, r.first_name, r.last_name
        FROM (SELECT c.* FROM conference c JOIN conference_member m ON m.conference_id = c.id
              WHERE m.user_id = %(user)s AND c.state IN ('planned', 'published')
                AND c.starts_at >= now() - interval '12 hours'
              ORDER BY c.starts_at LIMIT 1) c
        LEFT JOIN agenda_item i ON i.conference_id = c.id
        LEFT JOIN referral r ON r.id = i.referral_id ORDER BY i.number
        """,
        {"user": user},
    )


def _unread(cur, user: int) -> list:
    return _all(
        cur,
        "SELECT count(*) FROM notification WHERE recipient_id = %(user)s AND channel = 'inbox' "
        "AND read_at IS NULL",
        {"user": user},
    )


def statistics_report(cur, user: int) -> list:
    """The participants by home municipality over the last year."""
    return _all(
        cur,
        "SELECT home_municipality, count(*) FROM sus_participant "
        "WHERE enrolled_on <= current_date AND (exited_on IS NULL "
        "OR exited_on >= current_date - 365) GROUP BY home_municipality ORDER BY 1",
    )


# --- the floor app ------------------------------------------------------------------------------

_STARTS = {
    "coordinator": start_coordinator,
    "team_lead": start_team_lead,
    "referrer": start_referrer,
    "conference_member": start_member,
}
_connection = None


def _cursor():
    global _connection
    import psycopg

    if _connection is None or _connection.closed:
        url = os.environ["COORD_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        _connection = psycopg.connect(url, autocommit=True)
    return _connection.cursor()


def _route(cur, path: str, user: int):
    """Return (rows, json?) for a path, or None when the floor does not serve it."""
    role = cur.execute(
        "SELECT role FROM membership WHERE user_id = %(user)s "
        "ORDER BY role = 'team_lead' DESC LIMIT 1",
        {"user": user},
    ).fetchone()
    role = role[0] if role else ""
    lead = role == "team_lead"
    if path == "/":
        return _STARTS.get(role, start_member)(cur, user), False
    if path == "/cases/":
        return (caseload_team_lead if lead else caseload_coordinator)(cur, user), False
    if path == "/api/v1/cases":
        return (api_cases_team_lead if lead else api_cases_coordinator)(cur, user), True
    if path.startswith("/cases/") and path[7:].isdigit():
        return case_page(cur, user, int(path[7:])), False
    if path == "/referrals/":
        return referral_list(cur, user, lead), False
    if path == "/inbox":
        return inbox(cur, user), False
    if path == "/account":
        return account(cur, user), False
    if path.startswith("/statistics/reports/"):
        return statistics_report(cur, user), False
    return None


def _text(value) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return "" if value is None else str(value)


def app(environ, start_response):
    """Serve the floor of a page: its rows as a plain HTML table, or JSON for the API."""
    user = int(environ.get("HTTP_X_BENCH_USER") or 0)
    cur = _cursor()
    found = _route(cur, environ.get("PATH_INFO", "/"), user)
    if found is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not a bench page"]
    rows, as_json = found
    if as_json:
        body = json.dumps({"items": [[_text(v) for v in row] for row in rows]}).encode()
        kind = "application/json"
    else:
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_text(v))}</td>" for v in row) + "</tr>"
            for row in rows
        )
        body = f"<!doctype html><html><body><table>{cells}</table></body></html>".encode()
        kind = "text/html; charset=utf-8"
    start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]

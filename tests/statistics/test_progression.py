"""Self-rating every three months: the form, the radar chart, the report, the due reminder;
and registrations by the live workflow."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from coordination.core import events
from coordination.core.errors import Conflict, ValidationFailed
from coordination.extensions import db
from coordination.statistics import operations as ops
from coordination.statistics import queries
from coordination.statistics.events import ProgressionRatingDue
from tests.factories import PASSWORD, make_case, make_sus_participant, make_user, token_headers
from workflows.statistics import PROGRESSION_QUESTIONS


def _scores(value: int) -> dict:
    return {q: str(value) for q in PROGRESSION_QUESTIONS}


def test_a_coordinator_records_a_rating_and_sees_the_radar_chart(client):
    # The coordinator rates with the participant of a case they coordinate (issue 16: not any).
    coordinator = make_user("coordinator")
    case = make_case(coordinator=coordinator)
    participant = make_sus_participant(
        participant_ref="R-100", enrolled_on=date(2024, 1, 10), case_id=case.id
    )
    client.login(coordinator.email, PASSWORD)
    found = client.get("/statistics/participants?ref=r-100").get_data(as_text=True)
    assert f"/statistics/participants/{participant.id}" in found
    assert "2024-04-10" in found  # the first rating is due 3 months after enrolment
    url = f"/statistics/participants/{participant.id}"
    assert "inte gjort någon självskattning" in client.get(url).get_data(as_text=True)

    response = client.post_form(f"{url}/ratings", {"rated_on": "2024-01-12", **_scores(4)})
    assert response.status_code == 302
    scores = _scores(7) | {"cooperation": "9"}
    response = client.post_form(f"{url}/ratings", {"rated_on": "2024-04-11", **scores})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Självskattning per fråga och tillfälle" in page
    assert (
        "2024-01-12" in page
        and "2024-04-11" in page
        and '<td class="table__numeric">72</td>' in page
    )
    assert "2024-07-11" in page  # next one due
    radar = client.get(f"{url}/radar.svg")
    assert radar.mimetype == "image/svg+xml"
    svg = radar.get_data(as_text=True)
    assert 'role="img"' in svg and "<script" not in svg and "2024-04-11" in svg


def test_a_rating_with_errors_shows_all_of_them(client):
    participant = make_sus_participant(enrolled_on=date(2024, 1, 10))
    client.login(make_user("team_lead").email, PASSWORD)
    data = _scores(5) | {"rated_on": "2023-12-01", "cooperation": "11"}
    del data["job_goal_clarity"]
    response = client.post_form(f"/statistics/participants/{participant.id}/ratings", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Det finns fel i formuläret" in html
    assert 'href="#field-cooperation"' in html and 'href="#field-job_goal_clarity"' in html
    data = _scores(5) | {"rated_on": "2023-12-01"}
    response = client.post_form(f"/statistics/participants/{participant.id}/ratings", data)
    assert "före inskrivningen" in response.get_data(as_text=True)
    assert participant.ratings == []


@pytest.mark.parametrize(("role", "status"), [("analyst", 403), ("admin", 403), ("referrer", 403)])
def test_participant_pages_are_not_for_aggregate_roles(client, role, status):
    participant = make_sus_participant()
    client.login(make_user(role).email, PASSWORD)
    assert client.get(f"/statistics/participants/{participant.id}").status_code == status


def test_progression_shares_by_gender_and_age_band(api):
    first, later = date(2024, 1, 20), date(2024, 4, 20)
    make_sus_participant(gender="kvinna", birth_year=2002, ratings=[(first, 4), (later, 6)])
    make_sus_participant(gender="kvinna", birth_year=2002, ratings=[(first, 6), (later, 6)])
    make_sus_participant(gender="man", birth_year=1980, ratings=[(first, 6), (later, 5)])
    make_sus_participant(gender="man", ratings=[(first, 3)])  # one rating only: not counted
    headers = token_headers(make_user("analyst"))
    body = api.get("/api/v1/statistics/progression", headers=headers).get_json()
    rows = {r["code"]: (r["kvinna"], r["man"], r["total"]) for r in body["rows"]}
    assert rows == {"positive": (1, 0, 1), "unchanged": (1, 0, 1), "negative": (0, 1, 1)}
    assert body["denominator"]["total"] == 3
    assert next(r for r in body["rows"] if r["code"] == "positive")["percent"]["kvinna"] == 50.0
    by_age = api.get("/api/v1/statistics/progression_age", headers=headers).get_json()
    assert [(r["code"], r["total"], r["percent"]["total"]) for r in by_age["rows"]] == [
        ("20_24:positive", 1, 50.0),
        ("20_24:unchanged", 1, 50.0),
        ("40_44:negative", 1, 100.0),
    ]


def test_rating_due_is_recorded_once_per_due_date(app):
    due = make_sus_participant(enrolled_on=date(2024, 1, 10))
    not_yet = make_sus_participant(enrolled_on=date(2024, 3, 1))
    rated = make_sus_participant(enrolled_on=date(2024, 1, 10), ratings=[(date(2024, 3, 1), 5)])
    announced = ops.record_due_ratings(date(2024, 4, 10))
    pending = [e for e in events.pending(db.session) if isinstance(e, ProgressionRatingDue)]
    assert announced == [due.id]
    assert pending[0] == ProgressionRatingDue(
        participant_id=due.id,
        case_id=None,
        programme_id=None,
        due_on=date(2024, 4, 10),
        occurred_at=pending[0].occurred_at,
    )
    assert ops.record_due_ratings(date(2024, 4, 11)) == []  # not twice for the same due date
    assert not_yet.id not in ops.record_due_ratings(date(2024, 5, 31))
    assert rated.id in ops.record_due_ratings(date(2024, 6, 1))


def test_the_live_workflow_registers_enrolment_exit_and_follow_up(api):
    # The real operations: admission enrols the case (and makes its SUS record with the intake
    # from the referral), the exit and the 6-month follow-up add theirs to the same record.
    from datetime import UTC, datetime, time

    from coordination.auth.models import User
    from coordination.exits import operations as exit_ops
    from coordination.exits.models import FollowUp
    from tests.factories import exit_data, make_admitted_case

    admitted_at = datetime(2024, 2, 1, 10, tzinfo=UTC)
    case = make_admitted_case(
        admitted_at=admitted_at, gender="man", support_current=["sjukersattning"]
    )
    participant = queries.participant_for_case(case.id)
    assert (participant.enrolled_on, participant.gender) == (date(2024, 2, 1), "man")
    assert participant.registration("intake").support_codes == ["sjukersattning"]
    coordinator = db.session.get(User, case.coordinator_id)
    exit_ops.register_exit(
        case,
        data=exit_data(
            exit_reason="arbete",
            support_at_exit=["ingen_offentlig"],
            occupation_at_exit="arbete",
            work_at_exit="ej_subventionerat",
            exited_on=date(2024, 9, 2),
        ),
        by=coordinator,
    )
    db.session.commit()
    follow_up = db.session.scalar(
        select(FollowUp).where(FollowUp.case_id == case.id, FollowUp.occasion == "follow_up_6")
    )
    assert follow_up.due_on == date(2025, 3, 2)
    exit_ops.register_follow_up(
        follow_up,
        data={"support": ["ingen_offentlig"], "occupation": "arbete", "work": "ej_subventionerat"},
        by=db.session.get(User, case.coordinator_id),  # loaded again after the commit
        now=datetime.combine(follow_up.due_on, time(12), tzinfo=UTC),
    )
    db.session.commit()
    assert queries.participant_for_case(case.id) is participant
    assert (participant.exited_on, participant.months_in_programme) == (date(2024, 9, 2), 8)
    assert [r.occasion for r in participant.registrations] == ["intake", "exit", "follow_up_6"]
    with pytest.raises(Conflict):
        ops.enrol_participant(
            programme_id=None,
            participant_ref="again",
            enrolled_on=date(2024, 2, 1),
            gender="man",
            birth_year=1990,
            case_id=case.id,
        )
    with pytest.raises(ValidationFailed) as refused:
        ops.record_registration(
            participant,
            "follow_up_12",
            registered_on=date(2025, 9, 2),
            support=["bidrag"],
            work="heltid",
            exit_reason="arbete",
        )
    assert set(refused.value.errors) == {"support", "work", "exit_reason"}
    headers = token_headers(make_user("analyst"))
    follow_up_report = api.get(
        "/api/v1/statistics/support",
        query_string={"occasion": "follow_up_6", "population": "exited"},
        headers=headers,
    ).get_json()
    assert [(r["code"], r["man"]) for r in follow_up_report["rows"]] == [("ingen_offentlig", 1)]


def test_the_daily_command_records_due_ratings(app):
    make_sus_participant(enrolled_on=date(2024, 1, 10))
    result = app.test_cli_runner().invoke(
        args=["statistics", "ratings-due", "--date", "2024-04-10"]
    )
    assert result.exit_code == 0, result.output
    assert "1 self-ratings due on 2024-04-10." in result.output

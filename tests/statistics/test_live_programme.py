"""The live programme counts from its first day (../shared/DOMAIN.md §12).

One person is driven through the real operations (referral, submission, conference, admission
with a place free, the coordinator's intake, the signed plan, meetings, exit and the 6- and
12-month follow-ups), and after each step every report of the registry is read and must count
that person exactly as the step implies.

Every report in REPORTS must have its expectation here: a report added to the registry fails
this test until its expected figures at each stage are written down below.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from coordination.auth.models import User
from coordination.conferences import agenda as conf_agenda
from coordination.core.i18n import local_today
from coordination.exits import operations as exit_ops
from coordination.exits.models import FollowUp
from coordination.extensions import db
from coordination.meetings.ladder import record_attendance
from coordination.organisations import members
from coordination.programmes import operations as programme_ops
from coordination.statistics import intake
from coordination.statistics import reports as registry
from coordination.statistics.queries import participant_for_case
from coordination.statistics.reports.base import Filters
from tests.factories import (
    decide_referral,
    exit_data,
    make_conference,
    make_meeting,
    make_plan,
    make_programme,
    make_referral,
    make_user,
    token_headers,
)
from workflows.statistics import Occasion

OCCASIONS = [o.value for o in Occasion]
LEVELLED = ("referring_agency", "gender_balance")  # by agency kind and by member organisation
STAGES = ("submitted", "enrolled", "intake", "active", "exited", "follow_up_6", "follow_up_12")


def _observe(programme_id: int) -> dict[str, dict]:
    """Read every report of the registry for the programme and the current year.

    Returns {report (or report@occasion for the SUS variables): {row code: total}} with the
    rows that count someone; every count is of the one woman of the test, so each row's women
    column must equal its total.
    """
    today = local_today()
    filters = dict(
        programme_id=programme_id,
        date_from=date(today.year, 1, 1),
        date_to=date(today.year, 12, 31),
    )
    seen: dict[str, dict] = {}
    for name, definition in registry.REPORTS.items():
        keys = [(f"{name}@{o}", o, "kind") for o in OCCASIONS] if definition.uses_occasion else []
        if name in LEVELLED:
            keys = [(name, Occasion.INTAKE.value, "kind")]
            keys.append((f"{name}@organisation", Occasion.INTAKE.value, "organisation"))
        for key, occasion, level in keys or [(name, Occasion.INTAKE.value, "kind")]:
            report = registry.run(name, Filters(occasion=occasion, level=level, **filters))
            rows = {r.code: r.counts["total"] for r in report.rows if r.counts["total"]}
            for row in report.rows:
                assert row.counts["kvinna"] == row.counts["total"], (key, row.code)
            seen[key] = rows
    return seen


def _expected(stage: str, *, month: str, band: str, targets: dict[str, str]) -> dict[str, dict]:
    """What every report shows of the person once the stage is reached."""
    at = STAGES.index(stage)
    enrolled, intake_done, exited = at >= 1, at >= 2, at >= 4
    follow_6, follow_12 = at >= 5, at >= 6
    person = {"1281": 1} if enrolled else {}  # Lund, by its code

    def variable(name: str) -> dict[str, dict]:
        by_occasion: dict[str, dict] = {o: {} for o in OCCASIONS}
        if enrolled:
            by_occasion["intake"] = {
                "work": {"uppgift_saknas": 1} if intake_done else {None: 1},
                "occupation": {
                    "arbetssokande_i_atgard"
                    if intake_done
                    else "arbetssokande_utan_sysselsattning": 1
                },
                "education": {"gymnasium": 1},
                "time_on_support": {"upp_till_2_ar": 1},
                "support": {"forsorjningsstod": 1},
            }[name]
        later = {  # exit and follow-ups register support, occupation and work only
            "exit": (exited, {"work": "ej_subventionerat", "occupation": "studier"}, "studiestod"),
            "follow_up_6": (
                follow_6,
                {"work": "ej_subventionerat", "occupation": "studier"},
                "studiestod",
            ),
            "follow_up_12": (
                follow_12,
                {"work": "ej_subventionerat", "occupation": "arbete"},
                "ingen_offentlig",
            ),
        }
        for occasion, (reached, codes, support) in later.items():
            if reached:
                value = support if name == "support" else codes.get(name)
                by_occasion[occasion] = {value: 1}
        return {f"{name}@{o}": rows for o, rows in by_occasion.items()}

    expected = {
        "participants": (
            {"enrolled": 1, "active": 1, "exited": 1}
            if exited
            else {"enrolled": 1, "active": 1}
            if enrolled
            else {}
        ),
        "age": {band: 1} if enrolled else {},
        "municipality": person,
        "referring_agency": {"kommun": 1} if enrolled else {},
        "referring_agency@organisation": {"lunds_kommun": 1} if enrolled else {},
        **variable("work"),
        **variable("occupation"),
        **variable("education"),
        **variable("time_on_support"),
        **variable("support"),
        "support_transition": {"forsorjningsstod>studiestod": 1} if exited else {},
        "time_in_programme": {"1_3": 1} if exited else {},
        "exit_reason": {"studier": 1} if exited else {},
        "referral_funnel": (
            {"received": 1, "decided": 1, "admitted": 1} if enrolled else {"received": 1, "open": 1}
        ),
        "joint_recommendation": {"with_recommendation": 1} if enrolled else {},
        "gender_balance": {f"{month}:kommun": 1} if enrolled else {},
        "gender_balance@organisation": {f"{month}:lunds_kommun": 1} if enrolled else {},
        # No self-rating is recorded here: a person is classified only with two ratings.
        "progression": {},
        "progression_age": {},
        "coordinator_changes": {"0": 1} if enrolled else {},
        # The one meeting of the active stage, attended; no escalation.
        "attendance": {"attended": 1, "attendance_rate": 1} if at >= 3 else {},
        # Each target's numerator once reached: the decision had a written recommendation, the
        # exit was to studies, and at 12 months the person works.
        "targets": {
            targets[name]: 1
            for name, reached in (
                ("recommendation", enrolled),
                ("exit", exited),
                ("follow_up_12", follow_12),
            )
            if reached
        },
    }
    return expected


def test_every_report_counts_a_live_participant_from_enrolment_to_the_last_follow_up(api):
    today = local_today()
    programme = make_programme()
    coordinator = make_user("coordinator")
    month = f"{today:%Y-%m}"
    observed: dict[str, dict[str, dict]] = {}
    target_ids = {
        key: str(programme_ops.add_target(programme, data).id)
        for key, data in (
            (
                "recommendation",
                {
                    "name": "Rekommendation",
                    "variable": "joint_recommendation",
                    "target_percent": "100",
                },
            ),
            (
                "exit",
                {
                    "name": "Förfogande",
                    "variable": "exit_reason",
                    "occasion": "exit",
                    "codes": ["arbete", "studier"],
                    "target_percent": "90",
                },
            ),
            (
                "follow_up_12",
                {
                    "name": "Arbete efter 12 månader",
                    "variable": "occupation",
                    "occasion": "follow_up_12",
                    "codes": ["arbete"],
                    "target_percent": "35",
                },
            ),
        )
    }

    def check(stage: str) -> None:
        age = today.year - referral.person.birth_date.year  # SUS: year of enrolment - birth year
        band = f"{age // 5 * 5}_{age // 5 * 5 + 4}"
        expected = _expected(stage, month=month, band=band, targets=target_ids)
        assert {k.split("@")[0] for k in expected} == set(registry.REPORTS), (
            "every report in REPORTS needs its expected figures at each stage"
        )
        seen = _observe(programme.id)
        observed[stage] = seen
        assert seen == expected, stage

    # A referral is submitted from a unit of Lunds kommun: only the referral reports see it.
    referral = make_referral("submitted", programme=programme)
    referral.referring_unit.member_organisation = members.save_member_organisation(
        None, code="lunds_kommun", name="Lunds kommun", kind="kommun"
    )
    db.session.commit()
    check("submitted")

    # The conference admits it while the programme has room: the case is enrolled today.
    conference = make_conference(programme, state="published", present="all")
    conf_agenda.add_to_agenda(conference, referral, by=conference.chair.user)
    db.session.commit()
    decide_referral(referral, conference, outcome="admit", coordinator=coordinator)
    from coordination.conferences.queries import case_for

    case = case_for(referral.id)
    assert case.state == "enrolled" and case.enrolled_on == today
    check("enrolled")
    analyst = token_headers(make_user("analyst"))
    body = api.get(
        "/api/v1/statistics/participants",
        query_string={"programme_id": programme.id},
        headers=analyst,
    ).get_json()
    assert {r["code"]: r["total"] for r in body["rows"]} == {
        "enrolled": 1,
        "active": 1,
        "exited": 0,
    }

    # The coordinator completes the intake with the participant, including work.
    intake.register_intake(
        case,
        data={
            "work": "uppgift_saknas",
            "occupation": "arbetssokande_i_atgard",
            "education": "gymnasium",
            "time_on_support": "upp_till_2_ar",
            "support": ["forsorjningsstod"],
        },
        by=coordinator,
    )
    db.session.commit()
    check("intake")

    # Every party signs the plan (the case becomes active) and they meet.
    make_plan(case, signed=True)
    db.session.refresh(case)
    assert case.state == "active"
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    meeting = make_meeting(case, starts_at=starts)
    record_attendance(meeting, status="attended", by=coordinator, now=starts + timedelta(hours=2))
    db.session.commit()
    check("active")

    # The exit: studies, on study allowance.
    exit_ops.register_exit(case, data=exit_data(), by=coordinator)
    db.session.commit()
    assert participant_for_case(case.id).exited_on == today
    check("exited")

    # The follow-ups, each registered on its due day.
    follow_ups = {
        f.occasion: f
        for f in db.session.scalars(select(FollowUp).where(FollowUp.case_id == case.id))
    }
    assert set(follow_ups) == {"follow_up_6", "follow_up_12"}
    for occasion, data in (
        (
            "follow_up_6",
            {"support": ["studiestod"], "occupation": "studier", "work": "ej_subventionerat"},
        ),
        (
            "follow_up_12",
            {"support": ["ingen_offentlig"], "occupation": "arbete", "work": "ej_subventionerat"},
        ),
    ):
        follow_up = follow_ups[occasion]
        on_due_day = datetime.combine(follow_up.due_on, time(12), tzinfo=UTC)
        by = db.session.get(User, coordinator.id)
        exit_ops.register_follow_up(follow_up, data=data, by=by, now=on_due_day)
        db.session.commit()
        check(occasion)

    # One person, one SUS record throughout.
    participant = participant_for_case(case.id)
    assert [r.occasion for r in participant.registrations] == OCCASIONS
    assert list(observed) == list(STAGES)

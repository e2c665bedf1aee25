"""Return referral rules: the transition table, the reminder schedule, follow-up dates, the hash."""

from datetime import UTC, date, datetime

import pytest

from workflows.calendar import WorkingCalendar
from workflows.errors import TransitionRefused
from workflows.return_referral import (
    Addressee,
    FollowUpOccasion,
    ReturnReferralAction,
    ReturnReferralState,
    acknowledge_packet,
    add_months,
    content_hash,
    follow_up_dates,
    follow_up_due_at,
    missing_sections,
    next_state,
    reminder_schedule,
)

S, A = ReturnReferralState, ReturnReferralAction

ALLOWED = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.FINALISE): S.FINALISED,
    (S.FINALISED, A.DELIVER): S.DELIVERED,
    (S.DELIVERED, A.ACKNOWLEDGE): S.ACKNOWLEDGED,
}
PAIRS = [(s, a) for s in ReturnReferralState for a in ReturnReferralAction]


@pytest.mark.parametrize(("state", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_every_state_action_pair(state, action):
    if (state, action) in ALLOWED:
        assert next_state(state, action) is ALLOWED[(state, action)]
    else:
        with pytest.raises(TransitionRefused):
            next_state(state, action)


def test_nothing_edits_a_finalised_document():
    for state in (S.FINALISED, S.DELIVERED, S.ACKNOWLEDGED):
        with pytest.raises(TransitionRefused):
            next_state(state, A.EDIT)


def test_a_packet_is_acknowledged_once():
    acknowledge_packet(None)
    with pytest.raises(TransitionRefused):
        acknowledge_packet(datetime(2025, 4, 22, 9, tzinfo=UTC))


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# (delivered at, extra days off, expected due times of the 3- and 7-day reminders and the 10-day
# escalation). Times are UTC; the local time of day (Stockholm) is kept.
SCHEDULES = [
    # A Wednesday before Easter: Good Friday and Easter Monday do not count, nor 1 May.
    (
        _utc(2025, 4, 16, 13, 0),
        (),
        (_utc(2025, 4, 23, 13, 0), _utc(2025, 4, 29, 13, 0), _utc(2025, 5, 5, 13, 0)),
    ),
    # The same, with the förbund's own day off on 24 April.
    (
        _utc(2025, 4, 16, 13, 0),
        (date(2025, 4, 24),),
        (_utc(2025, 4, 23, 13, 0), _utc(2025, 4, 30, 13, 0), _utc(2025, 5, 6, 13, 0)),
    ),
    # An ordinary Monday morning in winter: plain weeks.
    (
        _utc(2025, 2, 3, 8, 30),
        (),
        (_utc(2025, 2, 6, 8, 30), _utc(2025, 2, 12, 8, 30), _utc(2025, 2, 17, 8, 30)),
    ),
    # Delivered on a Saturday: counting starts with Monday.
    (
        _utc(2025, 3, 8, 10, 0),
        (),
        (_utc(2025, 3, 12, 10, 0), _utc(2025, 3, 18, 10, 0), _utc(2025, 3, 21, 10, 0)),
    ),
    # Around Christmas and New Year (julafton, juldagen, annandag, nyårsafton, nyårsdagen,
    # trettondedag jul).
    (
        _utc(2025, 12, 22, 14, 0),
        (),
        (_utc(2025, 12, 30, 14, 0), _utc(2026, 1, 8, 14, 0), _utc(2026, 1, 13, 14, 0)),
    ),
]


@pytest.mark.parametrize(("delivered_at", "days_off", "expected"), SCHEDULES)
def test_reminders_fall_on_working_days(delivered_at, days_off, expected):
    schedule = reminder_schedule(delivered_at, WorkingCalendar(extra_days_off=days_off))
    assert [r.due_at for r in schedule] == list(expected)
    assert [r.level for r in schedule] == [1, 2, 3]
    assert [r.working_days for r in schedule] == [3, 7, 10]
    assert [r.to for r in schedule] == [Addressee.REFERRER, Addressee.REFERRER, Addressee.TEAM_LEAD]


def test_the_schedule_keeps_the_local_time_across_daylight_saving():
    # Delivered Friday 28 March 2025 at 10:00 in Stockholm (09:00 UTC); summer time starts on 30
    # March, so the reminder on Wednesday 2 April is at 10:00 local, 08:00 UTC.
    schedule = reminder_schedule(_utc(2025, 3, 28, 9, 0), WorkingCalendar())
    assert schedule[0].due_at == _utc(2025, 4, 2, 8, 0)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 4, 16), 6, date(2025, 10, 16)),
        (date(2025, 4, 16), 12, date(2026, 4, 16)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),
        (date(2025, 12, 31), 6, date(2026, 6, 30)),
        (date(2025, 7, 15), 6, date(2026, 1, 15)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(start, months, expected):
    assert add_months(start, months) == expected


def test_follow_ups_fall_6_and_12_months_after_the_exit():
    assert follow_up_dates(date(2025, 4, 16)) == {
        FollowUpOccasion.FOLLOW_UP_6: date(2025, 10, 16),
        FollowUpOccasion.FOLLOW_UP_12: date(2026, 4, 16),
    }


@pytest.mark.parametrize(
    ("due_on", "expected"),
    [
        (date(2025, 10, 16), _utc(2025, 10, 16, 6, 0)),  # a Thursday in summer time: 08:00
        (date(2025, 11, 15), _utc(2025, 11, 17, 7, 0)),  # a Saturday: Monday 08:00 winter time
        (date(2025, 12, 24), _utc(2025, 12, 29, 7, 0)),  # julafton: the next working day
    ],
)
def test_a_follow_up_is_reminded_at_the_start_of_a_working_day(due_on, expected):
    assert follow_up_due_at(due_on, WorkingCalendar()) == expected


def test_the_content_hash_is_canonical():
    a = {"sections": {"purpose": "Åter till arbete", "results": "Öka"}, "n": [1, 2]}
    b = {"n": [1, 2], "sections": {"results": "Öka", "purpose": "Åter till arbete"}}
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash({**a, "n": [2, 1]})
    assert len(content_hash(a)) == 64


def test_missing_sections_lists_every_empty_one():
    sections = {"purpose": "Syfte", "actions_taken": " ", "results": "Resultat"}
    assert missing_sections(sections, [{"agency": "af", "text": ""}]) == [
        "actions_taken",
        "health_care_needs",
        "health_how_met",
        "participant_comments",
        "recommendations",
    ]
    full = dict.fromkeys(
        [
            "purpose",
            "actions_taken",
            "results",
            "health_care_needs",
            "health_how_met",
            "participant_comments",
        ],
        "text",
    )
    assert missing_sections(full, [{"agency": "af", "text": "Gör så här."}]) == []

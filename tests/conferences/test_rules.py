"""Pure rules: conference and case transitions, cadence, cut-off and reminder days, quorum."""

from datetime import UTC, date, datetime

import pytest

from workflows.calendar import WorkingCalendar
from workflows.case import CaseAction, CaseState, QueueEntry, order_queue, state_on_admission
from workflows.case import next_state as case_next
from workflows.conference import (
    ConferenceAction,
    ConferenceState,
    agenda_cutoff_at,
    cadence_dates,
    median_working_days,
    meeting_day,
    prepare_due_at,
    quorum_missing,
)
from workflows.conference import next_state as conference_next
from workflows.errors import TransitionRefused

C, CA = ConferenceState, ConferenceAction
CONFERENCE_ALLOWED = {
    (C.PLANNED, CA.EDIT): C.PLANNED,
    (C.PLANNED, CA.ADD_TO_AGENDA): C.PLANNED,
    (C.PLANNED, CA.PUBLISH): C.PUBLISHED,
    (C.PLANNED, CA.CANCEL): C.CANCELLED,
    (C.PUBLISHED, CA.EDIT): C.PUBLISHED,
    (C.PUBLISHED, CA.ADD_TO_AGENDA): C.PUBLISHED,
    (C.PUBLISHED, CA.RECORD_ATTENDANCE): C.PUBLISHED,
    (C.PUBLISHED, CA.DECIDE): C.PUBLISHED,
    (C.PUBLISHED, CA.CLOSE): C.CLOSED,
    (C.PUBLISHED, CA.CANCEL): C.CANCELLED,
}
CONFERENCE_PAIRS = [(s, a) for s in ConferenceState for a in ConferenceAction]


@pytest.mark.parametrize(
    ("state", "action"), CONFERENCE_PAIRS, ids=[f"{s}-{a}" for s, a in CONFERENCE_PAIRS]
)
def test_every_conference_state_action_pair(state, action):
    if (state, action) in CONFERENCE_ALLOWED:
        assert conference_next(state, action) is CONFERENCE_ALLOWED[(state, action)]
    else:
        with pytest.raises(TransitionRefused):
            conference_next(state, action)


S, A = CaseState, CaseAction
CASE_ALLOWED = {
    (S.WAITING, A.ENROL): S.ENROLLED,
    (S.WAITING, A.CLOSE): S.CLOSED,
    (S.ENROLLED, A.ACTIVATE): S.ACTIVE,
    (S.ENROLLED, A.PAUSE): S.PAUSED,
    (S.ENROLLED, A.START_EXIT): S.EXITING,
    (S.ACTIVE, A.PAUSE): S.PAUSED,
    (S.ACTIVE, A.START_EXIT): S.EXITING,
    (S.PAUSED, A.START_EXIT): S.EXITING,
    (S.EXITING, A.CLOSE): S.CLOSED,
}
CASE_PAIRS = [(s, a) for s in CaseState for a in CaseAction if a is not A.RESUME]


@pytest.mark.parametrize(("state", "action"), CASE_PAIRS, ids=[f"{s}-{a}" for s, a in CASE_PAIRS])
def test_every_case_state_action_pair(state, action):
    if (state, action) in CASE_ALLOWED:
        assert case_next(state, action) is CASE_ALLOWED[(state, action)]
    else:
        with pytest.raises(TransitionRefused):
            case_next(state, action)


@pytest.mark.parametrize(
    ("state", "paused_from", "expected"),
    [
        (S.PAUSED, S.ENROLLED, S.ENROLLED),
        (S.PAUSED, S.ACTIVE, S.ACTIVE),
        (S.PAUSED, None, None),
        (S.PAUSED, S.WAITING, None),
        (S.ACTIVE, S.ENROLLED, None),
        (S.WAITING, None, None),
    ],
)
def test_resume_returns_to_the_state_paused_from(state, paused_from, expected):
    if expected is None:
        with pytest.raises(TransitionRefused):
            case_next(state, A.RESUME, paused_from=paused_from)
    else:
        assert case_next(state, A.RESUME, paused_from=paused_from) is expected


@pytest.mark.parametrize(
    ("occupied", "capacity", "expected"),
    [(0, 30, S.ENROLLED), (29, 30, S.ENROLLED), (30, 30, S.WAITING), (31, 30, S.WAITING)],
)
def test_admission_waits_when_the_programme_is_full(occupied, capacity, expected):
    assert state_on_admission(occupied, capacity) is expected


def test_cadence_every_second_tuesday_from_the_anchor():
    days = cadence_dates(date(2030, 1, 1), 1, 2, date(2030, 1, 10), date(2030, 2, 28))
    assert days == [date(2030, 1, 15), date(2030, 1, 29), date(2030, 2, 12), date(2030, 2, 26)]
    assert all(d.weekday() == 1 for d in days)


def test_cadence_anchor_on_another_weekday_moves_to_the_weekday():
    assert cadence_dates(date(2030, 1, 3), 1, 1, date(2030, 1, 1), date(2030, 1, 20)) == [
        date(2030, 1, 8),
        date(2030, 1, 15),
    ]


def test_a_cadence_day_on_a_holiday_moves_to_the_next_working_day():
    calendar = WorkingCalendar()
    # Easter Monday 2030 is 22 April; a Monday cadence meets on Tuesday 23 April instead.
    assert meeting_day(date(2030, 4, 22), calendar) == date(2030, 4, 23)
    assert meeting_day(date(2030, 4, 29), calendar) == date(2030, 4, 29)


# (conference day, cut-off day at 17:00, reminder day at 08:00), Stockholm time.
CUTOFF_TABLE = [
    # An ordinary Tuesday: cut-off the Thursday before, reminder the Friday before.
    (date(2030, 3, 12), date(2030, 3, 7), date(2030, 3, 8)),
    # The Tuesday after Easter: Good Friday and Easter Monday do not count.
    (date(2030, 4, 23), date(2030, 4, 16), date(2030, 4, 17)),
    # The Tuesday after Ascension Day (Thursday 30 May 2030), which does not count.
    (date(2030, 6, 4), date(2030, 5, 29), date(2030, 5, 31)),
    # The first Tuesday of January 2031: New Year's Eve/Day and Epiphany are holidays.
    (date(2031, 1, 7), date(2030, 12, 30), date(2031, 1, 2)),
]


@pytest.mark.parametrize(("held_on", "cutoff_day", "reminder_day"), CUTOFF_TABLE)
def test_cutoff_and_reminder_fall_on_working_days(held_on, cutoff_day, reminder_day):
    calendar = WorkingCalendar()
    cutoff = agenda_cutoff_at(held_on, 3, calendar).astimezone(calendar.tz)
    reminder = prepare_due_at(held_on, 2, calendar).astimezone(calendar.tz)
    assert (cutoff.date(), cutoff.hour) == (cutoff_day, 17)
    assert (reminder.date(), reminder.hour) == (reminder_day, 8)
    assert calendar.is_working_day(cutoff.date()) and calendar.is_working_day(reminder.date())
    assert calendar.working_days_between(cutoff.date(), held_on) == 3
    assert calendar.working_days_between(reminder.date(), held_on) == 2


QUORUM_TABLE = [
    # needed, present, all named required, missing
    ({"kommun", "af"}, {"kommun", "af", "fk"}, True, set()),
    ({"kommun", "af", "region"}, {"kommun", "af"}, True, {"region"}),
    ({"kommun", "af"}, set(), True, {"kommun", "af"}),
    ({"kommun", "af", "region"}, {"kommun"}, False, set()),
    ({"kommun", "af"}, set(), False, {"kommun", "af"}),
    ({"fk", "region"}, {"forbund"}, True, {"fk", "region"}),  # the chair is not an agency vote
]


@pytest.mark.parametrize(("needed", "present", "required", "missing"), QUORUM_TABLE)
def test_quorum(needed, present, required, missing):
    assert quorum_missing(needed, present, all_named_required=required) == missing


def _entry(case_id, age, children, referral_date, queued_day=1):
    on = referral_date
    birth = date(on.year - age, on.month, on.day)
    return QueueEntry(
        case_id=case_id,
        birth_date=birth,
        referral_date=on,
        children_in_household=children,
        queued_at=datetime(2030, 3, queued_day, 9, tzinfo=UTC),
    )


def test_queue_order_age_25_45_with_children_first_then_referral_date():
    entries = [
        _entry(1, 30, False, date(2030, 1, 5)),  # not prioritised (no children), oldest referral
        _entry(2, 46, True, date(2030, 1, 10)),  # 46: outside the band
        _entry(3, 45, True, date(2030, 2, 1)),  # band edge, prioritised
        _entry(4, 25, True, date(2030, 1, 20)),  # band edge, prioritised, earlier referral
        _entry(5, 24, True, date(2030, 1, 1)),  # 24: outside the band
        _entry(6, 35, None, date(2030, 1, 2)),  # children unknown: not prioritised
    ]
    ordered = [e.case_id for e in order_queue(entries, "age_25_45_children_first")]
    assert ordered == [4, 3, 5, 6, 1, 2]
    by_date = [e.case_id for e in order_queue(entries, "referral_date")]
    assert by_date == [5, 6, 1, 2, 4, 3]


def test_queue_ties_go_to_who_queued_first():
    a = _entry(7, 30, True, date(2030, 1, 5), queued_day=3)
    b = _entry(8, 30, True, date(2030, 1, 5), queued_day=2)
    assert [e.case_id for e in order_queue([a, b], "age_25_45_children_first")] == [8, 7]


def test_median_working_days():
    calendar = WorkingCalendar()
    pairs = [
        (date(2030, 3, 4), date(2030, 3, 11)),  # 5 working days
        (date(2030, 3, 4), date(2030, 3, 5)),  # 1
        (date(2030, 4, 17), date(2030, 4, 23)),  # Easter: Thu 18, Wed... = 2
    ]
    assert median_working_days(pairs, calendar) == 2.0
    assert median_working_days([], calendar) is None

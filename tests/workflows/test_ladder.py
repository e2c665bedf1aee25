"""The missed-meeting ladder as a table: attendance sequences (with cancellations, corrections and
resets) → the actions owed at each step, for both counting modes."""

from datetime import UTC, datetime, timedelta

import pytest

from workflows.ladder import Count, Ladder, LadderAction, LadderSettings, Mark, count, react
from workflows.meeting import AttendanceStatus
from workflows.programme import CountingMode

F, R = LadderAction.FIRST_MISS_TASK, LadderAction.REPEATED_MISS_TASK
OPEN, WITHDRAW = LadderAction.OPEN_ESCALATION, LadderAction.WITHDRAW_ESCALATION
SINCE, RUN = CountingMode.SINCE_RESET, CountingMode.CONSECUTIVE
CODES = {
    "A": AttendanceStatus.ATTENDED,
    "M": AttendanceStatus.MISSED,
    "P": AttendanceStatus.CANCELLED_BY_PARTICIPANT,
    "S": AttendanceStatus.CANCELLED_BY_STAFF,
}
START = datetime(2027, 1, 4, 9, tzinfo=UTC)

# Steps: "M" a new meeting with that attendance; "g:M" a new group session; "2=A" correct the
# attendance of the 2nd meeting; "continue" the decision that resets the count.
TABLE = [
    # (name, mode, settings overrides, steps, actions per step, (current, peak) at the end)
    ("three misses escalate", SINCE, {}, "M M M", [[F], [R], [OPEN]], (3, 3)),
    ("three misses escalate in a row too", RUN, {}, "M M M", [[F], [R], [OPEN]], (3, 3)),
    (
        "attendance between misses still counts since reset",
        SINCE,
        {},
        "M A M M",
        [[F], [], [R], [OPEN]],
        (3, 3),
    ),
    ("attendance ends the run", RUN, {}, "M A M M", [[F], [], [F], [R]], (2, 2)),
    ("a run after attendance escalates", RUN, {}, "M A M M M", [[F], [], [F], [R], [OPEN]], (3, 3)),
    ("cancellations neither count", SINCE, {}, "M P S M", [[F], [], [], [R]], (2, 2)),
    (
        "cancellations neither count nor end a run",
        RUN,
        {},
        "M P S M M",
        [[F], [], [], [R], [OPEN]],
        (3, 3),
    ),
    (
        "a correction below the threshold withdraws",
        SINCE,
        {},
        "M M M 2=A",
        [[F], [R], [OPEN], [WITHDRAW]],
        (2, 2),
    ),
    (
        "a withdrawn escalation comes back with the next miss",
        SINCE,
        {},
        "M M M 2=A M",
        [[F], [R], [OPEN], [WITHDRAW], [OPEN]],
        (3, 3),
    ),
    (
        "a correction that splits the run withdraws",
        RUN,
        {},
        "M M M 2=A",
        [[F], [R], [OPEN], [WITHDRAW]],
        (1, 1),
    ),
    ("a correction to missed climbs the ladder", SINCE, {}, "A M 1=M", [[], [F], [R]], (2, 2)),
    ("a correction to missed can escalate", SINCE, {}, "M M A 3=M", [[F], [R], [], [OPEN]], (3, 3)),
    (
        "a correction that joins two runs escalates",
        RUN,
        {},
        "M A M M 2=M",
        [[F], [], [F], [R], [OPEN]],
        (4, 4),
    ),
    (
        "correcting one cancellation into another changes nothing",
        SINCE,
        {},
        "M P 2=S",
        [[F], [], []],
        (1, 1),
    ),
    (
        "attending after escalation keeps it (peak stands)",
        RUN,
        {},
        "M M M A M",
        [[F], [R], [OPEN], [], [F]],
        (1, 3),
    ),
    (
        "more misses while escalated open nothing new",
        SINCE,
        {},
        "M M M M",
        [[F], [R], [OPEN], []],
        (4, 4),
    ),
    (
        "continue resets the count",
        SINCE,
        {},
        "M M M continue M M M",
        [[F], [R], [OPEN], [], [F], [R], [OPEN]],
        (3, 3),
    ),
    (
        "continue resets the run",
        RUN,
        {},
        "M M M continue A M",
        [[F], [R], [OPEN], [], [], [F]],
        (1, 1),
    ),
    (
        "a correction from before the reset changes nothing",
        SINCE,
        {},
        "M M M continue 1=A",
        [[F], [R], [OPEN], [], []],
        (0, 0),
    ),
    (
        "group sessions do not count by default",
        SINCE,
        {},
        "g:M g:M g:M M",
        [[], [], [], [F]],
        (1, 1),
    ),
    (
        "group sessions count when the programme says so",
        SINCE,
        {"group_sessions_count": True},
        "g:M M g:M",
        [[F], [R], [OPEN]],
        (3, 3),
    ),
    ("a threshold of two", SINCE, {"threshold": 2}, "M M", [[F], [OPEN]], (2, 2)),
    ("a threshold of four", RUN, {"threshold": 4}, "M M M M", [[F], [R], [R], [OPEN]], (4, 4)),
    ("registering the same status again owes nothing", SINCE, {}, "M 1=M", [[F], []], (1, 1)),
]


def run(mode, overrides, steps: str):
    ladder = Ladder(LadderSettings(counting_mode=mode, **overrides))
    owed = []
    meetings: list[int] = []
    for step in steps.split():
        if step == "continue":
            ladder.decide_continue(START + timedelta(days=len(meetings) - 1, hours=3))
            owed.append([])
            continue
        if "=" in step:
            number, code = step.split("=")
            meeting_id = meetings[int(number) - 1]
            starts_at = START + timedelta(days=meeting_id)
            owed.append(ladder.record(meeting_id, starts_at, CODES[code]))
            continue
        group = step.startswith("g:")
        meeting_id = len(meetings)
        meetings.append(meeting_id)
        starts_at = START + timedelta(days=meeting_id)
        owed.append(
            ladder.record(
                meeting_id, starts_at, CODES[step.removeprefix("g:")], group_session=group
            )
        )
    return ladder, owed


@pytest.mark.parametrize(
    ("name", "mode", "overrides", "steps", "expected", "final"), TABLE, ids=[t[0] for t in TABLE]
)
def test_sequence(name, mode, overrides, steps, expected, final):
    ladder, owed = run(mode, overrides, steps)
    assert owed == expected
    counted = ladder.count()
    assert (counted.current, counted.peak) == final


def test_the_count_lists_the_missed_meetings_of_the_current_run():
    marks = [
        Mark(1, START, AttendanceStatus.MISSED),
        Mark(2, START + timedelta(days=1), AttendanceStatus.ATTENDED),
        Mark(3, START + timedelta(days=2), AttendanceStatus.MISSED),
        Mark(4, START + timedelta(days=3), None),  # not registered yet: neutral
        Mark(5, START + timedelta(days=4), AttendanceStatus.MISSED),
    ]
    assert count(marks, LadderSettings(counting_mode=RUN)) == Count(2, 2, (3, 5))
    assert count(marks, LadderSettings(counting_mode=SINCE)) == Count(3, 3, (1, 3, 5))
    assert count(marks, LadderSettings(), reset_at=START + timedelta(days=1)) == Count(2, 2, (3, 5))


def test_react_owes_nothing_when_the_count_goes_down_without_an_escalation():
    assert react(Count(2, 2), Count(1, 1), escalation_open=False, threshold=3) == []

"""Caseload rules: load ratio, the suggestion, and the warnings, as tables."""

from datetime import date

import pytest

from workflows.calendar import WorkingCalendar
from workflows.caseload import (
    CaseFacts,
    CaseWarning,
    CoordinatorLoad,
    duration_warning_on,
    fits,
    load_ratio,
    plan_sign_off_due_on,
    suggest,
    warnings,
)

CAL = WorkingCalendar()
W = CaseWarning


@pytest.mark.parametrize(
    ("load", "weight", "capacity", "fits_"),
    [(0, 1, 15, True), (13, 2, 15, True), (14, 2, 15, False), (15, 1, 15, False), (0, 1, 0, False)],
)
def test_a_case_fits_while_the_weighted_load_stays_within_capacity(load, weight, capacity, fits_):
    assert fits(load, weight, capacity) is fits_


def test_load_ratio_and_a_coordinator_without_capacity():
    assert load_ratio(6, 15) == pytest.approx(0.4)
    assert load_ratio(0, 0) == float("inf")


def c(cid, load, capacity=15):
    return CoordinatorLoad(coordinator_id=cid, load=load, capacity=capacity)


@pytest.mark.parametrize(
    ("candidates", "weight", "exclude", "expected"),
    [
        ([c(1, 10), c(2, 4), c(3, 8)], 1, (), 2),  # lowest ratio
        ([c(1, 10, 20), c(2, 6, 10)], 1, (), 1),  # 0.5 < 0.6: the ratio, not the count
        ([c(1, 4), c(2, 4)], 1, (), 1),  # a tie goes to the lower id
        ([c(1, 5, 10), c(2, 10, 20)], 1, (), 2),  # same ratio: more room wins
        ([c(1, 14), c(2, 20, 30)], 2, (), 2),  # 1 would go over: 2 still fits
        ([c(1, 15), c(2, 16)], 1, (), 1),  # nobody fits: the lowest ratio (needs a reason)
        ([c(1, 2), c(2, 4)], 1, (1,), 2),  # the current coordinator is not suggested
        ([], 1, (), None),
    ],
)
def test_the_suggestion_is_the_lowest_load_ratio_that_fits(candidates, weight, exclude, expected):
    found = suggest(candidates, weight, exclude=exclude)
    assert (found.coordinator_id if found else None) == expected


def test_the_plan_is_due_twenty_working_days_after_enrolment():
    # Monday 2 March 2026: four weeks of working days later, no holidays in between.
    assert plan_sign_off_due_on(date(2026, 3, 2), CAL) == date(2026, 3, 30)
    # Over Easter 2026 (Good Friday 3 April, Easter Monday 6 April) it takes two days more.
    assert plan_sign_off_due_on(date(2026, 3, 23), CAL) == date(2026, 4, 22)


def test_the_duration_warning_is_at_the_programmes_percent_of_the_maximum():
    assert duration_warning_on(date(2026, 1, 1), 365, 80) == date(2026, 10, 20)  # day 292
    assert duration_warning_on(date(2026, 1, 1), None, 80) is None


ENROLLED = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("facts", "today", "expected"),
    [
        (CaseFacts("enrolled", ENROLLED, plan_signed=False), date(2026, 3, 27), []),
        (CaseFacts("enrolled", ENROLLED, plan_signed=False), date(2026, 3, 30), [W.PLAN_UNSIGNED]),
        (
            CaseFacts("active", ENROLLED, plan_signed=True, review_on=date(2026, 6, 1)),
            date(2026, 6, 1),
            [],
        ),
        (
            CaseFacts("active", ENROLLED, plan_signed=True, review_on=date(2026, 6, 1)),
            date(2026, 6, 2),
            [W.REVIEW_OVERDUE],
        ),
        (
            CaseFacts("active", ENROLLED, True, date(2027, 1, 1), max_duration_days=100),
            date(2026, 5, 21),  # day 80
            [W.NEAR_MAX_DURATION],
        ),
        (
            CaseFacts("active", ENROLLED, True, date(2027, 1, 1), max_duration_days=100),
            date(2026, 5, 20),  # day 79
            [],
        ),
        (
            CaseFacts("active", ENROLLED, True, date(2027, 1, 1), max_duration_days=100),
            date(2026, 6, 10),  # day 100
            [W.OVER_MAX_DURATION],
        ),
        (
            CaseFacts("paused", ENROLLED, False, escalated=True),
            date(2026, 4, 1),
            [W.ESCALATED, W.PLAN_UNSIGNED],
        ),
        (CaseFacts("waiting", None, False, escalated=True), date(2026, 4, 1), []),
    ],
)
def test_the_caseload_warnings(facts, today, expected):
    assert warnings(facts, today, CAL) == expected

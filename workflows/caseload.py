"""Caseload (../shared/DOMAIN.md §7): load ratios, the coordinator suggestion and the caseload
warnings."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from workflows.calendar import WorkingCalendar
from workflows.case import CaseState

DEFAULT_CAPACITY = 15  # weighted cases per coordinator
PLAN_SIGN_OFF_WORKING_DAYS = 20  # the plan should be signed this many working days after enrolment

# States whose cases weigh on the coordinator's caseload (a paused case comes back).
LOADED_STATES = frozenset(
    {CaseState.ENROLLED, CaseState.ACTIVE, CaseState.PAUSED, CaseState.EXITING}
)


@dataclass(frozen=True)
class CoordinatorLoad:
    """One coordinator's capacity and current weighted load."""

    coordinator_id: int
    load: int
    capacity: int
    team_id: int | None = None

    @property
    def ratio(self) -> float:
        """Return the load ratio (load / capacity); no capacity at all counts as full."""
        return load_ratio(self.load, self.capacity)

    def fits(self, weight: int) -> bool:
        """Tell whether a case of this weight fits within the capacity."""
        return fits(self.load, weight, self.capacity)


def load_ratio(load: int, capacity: int) -> float:
    """Return load / capacity; a coordinator without capacity is infinitely loaded."""
    if capacity <= 0:
        return math.inf
    return load / capacity


def fits(load: int, weight: int, capacity: int) -> bool:
    """Tell whether adding a case of the weight keeps the load within the capacity."""
    return load + weight <= capacity


def suggest(
    candidates: Iterable[CoordinatorLoad], weight: int, *, exclude: Iterable[int] = ()
) -> CoordinatorLoad | None:
    """Return the coordinator to suggest: the lowest load ratio among those the case fits.

    When the case fits nobody, the lowest ratio overall (assigning then needs a reason).
    Ties go to the most free capacity, then the lowest id, so the answer is stable.
    """
    excluded = set(exclude)
    pool = [c for c in candidates if c.coordinator_id not in excluded]
    if not pool:
        return None
    fitting = [c for c in pool if c.fits(weight)] or pool
    return min(fitting, key=lambda c: (c.ratio, -(c.capacity - c.load), c.coordinator_id))


def days_in_programme(enrolled_on: date | None, today: date) -> int | None:
    """Return the calendar days since enrolment (None before enrolment)."""
    if enrolled_on is None:
        return None
    return max((today - enrolled_on).days, 0)


def duration_warning_on(
    enrolled_on: date | None, max_duration_days: int | None, percent: int
) -> date | None:
    """Return the day the case reaches `percent` % of the programme's maximum duration."""
    if enrolled_on is None or not max_duration_days:
        return None
    return enrolled_on + timedelta(days=math.ceil(max_duration_days * percent / 100))


def plan_sign_off_due_on(enrolled_on: date | None, calendar: WorkingCalendar) -> date | None:
    """Return the day the plan should be signed by: 20 working days after enrolment."""
    if enrolled_on is None:
        return None
    return calendar.add_working_days(enrolled_on, PLAN_SIGN_OFF_WORKING_DAYS)


class CaseWarning(StrEnum):
    """What the caseload flags on a case."""

    ESCALATED = "escalated"
    PLAN_UNSIGNED = "plan_unsigned"
    REVIEW_OVERDUE = "review_overdue"
    NEAR_MAX_DURATION = "near_max_duration"
    OVER_MAX_DURATION = "over_max_duration"


@dataclass(frozen=True)
class CaseFacts:
    """What the warnings need to know about one case."""

    state: CaseState | str
    enrolled_on: date | None
    plan_signed: bool
    review_on: date | None = None
    max_duration_days: int | None = None
    duration_warning_percent: int = 80
    escalated: bool = False


@dataclass(frozen=True)
class WarningThresholds:
    """The warnings of `warnings` turned into dates, for a database to compare enrolment with.

    A case enrolled on or before `plan_unsigned_by` without a signed plan is late with it; one
    enrolled on or before `over_max_by(...)` is over the maximum duration, on or before
    `near_max_by(...)` near it. The review is overdue when `review_on < today`.
    """

    today: date
    plan_unsigned_by: date

    def over_max_by(self, max_duration_days: int) -> date:
        """Return the last enrolment day that is at or over the maximum duration today."""
        return self.today - timedelta(days=max_duration_days)

    def near_max_by(self, max_duration_days: int, percent: int) -> date:
        """Return the last enrolment day that has reached `percent` % of the maximum today."""
        return self.today - timedelta(days=math.ceil(max_duration_days * percent / 100))


def warning_thresholds(today: date, calendar: WorkingCalendar) -> WarningThresholds:
    """Return the enrolment dates at which the warnings start, today."""
    # The latest enrolment whose sign-off day (20 working days later) has come: the sign-off day
    # moves forward with the enrolment day, so walk back from the first candidate.
    enrolled = today - timedelta(days=PLAN_SIGN_OFF_WORKING_DAYS)
    while calendar.add_working_days(enrolled, PLAN_SIGN_OFF_WORKING_DAYS) > today:
        enrolled -= timedelta(days=1)
    return WarningThresholds(today=today, plan_unsigned_by=enrolled)


def warnings(facts: CaseFacts, today: date, calendar: WorkingCalendar) -> list[CaseWarning]:
    """Return the case's warnings, in the order the caseload shows them."""
    state = CaseState(facts.state)
    if state in (CaseState.WAITING, CaseState.CLOSED):
        return []
    found: list[CaseWarning] = []
    if facts.escalated:
        found.append(CaseWarning.ESCALATED)
    due = plan_sign_off_due_on(facts.enrolled_on, calendar)
    if not facts.plan_signed and due is not None and today >= due:
        found.append(CaseWarning.PLAN_UNSIGNED)
    if facts.plan_signed and facts.review_on is not None and today > facts.review_on:
        found.append(CaseWarning.REVIEW_OVERDUE)
    if facts.max_duration_days and facts.enrolled_on is not None:
        days = days_in_programme(facts.enrolled_on, today) or 0
        warn_on = duration_warning_on(
            facts.enrolled_on, facts.max_duration_days, facts.duration_warning_percent
        )
        if days >= facts.max_duration_days:
            found.append(CaseWarning.OVER_MAX_DURATION)
        elif warn_on is not None and today >= warn_on:
            found.append(CaseWarning.NEAR_MAX_DURATION)
    return found

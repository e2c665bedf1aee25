"""Programme settings and eligibility rules (../shared/DOMAIN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class PriorityRule(StrEnum):
    """How the waiting queue is ordered."""

    AGE_25_45_CHILDREN_FIRST = "age_25_45_children_first"
    REFERRAL_DATE = "referral_date"


class CountingMode(StrEnum):
    """How missed meetings are counted towards escalation."""

    SINCE_RESET = "since_reset"
    CONSECUTIVE = "consecutive"


@dataclass(frozen=True)
class Eligibility:
    """The age band at the referral date and the minimum number of agencies needed."""

    min_age: int = 18
    max_age: int = 64
    min_agencies: int = 2

    def age_problem(self, age: int) -> str | None:
        """Return 'too_young', 'too_old' or None."""
        if age < self.min_age:
            return "too_young"
        if age > self.max_age:
            return "too_old"
        return None


class TargetVariable(StrEnum):
    """What a programme's outcome target measures: a SUS variable, or the decided referrals'
    joint recommendation (../shared/DOMAIN.md §6, §12)."""

    EXIT_REASON = "exit_reason"
    OCCUPATION = "occupation"
    WORK = "work"
    EDUCATION = "education"
    TIME_ON_SUPPORT = "time_on_support"
    SUPPORT = "support"
    JOINT_RECOMMENDATION = "joint_recommendation"


TARGET_OCCASIONS: tuple[str, ...] = ("intake", "exit", "follow_up_6", "follow_up_12")
JOINT_RECOMMENDATION_CODES: tuple[str, ...] = ("with_recommendation",)


def target_occasions(variable: str) -> tuple[str, ...]:
    """Return the occasions a target on a variable can be measured at (none: not a SUS
    registration; the exit reason only exists at exit)."""
    if variable == TargetVariable.JOINT_RECOMMENDATION:
        return ()
    if variable == TargetVariable.EXIT_REASON:
        return ("exit",)
    return TARGET_OCCASIONS


def target_met(numerator: int, denominator: int, target_percent: Decimal) -> bool | None:
    """Tell whether numerator/denominator reached a target percentage, unrounded (None when
    nothing was measured)."""
    if denominator <= 0:
        return None
    return Decimal(numerator) * 100 >= target_percent * denominator

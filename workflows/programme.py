"""Programme settings and eligibility rules (../shared/DOMAIN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass
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

"""Pure rules of the follow-up statistics (../shared/DOMAIN.md §12): bands, bins, shares,
suppression.

The SQL reports group by the same rules; these functions are the reference they are tested against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class Occasion(StrEnum):
    """When a SUS registration is made."""

    INTAKE = "intake"
    EXIT = "exit"
    FOLLOW_UP_6 = "follow_up_6"
    FOLLOW_UP_12 = "follow_up_12"


class Population(StrEnum):
    """Which participants a report counts, relative to its period."""

    ENROLLED = "enrolled"  # enrolled within the period
    ACTIVE = "active"  # in the programme at some time within the period
    EXITED = "exited"  # exited within the period


GENDERS: tuple[str, ...] = ("kvinna", "man", "annat")
"""The report columns; any other or missing gender is reported as "annat" (Annat/ej angivet)."""

SINGLE_VALUED: tuple[str, ...] = ("work", "occupation", "education", "time_on_support")
MULTI_VALUED: tuple[str, ...] = ("support",)

# Reports by referring agency: by the four kinds, or by the förbund's member organisations.
AGENCY_LEVELS: tuple[str, ...] = ("kind", "organisation")
# The gender-balance check: per month of enrolment, or over the whole chosen period.
BALANCE_SPANS: tuple[str, ...] = ("month", "period")

DEFAULT_BAND_START = 15
DEFAULT_BAND_END = 64
DEFAULT_BAND_WIDTH = 5
SUPPRESSION_THRESHOLD = 5
BALANCE_LOW = Decimal(40)
BALANCE_HIGH = Decimal(60)
RATING_INTERVAL_MONTHS = 3
RATING_MIN, RATING_MAX = 1, 10

PROGRESSION_QUESTIONS: tuple[str, ...] = (
    "job_search_clarity",
    "use_of_competences",
    "managing_a_job",
    "time_available",
    "health_for_work",
    "network_support",
    "contacting_strangers",
    "cooperation",
    "managing_studies",
    "job_goal_clarity",
)


@dataclass(frozen=True)
class Band:
    """A closed integer range with its report code and label."""

    low: int
    high: int

    @property
    def code(self) -> str:
        """Return the code used in exports and the API, e.g. "15_19"."""
        return f"{self.low}_{self.high}"

    @property
    def label(self) -> str:
        """Return the range as the app writes every range, e.g. "15–19" (SUS prints "15 - 19";
        pages use coordination.core.formats.band_label, the same in the reader's language)."""
        return f"{self.low}\u2013{self.high}"


def age_bands(
    start: int = DEFAULT_BAND_START, end: int = DEFAULT_BAND_END, width: int = DEFAULT_BAND_WIDTH
) -> list[Band]:
    """Return the age bands from `start` to `end` inclusive, `width` years each."""
    if width < 1 or end < start:
        raise ValueError("age bands need a positive width and start <= end")
    return [Band(low, min(low + width - 1, end)) for low in range(start, end + 1, width)]


def age_band_index(age: int, start: int, end: int, width: int) -> int | None:
    """Return the index of the band an age falls into, or None outside the bands."""
    if age < start or age > end:
        return None
    return (age - start) // width


def age_at_enrolment(birth_year: int, enrolled_on: date) -> int:
    """Return the age SUS reports: the year of enrolment minus the birth year."""
    return enrolled_on.year - birth_year


def months_in_programme(enrolled_on: date, exited_on: date) -> int:
    """Return the number of started months between enrolment and exit (at least 1)."""
    if exited_on < enrolled_on:
        raise ValueError("exit before enrolment")
    months = (exited_on.year - enrolled_on.year) * 12 + exited_on.month - enrolled_on.month
    if exited_on.day < enrolled_on.day:
        months -= 1  # that month is not yet complete
    whole_months_end = _add_months(enrolled_on, months)
    if exited_on > whole_months_end:
        months += 1  # a started month counts
    return max(months, 1)


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def three_month_bin(months: int) -> Band:
    """Return the 3-month bin of a number of months: 1-3, 4-6, 7-9, ..."""
    if months < 1:
        raise ValueError("months start at 1")
    low = (months - 1) // 3 * 3 + 1
    return Band(low, low + 2)


def percent(count: int, denominator: int) -> Decimal | None:
    """Return count/denominator as a percentage with one decimal (half up), None for 0/0."""
    if denominator == 0:
        return None
    value = Decimal(count) * 100 / Decimal(denominator)
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def is_suppressed(count: int, threshold: int = SUPPRESSION_THRESHOLD) -> bool:
    """Tell whether a count is a small cell (1 to threshold-1) that must not be published."""
    return 0 < count < threshold


def suppressed(count: int, threshold: int = SUPPRESSION_THRESHOLD) -> int | str:
    """Return the count, or "<threshold" for a small cell."""
    return f"<{threshold}" if is_suppressed(count, threshold) else count


def outside_balance(women: int, men: int) -> bool:
    """Tell whether the share of women among women and men lies outside 40-60 %.

    The exact share is compared, never the rounded one: 39.96 % is outside although it shows as
    40.0 %.
    """
    total = women + men
    if total == 0:
        return False
    return women * 100 < BALANCE_LOW * total or women * 100 > BALANCE_HIGH * total


def rating_change(first_total: int, last_total: int) -> str:
    """Classify a participant's progression from their first to their latest self-rating."""
    if last_total > first_total:
        return "positive"
    if last_total < first_total:
        return "negative"
    return "unchanged"


def next_rating_due(last_rating_on: date | None, enrolled_on: date) -> date:
    """Return when the next self-rating is due: 3 months after the last one (or enrolment)."""
    return _add_months(last_rating_on or enrolled_on, RATING_INTERVAL_MONTHS)

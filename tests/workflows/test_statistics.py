"""The pure rules of the statistics: bands, bins, percentages, suppression, balance, ratings."""

from datetime import date
from decimal import Decimal

import pytest

from workflows.statistics import (
    age_at_enrolment,
    age_band_index,
    age_bands,
    months_in_programme,
    next_rating_due,
    outside_balance,
    percent,
    rating_change,
    suppressed,
    three_month_bin,
)


def test_default_age_bands_are_15_19_to_60_64():
    bands = age_bands()
    assert [b.label for b in bands][:2] == ["15–19", "20–24"]
    assert bands[-1].label == "60–64" and len(bands) == 10


@pytest.mark.parametrize(
    ("age", "expected"),
    [(14, None), (15, 0), (19, 0), (20, 1), (64, 9), (65, None)],
)
def test_age_band_index(age, expected):
    assert age_band_index(age, 15, 64, 5) == expected


def test_configurable_bands_and_a_short_last_band():
    assert [b.label for b in age_bands(18, 64, 10)] == [
        "18–27",
        "28–37",
        "38–47",
        "48–57",
        "58–64",
    ]


def test_age_is_year_of_enrolment_minus_birth_year():
    assert age_at_enrolment(1990, date(2013, 1, 2)) == 23


@pytest.mark.parametrize(
    ("enrolled", "exited", "months"),
    [
        (date(2013, 1, 10), date(2013, 1, 10), 1),
        (date(2013, 1, 10), date(2013, 2, 9), 1),
        (date(2013, 1, 10), date(2013, 2, 10), 1),
        (date(2013, 1, 10), date(2013, 2, 11), 2),
        (date(2013, 1, 11), date(2013, 4, 10), 3),
        (date(2013, 1, 31), date(2013, 2, 28), 1),
        (date(2012, 1, 1), date(2014, 3, 15), 27),
    ],
)
def test_started_months_in_the_programme(enrolled, exited, months):
    assert months_in_programme(enrolled, exited) == months


@pytest.mark.parametrize(("months", "label"), [(1, "1–3"), (3, "1–3"), (4, "4–6"), (27, "25–27")])
def test_three_month_bins(months, label):
    assert three_month_bin(months).label == label


@pytest.mark.parametrize(
    ("count", "denominator", "expected"),
    [(104, 398, Decimal("26.1")), (1, 8, Decimal("12.5")), (1, 3, Decimal("33.3")), (0, 0, None)],
)
def test_percent_has_one_decimal_rounded_half_up(count, denominator, expected):
    assert percent(count, denominator) == expected


@pytest.mark.parametrize(("count", "shown"), [(0, 0), (1, "<5"), (4, "<5"), (5, 5), (120, 120)])
def test_small_cells_are_suppressed(count, shown):
    assert suppressed(count) == shown


@pytest.mark.parametrize(
    ("women", "men", "flagged"),
    [
        (4, 6, False),
        (6, 4, False),
        (3, 7, True),
        (7, 3, True),
        (0, 0, False),
        (61, 39, True),
        # The unrounded share: 39.96 % and 60.04 % show as 40.0 and 60.0 but lie outside.
        (999, 1501, True),
        (1000, 1500, False),
        (1501, 999, True),
    ],
)
def test_gender_balance_outside_40_60_is_flagged(women, men, flagged):
    assert outside_balance(women, men) is flagged


@pytest.mark.parametrize(
    ("first", "last", "change"), [(40, 55, "positive"), (55, 40, "negative"), (50, 50, "unchanged")]
)
def test_rating_change(first, last, change):
    assert rating_change(first, last) == change


def test_next_rating_is_due_three_months_after_the_last_or_enrolment():
    assert next_rating_due(None, date(2024, 1, 31)) == date(2024, 4, 30)
    assert next_rating_due(date(2024, 5, 2), date(2024, 1, 31)) == date(2024, 8, 2)

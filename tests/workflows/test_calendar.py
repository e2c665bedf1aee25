"""Tests for Swedish working-day arithmetic in workflows.calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.calendar import STOCKHOLM, WorkingCalendar, easter_sunday, swedish_holidays

CAL = WorkingCalendar()


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """Build an aware Stockholm datetime."""
    return datetime(y, mo, d, h, mi, tzinfo=STOCKHOLM)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """Build an aware UTC datetime."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


# --- Holidays --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2028, date(2028, 4, 16)),
        (2038, date(2038, 4, 25)),
        (2285, date(2285, 3, 22)),
    ],
)
def test_easter_sunday(year: int, expected: date) -> None:
    assert easter_sunday(year) == expected
    assert expected.weekday() == 6


HOLIDAYS = {
    2025: {
        date(2025, 1, 1): "nyårsdagen",
        date(2025, 1, 6): "trettondedag jul",
        date(2025, 4, 18): "långfredagen",
        date(2025, 4, 19): "påskafton",
        date(2025, 4, 20): "påskdagen",
        date(2025, 4, 21): "annandag påsk",
        date(2025, 5, 1): "första maj",
        date(2025, 5, 29): "Kristi himmelsfärdsdag",
        date(2025, 6, 6): "nationaldagen",
        date(2025, 6, 8): "pingstdagen",
        date(2025, 6, 20): "midsommarafton",
        date(2025, 6, 21): "midsommardagen",
        date(2025, 11, 1): "alla helgons dag",
        date(2025, 12, 24): "julafton",
        date(2025, 12, 25): "juldagen",
        date(2025, 12, 26): "annandag jul",
        date(2025, 12, 31): "nyårsafton",
    },
    2026: {
        date(2026, 1, 1): "nyårsdagen",
        date(2026, 1, 6): "trettondedag jul",
        date(2026, 4, 3): "långfredagen",
        date(2026, 4, 4): "påskafton",
        date(2026, 4, 5): "påskdagen",
        date(2026, 4, 6): "annandag påsk",
        date(2026, 5, 1): "första maj",
        date(2026, 5, 14): "Kristi himmelsfärdsdag",
        date(2026, 5, 24): "pingstdagen",
        date(2026, 6, 6): "nationaldagen",
        date(2026, 6, 19): "midsommarafton",
        date(2026, 6, 20): "midsommardagen",
        date(2026, 10, 31): "alla helgons dag",
        date(2026, 12, 24): "julafton",
        date(2026, 12, 25): "juldagen",
        date(2026, 12, 26): "annandag jul",
        date(2026, 12, 31): "nyårsafton",
    },
    2027: {
        date(2027, 1, 1): "nyårsdagen",
        date(2027, 1, 6): "trettondedag jul",
        date(2027, 3, 26): "långfredagen",
        date(2027, 3, 27): "påskafton",
        date(2027, 3, 28): "påskdagen",
        date(2027, 3, 29): "annandag påsk",
        date(2027, 5, 1): "första maj",
        date(2027, 5, 6): "Kristi himmelsfärdsdag",
        date(2027, 5, 16): "pingstdagen",
        date(2027, 6, 6): "nationaldagen",
        date(2027, 6, 25): "midsommarafton",
        date(2027, 6, 26): "midsommardagen",
        date(2027, 11, 6): "alla helgons dag",
        date(2027, 12, 24): "julafton",
        date(2027, 12, 25): "juldagen",
        date(2027, 12, 26): "annandag jul",
        date(2027, 12, 31): "nyårsafton",
    },
}


@pytest.mark.parametrize("year", sorted(HOLIDAYS))
def test_holiday_table(year: int) -> None:
    assert swedish_holidays(year) == HOLIDAYS[year]


@pytest.mark.parametrize("year", range(2000, 2101))
def test_holiday_rules_hold_every_year(year: int) -> None:
    by_name = {name: d for d, names in swedish_holidays(year).items() for name in names.split(", ")}
    assert len(by_name) == 17
    assert by_name["midsommarafton"].weekday() == 4
    assert date(year, 6, 19) <= by_name["midsommarafton"] <= date(year, 6, 25)
    assert by_name["midsommardagen"] == by_name["midsommarafton"] + timedelta(days=1)
    assert by_name["alla helgons dag"].weekday() == 5
    assert date(year, 10, 31) <= by_name["alla helgons dag"] <= date(year, 11, 6)
    assert by_name["Kristi himmelsfärdsdag"].weekday() == 3
    assert by_name["pingstdagen"].weekday() == 6
    assert by_name["långfredagen"].weekday() == 4


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2008, 5, 1), "första maj, Kristi himmelsfärdsdag"),
        (date(2049, 6, 6), "pingstdagen, nationaldagen"),
    ],
)
def test_holidays_sharing_a_date_keep_both_names(day: date, name: str) -> None:
    assert swedish_holidays(day.year)[day] == name


def test_swedish_holidays_returns_a_copy() -> None:
    table = swedish_holidays(2026)
    table.clear()
    assert len(swedish_holidays(2026)) == 17


# --- Working days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2026, 4, 2), True),  # skärtorsdagen is a working day
        (date(2026, 4, 3), False),  # långfredagen
        (date(2026, 4, 6), False),  # annandag påsk
        (date(2026, 5, 14), False),  # Kristi himmelsfärdsdag
        (date(2026, 5, 15), True),  # klämdag, still a working day
        (date(2026, 6, 19), False),  # midsommarafton
        (date(2026, 6, 22), True),
        (date(2026, 10, 31), False),  # Saturday anyway
        (date(2026, 11, 2), True),
        (date(2026, 12, 24), False),
        (date(2026, 12, 31), False),
        (date(2027, 1, 6), False),  # trettondedag jul on a Wednesday
        (date(2026, 3, 14), False),  # ordinary Saturday
        (date(2026, 3, 15), False),  # ordinary Sunday
        (date(2026, 3, 16), True),  # ordinary Monday
    ],
)
def test_is_working_day(d: date, expected: bool) -> None:
    assert CAL.is_working_day(d) is expected


def test_is_working_day_refuses_datetime() -> None:
    with pytest.raises(TypeError):
        CAL.is_working_day(utc(2026, 3, 16, 10))


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Easter: Thursday before Good Friday + 1 -> Tuesday after Easter Monday.
        (date(2026, 4, 2), 1, date(2026, 4, 7)),
        (date(2025, 4, 17), 1, date(2025, 4, 22)),
        (date(2027, 3, 25), 1, date(2027, 3, 30)),
        # Midsummer: Thursday before midsommarafton + 1 -> Monday.
        (date(2026, 6, 18), 1, date(2026, 6, 22)),
        # Christmas: 23 Dec + 1 -> 28 Dec (24, 25 off, 26-27 weekend).
        (date(2026, 12, 23), 1, date(2026, 12, 28)),
        # New Year: 30 Dec + 1 -> 4 Jan (31 Dec, 1 Jan off, 2-3 Jan weekend).
        (date(2026, 12, 30), 1, date(2027, 1, 4)),
        # 4 Jan 2027 + 2 -> 7 Jan (6 Jan is trettondedag jul).
        (date(2027, 1, 4), 2, date(2027, 1, 7)),
        # Ascension Thursday skipped.
        (date(2026, 5, 13), 1, date(2026, 5, 15)),
        # Ordinary week: Monday + 5 -> next Monday.
        (date(2026, 3, 16), 5, date(2026, 3, 23)),
        # From a Saturday: + 1 -> Monday.
        (date(2026, 3, 14), 1, date(2026, 3, 16)),
        # n = 0: the working day on or after.
        (date(2026, 3, 16), 0, date(2026, 3, 16)),
        (date(2026, 12, 24), 0, date(2026, 12, 28)),
        # Negative: working days before (conference cut-off).
        (date(2026, 4, 7), -1, date(2026, 4, 2)),
        (date(2026, 3, 23), -3, date(2026, 3, 18)),
    ],
)
def test_add_working_days_on_dates(start: date, n: int, expected: date) -> None:
    result = CAL.add_working_days(start, n)
    assert result == expected
    assert type(result) is date


def test_friday_afternoon_plus_one_is_monday_same_local_time() -> None:
    # Friday 13 March 2026 16:00 Stockholm (CET, UTC+1) = 15:00 UTC.
    start = utc(2026, 3, 13, 15)
    result = CAL.add_working_days(start, 1)
    assert result == utc(2026, 3, 16, 15)
    assert result.tzinfo is UTC
    assert result.astimezone(STOCKHOLM).time() == time(16, 0)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Spring forward (Sunday 29 March 2026): 10:00 CET -> 10:00 CEST.
        (utc(2026, 3, 27, 9), 1, utc(2026, 3, 30, 8)),
        # Fall back (Sunday 25 October 2026): 10:00 CEST -> 10:00 CET.
        (utc(2026, 10, 23, 8), 1, utc(2026, 10, 26, 9)),
        # Late evening local crosses the UTC date: Friday 23:30 CET is 22:30 UTC.
        (utc(2026, 3, 13, 22, 30), 1, utc(2026, 3, 16, 22, 30)),
        # Early Monday local is still Sunday in UTC: Monday 00:30 CET + 1 -> Tuesday 00:30 CET.
        (utc(2026, 3, 15, 23, 30), 1, utc(2026, 3, 16, 23, 30)),
    ],
)
def test_add_working_days_keeps_local_wall_time(
    start: datetime, n: int, expected: datetime
) -> None:
    result = CAL.add_working_days(start, n)
    assert result == expected
    assert result.astimezone(STOCKHOLM).time() == start.astimezone(STOCKHOLM).time()


def test_add_working_days_accepts_any_aware_zone() -> None:
    start = local(2026, 12, 23, 9)
    assert CAL.add_working_days(start, 1) == local(2026, 12, 28, 9).astimezone(UTC)


def test_extra_day_off_of_the_forbund() -> None:
    cal = WorkingCalendar(extra_days_off=[date(2026, 5, 15)])
    assert not cal.is_working_day(date(2026, 5, 15))
    assert cal.add_working_days(date(2026, 5, 13), 1) == date(2026, 5, 18)
    assert CAL.add_working_days(date(2026, 5, 13), 1) == date(2026, 5, 15)
    # 12, 13 and 18 May; 14 May is Ascension, 16-17 May a weekend.
    assert cal.working_days_between(date(2026, 5, 11), date(2026, 5, 18)) == 3
    assert CAL.working_days_between(date(2026, 5, 11), date(2026, 5, 18)) == 4


@pytest.mark.parametrize("naive", [datetime(2026, 3, 13, 16, 0)])
def test_naive_datetime_is_refused(naive: datetime) -> None:
    with pytest.raises(ValueError, match="naive"):
        CAL.add_working_days(naive, 1)
    with pytest.raises(ValueError, match="naive"):
        CAL.next_send_time(naive)
    with pytest.raises(ValueError, match="naive"):
        CAL.next_send_time(naive, urgent=True)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 3, 16), date(2026, 3, 16), 0),
        (date(2026, 3, 20), date(2026, 3, 16), 0),
        (date(2026, 3, 13), date(2026, 3, 16), 1),  # Friday -> Monday
        (date(2026, 3, 16), date(2026, 3, 23), 5),
        (date(2026, 4, 1), date(2026, 4, 8), 3),  # 2, 7, 8 April; Easter skipped
        (date(2026, 12, 23), date(2027, 1, 4), 4),  # 28, 29, 30 Dec and 4 Jan
        # 261 weekdays in 2026 minus 10 holidays on weekdays.
        (date(2025, 12, 31), date(2026, 12, 31), 251),
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert CAL.working_days_between(start, end) == expected


def test_end_of_working_day() -> None:
    # Friday 13 March 2026, 17:00 CET = 16:00 UTC.
    assert CAL.end_of_working_day(date(2026, 3, 13)) == utc(2026, 3, 13, 16)
    # Midsommarafton: the next working day, Monday 22 June 17:00 CEST = 15:00 UTC.
    assert CAL.end_of_working_day(date(2026, 6, 19)) == utc(2026, 6, 22, 15)


@pytest.mark.parametrize(
    ("now", "urgent", "expected"),
    [
        # Friday 17:30 -> Monday 08:00 local.
        (local(2026, 3, 13, 17, 30), False, local(2026, 3, 16, 8)),
        # Exactly 17:00 is outside the window.
        (local(2026, 3, 13, 17, 0), False, local(2026, 3, 16, 8)),
        # Saturday -> Monday 08:00.
        (local(2026, 3, 14, 11), False, local(2026, 3, 16, 8)),
        # 07:00 on a working day -> 08:00 same day.
        (local(2026, 3, 16, 7), False, local(2026, 3, 16, 8)),
        # Inside the window -> now.
        (local(2026, 3, 16, 8), False, local(2026, 3, 16, 8)),
        (local(2026, 3, 16, 13, 15), False, local(2026, 3, 16, 13, 15)),
        (local(2026, 3, 16, 16, 59), False, local(2026, 3, 16, 16, 59)),
        # Before Easter: Thursday evening -> Tuesday 08:00.
        (local(2026, 4, 2, 18), False, local(2026, 4, 7, 8)),
        # Urgent: now, even on julafton at night.
        (local(2026, 12, 24, 23), True, local(2026, 12, 24, 23)),
        # Saturday before spring-forward -> Monday 08:00 CEST.
        (local(2026, 3, 28, 12), False, local(2026, 3, 30, 8)),
    ],
)
def test_next_send_time(now: datetime, urgent: bool, expected: datetime) -> None:
    result = CAL.next_send_time(now.astimezone(UTC), urgent=urgent)
    assert result == expected
    assert result.tzinfo is UTC


def test_custom_window_and_validation() -> None:
    cal = WorkingCalendar(day_start=time(9, 0), day_end=time(15, 0))
    assert cal.next_send_time(local(2026, 3, 16, 8)) == local(2026, 3, 16, 9)
    assert cal.end_of_working_day(date(2026, 3, 16)) == local(2026, 3, 16, 15)
    with pytest.raises(ValueError):
        WorkingCalendar(day_start=time(17, 0), day_end=time(8, 0))


# --- Properties ------------------------------------------------------------------------------

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(start=dates, n=st.integers(min_value=1, max_value=60))
def test_add_then_count_round_trips(start: date, n: int) -> None:
    end = CAL.add_working_days(start, n)
    assert CAL.is_working_day(end)
    assert CAL.working_days_between(start, end) == n


@given(start=dates, n=st.integers(min_value=1, max_value=30))
def test_backward_then_forward(start: date, n: int) -> None:
    anchor = CAL.working_day_on_or_after(start)
    assert CAL.add_working_days(CAL.add_working_days(anchor, -n), n) == anchor


@given(
    now=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
    )
)
def test_next_send_time_is_in_window(now: datetime) -> None:
    sent = CAL.next_send_time(now)
    assert sent >= now
    wall = sent.astimezone(STOCKHOLM)
    assert CAL.is_working_day(wall.date())
    assert time(8, 0) <= wall.time() < time(17, 0)

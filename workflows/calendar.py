"""Swedish working-day arithmetic; the clock is always passed in, never read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from types import MappingProxyType
from typing import overload
from zoneinfo import ZoneInfo

__all__ = [
    "STOCKHOLM",
    "WorkingCalendar",
    "easter_sunday",
    "swedish_holidays",
]

STOCKHOLM = ZoneInfo("Europe/Stockholm")

_SATURDAY = 5


def easter_sunday(year: int) -> date:
    """Return Easter Sunday of a Gregorian year (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _saturday_from(first: date) -> date:
    """Return the first Saturday on or after a date."""
    return first + timedelta(days=(_SATURDAY - first.weekday()) % 7)


@lru_cache(maxsize=64)
def _holidays(year: int) -> Mapping[date, str]:
    """Build the read-only holiday table of one year."""
    easter = easter_sunday(year)
    midsummer_day = _saturday_from(date(year, 6, 20))
    entries = [
        (date(year, 1, 1), "nyårsdagen"),
        (date(year, 1, 6), "trettondedag jul"),
        (easter - timedelta(days=2), "långfredagen"),
        (easter - timedelta(days=1), "påskafton"),
        (easter, "påskdagen"),
        (easter + timedelta(days=1), "annandag påsk"),
        (date(year, 5, 1), "första maj"),
        (easter + timedelta(days=39), "Kristi himmelsfärdsdag"),
        (easter + timedelta(days=49), "pingstdagen"),
        (date(year, 6, 6), "nationaldagen"),
        (midsummer_day - timedelta(days=1), "midsommarafton"),
        (midsummer_day, "midsommardagen"),
        (_saturday_from(date(year, 10, 31)), "alla helgons dag"),
        (date(year, 12, 24), "julafton"),
        (date(year, 12, 25), "juldagen"),
        (date(year, 12, 26), "annandag jul"),
        (date(year, 12, 31), "nyårsafton"),
    ]
    table: dict[date, str] = {}
    for day, name in entries:
        # Two holidays can share a date (Ascension on 1 May in 2008, Whitsun on 6 June in 2049).
        table[day] = f"{table[day]}, {name}" if day in table else name
    return MappingProxyType(dict(sorted(table.items())))


def swedish_holidays(year: int) -> dict[date, str]:
    """Return the Swedish days off of a year, mapping each date to its Swedish name."""
    return dict(_holidays(year))


def _require_aware(dt: datetime) -> None:
    """Reject a naive datetime."""
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise ValueError("naive datetime refused: pass a timezone-aware datetime")


class WorkingCalendar:
    """Swedish working days plus the förbund's own days off, with a local sending window."""

    def __init__(
        self,
        extra_days_off: Iterable[date] = (),
        day_start: time = time(8, 0),
        day_end: time = time(17, 0),
        tz: tzinfo = STOCKHOLM,
    ) -> None:
        """Configure the extra days off, the local working window and the time zone."""
        if day_start >= day_end:
            raise ValueError("day_start must be before day_end")
        self.extra_days_off: frozenset[date] = frozenset(extra_days_off)
        self.day_start = day_start
        self.day_end = day_end
        self.tz = tz

    def is_working_day(self, d: date) -> bool:
        """Tell whether a date is Monday–Friday, not a holiday and not an extra day off."""
        if isinstance(d, datetime):
            raise TypeError("is_working_day takes a date; convert the datetime to local first")
        return (
            d.weekday() < _SATURDAY and d not in _holidays(d.year) and d not in self.extra_days_off
        )

    def next_working_day(self, d: date) -> date:
        """Return the first working day strictly after a date."""
        return self.working_day_on_or_after(d + timedelta(days=1))

    def working_day_on_or_after(self, d: date) -> date:
        """Return the date itself if it is a working day, else the next working day."""
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def previous_working_day(self, d: date) -> date:
        """Return the last working day strictly before a date."""
        d -= timedelta(days=1)
        while not self.is_working_day(d):
            d -= timedelta(days=1)
        return d

    def _shift_date(self, d: date, n: int) -> date:
        """Move a date n working days (forward for n > 0, backward for n < 0)."""
        if n == 0:
            return self.working_day_on_or_after(d)
        step = self.next_working_day if n > 0 else self.previous_working_day
        for _ in range(abs(n)):
            d = step(d)
        return d

    @overload
    def add_working_days(self, start: datetime, n: int) -> datetime: ...

    @overload
    def add_working_days(self, start: date, n: int) -> date: ...

    def add_working_days(self, start: date | datetime, n: int) -> date | datetime:
        """Move n working days from a date, or from an aware datetime keeping local wall time.

        For a date: the n-th working day after it (before it when n < 0); n == 0 gives the
        working day on or after it. For an aware datetime the local (Stockholm) date is moved
        the same way, the local wall-clock time is kept, and the result is returned in UTC.
        """
        if isinstance(start, datetime):
            _require_aware(start)
            local = start.astimezone(self.tz)
            target = self._shift_date(local.date(), n)
            return self._local_to_utc(target, local.time(), local.fold)
        return self._shift_date(start, n)

    def working_days_between(self, start: date, end: date) -> int:
        """Count the working days d with start < d <= end (0 if end <= start)."""
        count = 0
        d = start + timedelta(days=1)
        while d <= end:
            if self.is_working_day(d):
                count += 1
            d += timedelta(days=1)
        return count

    def end_of_working_day(self, d: date) -> datetime:
        """Return day_end local time on d (or the next working day) as an aware UTC datetime."""
        return self._local_to_utc(self.working_day_on_or_after(d), self.day_end)

    def next_send_time(self, now: datetime, urgent: bool = False) -> datetime:
        """Return the earliest instant >= now inside a working day's [day_start, day_end) window.

        Urgent messages go at once. The result is an aware UTC datetime.
        """
        _require_aware(now)
        if urgent:
            return now.astimezone(UTC)
        local = now.astimezone(self.tz)
        today = local.date()
        if self.is_working_day(today):
            wall = local.time()
            if wall < self.day_start:
                return self._local_to_utc(today, self.day_start)
            if wall < self.day_end:
                return now.astimezone(UTC)
        return self._local_to_utc(self.next_working_day(today), self.day_start)

    def _local_to_utc(self, d: date, wall: time, fold: int = 0) -> datetime:
        """Combine a local date and wall-clock time and return it as an aware UTC datetime."""
        return datetime.combine(d, wall, tzinfo=self.tz).replace(fold=fold).astimezone(UTC)

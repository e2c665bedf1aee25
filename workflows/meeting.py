"""Meetings (../shared/DOMAIN.md §8): kinds, attendance, group activities and the times derived
from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from workflows.calendar import STOCKHOLM, WorkingCalendar


class MeetingKind(StrEnum):
    """What kind of meeting it is."""

    COACHING = "coaching"
    THREE_PARTY = "three_party"
    NETWORK = "network"
    SAMSIP = "samsip"
    GROUP_SESSION = "group_session"
    HOME_VISIT = "home_visit"
    FOLLOW_UP = "follow_up"


# Kinds booked for one case; group sessions come from a group activity's schedule.
CASE_KINDS: tuple[MeetingKind, ...] = tuple(
    k for k in MeetingKind if k != MeetingKind.GROUP_SESSION
)


class MeetingStatus(StrEnum):
    """A meeting is booked until it is cancelled (held or not is its attendance)."""

    BOOKED = "booked"
    CANCELLED = "cancelled"


class AttendanceStatus(StrEnum):
    """The participant's attendance at one meeting."""

    ATTENDED = "attended"
    MISSED = "missed"
    CANCELLED_BY_PARTICIPANT = "cancelled_by_participant"  # återbud
    CANCELLED_BY_STAFF = "cancelled_by_staff"


# Attended or missed can only be said once the meeting has started; a cancellation may come before.
NEEDS_STARTED = frozenset({AttendanceStatus.ATTENDED, AttendanceStatus.MISSED})


def attendance_allowed(status: AttendanceStatus | str, starts_at: datetime, now: datetime) -> bool:
    """Tell whether an attendance status may be recorded for a meeting at this moment."""
    return AttendanceStatus(status) not in NEEDS_STARTED or now >= starts_at


@dataclass(frozen=True)
class GroupPreset:
    """The defaults of a kind of group activity."""

    capacity: int
    sessions_per_week: int
    weeks: int
    weekdays: tuple[int, ...]  # Monday is 0
    start: time
    minutes: int


GROUP_PRESETS: dict[str, GroupPreset] = {
    # Hälsogrupp: at most 12 participants, two sessions a week for 12 weeks.
    "halsogrupp": GroupPreset(12, 2, 12, (1, 3), time(10, 0), 120),
    # Aktivitetsgrupp: 10 weeks.
    "aktivitetsgrupp": GroupPreset(10, 2, 10, (0, 2), time(13, 0), 120),
}


@dataclass(frozen=True)
class Session:
    """One generated session of a group activity, in UTC."""

    starts_at: datetime
    ends_at: datetime


def group_sessions(
    first_date: date,
    weeks: int,
    weekdays: tuple[int, ...] | list[int],
    start: time,
    minutes: int,
    calendar: WorkingCalendar | None = None,
) -> list[Session]:
    """Return the sessions of a group: each chosen weekday of each week, skipping days off.

    Week 1 is the week of the first date (sessions before the first date are not held); a
    weekday that is a holiday or a förbund day off has no session that week. Times are local
    (Europe/Stockholm) wall-clock times, so a session is at the same hour across the DST change.
    """
    if weeks < 1 or not weekdays or minutes < 1:
        return []
    tz = calendar.tz if calendar else STOCKHOLM
    monday = first_date - timedelta(days=first_date.weekday())
    sessions = []
    for week in range(weeks):
        for weekday in sorted(set(weekdays)):
            day = monday + timedelta(weeks=week, days=weekday)
            if day < first_date:
                continue
            if calendar is not None and not calendar.is_working_day(day):
                continue
            begins = datetime.combine(day, start, tzinfo=tz)
            ends = begins + timedelta(minutes=minutes)
            sessions.append(Session(begins.astimezone(UTC), ends.astimezone(UTC)))
    return sessions


def participant_reminder_at(starts_at: datetime, tz=STOCKHOLM) -> datetime:
    """Return when the participant is reminded: the same local time on the day before."""
    local = starts_at.astimezone(tz)
    day_before = datetime.combine(local.date() - timedelta(days=1), local.time(), tzinfo=tz)
    return day_before.astimezone(UTC)


def attendance_reminder_at(ends_at: datetime, calendar: WorkingCalendar) -> datetime:
    """Return when an unregistered attendance is reminded: one working day after the meeting."""
    return calendar.add_working_days(ends_at, 1)


def confirmation_reminders_at(
    booked_at: datetime, starts_at: datetime, calendar: WorkingCalendar
) -> list[datetime]:
    """Return when an invitee who has not confirmed a SamSIP meeting is reminded.

    At the start of the second working day after the booking, and at the start of the working
    day before the meeting; only times after the booking and before the meeting, in order.
    """
    local_booked = booked_at.astimezone(calendar.tz).date()
    local_start = starts_at.astimezone(calendar.tz).date()
    candidates = [
        calendar.add_working_days(local_booked, 2),
        calendar.previous_working_day(local_start),
    ]
    times = sorted(
        {
            datetime.combine(d, calendar.day_start, tzinfo=calendar.tz).astimezone(UTC)
            for d in candidates
        }
    )
    return [t for t in times if booked_at < t < starts_at]


def task_due_at(now: datetime, calendar: WorkingCalendar) -> datetime:
    """Return the end of the current working day (the next one once today's has ended)."""
    today = now.astimezone(calendar.tz).date()
    due = calendar.end_of_working_day(today)
    if due <= now:
        due = calendar.end_of_working_day(calendar.next_working_day(today))
    return due


def decision_due_at(opened_at: datetime, working_days: int, calendar: WorkingCalendar) -> datetime:
    """Return the end of the n-th working day after the escalation opened."""
    opened_on = opened_at.astimezone(calendar.tz).date()
    return calendar.end_of_working_day(calendar.add_working_days(opened_on, working_days))


def overdue_reminder_day(decision_due: datetime, now: datetime, calendar: WorkingCalendar):
    """Return the local day whose overdue reminder is owed at `now`, or None.

    The first on the deadline's own day once it has passed, then one each working day from the
    start of that day's working hours.
    """
    if now < decision_due:
        return None
    local = now.astimezone(calendar.tz)
    today = local.date()
    if today == decision_due.astimezone(calendar.tz).date():
        return today
    if not calendar.is_working_day(today) or local.time() < calendar.day_start:
        return None
    return today

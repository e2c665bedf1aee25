"""The times meetings derive: group sessions, the participant's and the coordinator's reminders,
task and decision deadlines, and the overdue reminders; always local Stockholm time."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from workflows.calendar import WorkingCalendar
from workflows.meeting import (
    GROUP_PRESETS,
    AttendanceStatus,
    attendance_allowed,
    attendance_reminder_at,
    confirmation_reminders_at,
    decision_due_at,
    group_sessions,
    overdue_reminder_day,
    participant_reminder_at,
    task_due_at,
)

STHLM = ZoneInfo("Europe/Stockholm")
CAL = WorkingCalendar()


def local(y, m, d, h=10, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=STHLM).astimezone(UTC)


def test_a_halsogrupp_has_24_sessions_of_12_places_at_ten_local_across_the_dst_change():
    preset = GROUP_PRESETS["halsogrupp"]
    assert (preset.capacity, preset.sessions_per_week, preset.weeks) == (12, 2, 12)
    # Tuesdays and Thursdays from 2 March 2027, over the change on 28 March; no holidays then
    # except none on Tue/Thu before Ascension (6 May 2027, a Thursday, in week 10).
    sessions = group_sessions(date(2027, 3, 2), 12, preset.weekdays, preset.start, 120)
    assert len(sessions) == 24
    assert all(s.starts_at.astimezone(STHLM).time() == time(10, 0) for s in sessions)
    assert {s.starts_at.astimezone(STHLM).weekday() for s in sessions} == {1, 3}
    with_holidays = group_sessions(date(2027, 3, 2), 12, preset.weekdays, preset.start, 120, CAL)
    assert len(with_holidays) == 23  # Kristi himmelsfärdsdag, Thursday 6 May 2027, is skipped
    assert local(2027, 5, 6) not in [s.starts_at for s in with_holidays]


def test_an_aktivitetsgrupp_runs_ten_weeks_and_sessions_before_the_first_day_are_not_held():
    preset = GROUP_PRESETS["aktivitetsgrupp"]
    assert preset.weeks == 10
    sessions = group_sessions(date(2027, 1, 13), preset.weeks, (0, 2), preset.start, 90)
    assert sessions[0].starts_at == local(2027, 1, 13, 13)  # the Monday of week 1 had passed
    assert len(sessions) == 19


def test_the_participant_is_reminded_the_day_before_at_the_same_local_time():
    monday_after_change = local(2027, 3, 29, 10)
    assert participant_reminder_at(monday_after_change) == local(2027, 3, 28, 10)
    assert participant_reminder_at(monday_after_change).astimezone(STHLM).hour == 10


def test_the_attendance_reminder_falls_one_working_day_after_the_meeting():
    friday = local(2027, 1, 15, 11)
    assert attendance_reminder_at(friday, CAL) == local(2027, 1, 18, 11)
    maundy_thursday = local(2027, 3, 25, 11)  # Good Friday and Easter Monday are holidays
    assert attendance_reminder_at(maundy_thursday, CAL) == local(2027, 3, 30, 11)


def test_samsip_confirmation_reminders():
    booked = local(2027, 1, 11, 9)  # a Monday
    meeting = local(2027, 1, 22, 13)  # the Friday after next
    assert confirmation_reminders_at(booked, meeting, CAL) == [
        local(2027, 1, 13, 8),
        local(2027, 1, 21, 8),
    ]
    assert confirmation_reminders_at(booked, local(2027, 1, 12, 13), CAL) == []


def test_task_and_decision_deadlines_count_working_days():
    assert task_due_at(local(2027, 1, 14, 9), CAL) == local(2027, 1, 14, 17)
    assert task_due_at(local(2027, 1, 15, 18), CAL) == local(2027, 1, 18, 17)  # after hours
    assert decision_due_at(local(2027, 1, 14, 9), 5, CAL) == local(2027, 1, 21, 17)


def test_overdue_reminders_come_on_the_deadline_then_each_working_day():
    due = local(2027, 1, 21, 17)  # Thursday
    assert overdue_reminder_day(due, local(2027, 1, 21, 16), CAL) is None
    assert overdue_reminder_day(due, local(2027, 1, 21, 17, 1), CAL) == date(2027, 1, 21)
    assert overdue_reminder_day(due, local(2027, 1, 22, 7), CAL) is None  # before 08:00
    assert overdue_reminder_day(due, local(2027, 1, 22, 8), CAL) == date(2027, 1, 22)
    assert overdue_reminder_day(due, local(2027, 1, 23, 9), CAL) is None  # Saturday
    assert overdue_reminder_day(due, local(2027, 1, 25, 9), CAL) == date(2027, 1, 25)


def test_attended_and_missed_only_once_the_meeting_has_started():
    starts = local(2027, 1, 14, 10)
    before = local(2027, 1, 14, 9)
    assert not attendance_allowed(AttendanceStatus.MISSED, starts, before)
    assert not attendance_allowed("attended", starts, before)
    assert attendance_allowed("cancelled_by_participant", starts, before)
    assert attendance_allowed("missed", starts, starts)

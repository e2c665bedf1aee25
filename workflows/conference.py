"""Referral conferences (../shared/DOMAIN.md §6): states, cadence, cut-off and reminder days,
quorum."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from statistics import median

from workflows.calendar import WorkingCalendar
from workflows.errors import TransitionRefused
from workflows.organisation import MEMBER_AGENCIES


class ConferenceState(StrEnum):
    """Where a conference is: planned, agenda published, held and closed, or cancelled."""

    PLANNED = "planned"
    PUBLISHED = "published"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ConferenceAction(StrEnum):
    """What can be done to a conference."""

    EDIT = "edit"
    ADD_TO_AGENDA = "add_to_agenda"
    PUBLISH = "publish"
    RECORD_ATTENDANCE = "record_attendance"
    DECIDE = "decide"
    CLOSE = "close"
    CANCEL = "cancel"


class Outcome(StrEnum):
    """The conference's one decision on a referral."""

    ADMIT = "admit"
    RECOMMEND = "recommend"


class AgendaStatus(StrEnum):
    """What became of a referral on one conference's agenda."""

    PENDING = "pending"
    DECIDED = "decided"
    SENT_BACK = "sent_back"
    WITHDRAWN = "withdrawn"
    REMOVED = "removed"


class MemberRole(StrEnum):
    """A conference member represents an agency kind; the chair is the team lead."""

    MEMBER = "member"
    CHAIR = "chair"


C, CA = ConferenceState, ConferenceAction

TRANSITIONS: dict[tuple[ConferenceState, ConferenceAction], ConferenceState] = {
    (C.PLANNED, CA.EDIT): C.PLANNED,
    (C.PLANNED, CA.ADD_TO_AGENDA): C.PLANNED,
    (C.PLANNED, CA.PUBLISH): C.PUBLISHED,
    (C.PLANNED, CA.CANCEL): C.CANCELLED,
    (C.PUBLISHED, CA.EDIT): C.PUBLISHED,
    (C.PUBLISHED, CA.ADD_TO_AGENDA): C.PUBLISHED,
    (C.PUBLISHED, CA.RECORD_ATTENDANCE): C.PUBLISHED,
    (C.PUBLISHED, CA.DECIDE): C.PUBLISHED,
    (C.PUBLISHED, CA.CLOSE): C.CLOSED,
    (C.PUBLISHED, CA.CANCEL): C.CANCELLED,
}

# The agenda is published to the members from these states on (they may read the referrals).
AGENDA_VISIBLE_STATES = frozenset({C.PUBLISHED})


def next_state(state: ConferenceState | str, action: ConferenceAction | str) -> ConferenceState:
    """Return the conference's state after the action, or raise TransitionRefused."""
    key = (ConferenceState(state), ConferenceAction(action))
    if key not in TRANSITIONS:
        raise TransitionRefused("conference", str(state), str(action))
    return TRANSITIONS[key]


def cadence_dates(
    anchor: date,
    weekday: int,
    interval_weeks: int,
    start: date,
    end: date,
) -> list[date]:
    """Return the cadence's meeting days in [start, end], counted from the anchor date.

    The first meeting is the anchor's weekday-aligned day (the first `weekday` on or after the
    anchor); then one every `interval_weeks`. The anchor keeps the rhythm stable from run to run.
    """
    if interval_weeks < 1:
        raise ValueError("interval_weeks must be at least 1")
    if not 0 <= weekday <= 6:
        raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
    first = anchor + timedelta(days=(weekday - anchor.weekday()) % 7)
    step = timedelta(weeks=interval_weeks)
    if first < start:
        skipped = (start - first).days // step.days
        first += step * skipped
        while first < start:
            first += step
    days = []
    day = first
    while day <= end:
        days.append(day)
        day += step
    return days


def meeting_day(cadence_day: date, calendar: WorkingCalendar) -> date:
    """Move a cadence day that is a holiday to the next working day."""
    return calendar.working_day_on_or_after(cadence_day)


def agenda_cutoff_at(held_on: date, working_days: int, calendar: WorkingCalendar) -> datetime:
    """Return the agenda's cut-off: the end of the working day n working days before (UTC)."""
    return calendar.end_of_working_day(calendar.add_working_days(held_on, -working_days))


def prepare_due_at(held_on: date, working_days: int, calendar: WorkingCalendar) -> datetime:
    """Return when members are reminded to prepare: the start of n working days before (UTC)."""
    day = calendar.add_working_days(held_on, -working_days)
    return datetime.combine(day, calendar.day_start, tzinfo=calendar.tz).astimezone(UTC)


def starts_at(held_on: date, at: time, calendar: WorkingCalendar) -> datetime:
    """Return the conference's start as an aware UTC datetime from its local day and time."""
    return datetime.combine(held_on, at, tzinfo=calendar.tz).astimezone(UTC)


def quorum_missing(
    needed: Iterable[str], present: Iterable[str], *, all_named_required: bool
) -> set[str]:
    """Return the agency kinds whose absence blocks a decision (empty: quorate).

    With the setting on, every agency kind the referral names must be represented among the
    present members. With it off, any one member agency present is enough.
    """
    present_set = set(present) & {a.value for a in MEMBER_AGENCIES}
    needed_set = set(needed)
    if all_named_required:
        return needed_set - present_set
    return set() if present_set else needed_set or {a.value for a in MEMBER_AGENCIES}


@dataclass(frozen=True)
class Funnel:
    """The referral funnel of a period (../shared/DOMAIN.md §6, §12)."""

    received: int
    decided: int
    admitted: int
    recommended: int
    withdrawn: int
    median_working_days: float | None
    with_recommendation: int

    @property
    def recommendation_share(self) -> float | None:
        """Return the percentage of decided referrals with a written recommendation."""
        if self.decided == 0:
            return None
        return round(100.0 * self.with_recommendation / self.decided, 1)


def median_working_days(
    pairs: Iterable[tuple[date, date]], calendar: WorkingCalendar
) -> float | None:
    """Return the median number of working days from submission to decision, or None."""
    spans = [calendar.working_days_between(submitted, decided) for submitted, decided in pairs]
    return float(median(spans)) if spans else None


def median_working_days_counted(
    groups: Iterable[tuple[date, date, int]], calendar: WorkingCalendar
) -> float | None:
    """Return the median working days from submission to decision of grouped referrals.

    Each group is (submitted on, decided on, how many referrals share those two dates), as a
    GROUP BY returns them; the median is the one of the referrals, not of the groups.
    """
    spans: dict[int, int] = {}
    for submitted, decided, count in groups:
        if count > 0:
            span = calendar.working_days_between(submitted, decided)
            spans[span] = spans.get(span, 0) + count
    total = sum(spans.values())
    if total == 0:
        return None
    ordered = sorted(spans.items())

    def nth(index: int) -> int:  # the index-th span (0-based) in sorted order
        for span, count in ordered:
            if index < count:
                return span
            index -= count
        raise IndexError(index)

    middle = total // 2
    if total % 2:
        return float(nth(middle))
    return (nth(middle - 1) + nth(middle)) / 2

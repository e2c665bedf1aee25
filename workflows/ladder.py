"""The missed-meeting ladder (../shared/DOMAIN.md §8): act at the first miss, escalate at the
threshold.

The count is a function of the participant's attendance at their agreed meetings since the last
reset (a `continue` decision), under the programme's settings:

- `since_reset`: every missed meeting since the reset counts;
- `consecutive`: the current run of misses counts; an attended meeting ends the run, and
  cancellations (återbud, cancelled by staff) and meetings not yet registered neither count nor
  end it.

Group sessions count only if the programme says so. The escalation stands on the *peak*: the
total since the reset, or the longest run since the reset. So a participant who attends again after
three misses in a row does not undo the escalation, while a correction that removes one of the
misses does (it falls below the threshold and is withdrawn).

Every change of one attendance (a registration or a correction) compares the count before and
after and returns the actions owed: a task at the first miss, a task and a notice to the team lead
at the following ones, the escalation at the threshold (one open at a time), its withdrawal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from workflows.meeting import AttendanceStatus
from workflows.programme import CountingMode


class LadderAction(StrEnum):
    """What a change in the count owes."""

    FIRST_MISS_TASK = "first_miss_task"  # contact the participant, offer a home visit
    REPEATED_MISS_TASK = "repeated_miss_task"  # a task, and a notice to the team lead
    OPEN_ESCALATION = "open_escalation"
    WITHDRAW_ESCALATION = "withdraw_escalation"


@dataclass(frozen=True)
class LadderSettings:
    """The programme's settings for the ladder."""

    threshold: int = 3
    counting_mode: CountingMode = CountingMode.SINCE_RESET
    group_sessions_count: bool = False


@dataclass(frozen=True)
class Mark:
    """One agreed meeting of the participant and its attendance (None: not registered yet)."""

    meeting_id: int
    starts_at: datetime
    status: AttendanceStatus | None
    group_session: bool = False


@dataclass(frozen=True)
class Count:
    """The missed count now, its peak since the reset, and the meetings in the current count."""

    current: int = 0
    peak: int = 0
    missed_meeting_ids: tuple[int, ...] = ()


def counted(marks: Iterable[Mark], settings: LadderSettings, reset_at: datetime | None) -> list:
    """Return the marks that take part in the count, in meeting order."""
    return sorted(
        (
            m
            for m in marks
            if (reset_at is None or m.starts_at > reset_at)
            and (settings.group_sessions_count or not m.group_session)
        ),
        key=lambda m: (m.starts_at, m.meeting_id),
    )


def count(
    marks: Iterable[Mark], settings: LadderSettings, reset_at: datetime | None = None
) -> Count:
    """Count the missed meetings since the reset under the programme's counting mode."""
    relevant = counted(marks, settings, reset_at)
    if CountingMode(settings.counting_mode) is CountingMode.SINCE_RESET:
        missed = tuple(m.meeting_id for m in relevant if m.status == AttendanceStatus.MISSED)
        return Count(len(missed), len(missed), missed)
    run: list[int] = []
    peak = 0
    for mark in relevant:
        if mark.status == AttendanceStatus.MISSED:
            run.append(mark.meeting_id)
            peak = max(peak, len(run))
        elif mark.status == AttendanceStatus.ATTENDED:
            run = []
    return Count(len(run), peak, tuple(run))


def react(
    before: Count, after: Count, *, escalation_open: bool, threshold: int
) -> list[LadderAction]:
    """Return the actions owed when one attendance change moves the count from before to after."""
    actions: list[LadderAction] = []
    if after.peak >= threshold:
        if not escalation_open:
            actions.append(LadderAction.OPEN_ESCALATION)
    elif escalation_open:
        actions.append(LadderAction.WITHDRAW_ESCALATION)
    if after.current > before.current and 0 < after.current < threshold:
        actions.append(
            LadderAction.FIRST_MISS_TASK if after.current == 1 else LadderAction.REPEATED_MISS_TASK
        )
    return actions


@dataclass
class Ladder:
    """The ladder of one case, replayed in memory: the same rules the application applies."""

    settings: LadderSettings = field(default_factory=LadderSettings)
    marks: dict[int, Mark] = field(default_factory=dict)
    reset_at: datetime | None = None
    escalation_open: bool = False

    def count(self) -> Count:
        """Return the count now."""
        return count(self.marks.values(), self.settings, self.reset_at)

    def record(
        self,
        meeting_id: int,
        starts_at: datetime,
        status: AttendanceStatus | str,
        *,
        group_session: bool = False,
    ) -> list[LadderAction]:
        """Register (or correct) the attendance at one meeting; return the actions owed."""
        before = self.count()
        self.marks[meeting_id] = Mark(
            meeting_id, starts_at, AttendanceStatus(status), group_session
        )
        actions = react(
            before,
            self.count(),
            escalation_open=self.escalation_open,
            threshold=self.settings.threshold,
        )
        if LadderAction.OPEN_ESCALATION in actions:
            self.escalation_open = True
        if LadderAction.WITHDRAW_ESCALATION in actions:
            self.escalation_open = False
        return actions

    def decide_continue(self, at: datetime) -> None:
        """Close the escalation with `continue`: the count starts again after this moment."""
        self.escalation_open = False
        self.reset_at = at

"""The events the meetings domain records (ids and codes only, see coordination.core.events)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coordination.core.events import DomainEvent


@dataclass(frozen=True)
class MeetingBooked(DomainEvent):
    """A meeting of a case or (`group_id` set) a group session was booked."""

    meeting_id: int
    case_id: int | None
    group_id: int | None
    kind: str
    organiser_id: int | None
    attendee_ids: tuple[int, ...]


@dataclass(frozen=True)
class MeetingChanged(DomainEvent):
    meeting_id: int
    case_id: int | None
    group_id: int | None
    sequence: int
    time_changed: bool
    attendee_ids: tuple[int, ...]
    removed_user_ids: tuple[int, ...]


@dataclass(frozen=True)
class MeetingCancelled(DomainEvent):
    meeting_id: int
    case_id: int | None
    group_id: int | None
    sequence: int
    attendee_ids: tuple[int, ...]


@dataclass(frozen=True)
class MeetingConfirmed(DomainEvent):
    meeting_id: int
    attendee_id: int
    user_id: int


@dataclass(frozen=True)
class AttendanceRecorded(DomainEvent):
    """A participant's attendance at a meeting; `all_registered` once nobody is left."""

    meeting_id: int
    case_id: int | None
    attendance_id: int
    status: str
    correction: bool
    all_registered: bool


@dataclass(frozen=True)
class MissedMeetingTask(DomainEvent):
    """The ladder gave the coordinator a task; from the second miss on the team leads hear too."""

    task_id: int
    case_id: int
    meeting_id: int
    assignee_id: int
    missed_count: int
    notify_team_lead: bool


@dataclass(frozen=True)
class TaskCompleted(DomainEvent):
    task_id: int
    case_id: int


@dataclass(frozen=True)
class TaskCancelled(DomainEvent):
    task_id: int
    case_id: int


@dataclass(frozen=True)
class EscalationOpened(DomainEvent):
    escalation_id: int
    case_id: int
    referrer_id: int | None
    coordinator_id: int | None
    decision_due_at: datetime


@dataclass(frozen=True)
class EscalationWithdrawn(DomainEvent):
    escalation_id: int
    case_id: int
    referrer_id: int | None


@dataclass(frozen=True)
class EscalationDecided(DomainEvent):
    """The escalation was decided; after `continue` the coordinator has `task_id` to do."""

    escalation_id: int
    case_id: int
    decision: str
    referrer_id: int | None
    task_id: int | None


@dataclass(frozen=True)
class CaseDischarged(DomainEvent):
    """The escalation decided to discharge: the case leaves with `exit_reason`."""

    case_id: int
    escalation_id: int
    exit_reason: str


@dataclass(frozen=True)
class GroupScheduled(DomainEvent):
    group_id: int
    leader_id: int
    sessions: int


@dataclass(frozen=True)
class GroupEnrolled(DomainEvent):
    group_id: int
    case_id: int

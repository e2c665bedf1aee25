"""The events the cases domain records (ids and codes only, see coordination.core.events)."""

from __future__ import annotations

from dataclasses import dataclass

from coordination.core.events import DomainEvent


@dataclass(frozen=True)
class CaseOpened(DomainEvent):
    """A case was opened on admission, enrolled or (`state` waiting) queued for a place."""

    case_id: int
    programme_id: int
    referral_id: int
    state: str
    coordinator_id: int | None


@dataclass(frozen=True)
class CaseEnrolled(DomainEvent):
    case_id: int
    programme_id: int
    coordinator_id: int


@dataclass(frozen=True)
class CoordinatorAssigned(DomainEvent):
    """A coordinator took the case; `origin` says why (admission, queue, reassignment ...)."""

    case_id: int
    assignment_id: int
    coordinator_id: int
    previous_coordinator_id: int | None
    origin: str


@dataclass(frozen=True)
class CasePaused(DomainEvent):
    case_id: int


@dataclass(frozen=True)
class CaseResumed(DomainEvent):
    case_id: int

"""The events the action plan domain records (ids and codes only, see coordination.core.events)."""

from __future__ import annotations

from dataclasses import dataclass

from coordination.core.events import DomainEvent


@dataclass(frozen=True)
class PlanVersionCreated(DomainEvent):
    case_id: int
    plan_version_id: int
    previous_version_id: int | None


@dataclass(frozen=True)
class PlanSignedOff(DomainEvent):
    case_id: int
    plan_version_id: int
    sign_off_id: int


@dataclass(frozen=True)
class PlanActivated(DomainEvent):
    case_id: int
    plan_version_id: int


@dataclass(frozen=True)
class PlanActionUpdated(DomainEvent):
    case_id: int
    plan_action_id: int

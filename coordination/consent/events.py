"""The events the consent domain records (ids and codes only, see coordination.core.events)."""

from __future__ import annotations

from dataclasses import dataclass

from coordination.core.events import DomainEvent


@dataclass(frozen=True)
class ConsentRecorded(DomainEvent):
    consent_id: int
    person_id: int


@dataclass(frozen=True)
class ConsentWithdrawn(DomainEvent):
    consent_id: int
    person_id: int

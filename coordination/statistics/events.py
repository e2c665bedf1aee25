"""The events the statistics domain records (ids and codes only, see coordination.core.events)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from coordination.core.events import DomainEvent


@dataclass(frozen=True)
class SusRegistrationRecorded(DomainEvent):
    participant_id: int
    case_id: int | None
    occasion: str


@dataclass(frozen=True)
class SusParticipantsImported(DomainEvent):
    batch_id: int
    participants: int


@dataclass(frozen=True)
class ProgressionRatingRecorded(DomainEvent):
    participant_id: int
    case_id: int | None
    rating_id: int


@dataclass(frozen=True)
class ProgressionRatingDue(DomainEvent):
    participant_id: int
    case_id: int | None
    programme_id: int | None
    due_on: date


@dataclass(frozen=True)
class ProgressionRatingsImported(DomainEvent):
    ratings: int
    participants: int

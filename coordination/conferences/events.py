"""The events the conferences domain records (ids and codes only, see coordination.core.events)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coordination.core.events import DomainEvent


@dataclass(frozen=True)
class ConferenceScheduled(DomainEvent):
    conference_id: int
    programme_id: int
    member_ids: tuple[int, ...]


@dataclass(frozen=True)
class ConferenceCancelled(DomainEvent):
    conference_id: int


@dataclass(frozen=True)
class ConferenceClosed(DomainEvent):
    conference_id: int


@dataclass(frozen=True)
class ReferralPutOnAgenda(DomainEvent):
    referral_id: int
    conference_id: int
    referrer_id: int
    published: bool


@dataclass(frozen=True)
class AgendaCutOff(DomainEvent):
    conference_id: int
    referral_ids: tuple[int, ...]


@dataclass(frozen=True)
class AgendaPublished(DomainEvent):
    """The agenda is out; members prepare by `prepare_due_at`."""

    conference_id: int
    programme_id: int
    member_ids: tuple[int, ...]
    referral_ids: tuple[int, ...]
    prepare_due_at: datetime


@dataclass(frozen=True)
class ConferenceAttendanceRecorded(DomainEvent):
    conference_id: int
    present_member_ids: tuple[int, ...]


@dataclass(frozen=True)
class ReferralDecided(DomainEvent):
    """The conference decided; on admission `case_id` (and its coordinator, if assigned) is set."""

    referral_id: int
    decision_id: int
    conference_id: int
    programme_id: int
    outcome: str
    referrer_id: int
    coordinator_id: int | None
    case_id: int | None

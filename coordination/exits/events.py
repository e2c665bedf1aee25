"""The events the exits domain records (ids and codes only, see coordination.core.events)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coordination.core.events import DomainEvent


@dataclass(frozen=True)
class CaseExited(DomainEvent):
    case_id: int
    programme_id: int
    exit_registration_id: int
    return_referral_id: int
    exit_reason: str
    coordinator_id: int | None


@dataclass(frozen=True)
class FollowUpsScheduled(DomainEvent):
    case_id: int
    follow_up_ids: tuple[int, ...]


@dataclass(frozen=True)
class FollowUpRegistered(DomainEvent):
    follow_up_id: int
    case_id: int
    occasion: str


@dataclass(frozen=True)
class ReturnReferralFinalised(DomainEvent):
    return_referral_id: int
    case_id: int
    signed_by_id: int


@dataclass(frozen=True)
class CaseClosed(DomainEvent):
    case_id: int
    programme_id: int


@dataclass(frozen=True)
class PacketDelivered(DomainEvent):
    """A return referral or joint recommendation reached the referrer at `delivered_at`."""

    packet_id: int
    kind: str
    recipient_id: int
    unit_id: int | None
    referral_id: int | None
    case_id: int | None
    delivered_at: datetime


@dataclass(frozen=True)
class PacketAcknowledged(DomainEvent):
    packet_id: int
    kind: str
    recipient_id: int
    acknowledged_by_id: int
    case_id: int | None
    referral_id: int | None


@dataclass(frozen=True)
class RecommendationOutcomesRecorded(DomainEvent):
    packet_id: int
    numbers: tuple[int, ...]

"""The events the referrals domain records (ids and codes only, see coordination.core.events)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coordination.core.events import DomainEvent


@dataclass(frozen=True)
class ReferralSubmitted(DomainEvent):
    referral_id: int
    programme_id: int
    referrer_id: int


@dataclass(frozen=True)
class ReferralWithdrawn(DomainEvent):
    referral_id: int


@dataclass(frozen=True)
class CompletionRequested(DomainEvent):
    """The referral was sent back to the referrer, to be completed by `due_at`."""

    referral_id: int
    referrer_id: int
    due_at: datetime

"""The notification layer's own event: messages written in this transaction are due now."""

from __future__ import annotations

from dataclasses import dataclass

from coordination.core.events import DomainEvent


@dataclass(frozen=True)
class NotificationsQueued(DomainEvent):
    """Enqueue delivery of these notification rows once the transaction has committed."""

    notification_ids: tuple[int, ...]

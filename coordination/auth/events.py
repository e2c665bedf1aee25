"""The events the auth domain records (ids only, see coordination.core.events)."""

from __future__ import annotations

from dataclasses import dataclass

from coordination.core.events import DomainEvent


@dataclass(frozen=True)
class ActivationOwed(DomainEvent):
    """An account was made without a password: its owner is owed the link to choose one."""

    user_id: int

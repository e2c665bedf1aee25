"""Domain events: recorded by operations, turned into outbox rows at commit, announced after it.

Two kinds of subscriber. An *outbox* subscriber runs just before the commit, inside the same
transaction, and writes rows (notifications, reminders) that therefore commit or vanish together
with the change that caused them. An *after-commit* subscriber runs once the commit succeeded
(enqueue delivery by id); if it fails, nothing is lost, the periodic sweep finds the rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_PENDING = "coordination.pending_events"
_COMMITTED = "coordination.committed_events"
_outbox: list[Callable[[Session, list[DomainEvent]], None]] = []
_after_commit: list[Callable[[list[DomainEvent]], None]] = []


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened; `name` identifies the kind, `data` holds ids and codes only."""

    name: str
    data: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Return the event as plain JSON-able data."""
        return asdict(self)


def record(session: Session, name: str, **data) -> DomainEvent:
    """Record an event on the session; it takes effect when the transaction commits."""
    domain_event = DomainEvent(name=name, data=data)
    session.info.setdefault(_PENDING, []).append(domain_event)
    return domain_event


def pending(session: Session) -> list[DomainEvent]:
    """Return the events recorded on the session and not yet committed."""
    return list(session.info.get(_PENDING, []))


def subscribe_outbox(handler: Callable[[Session, list[DomainEvent]], None]) -> None:
    """Register a handler that writes rows for events inside the committing transaction."""
    if handler not in _outbox:
        _outbox.append(handler)


def subscribe_after_commit(handler: Callable[[list[DomainEvent]], None]) -> None:
    """Register a handler that receives each committed batch of events."""
    if handler not in _after_commit:
        _after_commit.append(handler)


def install(session_factory) -> None:
    """Hook the outbox to before-commit, announcements to after-commit, discard to rollback."""

    @event.listens_for(session_factory, "before_commit")
    def _before_commit(session: Session) -> None:
        handled: list[DomainEvent] = session.info.setdefault(_COMMITTED, [])
        # Outbox handlers may record further events; keep going until none is left.
        while session.info.get(_PENDING):
            batch = session.info.pop(_PENDING)
            for handler in list(_outbox):
                handler(session, batch)
            handled.extend(batch)
        session.flush()

    @event.listens_for(session_factory, "after_commit")
    def _after_commit_hook(session: Session) -> None:
        events = session.info.pop(_COMMITTED, [])
        if not events:
            return
        for handler in list(_after_commit):
            try:
                handler(events)
            except Exception:  # announcing must never undo or hide a committed change
                log.exception("after-commit handler %s failed", getattr(handler, "__name__", "?"))

    @event.listens_for(session_factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop(_PENDING, None)
        session.info.pop(_COMMITTED, None)

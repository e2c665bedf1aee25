"""Domain events: recorded by operations, turned into outbox rows at commit, announced after it.

An event is a small frozen dataclass, one class per kind, defined by the domain that records it
(`coordination/<domain>/events.py`): ids and codes only, plus `occurred_at`, the operation's own
clock, so that a test's frozen time reaches every reminder computed from it.

Two kinds of subscriber. An *outbox* subscriber runs just before the commit, inside the same
transaction, and writes rows (notifications, reminders) that therefore commit or vanish together
with the change that caused them. An *after-commit* subscriber runs once the commit succeeded
(enqueue delivery by id); if it fails, nothing is lost, the periodic sweep finds the rows.
Nothing subscribes by being imported: the app factory installs every subscriber, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from coordination.core.db import DbSession

log = logging.getLogger(__name__)

_PENDING = "coordination.pending_events"
_COMMITTED = "coordination.committed_events"
OutboxHandler = Callable[[Session, list["DomainEvent"]], None]
AfterCommitHandler = Callable[[list["DomainEvent"]], None]
_outbox: list[OutboxHandler] = []
_after_commit: list[AfterCommitHandler] = []


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened at `occurred_at`; a subclass per kind holds ids and codes only."""

    occurred_at: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.occurred_at, datetime) or self.occurred_at.tzinfo is None:
            raise TypeError(f"{type(self).__name__}.occurred_at must be an aware datetime")

    def as_dict(self) -> dict:
        """Return the event as plain JSON-able data, its class name under "type"."""
        data: dict = {"type": type(self).__name__}
        for item in fields(self):
            data[item.name] = _plain(getattr(self, item.name))
        return data


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def record(session: DbSession, domain_event: DomainEvent) -> DomainEvent:
    """Record an event on the session; it takes effect when the transaction commits."""
    if not isinstance(domain_event, DomainEvent):
        raise TypeError(f"not a domain event: {domain_event!r}")
    session.info.setdefault(_PENDING, []).append(domain_event)
    return domain_event


def pending(session: DbSession) -> list[DomainEvent]:
    """Return the events recorded on the session and not yet committed."""
    return list(session.info.get(_PENDING, []))


def subscribe_outbox(handler: OutboxHandler) -> None:
    """Register a handler that writes rows for events inside the committing transaction."""
    if handler not in _outbox:
        _outbox.append(handler)


def subscribe_after_commit(handler: AfterCommitHandler) -> None:
    """Register a handler that receives each committed batch of events."""
    if handler not in _after_commit:
        _after_commit.append(handler)


def install(session_class) -> None:
    """Hook the outbox to before-commit, announcements to after-commit, discard to rollback."""
    for name, hook in (
        ("before_commit", _before_commit),
        ("after_commit", _after_commit_hook),
        ("after_rollback", _after_rollback),
    ):
        if not event.contains(session_class, name, hook):
            event.listen(session_class, name, hook)


def _before_commit(session: Session) -> None:
    handled: list[DomainEvent] = session.info.setdefault(_COMMITTED, [])
    # Outbox handlers may record further events; keep going until none is left.
    while session.info.get(_PENDING):
        batch = session.info.pop(_PENDING)
        for handler in list(_outbox):
            handler(session, batch)
        handled.extend(batch)
    session.flush()


def _after_commit_hook(session: Session) -> None:
    events = session.info.pop(_COMMITTED, [])
    if not events:
        return
    for handler in list(_after_commit):
        try:
            handler(events)
        except Exception:  # announcing must never undo or hide a committed change
            log.exception("after-commit handler %s failed", getattr(handler, "__name__", "?"))


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_COMMITTED, None)

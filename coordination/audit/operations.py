"""Writing the access log."""

from __future__ import annotations

from datetime import timedelta

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import delete, func, or_, select

from coordination.audit.models import AccessLogEntry
from coordination.extensions import db

PAST_EVERY_PLACE = 2**62  # above every chain_seq: with no row kept, the whole chain is the head


def log_access(
    object_type: str,
    object_id: str | int | None,
    *,
    action: str = "read",
    person_id: int | None = None,
    outcome: str = "allowed",
    user=None,
    role: str | None = None,
    unit_id: int | None = None,
    assurance: str | None = None,
) -> AccessLogEntry:
    """Append one access-log row in the current transaction."""
    user = user if user is not None else _current_user()
    if user is not None and unit_id is None and user.memberships:
        first = user.memberships[0]
        unit_id, role = first.unit_id, role or first.role
    channel = "web"
    if has_request_context() and request.path.startswith("/api/"):
        channel = "api"
    reason = g.get("break_glass_reason") if has_request_context() else None
    entry = AccessLogEntry(
        break_glass=reason is not None,
        reason=reason,
        user_id=getattr(user, "id", None),
        unit_id=unit_id,
        role=role,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        person_id=person_id,
        outcome=outcome,
        channel=channel,
        assurance=assurance,
    )
    if outcome == "refused" and has_request_context():
        # The request's own work is rolled back; the refusal is written after that rollback.
        g.setdefault("access_refusals", []).append(entry)
        return entry
    db.session.add(entry)
    return entry


def persist_refusals() -> None:
    """Write the refusals of this request in their own transaction (after any rollback)."""
    if not has_request_context():
        return
    entries = g.pop("access_refusals", [])
    if entries:
        db.session.add_all(entries)
        db.session.commit()


def _current_user():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def prune_access_log(now, years: int) -> int:
    """Delete log rows older than the keeping period (the database refuses younger ones).

    Only the chain's head goes: no row chained after a kept one, so what is kept still links up.
    """
    limit = now - timedelta(days=round(365.25 * years))
    kept = select(func.min(AccessLogEntry.chain_seq)).where(AccessLogEntry.at >= limit)
    head = or_(
        AccessLogEntry.chain_seq.is_(None),
        AccessLogEntry.chain_seq < func.coalesce(kept.scalar_subquery(), PAST_EVERY_PLACE),
    )
    result = db.session.execute(delete(AccessLogEntry).where(AccessLogEntry.at < limit, head))
    return result.rowcount or 0

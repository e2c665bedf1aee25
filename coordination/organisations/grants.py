"""Role grants under two administrators (separation of duties).

A role that opens case content or the log review (SECOND_APPROVAL_ROLES) is not given at once: the
admin's grant waits until another admin approves it, and no admin approves their own grant or a
grant to themselves. Other roles, and every removal, take effect at once. The command line is
trusted (it runs on the server, as the operator who bootstraps the first admin): its grants are
recorded as given by the command line and take effect at once.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from coordination.audit.operations import log_access
from coordination.core.db import get_row, utcnow
from coordination.core.errors import Forbidden, IllegalTransition
from coordination.extensions import db
from coordination.organisations.models import Membership, OrganisationUnit, RoleGrant
from workflows.organisation import SECOND_APPROVAL_ROLES

Pair = tuple[OrganisationUnit, str]


def needs_second_admin(role: str) -> bool:
    """Tell whether a grant of the role waits for a second administrator."""
    return role in {r.value for r in SECOND_APPROVAL_ROLES}


def pending_for(user_id: int) -> list[RoleGrant]:
    """Return a user's grants that wait for a second administrator."""
    return list(
        db.session.scalars(
            select(RoleGrant)
            .where(RoleGrant.user_id == user_id, RoleGrant.state == "pending")
            .order_by(RoleGrant.id)
        )
    )


def _log(grant: RoleGrant, action: str) -> None:
    log_access("role_grant", grant.id, action=action)


def apply_roles(user, wanted: list[Pair], *, by) -> list[RoleGrant]:
    """Bring a user's roles to `wanted`; return the grants now waiting for a second admin.

    `by` is the admin making the change, or None for the trusted command line. Roles no longer
    wanted end at once (a waiting grant is withdrawn); new guarded roles wait for approval.
    """
    wanted_keys = {(unit.id, role) for unit, role in wanted}
    units = {unit.id: unit for unit, _role in wanted}
    held = {(m.unit_id, m.role): m for m in user.memberships}
    waiting = {(g.unit_id, g.role): g for g in pending_for(user.id)} if user.id else {}
    for key, membership in held.items():
        if key not in wanted_keys:
            user.memberships.remove(membership)
            _end_approved(user.id, *key, by=by)
    for key, grant in waiting.items():
        if key not in wanted_keys:
            _decide(grant, "withdrawn", by=by)
    db.session.flush()
    created: list[RoleGrant] = []
    for unit_id, role in sorted(wanted_keys - held.keys() - waiting.keys()):
        unit = units[unit_id]
        if not needs_second_admin(role):
            user.memberships.append(Membership(unit=unit, role=role))
            continue
        grant = RoleGrant(
            user=user,
            unit=unit,
            role=role,
            via="web" if by is not None else "cli",
            granted_by_id=getattr(by, "id", None),
            granted_at=utcnow(),
        )
        db.session.add(grant)
        if by is None:
            grant.state, grant.decided_at = "approved", grant.granted_at
            user.memberships.append(Membership(unit=unit, role=role))
        else:
            created.append(grant)
        db.session.flush()
        if by is not None:  # the command line logs its own grants (granted_to)
            _log(grant, "grant")
    db.session.flush()
    return created


def _end_approved(user_id: int | None, unit_id: int, role: str, *, by) -> None:
    """Mark the approved grant of a role that was just taken away as ended."""
    if user_id is None:
        return
    grant = db.session.scalar(
        select(RoleGrant)
        .where(
            RoleGrant.user_id == user_id,
            RoleGrant.unit_id == unit_id,
            RoleGrant.role == role,
            RoleGrant.state == "approved",
        )
        .order_by(RoleGrant.id.desc())
        .limit(1)
    )
    if grant is not None:
        grant.state = "ended"
        if by is not None:
            _log(grant, "end")


def _decide(grant: RoleGrant, state: str, *, by) -> None:
    grant.state = state
    grant.decided_by_id = getattr(by, "id", None)
    grant.decided_at = utcnow()
    _log(grant, {"approved": "approve", "rejected": "reject"}.get(state, "withdraw"))


def _lock_pending(grant_id: int, *, by) -> RoleGrant:
    grant = get_row(RoleGrant, grant_id, lock=True)
    if grant.state != "pending":
        raise IllegalTransition(_("Behörigheten är redan hanterad."))
    if grant.user_id == by.id:
        raise Forbidden(_("Du kan inte godkänna en behörighet till dig själv."))
    if grant.granted_by_id == by.id:
        raise Forbidden(_("En annan administratör än den som gav behörigheten måste godkänna den."))
    return grant


def approve(grant_id: int, *, by) -> RoleGrant:
    """A second administrator approves a waiting grant: the role takes effect now."""
    grant = _lock_pending(grant_id, by=by)
    _decide(grant, "approved", by=by)
    exists = db.session.scalar(
        select(Membership).where(
            Membership.user_id == grant.user_id,
            Membership.unit_id == grant.unit_id,
            Membership.role == grant.role,
        )
    )
    if exists is None:
        db.session.add(Membership(user_id=grant.user_id, unit_id=grant.unit_id, role=grant.role))
    db.session.flush()
    db.session.expire(grant.user, ["memberships"])
    return grant


def reject(grant_id: int, *, by) -> RoleGrant:
    """A second administrator turns a waiting grant down."""
    grant = _lock_pending(grant_id, by=by)
    _decide(grant, "rejected", by=by)
    db.session.flush()
    return grant


def granted_to(user_id: int) -> list[RoleGrant]:
    """Return every grant of a user, oldest first."""
    return list(
        db.session.scalars(
            select(RoleGrant).where(RoleGrant.user_id == user_id).order_by(RoleGrant.id)
        )
    )


def log_granted(user_id: int) -> None:
    """Log a user's grants in the access log (for the command line, which grants at once)."""
    for grant in granted_to(user_id):
        _log(grant, "grant")


def pending() -> list[RoleGrant]:
    """Return every grant waiting for a second administrator, oldest first."""
    return list(
        db.session.scalars(
            select(RoleGrant).where(RoleGrant.state == "pending").order_by(RoleGrant.id)
        )
    )


def recent(limit: int = 200) -> list[RoleGrant]:
    """Return the latest grants in every state, newest first (for the auditor's review)."""
    return list(db.session.scalars(select(RoleGrant).order_by(RoleGrant.id.desc()).limit(limit)))

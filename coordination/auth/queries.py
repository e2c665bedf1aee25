"""Reads about users and the roles they hold."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from coordination.auth.models import ApiToken, User
from coordination.core.db import DbSession, utcnow
from coordination.extensions import db
from coordination.organisations.models import Membership, OrganisationUnit
from workflows.organisation import Role


def team_leads(
    session: DbSession | None = None,
    *,
    unit_ids: Iterable[int] | None = None,
    agency_kind: str | None = None,
    by_name: bool = False,
) -> list[User]:
    """Return the active team leads (of the given units or agency kind), by id or by name."""
    query = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role == Role.TEAM_LEAD.value, User.active.is_(True))
    )
    if unit_ids is not None:
        query = query.where(Membership.unit_id.in_(list(unit_ids)))
    if agency_kind is not None:
        query = query.join(OrganisationUnit, OrganisationUnit.id == Membership.unit_id).where(
            OrganisationUnit.agency_kind == agency_kind
        )
    order = User.name if by_name else User.id
    return list((session or db.session).scalars(query.distinct().order_by(order)))


def active_tokens(user: User) -> list[ApiToken]:
    """Return the user's API tokens that still work, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(
                ApiToken.user_id == user.id,
                ApiToken.revoked.is_(False),
                ApiToken.expires_at > utcnow(),
            )
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def own_token(user: User, token_id: int) -> ApiToken | None:
    """Return one of the user's API tokens (None for anyone else's)."""
    token = db.session.get(ApiToken, token_id)
    return token if token is not None and token.user_id == user.id else None

"""Reads for the platform administrator: the förbund and how many people hold roles in each."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import distinct, func, select

from coordination.extensions import db
from coordination.organisations.models import Membership
from coordination.tenancy.context import use
from coordination.tenancy.models import Forbund


@dataclass(frozen=True)
class ForbundLine:
    """One förbund of the installation, as the platform administrator's list shows it."""

    forbund: Forbund
    users: int  # people holding at least one role there


def users_with_roles() -> int:
    """Return how many people hold a role in the current förbund."""
    return db.session.scalar(select(func.count(distinct(Membership.user_id)))) or 0


def forbund_overview() -> list[ForbundLine]:
    """Return every förbund by name with the number of its users, each counted within it."""
    lines = []
    for forbund in db.session.scalars(select(Forbund).order_by(Forbund.name)):
        with use(forbund.id):
            lines.append(ForbundLine(forbund, users_with_roles()))
    return lines

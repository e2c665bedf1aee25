"""Organisation units, role memberships and the förbund's own days off."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.core.db import check_in
from coordination.extensions import db
from workflows.organisation import AgencyKind, Role


class OrganisationUnit(db.Model):
    """A unit of a member agency (a vårdcentral, an AF office) or the förbund's office."""

    __tablename__ = "organisation_unit"
    __table_args__ = (check_in("agency_kind", [k.value for k in AgencyKind]),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    agency_kind: Mapped[str] = mapped_column(String(20))
    municipality: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)

    memberships: Mapped[list[Membership]] = relationship(back_populates="unit")


class Membership(db.Model):
    """A user holding one role in one unit."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("user_id", "unit_id", "role", name="uq_membership_user_unit_role"),
        check_in("role", [r.value for r in Role]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("organisation_unit.id"))
    role: Mapped[str] = mapped_column(String(30))

    user = relationship("User", back_populates="memberships")
    unit: Mapped[OrganisationUnit] = relationship(back_populates="memberships")


class DayOff(db.Model):
    """A day the förbund's office is closed besides weekends and public holidays."""

    __tablename__ = "day_off"

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))

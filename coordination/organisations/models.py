"""Organisation units, role memberships and the förbund's own days off."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.core.db import UTCDateTime, check_in, utcnow
from coordination.extensions import db
from coordination.tenancy.models import TenantMixin
from workflows.organisation import MEMBER_AGENCIES, AgencyKind, Role


class MemberOrganisation(TenantMixin, db.Model):
    """One of the förbund's member organisations (a municipality, an AF or FK office area, a
    region unit that refers), with its code and agency kind (../shared/DOMAIN.md §12).

    The code is what imports and SUS records carry: it never changes once given, and neither does
    the kind it implies; only the name can be corrected.
    """

    __tablename__ = "member_organisation"
    __table_args__ = (
        check_in("kind", [k.value for k in MEMBER_AGENCIES]),
        UniqueConstraint("forbund_id", "code", name="uq_member_organisation_code"),
        UniqueConstraint("forbund_id", "name", name="uq_member_organisation_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrganisationUnit(TenantMixin, db.Model):
    """A unit of a member agency (a vårdcentral, an AF office) or the förbund's office."""

    __tablename__ = "organisation_unit"
    __table_args__ = (
        check_in("agency_kind", [k.value for k in AgencyKind]),
        UniqueConstraint("forbund_id", "name", name="uq_organisation_unit_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    agency_kind: Mapped[str] = mapped_column(String(20))
    municipality: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    # The member organisation a referral from this unit comes from (none for the förbund's office).
    member_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("member_organisation.id"))

    memberships: Mapped[list[Membership]] = relationship(back_populates="unit")
    member_organisation: Mapped[MemberOrganisation | None] = relationship()


class Membership(TenantMixin, db.Model):
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


GRANT_STATES = ("pending", "approved", "rejected", "withdrawn", "ended")
GRANT_VIA = ("web", "cli")


class RoleGrant(TenantMixin, db.Model):
    """A grant of a role that needs two administrators: pending until a second admin approves.

    `granted_by` is the admin who asked (none when the trusted command line granted it, `via`
    "cli"); `decided_by` the second admin who approved or rejected. Approval adds the membership.
    """

    __tablename__ = "role_grant"
    __table_args__ = (
        check_in("role", [r.value for r in Role]),
        check_in("state", GRANT_STATES),
        check_in("via", GRANT_VIA),
        # Never two open requests for the same role in the same unit.
        Index(
            "uq_role_grant_pending",
            "user_id",
            "unit_id",
            "role",
            unique=True,
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("organisation_unit.id"))
    role: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    via: Mapped[str] = mapped_column(String(10), default="web")
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", foreign_keys=[user_id])
    unit: Mapped[OrganisationUnit] = relationship()
    granted_by = relationship("User", foreign_keys=[granted_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])


class DayOff(TenantMixin, db.Model):
    """A day the förbund's office is closed besides weekends and public holidays."""

    __tablename__ = "day_off"
    __table_args__ = (UniqueConstraint("forbund_id", "date", name="uq_day_off_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))


class Letterhead(TenantMixin, db.Model):
    """The förbund's name and contact details, printed at the top of every document (one row
    per förbund).

    Until an admin saves it, documents carry the name of the förbund's own unit.
    """

    __tablename__ = "letterhead"
    __table_args__ = (UniqueConstraint("forbund_id", name="uq_letterhead_forbund_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

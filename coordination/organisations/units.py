"""The organisation units: the member agencies' units and the förbund's office, kept by admins."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from coordination.core.errors import ValidationFailed
from coordination.core.parsing import is_digits
from coordination.extensions import db
from coordination.organisations.models import MemberOrganisation, Membership, OrganisationUnit
from workflows.organisation import AgencyKind

NAME_MAX = 200
MUNICIPALITY_MAX = 100


def units_with_member_counts() -> list[tuple[OrganisationUnit, int]]:
    """Return every unit, active first and by name, with how many roles its people hold there."""
    counts = (
        select(Membership.unit_id, func.count(func.distinct(Membership.user_id)).label("n"))
        .group_by(Membership.unit_id)
        .subquery()
    )
    rows = db.session.execute(
        select(OrganisationUnit, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.unit_id == OrganisationUnit.id)
        .options(selectinload(OrganisationUnit.member_organisation))
        .order_by(OrganisationUnit.active.desc(), OrganisationUnit.name)
    )
    return [(unit, n) for unit, n in rows]


def save_unit(
    unit: OrganisationUnit | None,
    *,
    name: str | None,
    agency_kind: str | None,
    municipality: str | None,
    active: bool = True,
    member_organisation_id: str | int | None = None,
) -> OrganisationUnit:
    """Create a unit (`unit` None) or change one; every error at once, nothing saved on error.

    The name is unique (case-insensitively); a municipality's unit names its municipality. The
    agency kind of a unit that people already hold roles in cannot change, since what they may
    see follows from it.
    """
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    municipality = (municipality or "").strip() or None
    kinds = {k.value for k in AgencyKind}
    if not name:
        errors["name"] = [_("Skriv enhetens namn.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("Skriv högst %(max)s tecken.", max=NAME_MAX)]
    else:
        clash = select(OrganisationUnit.id).where(func.lower(OrganisationUnit.name) == name.lower())
        if unit is not None:
            clash = clash.where(OrganisationUnit.id != unit.id)
        if db.session.scalar(clash) is not None:
            errors["name"] = [_("Det finns redan en enhet med det namnet.")]
    if agency_kind not in kinds:
        errors["agency_kind"] = [_("Välj vilken myndighet enheten hör till.")]
    elif (
        unit is not None
        and agency_kind != unit.agency_kind
        and db.session.scalar(select(Membership.id).where(Membership.unit_id == unit.id).limit(1))
    ):
        errors["agency_kind"] = [
            _("Enheten har användare med roller. Myndigheten kan inte ändras för en sådan enhet.")
        ]
    if agency_kind == AgencyKind.KOMMUN.value and municipality is None:
        errors["municipality"] = [_("Skriv vilken kommun enheten hör till.")]
    elif municipality is not None and len(municipality) > MUNICIPALITY_MAX:
        errors["municipality"] = [_("Skriv högst %(max)s tecken.", max=MUNICIPALITY_MAX)]
    member = _member_organisation(member_organisation_id, agency_kind, errors)
    if errors:
        raise ValidationFailed(_("Enheten kunde inte sparas."), errors=errors)
    assert agency_kind is not None  # it is one of the kinds
    if unit is None:
        unit = OrganisationUnit()
        db.session.add(unit)
    unit.name = name
    unit.agency_kind = agency_kind
    unit.municipality = municipality
    unit.active = bool(active)
    unit.member_organisation = member
    db.session.flush()
    return unit


def _member_organisation(
    raw: str | int | None, agency_kind: str | None, errors: dict[str, list[str]]
) -> MemberOrganisation | None:
    """Return the member organisation a unit belongs to (none chosen: None), noting errors.

    It must be registered and of the unit's own kind, or a referral from the unit would carry an
    organisation of another kind.
    """
    text = str(raw).strip() if raw is not None else ""
    if not text:
        return None
    member = db.session.get(MemberOrganisation, int(text)) if is_digits(text) else None
    if member is None:
        errors["member_organisation_id"] = [_("Välj en medlemsorganisation i listan.")]
    elif agency_kind and member.kind != agency_kind:
        errors["member_organisation_id"] = [
            _("Medlemsorganisationen hör till en annan myndighet än enheten.")
        ]
    return member

"""The förbund's member organisations (../shared/DOMAIN.md §12): the register, kept by admins.

A code, once given, is never re-mapped: imports and SUS records carry it, so neither the code nor
the kind it implies can change; only the name can be corrected.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import Select, case, func, select

from coordination.core.errors import ValidationFailed
from coordination.extensions import db
from coordination.organisations.models import MemberOrganisation, OrganisationUnit
from workflows.organisation import MEMBER_AGENCIES

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}\Z")  # \Z: no trailing newline
NAME_MAX = 200
KINDS: tuple[str, ...] = tuple(k.value for k in MEMBER_AGENCIES)


def ordered() -> Select[tuple[MemberOrganisation]]:
    """Return the select of every member organisation by kind (the members' order), then name."""
    position = case({kind: i for i, kind in enumerate(KINDS)}, value=MemberOrganisation.kind)
    return select(MemberOrganisation).order_by(
        position, MemberOrganisation.name, MemberOrganisation.id
    )


def all_member_organisations() -> list[MemberOrganisation]:
    """Return the whole register (a förbund has a few dozen members at most), in order."""
    return list(db.session.scalars(ordered()))


def by_code() -> dict[str, MemberOrganisation]:
    """Return the register keyed by code, for labels and for checking imports."""
    return {m.code: m for m in all_member_organisations()}


def save_member_organisation(
    organisation: MemberOrganisation | None,
    *,
    code: str | None,
    name: str | None,
    kind: str | None,
) -> MemberOrganisation:
    """Register a member organisation (`organisation` None) or rename one; all errors at once.

    The code is lower-case letters, digits and underscores, unique, and not one of the kind codes
    (an import's referring_agency column takes either). A registered organisation keeps its code
    and kind: changing either would silently re-map the records that carry the code.
    """
    errors: dict[str, list[str]] = {}
    code = (code or "").strip()
    name = (name or "").strip()
    kind = (kind or "").strip()
    if organisation is None:
        if not code:
            errors["code"] = [_("Skriv organisationens kod.")]
        elif not CODE_PATTERN.match(code):
            errors["code"] = [
                _("Koden får bara ha små bokstäver a–z, siffror och understreck, högst 40 tecken.")
            ]
        elif code in KINDS:
            errors["code"] = [_("Koden är redan en myndighets kod. Välj en annan kod.")]
        elif db.session.scalar(
            select(MemberOrganisation.id).where(MemberOrganisation.code == code)
        ):
            errors["code"] = [_("Det finns redan en medlemsorganisation med den koden.")]
        if kind not in KINDS:
            errors["kind"] = [_("Välj vilken myndighet organisationen hör till.")]
    else:
        if code and code != organisation.code:
            errors["code"] = [
                _("Koden kan inte ändras: registrerade uppgifter bär koden. Lägg till en ny.")
            ]
        if kind and kind != organisation.kind:
            errors["kind"] = [
                _("Myndigheten kan inte ändras: registrerade uppgifter bär koden. Lägg till en ny.")
            ]
    if not name:
        errors["name"] = [_("Skriv organisationens namn.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("Skriv högst %(max)s tecken.", max=NAME_MAX)]
    else:
        clash = select(MemberOrganisation.id).where(
            func.lower(MemberOrganisation.name) == name.lower()
        )
        if organisation is not None:
            clash = clash.where(MemberOrganisation.id != organisation.id)
        if db.session.scalar(clash) is not None:
            errors["name"] = [_("Det finns redan en medlemsorganisation med det namnet.")]
    if errors:
        raise ValidationFailed(_("Medlemsorganisationen kunde inte sparas."), errors=errors)
    if organisation is None:
        organisation = MemberOrganisation(code=code, kind=kind)
        db.session.add(organisation)
    organisation.name = name
    db.session.flush()
    return organisation


def referring_of(unit: OrganisationUnit | None) -> tuple[str | None, str | None]:
    """Return (agency kind, member organisation code) of a referral from a unit.

    The kind is one of the four member kinds or None (the förbund's own office refers as none of
    them); the code is the unit's member organisation, if it belongs to one.
    """
    if unit is None or unit.agency_kind not in KINDS:
        return None, None
    member = unit.member_organisation
    return unit.agency_kind, member.code if member is not None else None

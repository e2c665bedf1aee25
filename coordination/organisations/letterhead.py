"""The förbund's letterhead: its name and contact details at the top of every document.

One row, kept by an admin. Until it is saved, documents carry the name of the förbund's own unit,
so a new installation still prints who the document comes from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select

from coordination.core.errors import ValidationFailed
from coordination.extensions import db
from coordination.organisations.models import Letterhead, OrganisationUnit
from workflows.organisation import AgencyKind

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
PHONE = re.compile(r"^\+?[0-9 ()\-]{5,40}\Z")
WEBSITE = re.compile(r"^(https?://)?[^\s/]+\.[^\s]+\Z")
LIMITS = {"name": 200, "address": 300, "phone": 40, "email": 254, "website": 200}


@dataclass(frozen=True)
class Sender:
    """Who a document comes from, as it is printed."""

    name: str
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""

    @property
    def contact(self) -> list[str]:
        """Return the contact lines that are filled in, in print order."""
        return [v for v in (self.address, self.phone, self.email, self.website) if v]


def stored() -> Letterhead | None:
    """Return the saved letterhead, if an admin has saved one."""
    return db.session.scalar(select(Letterhead).order_by(Letterhead.id).limit(1))


def sender() -> Sender:
    """Return who documents come from (read once per request)."""
    if "letterhead" not in g:
        saved = stored()
        if saved is not None:
            g.letterhead = Sender(
                saved.name,
                saved.address or "",
                saved.phone or "",
                saved.email or "",
                saved.website or "",
            )
        else:
            unit = db.session.scalar(
                select(OrganisationUnit.name)
                .where(OrganisationUnit.agency_kind == AgencyKind.FORBUND.value)
                .order_by(OrganisationUnit.id)
                .limit(1)
            )
            g.letterhead = Sender(unit or _("Samordningsförbundet"))
    return g.letterhead


def save_letterhead(**values: str | None) -> Letterhead:
    """Save the letterhead; all errors at once, nothing saved when one field is wrong."""
    data = {key: (values.get(key) or "").strip() for key in LIMITS}
    errors: dict[str, list[str]] = {}
    for key, limit in LIMITS.items():
        if len(data[key]) > limit:
            errors[key] = [_("Skriv högst %(n)s tecken.", n=limit)]
    if not data["name"]:
        errors["name"] = [_("Skriv förbundets namn.")]
    checks = (
        ("phone", PHONE, _("Skriv telefonnumret med siffror, till exempel 010-123 45 67.")),
        ("email", EMAIL, _("Skriv e-postadressen som namn@exempel.se.")),
        ("website", WEBSITE, _("Skriv webbadressen som www.exempel.se.")),
    )
    for key, pattern, message in checks:
        if data[key] and key not in errors and not pattern.match(data[key]):
            errors[key] = [message]
    if errors:
        raise ValidationFailed(
            _("Brevhuvudet kunde inte sparas. Rätta felen nedan."), errors=errors
        )
    letterhead = stored() or Letterhead()
    for key, value in data.items():
        setattr(letterhead, key, value or None)
    letterhead.name = data["name"]
    db.session.add(letterhead)
    db.session.flush()
    g.pop("letterhead", None)
    return letterhead

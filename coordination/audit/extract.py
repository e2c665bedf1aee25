"""The register extract (registerutdrag): everything held about a person, and who accessed it.

Each domain adds a section with `section(title, func)` when the app is created; the extract lists
them in the order they were added. An extract is produced only from a recorded request (who asked,
when, identity checked by whom), by the registrar, and the production is logged with the person.
A protected person's address and phone never appear in it (../shared/DOMAIN.md §10), whichever
section holds them: people registers the check (`protected_identity`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from coordination.audit.models import ExtractRequest
from coordination.audit.operations import log_access
from coordination.audit.review import entries_for_person
from coordination.core.db import utcnow
from coordination.core.errors import ValidationFailed
from coordination.extensions import db

# Never exported for a person with protected identity (../shared/DOMAIN.md §10).
PROTECTED_FIELDS = frozenset({"address", "phone"})

SECTIONS: list[tuple[object, Callable[[int], list[dict]]]] = []
PROTECTED_CHECKS: list[Callable[[int], bool]] = []


def section(title, func: Callable[[int], list[dict]]) -> None:
    """Register a function person_id → list of records (plain dicts) under a title (once)."""
    if all(known is not func for _title, known in SECTIONS):
        SECTIONS.append((title, func))


def protected_identity(check: Callable[[int], bool]) -> None:
    """Register a check person_id → whether the person has protected identity (once)."""
    if check not in PROTECTED_CHECKS:
        PROTECTED_CHECKS.append(check)


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def record_of(obj, names: list[str]) -> dict:
    """Return the named attributes of a row as a plain dict (dates as ISO strings)."""
    return {name: _plain(getattr(obj, name)) for name in names}


def _without(value, names: frozenset[str]):
    """Return the value with the named keys dropped from every mapping, however deep."""
    if isinstance(value, dict):
        return {k: _without(v, names) for k, v in value.items() if k not in names}
    if isinstance(value, list):
        return [_without(v, names) for v in value]
    return value


def build_extract(person_id: int) -> dict:
    """Return every section of the extract and the log of who accessed the person's data."""
    sections = [{"title": str(title), "records": func(person_id)} for title, func in SECTIONS]
    if any(check(person_id) for check in PROTECTED_CHECKS):
        sections = _without(sections, PROTECTED_FIELDS)
    accesses = []
    for entry in entries_for_person(person_id, limit=100000):
        accesses.append(
            {
                "at": entry.at.isoformat(),
                "user": entry.user.name if entry.user else None,
                "unit_id": entry.unit_id,
                "role": entry.role,
                "action": entry.action,
                "object": f"{entry.object_type} {entry.object_id or ''}".strip(),
                "outcome": entry.outcome,
                "break_glass": entry.break_glass,
            }
        )
    return {"person_id": person_id, "sections": sections, "accesses": accesses}


def record_request(
    *,
    person_id: int | None,
    requester: str,
    received_on: date | None,
    identity_check: str,
    identity_checked_by,
    by,
    today: date,
) -> ExtractRequest:
    """Record a request for a register extract; every problem is reported at once."""
    errors: dict[str, list[str]] = {}
    if person_id is None:
        errors["identity_number"] = [_("Ange personnumret för den som utdraget gäller.")]
    if not requester.strip():
        errors["requester"] = [_("Skriv vem som begärde utdraget.")]
    elif len(requester.strip()) > 200:
        errors["requester"] = [_("Högst 200 tecken.")]
    if received_on is None:
        errors["received_on"] = [_("Ange när begäran kom in som ÅÅÅÅ-MM-DD.")]
    elif received_on > today:
        errors["received_on"] = [_("Datumet kan inte ligga i framtiden.")]
    if not identity_check.strip():
        errors["identity_check"] = [_("Skriv hur den som begärde utdraget styrkte sin identitet.")]
    elif len(identity_check.strip()) > 200:
        errors["identity_check"] = [_("Högst 200 tecken.")]
    if identity_checked_by is None:
        errors["identity_checked_by"] = [_("Välj vem som kontrollerade identiteten.")]
    if errors:
        raise ValidationFailed(_("Begäran kunde inte registreras."), errors=errors)
    request = ExtractRequest(
        person_id=person_id,
        requester=requester.strip(),
        received_on=received_on,
        identity_check=identity_check.strip(),
        identity_checked_by_id=identity_checked_by.id,
        recorded_by_id=by.id,
    )
    db.session.add(request)
    db.session.flush()
    return request


def produce(request: ExtractRequest, *, by) -> dict:
    """Build the extract of a recorded request, mark it produced and log the export."""
    data = build_extract(request.person_id)
    data["request"] = {
        "id": request.id,
        "requester": request.requester,
        "received_on": request.received_on.isoformat(),
        "identity_check": request.identity_check,
        "identity_checked_by": request.identity_checked_by.name,
    }
    if request.produced_at is None:
        request.produced_at, request.produced_by_id = utcnow(), by.id
    log_access("register_extract", request.id, action="export", person_id=request.person_id)
    db.session.flush()
    return data


def erase_extract_requests(person_id: int) -> None:
    """Keep that a request was answered, not who asked (often the person's own name)."""
    for request in db.session.scalars(
        select(ExtractRequest).where(ExtractRequest.person_id == person_id)
    ):
        request.requester = "–"

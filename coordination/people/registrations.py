"""The person's part of the register extract: their data, and whether it is protected."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from coordination.audit.extract import (
    erase_extract_requests,
    protected_identity,
    record_of,
    section,
)
from coordination.extensions import db
from coordination.people.models import Person
from coordination.people.retention import eraser


def _person(person_id: int) -> list[dict]:
    person = db.session.get(Person, person_id)
    if person is None:
        return []
    return [
        record_of(
            person,
            "identity_number first_name last_name gender birth_date phone email address "
            "preferred_channel interpreter_needed interpreter_language protected_identity "
            "created_at".split(),
        )
    ]


def _protected(person_id: int) -> bool:
    person = db.session.get(Person, person_id)
    return bool(person is not None and person.protected_identity)


def register() -> None:
    """Add the person's own data to the register extract, and who is protected (§10)."""
    section(_l("Personuppgifter"), _person)
    protected_identity(_protected)
    eraser(erase_extract_requests)

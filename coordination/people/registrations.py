"""The person's part of the register extract."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from coordination.audit.extract import record_of, section
from coordination.extensions import db
from coordination.people.models import Person


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


def register() -> None:
    """Add the person's own data to the register extract."""
    section(_l("Personuppgifter"), _person)

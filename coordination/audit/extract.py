"""The register extract (registerutdrag): everything held about a person, and who accessed it.

Each domain adds a section with `section(title_msgid)`; the extract lists them in order.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from coordination.audit.review import entries_for_person
from coordination.extensions import db

SECTIONS: list[tuple[object, Callable[[int], list[dict]]]] = []


def section(title) -> Callable:
    """Register a function person_id → list of records (plain dicts) under a title."""

    def decorate(func: Callable[[int], list[dict]]) -> Callable[[int], list[dict]]:
        SECTIONS.append((title, func))
        return func

    return decorate


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _row(obj, names: list[str]) -> dict:
    return {name: _plain(getattr(obj, name)) for name in names}


@section(_l("Personuppgifter"))
def _person(person_id: int) -> list[dict]:
    from coordination.people.models import Person

    person = db.session.get(Person, person_id)
    if person is None:
        return []
    return [
        _row(
            person,
            "identity_number first_name last_name gender birth_date phone email address "
            "preferred_channel interpreter_needed interpreter_language protected_identity "
            "created_at".split(),
        )
    ]


@section(_l("Remisser"))
def _referrals(person_id: int) -> list[dict]:
    from coordination.referrals.models import Referral

    rows = db.session.scalars(select(Referral).where(Referral.person_id == person_id))
    names = (
        "id state programme_id referring_unit_id referral_date submitted_at home_municipality "
        "reason agencies_needed support_current occupation education time_on_support "
        "children_in_household background question_to_conference completion_note "
        "withdrawn_reason"
    ).split()
    return [_row(r, names) for r in rows]


@section(_l("Samtycken"))
def _consents(person_id: int) -> list[dict]:
    from coordination.consent.models import Consent

    rows = db.session.scalars(select(Consent).where(Consent.person_id == person_id))
    names = "id agencies info_kinds given_on form witness valid_until withdrawn_at".split()
    return [_row(c, names) for c in rows]


def build_extract(person_id: int) -> dict:
    """Return every section of the extract and the log of who accessed the person's data."""
    from coordination.auth.models import User

    sections = [{"title": str(title), "records": func(person_id)} for title, func in SECTIONS]
    accesses = []
    for entry in entries_for_person(person_id, limit=100000):
        user = db.session.get(User, entry.user_id) if entry.user_id else None
        accesses.append(
            {
                "at": entry.at.isoformat(),
                "user": user.name if user else None,
                "unit_id": entry.unit_id,
                "role": entry.role,
                "action": entry.action,
                "object": f"{entry.object_type} {entry.object_id or ''}".strip(),
                "outcome": entry.outcome,
                "break_glass": entry.break_glass,
            }
        )
    return {"person_id": person_id, "sections": sections, "accesses": accesses}

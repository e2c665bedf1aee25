"""The consents' part of the register extract and of retention (gallring)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from coordination.audit.extract import record_of, section
from coordination.consent.models import Consent
from coordination.extensions import db
from coordination.people.retention import eraser


def _consents(person_id: int) -> list[dict]:
    rows = db.session.scalars(select(Consent).where(Consent.person_id == person_id))
    names = "id agencies info_kinds given_on form witness valid_until withdrawn_at".split()
    return [record_of(c, names) for c in rows]


def _erase_consents(person_id: int) -> None:
    for consent in db.session.scalars(select(Consent).where(Consent.person_id == person_id)):
        db.session.delete(consent)


def register() -> None:
    """Add the consents to the register extract and to retention."""
    section(_l("Samtycken"), _consents)
    eraser(_erase_consents)

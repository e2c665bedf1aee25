"""Creating and changing programmes."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from coordination.core.errors import ValidationFailed
from coordination.extensions import db
from coordination.programmes.models import Programme


def save_programme(programme: Programme | None, data: dict) -> Programme:
    """Create a programme or update its settings; names are unique."""
    clash = db.session.scalar(
        select(Programme).where(func.lower(Programme.name) == data["name"].strip().lower())
    )
    if clash is not None and clash is not programme:
        raise ValidationFailed(
            _("Det finns redan en insats med det namnet."),
            errors={"name": [_("Det finns redan en insats med det namnet.")]},
        )
    if programme is None:
        programme = Programme()
        db.session.add(programme)
    for key, value in data.items():
        setattr(programme, key, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    return programme

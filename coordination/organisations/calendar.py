"""The förbund's working calendar: Swedish working days plus the days off an admin has added."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from coordination.core.db import DbSession
from coordination.core.errors import NotFound, ValidationFailed
from coordination.extensions import db
from coordination.organisations.models import DayOff
from workflows.calendar import WorkingCalendar, swedish_holidays


def working_calendar(session: DbSession | None = None) -> WorkingCalendar:
    """Return the working calendar with the förbund's own days off read from the database."""
    session = session or db.session
    return WorkingCalendar(extra_days_off=session.scalars(select(DayOff.date)).all())


def days_off(from_date: dt.date | None = None) -> list[DayOff]:
    """Return the förbund's days off, from a date on (all when no date), in date order."""
    query = select(DayOff).order_by(DayOff.date)
    if from_date is not None:
        query = query.where(DayOff.date >= from_date)
    return list(db.session.scalars(query))


def add_day_off(day: dt.date | None, name: str) -> DayOff:
    """Add a day off; refuse a missing date or name, a public holiday, a weekend or a repeat."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if day is None:
        errors["date"] = [_("Ange ett datum som ÅÅÅÅ-MM-DD.")]
    elif day.weekday() >= 5:
        errors["date"] = [_("Dagen är en lördag eller söndag och är redan ledig.")]
    elif day in swedish_holidays(day.year):
        errors["date"] = [
            _(
                "Dagen är redan en helgdag (%(holiday)s).",
                holiday=swedish_holidays(day.year)[day],
            )
        ]
    elif db.session.scalar(select(DayOff.id).where(DayOff.date == day)) is not None:
        errors["date"] = [_("Dagen finns redan bland de lediga dagarna.")]
    if not name:
        errors["name"] = [_("Skriv varför dagen är ledig, till exempel ”Klämdag”.")]
    elif len(name) > 200:
        errors["name"] = [_("Skriv högst 200 tecken.")]
    if errors:
        raise ValidationFailed(_("Den lediga dagen kunde inte läggas till."), errors=errors)
    entry = DayOff(date=day, name=name)
    db.session.add(entry)
    db.session.flush()
    return entry


def remove_day_off(day_off_id: int) -> DayOff:
    """Remove one of the förbund's days off."""
    entry = db.session.get(DayOff, day_off_id)
    if entry is None:
        raise NotFound(_("Den lediga dagen finns inte."))
    db.session.delete(entry)
    db.session.flush()
    return entry

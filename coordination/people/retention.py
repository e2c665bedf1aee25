"""Retention (gallring): erase the personal data of people whose business has long been closed.

Each domain that holds personal data registers an `eraser(person_id)` and a `still_open(person_id)`
check when the app is created; statistics keep no identity and stay.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from coordination.audit.operations import log_access
from coordination.extensions import db
from coordination.people.models import Person

# What an eraser writes where a column must keep a value (a CHECK constraint wants text, e.g. a
# decided referral's joint recommendation). Stored data, not shown as a sentence of the interface,
# so it is deliberately not translated; it is the same in every language.
ERASED_TEXT = "[gallrad]"

ERASERS: list[Callable[[int], None]] = []
STILL_OPEN: list[Callable[[int], bool]] = []
LAST_ACTIVITY: list[Callable[[int], datetime | None]] = []


def eraser(func_: Callable[[int], None]) -> None:
    """Register a function that erases one domain's personal data about a person (once).

    Erasers run in the order they were registered, all before the person row goes: a domain that
    finds its rows through another domain's link to the person registers before that domain.
    """
    if func_ not in ERASERS:
        ERASERS.append(func_)


def still_open(func_: Callable[[int], bool]) -> None:
    """Register a check that keeps a person whose business in a domain is still open (once)."""
    if func_ not in STILL_OPEN:
        STILL_OPEN.append(func_)


def last_activity(func_: Callable[[int], datetime | None]) -> None:
    """Register a function returning the last entry a domain holds about a person (once)."""
    if func_ not in LAST_ACTIVITY:
        LAST_ACTIVITY.append(func_)


def due_for_erasure(now: datetime, years: int) -> list[int]:
    """Return the people with nothing open and no entry for the retention period."""
    limit = now - timedelta(days=round(365.25 * years))
    due = []
    for person_id in db.session.scalars(select(Person.id).order_by(Person.id)):
        if any(check(person_id) for check in STILL_OPEN):
            continue
        latest = [t for t in (f(person_id) for f in LAST_ACTIVITY) if t is not None]
        if latest and max(latest) < limit:
            due.append(person_id)
    return due


def erase_expired(now: datetime, years: int) -> int:
    """Erase everyone due; return how many people were erased (ids only are logged)."""
    erased = 0
    for person_id in due_for_erasure(now, years):
        for erase in ERASERS:
            erase(person_id)
        db.session.flush()
        db.session.delete(db.session.get(Person, person_id))
        log_access("person", person_id, action="erase", person_id=person_id, user=None)
        erased += 1
    db.session.flush()
    return erased

"""Running the installation's periodic jobs once per förbund.

Beat starts each job once for the installation; the job then runs its body within each active
förbund in turn (its own transactions, its own rows), so one förbund's reminders, retention or log
chain never touch another's.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Number

from sqlalchemy import select

from coordination.extensions import db
from coordination.tenancy.context import use
from coordination.tenancy.models import Forbund


def active_forbund_ids() -> list[int]:
    """Return the ids of the active förbund, oldest first."""
    ids = list(db.session.scalars(select(Forbund.id).where(Forbund.active).order_by(Forbund.id)))
    db.session.rollback()  # each förbund's work starts its own transaction, with its förbund
    return ids


def each_forbund(job: Callable[[], dict], *, installation: bool = False) -> dict:
    """Run `job` within every active förbund (first outside every förbund, when `installation`:
    the access log's own rows); return its results summed where they are numbers, with the
    number of förbund it ran in."""
    targets: list[int | None] = [None] if installation else []
    targets += active_forbund_ids()
    total: dict = {"forbund": len(targets) - (1 if installation else 0)}
    for forbund_id in targets:
        with use(forbund_id):
            try:
                result = job()
            finally:
                db.session.rollback()  # nothing of this förbund's transaction outlives it
        for key, value in (result or {}).items():
            if isinstance(value, bool):
                total[key] = total.get(key, False) or value
            elif isinstance(value, Number):
                total[key] = total.get(key, 0) + value
            elif key not in total:
                total[key] = value
    return total

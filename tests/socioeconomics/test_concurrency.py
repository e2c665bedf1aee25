"""A calculation saved while its price list is edited: the row lock serialises them, and the
edit that comes second is refused (the version is used by then), never half-applied."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from coordination.core.db import get_row
from coordination.core.errors import Conflict
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.socioeconomics import operations as ops
from coordination.socioeconomics import queries
from coordination.socioeconomics.models import PriceEntry, PriceList
from coordination.tenancy import context as tenancy
from tests.committed import purge, snapshot
from tests.conftest import FIRST_FORBUND
from tests.socioeconomics.worked import PERIOD, worked_example

EDIT = {"variable": "support", "code": "forsorjningsstod", "actor": "kommun", "kind": "cost",
        "amount": "1"}  # fmt: skip


@pytest.mark.committing
def test_an_edit_waits_for_a_calculation_being_saved_and_is_then_refused(app):
    marks = snapshot()
    try:
        programme, price_list = worked_example()
        programme_id, price_list_id = programme.id, price_list.id
        db.session.remove()
        holding, release = threading.Event(), threading.Event()
        outcome: dict = {}

        def save_and_hold():
            with app.app_context(), tenancy.use(FIRST_FORBUND):
                try:
                    get_row(PriceList, price_list_id, lock=True)
                    args = {**PERIOD, "price_list_id": str(price_list_id)}
                    report = queries.run_cohort(args, db.session.get(Programme, programme_id))
                    ops.save_calculation(report)
                    holding.set()
                    release.wait(timeout=20)
                    db.session.commit()
                    outcome["first"] = "committed"
                except Exception as exc:  # pragma: no cover - reported below
                    outcome["first"] = repr(exc)
                    holding.set()
                finally:
                    db.session.remove()

        def edit():  # as the edit page does: lock the version, then save
            with app.app_context(), tenancy.use(FIRST_FORBUND):
                try:
                    found = get_row(PriceList, price_list_id, lock=True)
                    ops.save_entries(found, [("rad 1", EDIT)])
                    db.session.commit()
                    outcome["second"] = "committed"
                except Conflict:
                    db.session.rollback()
                    outcome["second"] = "refused"
                finally:
                    db.session.remove()

        first = threading.Thread(target=save_and_hold)
        first.start()
        assert holding.wait(timeout=20)
        second = threading.Thread(target=edit)
        second.start()
        time.sleep(0.5)
        assert second.is_alive(), "the edit must wait for the lock"
        release.set()
        first.join(timeout=20)
        second.join(timeout=20)
        assert outcome == {"first": "committed", "second": "refused"}
        amounts = db.session.scalars(
            select(PriceEntry.amount).where(PriceEntry.price_list_id == price_list_id)
        ).all()
        assert sorted(amounts) == [13_500, 22_500, 54_000, 110_000, 110_000, 250_000]
    finally:
        purge(marks)

"""The conferences' periodic job: conferences ahead by cadence and cut-offs, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from coordination.conferences.jobs import conference_cycle
from coordination.conferences.models import Conference
from coordination.extensions import db
from tests.factories import make_programme


def test_conference_cycle_schedules_ahead_once():
    programme = make_programme(conference_interval_weeks=2)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    first = conference_cycle(now)
    count = db.session.scalar(select(func.count()).where(Conference.programme_id == programme.id))
    assert first["ran"] and count >= 3
    again = conference_cycle(now + timedelta(minutes=15))
    assert again["conferences_created"] == 0
    assert (
        db.session.scalar(select(func.count()).where(Conference.programme_id == programme.id))
        == count
    )

"""Beat's periodic jobs: conferences by cadence, cut-offs, retention and due ratings; idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from coordination.conferences.models import Conference
from coordination.extensions import db
from notifications.celery_app import celery
from notifications.periodic import conference_cycle, daily_duties
from tests.factories import make_programme


def test_beat_runs_the_periodic_jobs():
    schedule = celery.conf.beat_schedule
    assert schedule["conference-cycle"]["task"] == "notifications.conference_cycle"
    assert schedule["daily-duties"]["task"] == "notifications.daily_duties"
    assert {"notifications.conference_cycle", "notifications.daily_duties"} <= set(celery.tasks)


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


def test_daily_duties_run_and_report():
    result = daily_duties(datetime(2026, 11, 23, 1, 15, tzinfo=UTC))
    assert result == {"ran": True, "erased": 0, "log_rows_pruned": 0, "ratings_due": 0}

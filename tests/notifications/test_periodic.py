"""Beat's schedule: the one sweep, and the Celery wrappers of the domain jobs (in coordination)."""

from __future__ import annotations

from coordination.audit.jobs import sweep_chain, verify_chain
from coordination.conferences.jobs import conference_cycle
from coordination.jobs import daily_duties
from notifications import tasks
from notifications.celery_app import celery


def test_beat_runs_the_periodic_jobs():
    schedule = celery.conf.beat_schedule
    assert schedule["conference-cycle"]["task"] == "notifications.conference_cycle"
    assert schedule["daily-duties"]["task"] == "notifications.daily_duties"
    assert {"notifications.conference_cycle", "notifications.daily_duties"} <= set(celery.tasks)
    assert tasks.conference_cycle is conference_cycle and tasks.daily_duties is daily_duties
    assert schedule["access-log-chain"]["task"] == "notifications.verify_access_log"
    assert "notifications.verify_access_log" in set(celery.tasks)
    assert tasks.verify_chain is verify_chain
    # The access log's sweeper chains what requests wrote, within seconds.
    assert schedule["access-log-sweep"]["task"] == "notifications.sweep_access_log"
    assert schedule["access-log-sweep"]["schedule"] <= 10
    assert tasks.sweep_chain is sweep_chain


def test_one_sweep_delivers_everything_owed():
    assert {entry["task"] for entry in celery.conf.beat_schedule.values()} == {
        "notifications.sweep",
        "notifications.conference_cycle",
        "notifications.daily_duties",
        "notifications.verify_access_log",
        "notifications.sweep_access_log",
    }

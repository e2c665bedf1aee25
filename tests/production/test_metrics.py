"""The metrics endpoint, started in-process: the named metrics, read from the real tables."""

from __future__ import annotations

import time
import urllib.request
from datetime import timedelta

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete

from coordination.core.db import utcnow
from coordination.extensions import db
from coordination.observability.metrics import HEARTBEAT_KEY, StateCollector, registry_for, serve
from notifications.harness import RedisServer
from notifications.models import Notification, Reminder
from tests.conftest import DATABASE_URL
from tests.factories import make_user


def scrape(registry) -> dict:
    """Serve the registry on a free port, GET /metrics, return {(name, labels): value}."""
    server = serve(registry, 0)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _notification(user, key: str, **fields) -> Notification:
    values = dict(
        recipient_id=user.id,
        kind="referral_submitted",
        channel="email",
        template="referral_submitted",
        idempotency_key=f"metrics-test:{key}",
        not_before=utcnow(),
    )
    values.update(fields)
    return Notification(**values)


def _reminder(user, key: str, due_in: timedelta, **fields) -> Reminder:
    return Reminder(
        subject_type="referral",
        subject_id=1,
        kind="completion_reminder",
        template="completion_reminder",
        recipient_id=user.id,
        due_at=utcnow() + due_in,
        idempotency_key=f"metrics-test:{key}",
        **fields,
    )


@pytest.fixture()
def broker(tmp_path):
    """A redis-server of the test's own, so that the queue and heartbeats it reads are only its.

    On the shared test Redis database anything else connected (a Celery worker of `make e2e` or of
    another run on the same database) takes messages off the `celery` list between the push and
    the scrape: the queue then reads 2 where the test pushed 3.
    """
    server = RedisServer(log_dir=tmp_path).start()
    client = redis.Redis.from_url(server.url)
    try:
        yield client, server.url
    finally:
        client.close()
        server.stop()


@pytest.mark.committing
def test_the_state_gauges_read_the_tables_the_queue_and_the_heartbeats(app, broker):
    broker, broker_url = broker
    user = make_user("team_lead")
    now = utcnow()
    db.session.add_all(
        [
            _notification(user, "p1", status="pending", not_before=now - timedelta(minutes=3)),
            _notification(user, "p2", status="pending", not_before=now + timedelta(hours=9)),
            _notification(user, "f1", status="failed", attempts=5),
            _notification(user, "s1", status="sent", sent_at=now),
            _reminder(user, "r-future", timedelta(days=2)),
            _reminder(user, "r-due", timedelta(seconds=-30)),
            _reminder(user, "r-late", timedelta(minutes=-20)),
            _reminder(user, "r-fired", timedelta(minutes=-20), status="fired", fired_at=now),
        ]
    )
    db.session.commit()
    broker.rpush("celery", "a", "b", "c")
    broker.hset(HEARTBEAT_KEY, "worker-1@host", repr(time.time() - 5))
    try:
        values = scrape(registry_for({**app.config["COORD"], "BROKER_URL": broker_url}))
    finally:
        db.session.execute(delete(Notification).where(Notification.recipient_id == user.id))
        db.session.execute(delete(Reminder).where(Reminder.recipient_id == user.id))
        units = [m.unit for m in user.memberships]
        db.session.delete(user)
        db.session.flush()
        for unit in units:
            db.session.delete(unit)
        db.session.commit()
    assert values[("coord_metrics_source_up", (("source", "database"),))] == 1
    assert values[("coord_metrics_source_up", (("source", "broker"),))] == 1
    assert values[("coord_notifications", (("status", "pending"),))] == 2
    assert values[("coord_notifications", (("status", "failed"),))] == 1
    assert values[("coord_notifications", (("status", "sent"),))] == 1
    assert 170 < values[("coord_notifications_oldest_due_pending_seconds", ())] < 400
    assert values[("coord_reminders_pending", ())] == 3
    assert values[("coord_reminders_due", ())] == 2
    assert values[("coord_reminders_overdue", ())] == 1
    assert values[("coord_celery_queue_length", (("queue", "celery"),))] == 3
    age = values[("coord_worker_heartbeat_age_seconds", (("worker", "worker-1@host"),))]
    assert 4 < age < 60


def test_requests_are_counted_by_endpoint_and_status_class_never_by_url(app, api):
    before = scrape(registry_for(app.config["COORD"], state=False))
    key = ("api.get_referral", "GET", "4xx")

    def count(values, name, endpoint, method, status_class=None):
        labels = {"endpoint": endpoint, "method": method}
        if status_class:
            labels["status_class"] = status_class
        return values.get((name, tuple(sorted(labels.items()))), 0)

    assert api.get("/api/v1/referrals/987654").status_code == 401
    assert api.get("/api/v1/referrals/123456").status_code == 401
    assert api.get("/livez").status_code == 200
    after = scrape(registry_for(app.config["COORD"], state=False))

    name = "coord_http_requests_total"
    assert count(after, name, *key) - count(before, name, *key) == 2
    livez = ("observability.livez", "GET", "2xx")
    assert count(after, name, *livez) - count(before, name, *livez) == 1
    latency = "coord_http_request_duration_seconds_count"
    grown = count(after, latency, "api.get_referral", "GET") - count(
        before, latency, "api.get_referral", "GET"
    )
    assert grown == 2
    labels = {v for (_name, pairs) in after for _k, v in pairs}
    assert not any("987654" in v or "123456" in v or v.startswith("/") for v in labels)


def test_a_source_that_does_not_answer_is_reported_down_not_zero():
    collector = StateCollector(
        "postgresql+psycopg://postgres@127.0.0.1:1/none", "redis://127.0.0.1:1/0", timeout=1
    )
    families = {f.name: f for f in collector.collect()}
    up = {s.labels["source"]: s.value for s in families["coord_metrics_source_up"].samples}
    assert up == {"database": 0, "broker": 0}
    assert "coord_notifications" not in families
    assert "coord_celery_queue_length" not in families


def test_the_database_answers_within_the_timeout_even_when_the_broker_is_down():
    collector = StateCollector(DATABASE_URL, "redis://127.0.0.1:1/0", timeout=1)
    started = time.monotonic()
    families = {f.name: f for f in collector.collect()}
    assert time.monotonic() - started < 5
    up = {s.labels["source"]: s.value for s in families["coord_metrics_source_up"].samples}
    assert up == {"database": 1, "broker": 0}
    assert "coord_reminders_overdue" in families


def test_the_worker_serves_its_heartbeat_age_and_task_counts(monkeypatch):
    from notifications import health

    monkeypatch.setitem(health._last_beat, "worker-9@host", time.time() - 3)

    class Task:
        name = "notifications.deliver_notification"

    health._task_started(task_id="t1")
    health._task_finished(task_id="t1", task=Task(), state="SUCCESS")
    health._task_finished(task_id="t2", task=Task(), state="FAILURE")
    registry = health.worker_registry()
    registry.register(health.TASKS)
    values = scrape(registry)
    age = values[("coord_worker_heartbeat_age_seconds", (("worker", "worker-9@host"),))]
    assert 2 < age < 30
    task = ("task", "notifications.deliver_notification")
    assert values[("coord_celery_tasks_total", (("outcome", "success"), task))] >= 1
    assert values[("coord_celery_tasks_total", (("outcome", "failure"), task))] >= 1

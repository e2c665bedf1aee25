"""Prometheus metrics: request latency and counts, and the state of queues, reminders and workers.

The web processes observe every request into REQUEST_LATENCY and REQUESTS. Under gunicorn these
are written to PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode) and served by the
gunicorn master on COORD_METRICS_PORT, summed over the workers (deploy/gunicorn.conf.py). The
StateCollector reads, at scrape time, the Celery queue length (Redis LLEN), reminders and
notifications by status (the notifications tables, read by name) and the age of every worker's
heartbeat (a Redis hash each worker updates).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import String, column, create_engine, func, select, table
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from coordination.core.db import UTCDateTime

log = logging.getLogger(__name__)

HEARTBEAT_KEY = "coord:worker-heartbeats"  # Redis hash: worker hostname -> unix time of its beat
DEFAULT_QUEUES = ("celery",)  # Celery's default queue; the only one the app uses
PRIORITY_SEPARATOR = "\x06\x16"  # kombu's Redis transport keeps priorities in suffixed lists
PRIORITY_STEPS = (3, 6, 9)
REMINDER_OVERDUE_AFTER = timedelta(minutes=5)  # five missed sweeps: the sweep is not running

REQUEST_LATENCY = Histogram(
    "coord_http_request_duration_seconds",
    "Time to answer a request, by endpoint (the route's name, never the URL).",
    ["endpoint", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS = Counter(
    "coord_http_requests",
    "Requests answered, by endpoint and status class (2xx, 3xx, 4xx, 5xx).",
    ["endpoint", "method", "status_class"],
)

_notification = table(
    "notification",
    column("status", String),
    column("not_before", UTCDateTime),
)
_reminder = table("reminder", column("status", String), column("due_at", UTCDateTime))


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration."""
    REQUEST_LATENCY.labels(endpoint=endpoint, method=method).observe(seconds)
    REQUESTS.labels(endpoint=endpoint, method=method, status_class=f"{status // 100}xx").inc()


def _engine(url: str, timeout: float) -> Engine:
    """An engine that opens a fresh connection per scrape and gives up quickly."""
    seconds = max(1, math.ceil(timeout))
    if url.startswith("postgresql"):
        connect_args = {
            "connect_timeout": seconds,
            "options": f"-c statement_timeout={int(timeout * 1000)}",
        }
    elif url.startswith("sqlite"):
        connect_args = {"timeout": timeout}
    else:
        connect_args = {}
    return create_engine(url, poolclass=NullPool, connect_args=connect_args)


class StateCollector:
    """Read the state gauges when Prometheus scrapes; a source that fails is reported down."""

    def __init__(
        self,
        database_url: str,
        broker_url: str,
        *,
        queues: Iterable[str] = DEFAULT_QUEUES,
        timeout: float = 2.0,
    ) -> None:
        self.database_url, self.broker_url = database_url, broker_url
        self.queues = tuple(queues)
        self.timeout = timeout
        self._db: Engine | None = None

    def describe(self) -> list:
        return []  # read nothing when registered; everything is read at scrape time

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "coord_metrics_source_up",
            "Whether a source of the state gauges answered this scrape (1) or not (0).",
            labels=["source"],
        )
        database = self._database()
        up.add_metric(["database"], 1 if database is not None else 0)
        broker = self._broker()
        up.add_metric(["broker"], 1 if broker is not None else 0)
        yield up
        yield from database or ()
        yield from broker or ()

    # The database: notifications and reminders -------------------------------------------

    def _database(self) -> list[GaugeMetricFamily] | None:
        now = datetime.now(UTC)
        try:
            if self._db is None:
                self._db = _engine(self.database_url, self.timeout)
            with self._db.connect() as conn:
                by_status = dict(
                    conn.execute(
                        select(_notification.c.status, func.count()).group_by(
                            _notification.c.status
                        )
                    ).all()
                )
                oldest_due = conn.execute(
                    select(func.min(_notification.c.not_before)).where(
                        _notification.c.status == "pending", _notification.c.not_before <= now
                    )
                ).scalar()
                pending = _reminder.c.status == "pending"
                reminders = conn.execute(
                    select(
                        func.count().filter(pending),
                        func.count().filter(pending, _reminder.c.due_at <= now),
                        func.count().filter(
                            pending, _reminder.c.due_at <= now - REMINDER_OVERDUE_AFTER
                        ),
                    )
                ).one()
        except Exception as exc:
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            return None

        notifications = GaugeMetricFamily(
            "coord_notifications",
            "Notifications in the outbox by status (pending, sent, failed, cancelled).",
            labels=["status"],
        )
        for status in sorted(set(by_status) | {"pending", "failed"}):
            notifications.add_metric([status], by_status.get(status, 0))
        age = GaugeMetricFamily(
            "coord_notifications_oldest_due_pending_seconds",
            "Age of the oldest pending notification that is already due (0 when none waits).",
        )
        if oldest_due is not None and oldest_due.tzinfo is None:
            oldest_due = oldest_due.replace(tzinfo=UTC)
        age.add_metric([], (now - oldest_due).total_seconds() if oldest_due else 0.0)
        all_pending, due, overdue = reminders
        return [
            notifications,
            age,
            GaugeMetricFamily(
                "coord_reminders_pending", "Reminders waiting to fall due.", value=all_pending
            ),
            GaugeMetricFamily(
                "coord_reminders_due",
                "Pending reminders whose time has come (the next sweep fires them).",
                value=due,
            ),
            GaugeMetricFamily(
                "coord_reminders_overdue",
                "Pending reminders due more than five minutes ago: the sweep is not running.",
                value=overdue,
            ),
        ]

    # The broker: queue length and worker heartbeats ---------------------------------------

    def _broker(self) -> list[GaugeMetricFamily] | None:
        if not self.broker_url.startswith(("redis://", "rediss://", "unix://")):
            return []  # the embedded development broker has neither
        import redis

        try:
            client = redis.Redis.from_url(
                self.broker_url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
            )
            try:
                pipe = client.pipeline()
                for queue in self.queues:
                    pipe.llen(queue)
                    for step in PRIORITY_STEPS:
                        pipe.llen(f"{queue}{PRIORITY_SEPARATOR}{step}")
                pipe.hgetall(HEARTBEAT_KEY)
                answers = pipe.execute()
            finally:
                client.close()
        except Exception as exc:
            log.warning("metrics: the broker did not answer (%s)", type(exc).__name__)
            return None

        heartbeats = answers.pop()
        lengths = GaugeMetricFamily(
            "coord_celery_queue_length", "Tasks waiting in a Celery queue.", labels=["queue"]
        )
        per_queue = 1 + len(PRIORITY_STEPS)
        for index, queue in enumerate(self.queues):
            lengths.add_metric([queue], sum(answers[index * per_queue : (index + 1) * per_queue]))
        ages = GaugeMetricFamily(
            "coord_worker_heartbeat_age_seconds",
            "Seconds since each running Celery worker last beat (a stuck worker stops beating).",
            labels=["worker"],
        )
        now = time.time()
        for worker, beat in sorted(heartbeats.items()):
            try:
                ages.add_metric([worker.decode()], max(0.0, now - float(beat)))
            except ValueError:
                continue
        return [lengths, ages]


def registry_for(
    settings: dict, multiprocess_dir: str | None = None, *, state: bool = True
) -> CollectorRegistry:
    """A registry with the request metrics (summed over processes in multiprocess mode)."""
    registry = CollectorRegistry()
    path = multiprocess_dir or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        MultiProcessCollector(registry, path=path)
    else:
        registry.register(REQUEST_LATENCY)
        registry.register(REQUESTS)
    if state:
        # The gauges count every förbund's queue: as the tables' owner when one is configured
        # (the application's role sees one förbund at a time). Counts only, never a row.
        database_url = settings.get("MIGRATION_DATABASE_URL") or settings["DATABASE_URL"]
        registry.register(StateCollector(database_url, settings["BROKER_URL"]))
    return registry


def serve(registry: CollectorRegistry, port: int, address: str = "127.0.0.1"):
    """Serve the registry over HTTP on its own port; return the server (its port if 0 given)."""
    server, _thread = start_http_server(port, addr=address, registry=registry)
    log.info("metrics served on %s:%d", address, server.server_port)
    return server


def clear_multiprocess_dir(path: str) -> None:
    """Remove the value files a previous run left (call before any process writes)."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))

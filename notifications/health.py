"""Worker health: limits, a heartbeat that stops when the worker is stuck, JSON logs, metrics.

`install(celery, flask_app)` (called by notifications/worker.py) makes every worker:
- recycle a pool child after COORD_WORKER_MAX_TASKS_PER_CHILD tasks, and kill a task that runs past
  COORD_TASK_TIME_LIMIT seconds (a soft limit at 80% lets it clean up first);
- beat every COORD_HEARTBEAT_SECONDS from the consumer's own event loop: it writes
  <COORD_HEARTBEAT_DIR>/<hostname>.json, sets its entry in the Redis hash the web's metrics read,
  and tells systemd's watchdog (WATCHDOG=1 on $NOTIFY_SOCKET). A worker whose loop is blocked
  stops beating: systemd restarts it after WatchdogSec, and `deploy/worker-healthcheck` fails, which
  is what a compose healthcheck or a monitor uses;
- log JSON lines with the task's name and id when COORD_LOG_FORMAT=json;
- serve its own metrics on COORD_WORKER_METRICS_PORT (0: off): the age of its heartbeat, and task
  counts and durations by task and outcome (gathered from the pool's children through
  PROMETHEUS_MULTIPROC_DIR, which the service units set; without it only the heartbeat is served).
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import time
from pathlib import Path

from celery import Celery, bootsteps
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    task_postrun,
    task_prerun,
    worker_init,
    worker_ready,
)
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from coordination.observability import logs
from coordination.observability.metrics import HEARTBEAT_KEY, clear_multiprocess_dir, serve

log = logging.getLogger(__name__)

TASKS = Counter(
    "coord_celery_tasks",
    "Tasks run by this worker, by task name and outcome (success, failure, retry, ...).",
    ["task", "outcome"],
)
TASK_DURATION = Histogram(
    "coord_celery_task_duration_seconds",
    "Time a task took, by task name.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)

_settings: dict = {}
_last_beat: dict[str, float] = {}  # hostname -> unix time of this process's last beat
_started_at: dict[str, float] = {}  # task id -> perf_counter at its start


def heartbeat_path(directory: str | Path, hostname: str) -> Path:
    """The heartbeat file of one worker (its Celery hostname, made safe for a file name)."""
    return Path(directory) / (re.sub(r"[^A-Za-z0-9@._-]", "_", hostname) + ".json")


def write_heartbeat(directory: str | Path, hostname: str, now: float | None = None) -> Path:
    """Write the heartbeat file atomically: {"worker", "pid", "time"}."""
    now = time.time() if now is None else now
    path = heartbeat_path(directory, hostname)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps({"worker": hostname, "pid": os.getpid(), "time": now}))
    os.replace(partial, path)
    return path


def sd_notify(message: str) -> bool:
    """Send a message to systemd's notify socket if this process has one; return whether sent."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
        return True
    except OSError as exc:
        log.warning("could not notify systemd: %s", exc)
        return False


def _redis_client():
    url = _settings.get("BROKER_URL", "")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class Heartbeat(bootsteps.StartStopStep):
    """Beat from the consumer's event loop: a blocked loop stops the beats."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.timer_ref = None
        self.ready_sent = False
        self.redis = None

    def start(self, parent) -> None:
        self.redis = _redis_client()
        self.beat(parent.hostname)
        interval = float(_settings.get("HEARTBEAT_SECONDS", 10))
        self.timer_ref = parent.timer.call_repeatedly(interval, self.beat, (parent.hostname,))

    def beat(self, hostname: str) -> None:
        now = time.time()
        try:
            write_heartbeat(_settings["HEARTBEAT_DIR"], hostname, now)
        except OSError as exc:
            log.error("could not write the heartbeat file: %s", exc)
            return  # no watchdog ping either: systemd restarts a worker that cannot beat
        _last_beat[hostname] = now
        if self.redis is not None:
            try:
                self.redis.hset(HEARTBEAT_KEY, hostname, repr(now))
            except Exception as exc:
                log.warning("could not record the heartbeat in Redis (%s)", type(exc).__name__)
        sd_notify("WATCHDOG=1" if self.ready_sent else "READY=1\nWATCHDOG=1")
        self.ready_sent = True

    def stop(self, parent) -> None:
        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None

    def shutdown(self, parent) -> None:
        self.stop(parent)
        sd_notify("STOPPING=1")
        # A worker stopped on purpose is not a stuck one: forget its beat.
        heartbeat_path(_settings["HEARTBEAT_DIR"], parent.hostname).unlink(missing_ok=True)
        _last_beat.pop(parent.hostname, None)
        if self.redis is not None:
            try:
                self.redis.hdel(HEARTBEAT_KEY, parent.hostname)
            except Exception:
                pass


class OwnHeartbeat:
    """The age of this worker's last beat, for its own metrics endpoint."""

    def describe(self) -> list:
        return []

    def collect(self):
        ages = GaugeMetricFamily(
            "coord_worker_heartbeat_age_seconds",
            "Seconds since this worker last beat (a stuck worker stops beating).",
            labels=["worker"],
        )
        now = time.time()
        for hostname, beat in sorted(_last_beat.items()):
            ages.add_metric([hostname], max(0.0, now - beat))
        yield ages


def worker_registry(multiprocess_dir: str | None = None) -> CollectorRegistry:
    """The worker's registry: its heartbeat age, and task metrics summed over its children."""
    registry = CollectorRegistry()
    path = multiprocess_dir or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        MultiProcessCollector(registry, path=path)
    registry.register(OwnHeartbeat())
    return registry


def _task_context() -> dict:
    from celery import current_task

    if current_task is None or not current_task.request.id:
        return {}
    return {"task": current_task.name, "task_id": current_task.request.id}


def _json_handlers(logger=None, **_kwargs) -> None:
    if _settings.get("LOG_FORMAT") != "json" or logger is None:
        return
    for handler in logger.handlers:
        handler.setFormatter(logs.JsonFormatter())
        if not any(isinstance(f, logs.ContextFilter) for f in handler.filters):
            handler.addFilter(logs.ContextFilter())


def _clear_metrics(**_kwargs) -> None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        clear_multiprocess_dir(path)  # before the pool's children write anything


def _serve_metrics(sender=None, **_kwargs) -> None:
    port = int(_settings.get("WORKER_METRICS_PORT", 0))
    if not port:
        return
    try:
        serve(worker_registry(), port, str(_settings.get("METRICS_ADDRESS", "127.0.0.1")))
    except OSError as exc:  # another worker on this host has the port: run without metrics
        log.warning("worker metrics not served on port %d: %s", port, exc)


def _task_started(task_id=None, **_kwargs) -> None:
    if task_id:
        _started_at[task_id] = time.perf_counter()


def _task_finished(task_id=None, task=None, state=None, **_kwargs) -> None:
    started = _started_at.pop(task_id, None)
    name = getattr(task, "name", "unknown")
    TASKS.labels(task=name, outcome=(state or "unknown").lower()).inc()
    if started is not None:
        TASK_DURATION.labels(task=name).observe(time.perf_counter() - started)


def install(celery: Celery, flask_app) -> None:
    """Apply the limits, add the heartbeat step, and connect logging and metrics (once)."""
    settings = flask_app.config["COORD"]
    _settings.clear()
    _settings.update(settings)
    limit = int(settings["TASK_TIME_LIMIT"])
    celery.conf.update(
        worker_max_tasks_per_child=int(settings["WORKER_MAX_TASKS_PER_CHILD"]),
        task_time_limit=limit,
        task_soft_time_limit=max(1, int(limit * 0.8)),
    )
    if Heartbeat not in celery.steps["consumer"]:
        celery.steps["consumer"].add(Heartbeat)
    logs.add_context_provider(_task_context)
    after_setup_logger.connect(_json_handlers, weak=False)
    after_setup_task_logger.connect(_json_handlers, weak=False)
    worker_init.connect(_clear_metrics, weak=False)
    worker_ready.connect(_serve_metrics, weak=False)
    task_prerun.connect(_task_started, weak=False)
    task_postrun.connect(_task_finished, weak=False)

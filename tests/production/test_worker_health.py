"""Worker health: the heartbeat, the healthcheck command (fresh, stale, missing), the watchdog
ping, and a real worker that stops beating when it is stuck."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from coordination.observability.metrics import HEARTBEAT_KEY
from notifications import health
from tests.conftest import DATABASE_URL, REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
HEALTHCHECK = ROOT / "deploy" / "worker-healthcheck"


def healthcheck(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_fresh_heartbeat_passes(tmp_path):
    health.write_heartbeat(tmp_path, "worker-1@host")
    result = healthcheck("--dir", str(tmp_path), "--name", "worker-1@host", "--max-age", "60")
    assert result.returncode == 0, result.stderr
    assert "worker-1@host: ok" in result.stdout


def test_a_stale_heartbeat_fails(tmp_path):
    health.write_heartbeat(tmp_path, "worker-1@host", now=time.time() - 120)
    result = healthcheck("--dir", str(tmp_path), "--name", "worker-1@host", "--max-age", "60")
    assert result.returncode == 1
    assert "STALE, last beat 120s ago" in result.stderr


def test_every_worker_is_checked_and_one_stale_fails_them_all(tmp_path):
    health.write_heartbeat(tmp_path, "worker-1@host")
    health.write_heartbeat(tmp_path, "worker-2@host", now=time.time() - 300)
    result = healthcheck("--dir", str(tmp_path), "--max-age", "60")
    assert result.returncode == 1
    assert "worker-1@host: ok" in result.stderr and "worker-2@host: STALE" in result.stderr


@pytest.mark.parametrize("content", [None, "", "not json", '{"worker": "w"}'])
def test_a_missing_or_unreadable_heartbeat_fails(tmp_path, content):
    if content is not None:
        health.heartbeat_path(tmp_path, "worker-1@host").write_text(content)
    result = healthcheck("--dir", str(tmp_path), "--name", "worker-1@host")
    assert result.returncode == 1


def test_no_worker_at_all_fails(tmp_path):
    result = healthcheck("--dir", str(tmp_path))
    assert result.returncode == 1
    assert "no worker heartbeat" in result.stderr


def test_the_defaults_come_from_the_settings(tmp_path):
    health.write_heartbeat(tmp_path, "worker-1@host", now=time.time() - 20)
    env = dict(os.environ, COORD_HEARTBEAT_DIR=str(tmp_path), COORD_HEARTBEAT_MAX_AGE="10")
    result = subprocess.run(
        [sys.executable, str(HEALTHCHECK)], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 1
    env["COORD_HEARTBEAT_MAX_AGE"] = "30"
    result = subprocess.run(
        [sys.executable, str(HEALTHCHECK)], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0


def test_kill_ends_a_stale_worker_so_that_its_supervisor_restarts_it(tmp_path):
    stuck = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        path = health.write_heartbeat(tmp_path, "worker-1@host", now=time.time() - 120)
        beat = json.loads(path.read_text())
        path.write_text(json.dumps(beat | {"pid": stuck.pid}))
        result = healthcheck("--dir", str(tmp_path), "--kill")
        assert result.returncode == 1
        assert f"killed pid {stuck.pid}" in result.stderr
        assert stuck.wait(timeout=10) == -signal.SIGKILL
    finally:
        stuck.kill()


def test_the_file_name_is_the_same_for_the_worker_and_the_healthcheck(tmp_path):
    loader = importlib.machinery.SourceFileLoader("worker_healthcheck", str(HEALTHCHECK))
    spec = importlib.util.spec_from_loader("worker_healthcheck", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    for hostname in ("worker-1@host", "celery@my host/x", "w@h.example.se"):
        assert module.file_for(tmp_path, hostname) == health.heartbeat_path(tmp_path, hostname)


def test_a_beat_writes_the_file_records_it_in_redis_and_pings_the_watchdog(tmp_path, monkeypatch):
    address = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setattr(
        health, "_settings", {"HEARTBEAT_DIR": str(tmp_path / "beats"), "BROKER_URL": REDIS_URL}
    )
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(HEARTBEAT_KEY)

    class Parent:
        hostname = "worker-7@host"

    step = health.Heartbeat.__new__(health.Heartbeat)
    step.timer_ref, step.ready_sent, step.redis = None, False, health._redis_client()
    try:
        step.beat("worker-7@host")
        assert listener.recv(100) == b"READY=1\nWATCHDOG=1"
        step.beat("worker-7@host")
        assert listener.recv(100) == b"WATCHDOG=1"
        beat = json.loads(health.heartbeat_path(tmp_path / "beats", "worker-7@host").read_text())
        assert beat["pid"] == os.getpid() and time.time() - beat["time"] < 5
        assert time.time() - float(client.hget(HEARTBEAT_KEY, "worker-7@host")) < 5

        step.shutdown(Parent())  # stopped on purpose: not a stuck worker
        assert listener.recv(100) == b"STOPPING=1"
        assert not health.heartbeat_path(tmp_path / "beats", "worker-7@host").exists()
        assert client.hget(HEARTBEAT_KEY, "worker-7@host") is None
    finally:
        listener.close()
        client.delete(HEARTBEAT_KEY)


def test_install_sets_the_limits_that_replace_stuck_and_leaky_processes(app):
    from celery import Celery

    celery = Celery("probe")
    health.install(celery, app)
    assert celery.conf.task_time_limit == app.config["COORD"]["TASK_TIME_LIMIT"] == 300
    assert celery.conf.task_soft_time_limit == 240
    assert celery.conf.worker_max_tasks_per_child == 500
    assert health.Heartbeat in celery.steps["consumer"]


@pytest.mark.slow
def test_a_real_worker_beats_and_a_stuck_one_is_detected(tmp_path):
    beats = tmp_path / "beats"
    env = dict(
        os.environ,
        COORD_DATABASE_URL=DATABASE_URL,
        COORD_BROKER_URL=REDIS_URL,
        COORD_HEARTBEAT_DIR=str(beats),
        COORD_HEARTBEAT_SECONDS="1",
        COORD_WORKER_METRICS_PORT="0",
        COORD_LOG_FORMAT="json",
    )
    worker = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "notifications.worker",
            "worker",
            "--hostname=probe-worker@test",
            "--concurrency=1",
            "--without-mingle",
            "--without-gossip",
            "--queues=production-test-probe",  # takes no real task from the shared queue
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "worker.log", "w"),  # noqa: SIM115
    )
    check = ("--dir", str(beats), "--name", "probe-worker@test", "--max-age", "4")
    try:
        started = healthcheck(*check, "--wait", "45")
        assert started.returncode == 0, (tmp_path / "worker.log").read_text()[-3000:]
        worker.send_signal(signal.SIGSTOP)  # stuck: the process lives, its loop does nothing
        time.sleep(6)
        stuck = healthcheck(*check)
        assert stuck.returncode == 1
        assert "STALE" in stuck.stderr
        worker.send_signal(signal.SIGCONT)
        assert healthcheck(*check, "--wait", "10").returncode == 0  # beats again
    finally:
        worker.send_signal(signal.SIGCONT)
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert not health.heartbeat_path(beats, "probe-worker@test").exists()  # a clean stop forgets

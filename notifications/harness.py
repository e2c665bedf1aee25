"""Real servers and processes for the delivery tests and the benchmark.

A counting SMTP sink (aiosmtpd, a development dependency), a throwaway redis-server on a free port,
and Celery worker and beat processes started as the deployment starts them. Every wait is bounded.
"""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser as HeaderParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll until the condition holds or the timeout passes; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@dataclass(frozen=True)
class Received:
    """One message as it arrived at the sink (parsed in full only when its text is asked for)."""

    message_id: str
    to: tuple[str, ...]
    subject: str
    raw: bytes
    at: float

    @property
    def text(self) -> str:
        """Return the text of every text part, joined."""
        parsed = email.message_from_bytes(self.raw, policy=policy.default)
        return "\n".join(
            part.get_content() for part in parsed.walk() if part.get_content_maintype() == "text"
        )


class SmtpSink:
    """A local SMTP server that keeps and counts every message it accepts."""

    def __init__(self, port: int | None = None, delay: float = 0.0) -> None:
        self.port = port or free_port()
        self.delay = delay
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._controller: Any = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        """Record a message; answer 250 only once it is recorded."""
        if self.delay:
            time.sleep(self.delay)
        headers = HeaderParser().parsebytes(envelope.content, headersonly=True)
        received = Received(
            message_id=str(headers.get("Message-ID", "")),
            to=tuple(envelope.rcpt_tos),
            subject=str(make_header(decode_header(headers.get("Subject", "")))),
            raw=bytes(envelope.content),
            at=time.monotonic(),
        )
        with self._lock:
            self.messages.append(received)
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        """Start listening on 127.0.0.1."""
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def snapshot(self) -> list[Received]:
        """Return the messages received so far."""
        with self._lock:
            return list(self.messages)

    def count(self) -> int:
        """Return how many messages arrived."""
        with self._lock:
            return len(self.messages)

    def unique(self) -> int:
        """Return how many different Message-IDs arrived."""
        with self._lock:
            return len({m.message_id for m in self.messages})

    def by_message_id(self) -> Counter:
        """Return how often each Message-ID arrived."""
        return Counter(m.message_id for m in self.snapshot())

    def clear(self) -> None:
        """Forget what arrived."""
        with self._lock:
            self.messages.clear()


class RedisServer:
    """A redis-server without persistence on a free port, stoppable and restartable."""

    def __init__(self, port: int | None = None, log_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Return the broker URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> RedisServer:
        """Start the server and wait until it answers PING."""
        import redis

        out = open(self.log_dir / f"redis-{self.port}.log", "ab") if self.log_dir else None
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no"],
            stdout=out or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)

        def _answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        if not wait_until(_answers, timeout, 0.05):
            self.stop()
            raise RuntimeError(f"redis-server did not start on port {self.port}")
        return self

    def stop(self, timeout: float = 10) -> None:
        """Stop the server (its data is gone: no persistence)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None


def coordination_env(
    database_url: str, broker_url: str, smtp_port: int, **settings: object
) -> dict[str, str]:
    """Return the environment of a worker, beat or CLI process of this deployment."""
    env = dict(os.environ)
    env.update(
        COORD_DATABASE_URL=database_url,
        COORD_BROKER_URL=broker_url,
        COORD_SMTP_HOST="127.0.0.1",
        COORD_SMTP_PORT=str(smtp_port),
        COORD_SMTP_STARTTLS="false",
        FLASK_APP="wsgi.py",
        PYTHONUNBUFFERED="1",
    )
    for key, value in settings.items():
        env[f"COORD_{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


class Process:
    """A child process in its own process group, so that a kill reaches its children too."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.args, self.env, self.log_path = args, env, log_path
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        """Start the process, appending its output to the log file."""
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            self.args,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 15) -> None:
        """Send a signal to the whole process group and wait for the leader to end."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout)
        if sig == signal.SIGKILL:
            # Children of a killed prefork pool are in the same group; make sure none survives.
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 20) -> None:
        """Ask for a warm shutdown (SIGTERM), then kill whatever is left."""
        self.kill(signal.SIGTERM, timeout)
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def log(self) -> str:
        """Return the process's output so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def celery_worker(env: dict[str, str], log_dir: Path, name: str, concurrency: int = 2) -> Process:
    """Return (not started) a `celery -A notifications.worker worker` process."""
    args = [sys.executable, "-m", "celery", "-A", "notifications.worker", "worker"]
    args += ["--loglevel=INFO", f"--concurrency={concurrency}", f"--hostname={name}@%h"]
    args += ["--without-gossip", "--without-mingle", "--without-heartbeat", "--pool=prefork"]
    return Process(args, env, log_dir / f"{name}.log")


def celery_beat(env: dict[str, str], log_dir: Path, name: str) -> Process:
    """Return (not started) a `celery -A notifications.worker beat` process."""
    args = [sys.executable, "-m", "celery", "-A", "notifications.worker", "beat"]
    args += ["--loglevel=INFO", f"--schedule={log_dir / (name + '-schedule')}"]
    return Process(args, env, log_dir / f"{name}.log")


def flask_sweep(env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `flask notifications sweep` once and return its result."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "notifications", "sweep"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )

"""`make bench-reminders`: 10,000 reminders falling due at once, delivered by two worker processes.

Uses a throwaway PostgreSQL database (BENCH_DATABASE_URL, dropped afterwards), a redis-server on a
free port, one beat and a local SMTP sink. Ends with one line:
`delivered=N duplicates=D seconds=S per_second=R`, where seconds runs from the moment beat starts
(the reminders are already due) until the last message arrives at the sink.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from notifications.harness import (
    RedisServer,
    SmtpSink,
    celery_beat,
    celery_worker,
    coordination_env,
    wait_until,
)

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/coord_bench"
)
REMINDERS = int(os.environ.get("BENCH_REMINDERS", 10_000))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", 4))  # pool processes per worker
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", 900))


def _recreate_database(url: str, drop_only: bool = False) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        if not drop_only:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def _prepare(url: str, n: int) -> None:
    """Migrate the database and commit one recipient with n reminders due now."""
    from flask_migrate import upgrade

    from coordination.app import create_app
    from coordination.auth.models import User
    from coordination.extensions import db
    from coordination.tenancy.context import use
    from notifications.models import Reminder

    app = create_app({"DATABASE_URL": url})
    # The reminders are the first förbund's (made by the migration); the user is the installation's.
    with app.app_context(), use(1):
        upgrade()
        user = User(email="bench@bench.example", name="Bench", password_hash="-", locale="sv")
        db.session.add(user)
        db.session.commit()
        due = datetime.now(UTC) - timedelta(seconds=1)
        rows = [
            dict(
                subject_type="referral",
                subject_id=i,
                kind="completion_reminder",
                template="completion_reminder",
                recipient_id=user.id,
                due_at=due,
                level=1,
                params={"referral_id": i, "due_on": "2030-01-15"},
                link=f"/referrals/{i}",
                idempotency_key=f"bench:{i}",
                status="pending",
                created_at=due,
            )
            for i in range(1, n + 1)
        ]
        db.session.execute(insert(Reminder), rows)
        db.session.commit()
        db.engine.dispose()


def _is_ready(process) -> bool:
    return " ready." in process.log()


def main() -> int:
    """Run the benchmark and print its one-line result."""
    logs = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    _recreate_database(DATABASE_URL)
    broker = RedisServer(log_dir=logs).start()
    sink = SmtpSink().start()
    processes = []
    try:
        _prepare(DATABASE_URL, REMINDERS)
        env = coordination_env(
            DATABASE_URL,
            broker.url,
            sink.port,
            NOTIFY_QUIET_HOURS=False,
            NOTIFY_SWEEP_SECONDS=1,
            NOTIFY_REQUEUE_SECONDS=300,
        )
        workers = [celery_worker(env, logs, f"bench-{i}", CONCURRENCY).start() for i in (1, 2)]
        processes += workers
        for worker in workers:
            if not wait_until(partial(_is_ready, worker), 60, 0.2):
                print(worker.log()[-3000:], file=sys.stderr)
                return 1
        started = time.monotonic()
        processes.append(celery_beat(env, logs, "bench-beat").start())
        done = wait_until(lambda: sink.unique() >= REMINDERS, TIMEOUT, 0.5)
        time.sleep(2)  # a duplicate would arrive now
        received = sink.snapshot()
        unique = len({m.message_id for m in received})
        last = max((m.at for m in received), default=started)
        seconds = max(last - started, 1e-9)
        if not done:
            print(f"timed out after {TIMEOUT:.0f} s; logs in {logs}", file=sys.stderr)
        print(
            f"delivered={unique} duplicates={len(received) - unique} "
            f"seconds={seconds:.1f} per_second={unique / seconds:.0f}"
        )
        return 0 if done and len(received) == unique else 1
    finally:
        for process in processes:
            process.kill()
        sink.stop()
        broker.stop()
        _recreate_database(DATABASE_URL, drop_only=True)


if __name__ == "__main__":
    sys.exit(main())

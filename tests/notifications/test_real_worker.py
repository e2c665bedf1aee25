"""Delivery guarantees with real processes: a Celery worker and beat, redis-server, an SMTP sink.

Each test commits real rows (and deletes them afterwards), starts a fresh worker against the test
database and a redis-server of its own, and bounds every wait with a timeout.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import redis
from celery import Celery
from sqlalchemy import delete, func, select

from coordination.auth.models import User
from coordination.extensions import db
from coordination.organisations.models import Membership, OrganisationUnit
from notifications.harness import (
    RedisServer,
    SmtpSink,
    celery_beat,
    celery_worker,
    coordination_env,
    flask_sweep,
    wait_until,
)
from notifications.models import Notification, Reminder
from notifications.rendering import message_id
from tests.conftest import DATABASE_URL

pytestmark = [pytest.mark.committing, pytest.mark.slow]

CONCURRENCY = 2
_run = itertools.count(1)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """A redis-server on a free port and a counting SMTP sink, for the whole module."""
    logs = tmp_path_factory.mktemp("real-worker")
    broker = RedisServer(log_dir=logs).start()
    sink = SmtpSink(delay=0.004).start()
    yield broker, sink, logs
    sink.stop()
    broker.stop()


class Live:
    """One test's world: its users, its env, its processes; everything is undone at the end."""

    def __init__(self, broker: RedisServer, sink: SmtpSink, logs) -> None:
        self.broker, self.sink, self.logs = broker, sink, logs
        self.token = f"rw{next(_run)}-{int(time.time())}"
        self.env = coordination_env(
            DATABASE_URL,
            broker.url,
            sink.port,
            NOTIFY_QUIET_HOURS=False,
            NOTIFY_REQUEUE_SECONDS=3,
            NOTIFY_SWEEP_SECONDS=1,
            NOTIFY_BACKOFF_SECONDS=1,
        )
        self.processes = []
        self.user_ids: list[int] = []
        self.unit_ids: list[int] = []

    def recipient(self) -> User:
        """Create (and commit) a staff user to receive messages."""
        unit = OrganisationUnit(name=f"Unit {self.token}-{len(self.unit_ids)}", agency_kind="af")
        user = User(
            email=f"{self.token}-{len(self.user_ids)}@worker.test",
            name="Worker Test",
            password_hash="-",
            locale="sv",
        )
        db.session.add_all([unit, user])
        db.session.flush()
        db.session.add(Membership(user_id=user.id, unit_id=unit.id, role="referrer"))
        db.session.commit()
        self.user_ids.append(user.id)
        self.unit_ids.append(unit.id)
        return user

    def reminders(self, user: User, n: int, due_at: datetime) -> list[int]:
        """Commit n reminders to a user falling due at due_at; return their ids."""
        rows = [
            Reminder(
                subject_type="referral",
                subject_id=900000 + i,
                kind="completion_reminder",
                template="completion_reminder",
                recipient_id=user.id,
                due_at=due_at,
                level=1,
                params={"referral_id": 900000 + i, "due_on": "2030-01-15"},
                link=f"/referrals/{900000 + i}",
                idempotency_key=f"{self.token}:reminder:{i}",
                status="pending",
            )
            for i in range(n)
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [r.id for r in rows]

    def emails(self, user: User, n: int) -> list[Notification]:
        """Commit n due email notifications marked as enqueued (no sweep will send them)."""
        now = datetime.now(UTC)
        rows = [
            Notification(
                recipient_id=user.id,
                kind="referral_submitted",
                channel="email",
                template="referral_submitted",
                locale="sv",
                params={"referral_id": 800000 + i},
                link=f"/referrals/{800000 + i}",
                subject_type="referral",
                subject_id=800000 + i,
                idempotency_key=f"{self.token}:email:{i}",
                status="pending",
                not_before=now,
                enqueued_at=now,
            )
            for i in range(n)
        ]
        db.session.add_all(rows)
        db.session.commit()
        return rows

    def start(self, process):
        self.processes.append(process.start())
        return process

    def worker(self, name: str):
        """Start a worker and wait until it is ready."""
        process = self.start(
            celery_worker(self.env, self.logs, f"{self.token}-{name}", CONCURRENCY)
        )
        assert wait_until(lambda: " ready." in process.log(), 60, 0.2), process.log()[-3000:]
        return process

    def beat(self, name: str):
        return self.start(celery_beat(self.env, self.logs, f"{self.token}-{name}"))

    def notifications(self, channel: str) -> list[Notification]:
        db.session.expire_all()
        return list(
            db.session.scalars(
                select(Notification).where(
                    Notification.recipient_id.in_(self.user_ids), Notification.channel == channel
                )
            )
        )

    def expected_message_ids(self) -> set[str]:
        return {message_id(n.idempotency_key) for n in self.notifications("email")}

    def close(self) -> None:
        for process in self.processes:
            process.kill()
        db.session.rollback()
        db.session.execute(delete(Notification).where(Notification.recipient_id.in_(self.user_ids)))
        db.session.execute(delete(Reminder).where(Reminder.recipient_id.in_(self.user_ids)))
        db.session.execute(delete(Membership).where(Membership.user_id.in_(self.user_ids)))
        db.session.execute(delete(User).where(User.id.in_(self.user_ids)))
        db.session.execute(delete(OrganisationUnit).where(OrganisationUnit.id.in_(self.unit_ids)))
        db.session.commit()


@pytest.fixture()
def live(app, servers):
    broker, sink, logs = servers
    if broker.process is None:
        broker.start()
    redis.Redis.from_url(broker.url).flushall()
    sink.clear()
    world = Live(broker, sink, logs)
    yield world
    world.close()
    redis.Redis.from_url(broker.url).flushall()


def test_500_messages_survive_a_sigkilled_worker_each_with_a_stable_message_id(live):
    user = live.recipient()
    live.reminders(user, 500, datetime.now(UTC) - timedelta(seconds=1))
    worker = live.worker("first")
    live.beat("beat")
    assert wait_until(lambda: live.sink.count() >= 250, 90), worker.log()[-3000:]
    worker.kill()  # SIGKILL to the worker and its pool, mid-stream
    at_kill = live.sink.count()
    assert at_kill < 500, "the kill came too late to prove anything"
    live.worker("restarted")
    assert wait_until(lambda: len(set(live.sink.by_message_id())) >= 500, 120)
    time.sleep(2)  # anything doubled would arrive now

    expected = live.expected_message_ids()
    arrived = live.sink.by_message_id()
    assert len(expected) == 500
    assert set(arrived) == expected  # every message, and no other
    doubled = {mid: n for mid, n in arrived.items() if n > 1}
    print(f"killed after {at_kill} of 500 arrived; {len(doubled)} arrived twice")
    # Only what was in flight at the kill (at most one per pool process) may come twice, and
    # then with the same Message-ID (Counter keys are Message-IDs, so that holds by counting).
    assert sum(arrived.values()) - 500 <= CONCURRENCY, doubled
    assert all(n == 2 for n in doubled.values())
    assert {n.status for n in live.notifications("email")} == {"sent"}
    inbox = Counter(n.subject_id for n in live.notifications("inbox"))
    assert len(inbox) == 500 and set(inbox.values()) == {1}  # inbox items never doubled


def test_reminders_due_while_redis_is_down_all_arrive_once_it_is_back(live):
    user = live.recipient()
    live.worker("worker")
    live.beat("beat")
    due_at = datetime.now(UTC) + timedelta(seconds=3)
    live.reminders(user, 50, due_at)
    live.broker.stop()
    stopped = time.monotonic()
    wait_until(lambda: datetime.now(UTC) > due_at + timedelta(seconds=1), 10)

    swept = flask_sweep(live.env, timeout=60)  # the sweep runs but cannot enqueue
    assert swept.returncode == 0, swept.stderr[-3000:]
    assert "reminders_fired=50 enqueued=0" in swept.stdout
    emails = live.notifications("email")
    assert len(emails) == 50
    assert {(n.status, n.enqueued_at) for n in emails} == {("pending", None)}
    assert live.sink.count() == 0

    time.sleep(max(0.0, 30 - (time.monotonic() - stopped)))
    live.broker.start()  # the same port, empty: whatever was queued before is gone
    assert wait_until(lambda: live.sink.count() >= 50, 150), live.processes[0].log()[-3000:]
    time.sleep(3)
    arrived = live.sink.by_message_id()
    assert set(arrived) == live.expected_message_ids()
    assert set(arrived.values()) == {1}


def test_the_same_delivery_task_run_twice_sends_once(live):
    user = live.recipient()
    rows = live.emails(user, 20)
    live.worker("worker")
    producer = Celery("producer", broker=live.broker.url)
    producer.conf.update(task_serializer="json", accept_content=["json"])
    for row in rows + rows:  # every task twice
        producer.send_task("notifications.deliver_notification", args=[row.id])
    client = redis.Redis.from_url(live.broker.url)
    assert wait_until(lambda: live.sink.count() >= 20 and client.llen("celery") == 0, 60)
    time.sleep(2)
    arrived = live.sink.by_message_id()
    assert set(arrived) == live.expected_message_ids() and set(arrived.values()) == {1}
    producer.close()


def test_two_beats_started_at_once_produce_no_duplicate(live):
    user = live.recipient()
    live.reminders(user, 200, datetime.now(UTC) - timedelta(seconds=1))
    live.worker("worker")
    first, second = live.beat("beat-a"), live.beat("beat-b")
    assert wait_until(lambda: live.sink.count() >= 200, 90)
    time.sleep(3)
    arrived = live.sink.by_message_id()
    assert len(arrived) == 200 and set(arrived.values()) == {1}
    inbox = Counter(n.subject_id for n in live.notifications("inbox"))
    assert len(inbox) == 200 and set(inbox.values()) == {1}
    fired = db.session.scalar(
        select(func.count()).where(Reminder.recipient_id == user.id, Reminder.status == "fired")
    )
    assert fired == 200
    assert "Sending due task notifications-sweep" in first.log()
    assert "Sending due task notifications-sweep" in second.log()

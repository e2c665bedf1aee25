"""`make bench-access-log`: the cost of one logged read, beside its raw floor, in one run.

Builds a fresh PostgreSQL database from the migrations with BENCH_LOG_ROWS rows already in the
log (chained by the sweeper, which is timed too), then times requests-worth of `log_access` +
commit, sequentially and from BENCH_THREADS threads at once while a sweeper runs beside them, and
the same rows as plain INSERTs into a table without the log's machinery (no trigger, no indexes
besides the key, no chain): the floor. Then the old design (the chain lock taken at flush and held
to commit) emulated on the same rows, for comparison. Ends by chaining everything and verifying.

One line per figure: `figure=NAME mode=M rows_per_request=R requests=N p50_ms=… p95_ms=…
floor_p95_ms=… ratio=…` (milliseconds per logged read, so a request of 50 rows counts 50 reads).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/coord_bench_access_log"
# Every row is the first förbund's (made by the migration), as on a one-förbund installation; each
# thread enters it itself (a new thread starts outside every förbund).
FORBUND = 1

FLOOR_TABLE = """
CREATE TABLE access_log_floor (
    id serial PRIMARY KEY, at timestamptz NOT NULL, user_id integer, unit_id integer,
    role varchar(30), action varchar(40) NOT NULL, object_type varchar(40) NOT NULL,
    object_id varchar(80), person_id integer, outcome varchar(10) NOT NULL,
    channel varchar(10) NOT NULL, break_glass boolean NOT NULL, reason text,
    prev_hash varchar(64) NOT NULL, hash varchar(64) NOT NULL
)
"""
FLOOR_INSERT = text(
    "INSERT INTO access_log_floor (at, user_id, unit_id, role, action, object_type, object_id, "
    "person_id, outcome, channel, break_glass, reason, prev_hash, hash) VALUES (now(), "
    ":user_id, :unit_id, :role, 'read', 'case', :object_id, :person_id, 'allowed', 'web', false, "
    "NULL, '', '')"
)
PREFILL = """
INSERT INTO access_log (at, user_id, unit_id, role, action, object_type, object_id, person_id,
    outcome, channel, break_glass, prev_hash, hash)
SELECT now() - (n || ' seconds')::interval, :user_id, :unit_id, 'coordinator', 'read', 'case',
    n::text, n % 200000, 'allowed', 'web', false, '', ''
FROM generate_series(:rows, 1, -1) AS n
"""


def _fresh_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


class Bench:
    """The timed requests, run in the app's context (one session per thread, as requests have)."""

    def __init__(self, app, user_id: int, unit_id: int):
        self.app, self.user_id, self.unit_id = app, user_id, unit_id

    def _user(self):
        """The signed-in user as log_access reads it (loading it is the request's cost, not the
        log's; a loaded User would be reloaded after every commit here)."""
        membership = SimpleNamespace(unit_id=self.unit_id, role="coordinator")
        return SimpleNamespace(id=self.user_id, memberships=[membership])

    def logged(self, rows: int) -> Callable[[int], None]:
        """Return one request's logging: `rows` reads through log_access, then the commit."""
        from coordination.audit.operations import log_access
        from coordination.extensions import db

        user = self._user()

        def request(n: int) -> None:
            for i in range(rows):
                log_access("case", n * rows + i, person_id=(n * rows + i) % 200_000, user=user)
            db.session.commit()

        return request

    def floor(self, rows: int) -> Callable[[int], None]:
        """Return the same rows as one plain INSERT into a table without the log's machinery."""
        from coordination.extensions import db

        def request(n: int) -> None:
            params = [
                {
                    "user_id": self.user_id,
                    "unit_id": self.unit_id,
                    "role": "coordinator",
                    "object_id": str(n * rows + i),
                    "person_id": (n * rows + i) % 200_000,
                }
                for i in range(rows)
            ]
            db.session.execute(FLOOR_INSERT, params)
            db.session.commit()

        return request

    def old_design(self, rows: int) -> Callable[[int], None]:
        """Return the logging as it was: chain lock taken at flush, tail read, held to commit."""
        from coordination.audit.chain import CHAIN_LOCK, digest
        from coordination.audit.models import AccessLogEntry
        from coordination.audit.operations import log_access
        from coordination.core.db import utcnow
        from coordination.extensions import db

        user = self._user()

        def request(n: int) -> None:
            entries = [
                log_access("case", n * rows + i, person_id=(n * rows + i) % 200_000, user=user)
                for i in range(rows)
            ]
            connection = db.session.connection()
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})
            previous = connection.execute(
                select(AccessLogEntry.hash).order_by(AccessLogEntry.id.desc()).limit(1)
            ).scalar()
            for entry in entries:
                entry.at, entry.prev_hash = utcnow(), previous or ""
                entry.hash = previous = digest(entry)
            db.session.commit()

        return request

    def run(self, make: Callable[[], Callable[[int], None]], requests: int, threads: int):
        """Time `requests` requests spread over `threads` threads; return seconds per request."""
        from coordination.extensions import db

        timings: list[float] = []
        lock = threading.Lock()
        share = requests // threads

        def worker(number: int) -> None:
            from coordination.tenancy.context import use

            with self.app.app_context(), use(FORBUND):
                request = make()
                mine = []
                for k in range(share):
                    start = time.perf_counter()
                    request(number * share + k)
                    mine.append(time.perf_counter() - start)
                db.session.remove()
            with lock:
                timings.extend(mine)

        pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        return timings


def _sweeping(app, stop: threading.Event) -> threading.Thread:
    """A sweeper beside the writers, as beat runs it (more often here: every half second)."""
    from coordination.audit.jobs import sweep_chain
    from coordination.extensions import db
    from coordination.tenancy.context import use

    def loop() -> None:
        with app.app_context(), use(FORBUND):
            while not stop.wait(0.5):
                sweep_chain()
            db.session.remove()

    thread = threading.Thread(target=loop)
    thread.start()
    return thread


def _figure(name: str, mode: str, rows: int, timings: list[float], floor: list[float]) -> None:
    per_read = [t * 1000 / rows for t in timings]
    floor_per_read = [t * 1000 / rows for t in floor]
    p95, floor_p95 = _percentile(per_read, 0.95), _percentile(floor_per_read, 0.95)
    print(
        f"figure={name} mode={mode} rows_per_request={rows} requests={len(timings)} "
        f"p50_ms={_percentile(per_read, 0.5):.3f} p95_ms={p95:.3f} "
        f"floor_p50_ms={_percentile(floor_per_read, 0.5):.3f} "
        f"floor_p95_ms={floor_p95:.3f} ratio={p95 / floor_p95:.2f}",
        flush=True,
    )


def main() -> int:
    """Build the database, time the figures, print one line each; exit 1 if the chain is broken."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    requests = int(os.environ.get("BENCH_REQUESTS", "2000"))
    threads = int(os.environ.get("BENCH_THREADS", "8"))
    prefill = int(os.environ.get("BENCH_LOG_ROWS", "100000"))
    _fresh_database(url)
    from flask_migrate import upgrade

    from coordination.app import create_app
    from coordination.audit.chain import verify
    from coordination.audit.jobs import sweep_chain
    from coordination.auth.operations import create_user
    from coordination.extensions import db
    from coordination.organisations.models import OrganisationUnit
    from coordination.tenancy.context import use

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "TESTING": True,
            "PASSWORD_HASH_COST": "fast",
        }
    )
    with app.app_context(), use(FORBUND):
        upgrade()
        db.session.execute(text(FLOOR_TABLE))
        unit = OrganisationUnit(name="Bench unit", agency_kind="forbund")
        db.session.add(unit)
        db.session.flush()
        user = create_user(
            email="bench@bench.example",
            name="Bench Coordinator",
            password="bench password 1",
            memberships=[(unit, "coordinator")],
        )
        db.session.commit()
        user_id, unit_id = user.id, unit.id
        db.session.execute(text(PREFILL), {"rows": prefill, "user_id": user_id, "unit_id": unit_id})
        db.session.commit()
        start = time.perf_counter()
        chained = sweep_chain()["chained"]
        seconds = time.perf_counter() - start
        print(
            f"figure=access_log_sweep rows={chained} seconds={seconds:.2f} "
            f"rows_per_s={chained / seconds:.0f}",
            flush=True,
        )
        db.session.remove()

    bench = Bench(app, user_id, unit_id)
    for rows, mode, count in ((1, "sequential", requests), (50, "sequential", requests // 50)):
        floor = bench.run(lambda r=rows: bench.floor(r), count, 1)
        logged = bench.run(lambda r=rows: bench.logged(r), count, 1)
        _figure("access_log_per_read", mode, rows, logged, floor)
    stop = threading.Event()
    sweeper = _sweeping(app, stop)
    try:
        floor = bench.run(lambda: bench.floor(1), requests, threads)
        logged = bench.run(lambda: bench.logged(1), requests, threads)
        _figure("access_log_per_read", f"threads{threads}+sweeper", 1, logged, floor)
    finally:
        stop.set()
        sweeper.join()
    old = bench.run(lambda: bench.old_design(1), requests, threads)
    _figure("access_log_per_read_old_design", f"threads{threads}", 1, old, floor)

    with app.app_context(), use(FORBUND):
        # The emulated old design hashed its rows itself; the sweeper chains them like any other.
        sweep_chain()
        intact, bad_id, checked = verify(db.session)
        waiting = db.session.scalar(text("SELECT count(*) FROM access_log WHERE chain_seq IS NULL"))
        db.session.remove()
        db.engine.dispose()
    print(f"chain intact={intact} rows_checked={checked} unchained={waiting} broken_at={bad_id}")
    return 0 if intact and not waiting else 1


if __name__ == "__main__":
    sys.exit(main())

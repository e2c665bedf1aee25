"""`make bench-tenancy`: what PostgreSQL's row-level security (tenancy/rls.py) costs the pages.

One data set, two apps on it in one process:

- `rls=off`: the app connected as the tables' owner (`postgres`, a superuser): the policies are
  bypassed, only the code's scoping (tenancy/scoping.py) filters;
- `rls=on`: the app connected as the application's role (`coord_bench_app`, granted with
  `rls.grant_app_role`): the policies apply on top of the code's scoping, as in production.

The data set is the web bench's (web_bench/data.py) at BENCH_PARTICIPANTS (20,000) in förbund 1,
and a second förbund with BENCH_OTHER_PARTICIPANTS (as many) people of its own, so the policies
have rows to filter out. It is kept in TENANCY_BENCH_URL's database and built again only when the
size, the schema or the generator changes (BENCH_REBUILD=1 forces it).

The same users sign in to each app through the Flask test client (password and code, as people
do); each figure is BENCH_WARMUP (3) warm-up requests per app, then BENCH_REQUESTS (30) timed
requests per app, interleaved (off, on, off, on…) so both see the same caches. One line per
figure and app, then the difference:

    figure=NAME participants=N rls=off p50_ms=… p95_ms=… n=…
    figure=NAME participants=N rls=on p50_ms=… p95_ms=… n=…
    figure=NAME rls_cost_p50_ms=… ratio=…

and the main query of each case list (the slowest statement the bound app sends for it) under
EXPLAIN ANALYZE (median of five, TIMING OFF) as each role, with `app.forbund_id` = 1:

    figure=caseload_coordinator_main_query participants=N rls=off explain_execution_ms=…

The statements and plans are written to a temporary directory (named on stderr).
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url

from coordination.tenancy.rls import grant_app_role
from coordination.web_bench import data as dataset
from coordination.web_bench.run import (
    HTTPS,
    SECRET_KEY,
    _alembic_head,
    _test_client_sign_in,
    percentile,
)
from coordination.web_bench.signin import Codes

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/coord_bench_tenancy"
APP_ROLE = "coord_bench_app"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
MARKER = "bench_tenancy_dataset"
OTHER_SLUG = "bench-andra"


def progress(message: str, *args) -> None:
    """Tell how the run goes, on stderr (the figures are the bench's output, on stdout)."""
    print(message % args, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Figure:
    """One page measured: who asks for what."""

    name: str
    role: str  # "coordinator": the coordinator with the fullest caseload
    path: str
    api: bool = False


# The figures whose main query is explained (the coordinator's caseload is the one asked for).
EXPLAINED = ("caseload_coordinator", "caseload_team_lead", "api_cases_coordinator")
FIGURES = (
    Figure("caseload_coordinator", "coordinator", "/cases/"),
    Figure("caseload_team_lead", "team_lead", "/cases/"),
    Figure("statistics_report", "team_lead", "/statistics/reports/municipality"),
    Figure("api_cases_coordinator", "coordinator", "/api/v1/cases", api=True),
)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _plain(url: str) -> str:
    """Return the URL as psycopg takes it (no SQLAlchemy driver name)."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def _as_role(url: str, role: str) -> str:
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def _stored(url: str, sizes: tuple[int, int], head: str) -> dataset.Dataset | None:
    """Return the data set already built with these sizes and this schema, if there is one."""
    try:
        with psycopg.connect(_plain(url), connect_timeout=5) as conn:
            row = conn.execute(
                f"SELECT participants, other_participants, schema_head, generator, description "
                f"FROM {MARKER}"
            ).fetchone()
    except psycopg.Error:
        return None
    if row is None or tuple(row[:4]) != (*sizes, head, dataset.GENERATOR_VERSION):
        return None
    return dataset.from_description(row[4])


def ensure_dataset(url: str, participants: int, other: int) -> dataset.Dataset:
    """Reuse the data set, or build it in a fresh database: förbund 1, then a second förbund."""
    head = _alembic_head()
    target = make_url(url)
    if os.environ.get("BENCH_REBUILD") != "1":
        found = _stored(url, (participants, other), head)
        if found is not None:
            progress("data: reusing %s (%s participants)", target.database, participants)
            return found
    started = time.perf_counter()
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()

    from flask_migrate import upgrade

    from coordination.app import create_app
    from coordination.auth.passwords import hash_password
    from coordination.extensions import db
    from coordination.tenancy.operations import create_forbund

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        upgrade()
        other_id = create_forbund(OTHER_SLUG, "Bench andra förbundet").id
        db.session.commit()
        password_hash = hash_password(dataset.PASSWORD)
        db.engine.dispose()
    progress("data: migrated in %.1f s", time.perf_counter() - started)
    with psycopg.connect(_plain(url)) as conn:
        built = dataset.build(
            conn, participants, secret_key=SECRET_KEY, password_hash=password_hash, forbund_id=1
        )
        conn.commit()
        progress("data: förbund 1 written at %.1f s", time.perf_counter() - started)
        if other:
            dataset.build(
                conn,
                other,
                secret_key=SECRET_KEY,
                password_hash=password_hash,
                forbund_id=other_id,
            )
            conn.commit()
            progress("data: förbund %s written at %.1f s", other_id, time.perf_counter() - started)
        conn.execute(
            f"CREATE TABLE {MARKER} (participants int, other_participants int, schema_head text, "
            "generator text, description jsonb, built_at timestamptz DEFAULT now())"
        )
        conn.execute(
            f"INSERT INTO {MARKER} (participants, other_participants, schema_head, generator, "
            "description) VALUES (%s, %s, %s, %s, %s)",
            (participants, other, head, dataset.GENERATOR_VERSION, dataset.dumps(built)),
        )
        conn.commit()
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    progress("data: built in %.1f s", time.perf_counter() - started)
    return built


def _app(url: str):
    from coordination.app import create_app

    return create_app(
        {
            "ENV": "production",
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "BROKER_URL": REDIS_URL,
        }
    )


def _get(client, figure: Figure, token: str) -> tuple[float, int]:
    headers = {"Authorization": f"Bearer {token}"} if figure.api else {}
    started = time.perf_counter()
    answer = client.get(figure.path, base_url=HTTPS, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, answer.status_code


def measure(figure: Figure, signed_in: dict[str, dict[str, tuple]]) -> dict[str, list[float]]:
    """Time one figure on both apps, interleaved; return the timings (ms) per app."""
    timings: dict[str, list[float]] = {"off": [], "on": []}
    warmup, requests = _env_int("BENCH_WARMUP", 3), _env_int("BENCH_REQUESTS", 30)
    for number in range(warmup + requests):
        for rls in ("off", "on"):
            client, token = signed_in[rls][figure.role]
            elapsed, status = _get(client, figure, token)
            if status != 200:
                raise RuntimeError(f"{figure.name} rls={rls} answered {status}")
            if number >= warmup:
                timings[rls].append(elapsed)
    return timings


def main_query(app, client, figure: Figure, token: str) -> tuple[str, dict]:
    """Return the slowest statement of one GET of a figure (and its parameters), preferring one
    that reads case_record: the page's main query."""
    from coordination.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[tuple[float, str, dict]] = []
    started: dict[int, float] = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - started.pop(id(cursor))
        seen.append((elapsed, statement, dict(parameters or {})))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        _get(client, figure, token)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    cases = [s for s in seen if "case_record" in s[1]] or seen
    _elapsed, statement, parameters = max(cases, key=lambda s: s[0])
    return statement, parameters


def explain(url: str, statement: str, parameters: dict, runs: int = 5) -> tuple[float, float, dict]:
    """EXPLAIN ANALYZE the statement in förbund 1; return median execution and planning ms, and
    the plan with each node's times (from the first run, which also warms the cache).

    The timed runs leave the nodes' clocks off (TIMING OFF): a clock read per row would add to
    the execution time of a plan that scans many rows, which is the plan being measured here.
    """
    executions: list[float] = []
    planning: list[float] = []
    plan: dict = {}

    def run(options: str) -> dict:
        row = conn.execute(f"EXPLAIN ({options}, FORMAT JSON) {statement}", parameters).fetchone()
        assert row is not None
        return row[0][0] if isinstance(row[0], list) else json.loads(row[0])[0]

    with psycopg.connect(_plain(url)) as conn:
        conn.execute("SELECT set_config('app.forbund_id', '1', false)")
        plan = run("ANALYZE, BUFFERS")
        for _ in range(runs):
            timed = run("ANALYZE, TIMING OFF")
            executions.append(timed["Execution Time"])
            planning.append(timed["Planning Time"])
        conn.rollback()
    return statistics.median(executions), statistics.median(planning), plan


def _line(figure: str, participants: int, rls: str, timings: list[float]) -> None:
    print(
        f"figure={figure} participants={participants} rls={rls} "
        f"p50_ms={statistics.median(timings):.1f} p95_ms={percentile(timings, 0.95):.1f} "
        f"n={len(timings)}",
        flush=True,
    )


def run() -> None:
    """Build or reuse the data, sign in to both apps, print every figure and the query plans."""
    url = os.environ.get("TENANCY_BENCH_URL", DEFAULT_URL)
    participants = _env_int("BENCH_PARTICIPANTS", 20000)
    other = _env_int("BENCH_OTHER_PARTICIPANTS", participants)
    data = ensure_dataset(url, participants, other)
    owner = create_engine(url)
    with owner.begin() as conn:
        grant_app_role(conn, APP_ROLE)
    owner.dispose()
    app_url = _as_role(url, APP_ROLE)

    coordinator = max(data.users["coordinator"], key=lambda u: len(data.loads[u.id]))
    users = {"coordinator": coordinator, "team_lead": data.users["team_lead"][0]}
    progress(
        "run: coordinator %s with %s open cases, team lead %s",
        coordinator.id,
        len(data.loads[coordinator.id]),
        users["team_lead"].id,
    )
    logging.disable(logging.INFO)  # not a line per in-process request
    apps = {"off": _app(url), "on": _app(app_url)}
    codes = Codes()
    signed_in = {
        rls: {role: _test_client_sign_in(app, user, codes) for role, user in users.items()}
        for rls, app in apps.items()
    }
    for rls, app in apps.items():  # the apps are what they claim: one bypasses, one is bound
        from coordination.extensions import db
        from coordination.tenancy.rls import role_can_bypass

        with app.app_context(), db.engine.connect() as conn:
            if role_can_bypass(conn) != (rls == "off"):
                raise RuntimeError(f"the rls={rls} app's role is not what the figure needs")

    for figure in FIGURES:
        timings = measure(figure, signed_in)
        for rls in ("off", "on"):
            _line(figure.name, participants, rls, timings[rls])
        off, on = statistics.median(timings["off"]), statistics.median(timings["on"])
        print(
            f"figure={figure.name} rls_cost_p50_ms={on - off:.1f} ratio={on / max(off, 1e-9):.2f}",
            flush=True,
        )

    # The main query of each case list, as the bound app sends it (where the policies cost),
    # under EXPLAIN ANALYZE as each role.
    plans = Path(tempfile.mkdtemp(prefix="bench-tenancy-"))
    for figure in FIGURES:
        if figure.name not in EXPLAINED:
            continue
        client, token = signed_in["on"][figure.role]
        statement, parameters = main_query(apps["on"], client, figure, token)
        name = f"{figure.name}_main_query"
        (plans / f"{name}.sql").write_text(f"{statement}\n-- {parameters!r}\n")
        results = {}
        for rls, role_url in (("off", url), ("on", app_url)):
            execution, planning, plan = explain(role_url, statement, parameters)
            results[rls] = execution
            (plans / f"{name}_rls_{rls}.json").write_text(json.dumps(plan, indent=1))
            print(
                f"figure={name} participants={participants} rls={rls} "
                f"explain_execution_ms={execution:.2f} planning_ms={planning:.2f}",
                flush=True,
            )
        print(
            f"figure={name} rls_cost_execution_ms={results['on'] - results['off']:.2f} "
            f"ratio={results['on'] / max(results['off'], 1e-9):.2f}",
            flush=True,
        )
    progress("plans: %s", plans)
    for app in apps.values():
        from coordination.extensions import db

        with app.app_context():
            db.engine.dispose()


def main() -> int:
    run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

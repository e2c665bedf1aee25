"""`make bench-web`: build (or reuse) each data set, serve it with gunicorn as deploy/ does, and
measure every figure beside its floor, then the 20-user mix against the app and the floor app.

Settings (environment): BENCH_SIZES ("20000 200000"), BENCH_PG_URL (the server), BENCH_REQUESTS
(timed requests per figure, 30), BENCH_FIGURE_SECONDS (a figure's time budget, 120),
BENCH_MIX_SECONDS (60, counted once every user has signed in and BENCH_MIX_WARMUP, 10, has
passed), BENCH_MIX_USERS (20), BENCH_REDIS_URL (the app's broker and limiter), BENCH_REBUILD=1
(build again even when the marker matches).
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from coordination.web_bench import data as dataset
from coordination.web_bench import floor
from coordination.web_bench.signin import Codes, api_token, insecure_cookies, sign_in
from coordination.web_bench.store import SECRET_KEY, app_role_url, ensure_dataset

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
# Progress goes to stderr through logging; the figures are the bench's output, on stdout.
progress = logging.getLogger("coordination.web_bench")


@dataclass(frozen=True)
class Figure:
    """One page measured: who asks for what."""

    name: str
    role: str  # "coordinator" means the coordinator with about 30 cases
    path: str  # {case} is an open case of that coordinator
    api: bool = False
    floor: str = ""


FIGURES = (
    Figure("caseload_coordinator", "coordinator", "/cases/", floor="caseload_coordinator"),
    Figure("api_cases_coordinator", "coordinator", "/api/v1/cases", True, "api_cases_coordinator"),
    Figure("case_page_team_lead", "team_lead", "/cases/{case}", floor="case_page"),
    Figure("referral_list", "team_lead", "/referrals/", floor="referral_list"),
    Figure("api_cases_team_lead", "team_lead", "/api/v1/cases", True, "api_cases_team_lead"),
    Figure("caseload_team_lead", "team_lead", "/cases/", floor="caseload_team_lead"),
    Figure("start_coordinator", "coordinator", "/", floor="start_coordinator"),
    Figure("start_team_lead", "team_lead", "/", floor="start_team_lead"),
    Figure("start_referrer", "referrer", "/", floor="start_referrer"),
    Figure("start_conference_member", "conference_member", "/", floor="start_member"),
    Figure("inbox", "coordinator", "/inbox", floor="inbox"),
    # What every signed-in page costs before its own rows: the page that reads almost nothing.
    Figure("account_page", "coordinator", "/account", floor="account"),
    Figure(
        "statistics_report",
        "team_lead",
        "/statistics/reports/municipality",
        floor="statistics_report",
    ),
)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn -c deploy/gunicorn.conf.py with production settings, for the app or the floor."""

    def __init__(self, url: str, run_dir: Path, *, floor_app: bool = False) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = url
        self.floor_app = floor_app
        self.log = run_dir / ("floor.log" if floor_app else "gunicorn.log")
        self.run_dir = run_dir
        self.process: subprocess.Popen | None = None

    def env(self) -> dict:
        """Return the production environment deploy/ gives gunicorn (deploy/env.example)."""
        metrics = tempfile.mkdtemp(prefix="metrics-", dir=self.run_dir)
        return {
            **os.environ,
            "COORD_ENV": "production",
            "COORD_SECRET_KEY": SECRET_KEY,
            "COORD_DATABASE_URL": self.url.replace("postgresql://", "postgresql+psycopg://"),
            "COORD_BROKER_URL": REDIS_URL,
            "COORD_BASE_URL": self.base,
            "COORD_BIND": f"127.0.0.1:{self.port}",
            "COORD_WEB_WORKERS": os.environ.get("BENCH_WEB_WORKERS", "2"),
            "COORD_METRICS_PORT": "0",
            "COORD_LOG_FORMAT": "json",
            "COORD_REQUIRE_TOTP": "true",
            "COORD_ATTACHMENT_DIR": str(self.run_dir / "attachments"),
            "PROMETHEUS_MULTIPROC_DIR": metrics,
        }

    def __enter__(self) -> Server:
        command = [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
        if self.floor_app:
            command.append("coordination.web_bench.floor:app")
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 90
        probe = "/" if self.floor_app else "/healthz"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}")
            try:
                answer = requests.get(self.base + probe, timeout=5)
                if self.floor_app or answer.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"gunicorn did not answer within 90 s; see {self.log}")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class Actor:
    """A signed-in bench user: a web session and, for the API, a bearer token."""

    user: dataset.BenchUser
    session: requests.Session
    token: str = ""


def _actors(base: str, data: dataset.Dataset, codes: Codes) -> dict[str, Actor]:
    chosen = {
        "coordinator": data.coordinator_with(30),
        "team_lead": data.users["team_lead"][0],
        "referrer": data.users["referrer"][0],
        "conference_member": data.users["conference_member"][0],
    }
    actors = {}
    for role, user in chosen.items():
        session = requests.Session()
        sign_in(session, base, user.id, user.email, codes)
        token = ""
        if role in ("coordinator", "team_lead"):
            token = api_token(session, base, user.id, user.email, codes)
        actors[role] = Actor(user, session, token)
    return actors


def _timed(actor: Actor, url: str, api: bool) -> tuple[float, int]:
    headers = {"Authorization": f"Bearer {actor.token}"} if api else {}
    started = time.perf_counter()
    try:
        answer = actor.session.get(url, headers=headers, timeout=120, allow_redirects=False)
        status = answer.status_code
    except requests.RequestException:
        status = 0
    elapsed = (time.perf_counter() - started) * 1000
    insecure_cookies(actor.session)
    return elapsed, status


def _warm(base: str, actors: dict[str, Actor], figure: Figure, case_id: int) -> None:
    """Ask for the figure's page two times per gunicorn worker, untimed: a worker's first
    request of a page compiles its template and statements, not the page's steady cost."""
    actor = actors[figure.role]
    for _ in range(2 * _env_int("BENCH_WEB_WORKERS", 2)):
        _timed(actor, base + figure.path.format(case=case_id), figure.api)


def measure(base: str, actors: dict[str, Actor], figure: Figure, case_id: int) -> dict:
    """Time one figure (its page warmed by `_warm`): up to BENCH_REQUESTS requests within its
    time budget."""
    actor = actors[figure.role]
    url = base + figure.path.format(case=case_id)
    budget = time.monotonic() + _env_int("BENCH_FIGURE_SECONDS", 120)
    timings, failures = [], []
    _elapsed, status = _timed(actor, url, figure.api)  # warm already (`_warm`): does it answer?
    if status != 200:
        return {"timings": [], "failed": status}
    for _ in range(_env_int("BENCH_REQUESTS", 30)):
        elapsed, status = _timed(actor, url, figure.api)
        if status != 200:
            failures.append(status)
            if len(failures) >= 2:
                break
            continue
        timings.append(elapsed)
        if time.monotonic() > budget and len(timings) >= 3:
            break
    return {"timings": timings, "failed": failures[0] if failures else None}


def floor_p95(url: str, figure: Figure, user_id: int, case_id: int, runs: int) -> float:
    """Return the floor's p95 in ms: the median of three rounds of `runs` executions."""
    query = getattr(floor, figure.floor)
    args = (user_id, case_id) if figure.floor == "case_page" else (user_id,)
    rounds = []
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.cursor()
        query(cur, *args)  # warm
        for _ in range(3):
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                query(cur, *args)
                timings.append((time.perf_counter() - started) * 1000)
            rounds.append(percentile(timings, 0.95))
    return statistics.median(rounds)


HTTPS = "https://localhost"  # production's session cookie is Secure


def _test_client_sign_in(app, user: dataset.BenchUser, codes: Codes) -> tuple:
    """Sign a Flask test client in (password, code) and get a bearer token."""
    from coordination.web_bench.signin import csrf_token

    client = app.test_client()
    client.environ_base["HTTP_REFERER"] = f"{HTTPS}/login"  # the CSRF check's same origin
    page = client.get("/login", base_url=HTTPS)
    client.post(
        "/login",
        base_url=HTTPS,
        data={
            "email": user.email,
            "password": dataset.PASSWORD,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    page = client.get("/login/code", base_url=HTTPS)
    done = client.post(
        "/login/code",
        base_url=HTTPS,
        data={"code": codes.code(user.id), "csrf_token": csrf_token(page.get_data(as_text=True))},
    )
    if done.status_code != 302:
        raise RuntimeError(f"in-process sign-in of user {user.id} answered {done.status_code}")
    token = (
        client.post(
            "/api/v1/auth/token",
            base_url=HTTPS,
            json={"email": user.email, "password": dataset.PASSWORD, "otp": codes.code(user.id)},
        ).get_json()
        or {}
    )
    return client, token.get("token", "")


def count_queries(url: str, data: dataset.Dataset, figures, case_id: int, codes: Codes) -> dict:
    """Count the statements each page sends, in-process (Flask test client, same database)."""
    from sqlalchemy import event

    from coordination.app import create_app
    from coordination.extensions import db

    app = create_app(
        {
            "ENV": "production",
            "DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://"),
            "SECRET_KEY": SECRET_KEY,
            "BROKER_URL": REDIS_URL,
        }
    )
    logging.getLogger().setLevel(logging.WARNING)  # not a line per in-process request
    counts: dict[str, int] = {}
    clients: dict[str, tuple] = {}
    # Requests run outside any outer app context: each has its own `g` (the CSRF token is cached
    # there), as in a server.
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    for figure in figures:
        if figure.role not in clients:
            user = (
                data.coordinator_with(30)
                if figure.role == "coordinator"
                else data.users[figure.role][0]
            )
            clients[figure.role] = _test_client_sign_in(app, user, codes)
        client, token = clients[figure.role]
        headers = {"Authorization": f"Bearer {token}"} if figure.api else {}
        path = figure.path.format(case=case_id)
        client.get(path, base_url=HTTPS, headers=headers)  # warm
        event.listen(engine, "before_cursor_execute", record)
        statements.clear()
        try:
            answer = client.get(path, base_url=HTTPS, headers=headers)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        counts[figure.name] = len(statements) if answer.status_code == 200 else -1
    engine.dispose()
    return counts


def run_mix(server: Server, description: Path, target: str, run_dir: Path) -> dict:
    """Run the locust mix against a server; return requests per second and p95 (ms)."""
    seconds = _env_int("BENCH_MIX_SECONDS", 60)
    warmup = _env_int("BENCH_MIX_WARMUP", 10)
    results = run_dir / f"mix-{target}.json"
    env = {
        **os.environ,
        "BENCH_DATASET": str(description),
        "BENCH_TARGET": target,
        "BENCH_RESULTS": str(results),
    }
    users = _env_int("BENCH_MIX_USERS", 20)
    command = [
        str(BIN / "locust"),
        "-f",
        str(Path(__file__).with_name("locustfile.py")),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{seconds + warmup + 30}s",
        "--host",
        server.base,
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "30",
    ]
    with open(run_dir / f"locust-{target}.log", "ab") as log:
        subprocess.run(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    rows = json.loads(results.read_text())
    signed_in = max((r[0] + r[1] / 1000 for r in rows if not r[3]), default=0.0)
    pages = [r for r in rows if r[3]]
    if not pages:
        return {"rps": 0.0, "p95": float("nan"), "failed": 0}
    # The steady part: after every user has signed in, and after the warm-up.
    first = max(signed_in, min(r[0] for r in pages)) + warmup
    steady = [r for r in pages if r[0] >= first]
    if not steady:
        return {"rps": 0.0, "p95": float("nan"), "failed": 0}
    end = max(r[0] + r[1] / 1000 for r in steady)
    ok = [r for r in steady if r[2]]
    return {
        "rps": len(ok) / max(end - first, 1e-9),
        "p95": percentile([r[1] for r in steady], 0.95),
        "failed": len(steady) - len(ok),
    }


def run_size(participants: int) -> None:
    """Build or reuse one size, then print its figures and its mix."""
    url, data = ensure_dataset(participants)
    run_dir = Path(tempfile.mkdtemp(prefix=f"bench-web-{participants}-"))
    description = run_dir / "dataset.json"
    description.write_text(dataset.dumps(data))
    coordinator = data.coordinator_with(30)
    case_id = data.loads[coordinator.id][0]
    codes = Codes()
    progress.info(
        "run: %s (coordinator %s with %s cases)",
        run_dir,
        coordinator.id,
        len(data.loads[coordinator.id]),
    )
    results = {}
    app_url = app_role_url(url)
    with Server(app_url, run_dir) as server:
        actors = _actors(server.base, data, codes)
        # Every page once on every worker before any is timed: the sync workers take requests
        # as they race for them, so one figure's own warm-up may not reach both.
        for figure in FIGURES:
            _warm(server.base, actors, figure, case_id)
        for figure in FIGURES:
            results[figure.name] = measure(server.base, actors, figure, case_id)
    measured = [f for f in FIGURES if results[f.name]["timings"]]
    counts = count_queries(app_url, data, measured, case_id, codes)
    runs = _env_int("BENCH_REQUESTS", 30)
    for figure in FIGURES:
        result = results[figure.name]
        user = actors[figure.role].user.id
        bottom = floor_p95(url, figure, user, case_id, runs)
        timings = result["timings"]
        if not timings:
            print(
                f"figure={figure.name} participants={participants} p50_ms=- p95_ms=- "
                f"floor_p95_ms={bottom:.1f} ratio=- queries=- failed_status={result['failed']}",
                flush=True,
            )
            continue
        p95 = percentile(timings, 0.95)
        extra = f" failed_status={result['failed']}" if result["failed"] is not None else ""
        print(
            f"figure={figure.name} participants={participants} "
            f"p50_ms={statistics.median(timings):.1f} p95_ms={p95:.1f} "
            f"floor_p95_ms={bottom:.1f} ratio={p95 / max(bottom, 0.001):.1f} "
            f"queries={counts.get(figure.name, '-')} n={len(timings)}{extra}",
            flush=True,
        )
    with Server(app_url, run_dir) as server:
        mix = run_mix(server, description, "app", run_dir)
    with Server(url, run_dir, floor_app=True) as server:
        bottom = run_mix(server, description, "floor", run_dir)
    print(
        f"participants={participants} mix_rps={mix['rps']:.1f} mix_p95_ms={mix['p95']:.1f} "
        f"mix_failed={mix['failed']} floor_rps={bottom['rps']:.1f} "
        f"floor_p95_ms={bottom['p95']:.1f} ratio_rps={mix['rps'] / max(bottom['rps'], 1e-9):.2f}",
        flush=True,
    )


def main() -> int:
    """Run every size of BENCH_SIZES."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    progress.propagate = False  # the in-process requests quiet the root logger, not this one
    for size in os.environ.get("BENCH_SIZES", "20000 200000").split():
        run_size(int(size))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The 20-user mix for locust: coordinators' pages mostly, the rest team lead, referrer and
conference member pages, with no think time (the figure is throughput).

Run by `coordination.web_bench.run` with BENCH_DATASET (the data set's description, JSON),
BENCH_TARGET ("app": sign in as people do; "floor": the floor app, the user in a header) and
BENCH_RESULTS (where every page request's start, duration and success are written at the end).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict

from locust import HttpUser, constant, events, task

from coordination.web_bench.data import from_description
from coordination.web_bench.signin import Codes, api_token, insecure_cookies, sign_in

with open(os.environ["BENCH_DATASET"], encoding="utf-8") as _file:
    DATA = from_description(json.load(_file))
TARGET = os.environ.get("BENCH_TARGET", "app")
RESULTS: list[tuple[float, float, bool, bool]] = []  # start, ms, ok, a page (not a sign-in)
CODES = Codes()
_taken: dict[str, int] = defaultdict(int)


@events.request.add_listener
def _record(name, response_time, exception, start_time=None, response=None, **_kwargs):
    page = name not in ("login", "token")
    status = response.status_code if response is not None and exception is None else 0
    ok = status == 200 or (not page and status == 302)
    RESULTS.append((start_time or 0.0, response_time, ok, page))


@events.quitting.add_listener
def _write(environment, **_kwargs):
    with open(os.environ["BENCH_RESULTS"], "w", encoding="utf-8") as file:
        json.dump(RESULTS, file)


class _Staff(HttpUser):
    abstract = True
    wait_time = constant(0)
    role = ""
    uses_api = False

    def on_start(self) -> None:
        users = DATA.users[self.role]
        # Skip the first of each role: the sequential measurement signs in as them.
        self.user = users[(1 + _taken[self.role]) % len(users)]
        _taken[self.role] += 1
        self.api = {}
        self.cases = DATA.loads.get(self.user.id) or DATA.open_case_ids[:50]
        self.turn = 0
        if TARGET == "floor":
            self.client.headers["X-Bench-User"] = str(self.user.id)
            return
        sign_in(self.client, "", self.user.id, self.user.email, CODES, name_prefix="")
        if self.uses_api:
            token = api_token(self.client, "", self.user.id, self.user.email, CODES, "")
            self.api = {"Authorization": f"Bearer {token}"}

    def page(self, path: str, name: str, api: bool = False) -> None:
        self.client.get(path, name=name, headers=self.api if api else None)
        insecure_cookies(self.client)

    def a_case(self) -> int:
        self.turn += 1
        return self.cases[self.turn % len(self.cases)]


class Coordinator(_Staff):
    weight = 16
    role = "coordinator"
    uses_api = True

    @task(3)
    def caseload(self):
        self.page("/cases/", "caseload_coordinator")

    @task(3)
    def case(self):
        self.page(f"/cases/{self.a_case()}", "case_page_coordinator")

    @task(2)
    def start_page(self):
        self.page("/", "start_coordinator")

    @task(1)
    def api_cases(self):
        self.page("/api/v1/cases", "api_cases_coordinator", api=True)

    @task(1)
    def inbox(self):
        self.page("/inbox", "inbox")


class TeamLead(_Staff):
    weight = 2
    role = "team_lead"
    uses_api = True

    @task(2)
    def case(self):
        self.page(
            f"/cases/{DATA.open_case_ids[self.turn * 97 % len(DATA.open_case_ids)]}",
            "case_page_team_lead",
        )
        self.turn += 1

    @task(2)
    def referrals(self):
        self.page("/referrals/", "referral_list")

    @task(1)
    def api_cases(self):
        self.page("/api/v1/cases", "api_cases_team_lead", api=True)

    @task(1)
    def start_page(self):
        self.page("/", "start_team_lead")


class Referrer(_Staff):
    weight = 1
    role = "referrer"

    @task
    def start_page(self):
        self.page("/", "start_referrer")

    @task
    def referrals(self):
        self.page("/referrals/", "referral_list_referrer")


class ConferenceMember(_Staff):
    weight = 1
    role = "conference_member"

    @task
    def start_page(self):
        self.page("/", "start_conference_member")

    @task
    def referrals(self):
        self.page("/referrals/", "referral_list_member")

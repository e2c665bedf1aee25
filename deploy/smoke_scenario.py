"""The production smoke scenario, run by deploy/prod-smoke against the running topology.

    python deploy/smoke_scenario.py fixtures            # in the app: units, programme, code lists
    python deploy/smoke_scenario.py run --base-url ... --metrics-url ... --worker-metrics-url ...
                                        --maildir ... --log-dir ...

`run` talks to gunicorn over HTTP only (the JSON API with bearer tokens; the users sign in with
password and a TOTP code), reads the mail the SMTP sink received, scrapes the metrics endpoints and
reads the processes' logs. It is a list of steps (STEPS), run in order; each step gets the shared
Context and raises StepFailed to stop the run. The flow: referral, conference and decision,
meetings missed three times, the escalation email and the decision to continue, the exit, the
return referral signed and emailed to the referrer as a packet, its PDF read and the packet
acknowledged; then the checks of metrics and logs.
"""

from __future__ import annotations

import argparse
import email
import json
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FORBUND = "Samordningsförbundet Röktest"
KOMMUN = "Röktest kommun, socialtjänsten"
AGENCIES = {  # the member agencies' units: agency kind -> unit name
    "kommun": KOMMUN,
    "af": "Arbetsförmedlingen Röktest",
    "fk": "Försäkringskassan Röktest",
    "region": "Vårdcentralen Röktest",
}
PROGRAMME = "Röktest insats"
PASSWORD = "rok-test-losenord-2026"


def _secret(n: int) -> str:
    """A fixed TOTP secret (base32, 160 bits) the harness enrols for user n."""
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[n:] + "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[:n]


# role key -> (email, name, "unit:role", TOTP secret); every role signs in with two factors.
USERS = {
    "referrer": ("remittent@smoke.example", "Rut Röktest", f"{KOMMUN}:referrer", _secret(0)),
    "lead": ("samordnare@smoke.example", "Sam Röktest", f"{FORBUND}:team_lead", _secret(1)),
    "coordinator": (
        "koordinator@smoke.example",
        "Kim Röktest",
        f"{FORBUND}:coordinator",
        _secret(2),
    ),
    **{
        f"member_{agency}": (
            f"ledamot.{agency}@smoke.example",
            f"Ledamot Röktest {agency}",
            f"{unit}:conference_member",
            _secret(3 + index),
        )
        for index, (agency, unit) in enumerate(AGENCIES.items())
    },
}
# The participant: distinctive values that must never appear in a log or an email.
FIRST_NAME = "Zyxomira"
LAST_NAME = "Quellbrandt"
PHONE = "070-987 65 43"


class StepFailed(Exception):
    """A step found the system not doing what it should."""


@dataclass
class Context:
    """What the steps share: addresses, tokens, ids, and the requests made per endpoint."""

    base_url: str
    metrics_url: str
    worker_metrics_urls: list[str]
    maildir: Path
    log_dir: Path
    user_ids: dict[str, int] = field(default_factory=dict)  # role key -> user id
    meetings: list = field(default_factory=list)  # (meeting id, starts_at)
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    requests: Counter = field(default_factory=Counter)  # (endpoint, status class) -> count
    personal_data: list[str] = field(default_factory=list)

    def call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        as_user: str | None = None,
        body: dict | None = None,
        expect: int = 200,
        raw: bool = False,
    ) -> dict | bytes:
        """One API request; fail unless the status is `expect`. Counted by endpoint.

        Returns the decoded JSON body, or with `raw` the body's bytes (a PDF, say).
        """
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if as_user:
            headers["Authorization"] = f"Bearer {self.tokens[as_user]}"
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload = response.status, response.read()
                kind = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
            kind = error.headers.get("Content-Type", "")
        self.requests[(endpoint, f"{status // 100}xx")] += 1
        if status != expect:
            raise StepFailed(f"{method} {path}: {status} (expected {expect}): {payload[:500]!r}")
        if raw:
            return payload
        return json.loads(payload) if payload and "json" in kind else {}


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.5):
    """Poll until the condition returns something truthy; fail after the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise StepFailed(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def get_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def metric_samples(text: str) -> list:
    """Every sample of a Prometheus text exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def value(samples: list, name: str, **labels) -> float:
    """The sum of the samples with this name whose labels include `labels`."""
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def identity_number(today: date) -> str:
    """A valid personnummer for someone who turned 30 ten days ago (serial 919)."""
    from workflows.personnummer import luhn_check_digit

    try:
        birth = today.replace(year=today.year - 30) - timedelta(days=10)
    except ValueError:  # 29 February
        birth = today.replace(year=today.year - 30, day=28) - timedelta(days=10)
    digits = birth.strftime("%y%m%d") + "919"
    return f"{birth:%Y%m%d}-919{luhn_check_digit(digits)}"


# The steps ---------------------------------------------------------------------------------------


def web_is_ready(ctx: Context) -> None:
    """Readiness (database and broker) and liveness answer; the app does not serve /metrics."""
    health = ctx.call("GET", "/healthz", endpoint="health.healthz")
    if health != {"status": "ok", "database": "ok", "broker": "ok"}:
        raise StepFailed(f"/healthz says {health}")
    ctx.call("GET", "/livez", endpoint="observability.livez")
    ctx.call("GET", "/metrics", endpoint="unmatched", expect=404)


def users_sign_in(ctx: Context) -> None:
    """Referrer, team lead and coordinator sign in with password and their TOTP code."""
    import pyotp

    for role in ("referrer", "lead", "coordinator"):
        address, _name, _unit, secret = USERS[role]
        answer = ctx.call(
            "POST",
            "/api/v1/auth/token",
            endpoint="api.token",
            body={"email": address, "password": PASSWORD, "otp": pyotp.TOTP(secret).now()},
        )
        ctx.tokens[role] = answer["token"]
    ctx.call(
        "POST",
        "/api/v1/auth/token",
        endpoint="api.token",
        body={"email": USERS["lead"][0], "password": PASSWORD, "otp": "000000"},
        expect=401,
    )


def referrer_submits_a_referral(ctx: Context) -> None:
    """The referrer creates a referral and submits it in one call."""
    programmes = ctx.call(
        "GET", "/api/v1/programmes", endpoint="api.programmes", as_user="referrer"
    )
    items = programmes["items"] if isinstance(programmes, dict) else programmes
    programme_id = next(p["id"] for p in items if p["name"] == PROGRAMME)
    ctx.ids["programme"] = programme_id
    today = date.today()
    number = identity_number(today)
    ctx.personal_data += [number, number.replace("-", ""), FIRST_NAME, LAST_NAME, PHONE]
    body = {
        "programme_id": programme_id,
        "submit": True,
        "identity_number": number,
        "first_name": FIRST_NAME,
        "last_name": LAST_NAME,
        "gender": "kvinna",
        "phone": PHONE,
        "email": None,
        "address": None,
        "preferred_channel": "sms",
        "interpreter_needed": False,
        "interpreter_language": None,
        "protected_identity": False,
        "home_municipality": "1281",  # Lund
        "reason": "psykiska_besvar",
        "agencies_needed": ["kommun", "af"],
        "support_current": ["forsorjningsstod"],
        "occupation": "arbetssokande_utan_sysselsattning",
        "education": "gymnasium",
        "time_on_support": "upp_till_2_ar",
        "children_in_household": False,
        "background": "Behöver samordnat stöd.",
        "question_to_conference": "Kan personen skrivas in i insatsen?",
        "consent_given_on": (today - timedelta(days=1)).isoformat(),
        "consent_form": "written",
        "consent_witness": None,
        "consent_valid_until": None,
        "consent_agencies": ["kommun", "af", "fk", "region"],
        "consent_info_kinds": ["health", "employment"],
    }
    created = ctx.call(
        "POST",
        "/api/v1/referrals",
        endpoint="api.create_referral",
        as_user="referrer",
        body=body,
        expect=201,
    )
    if created["state"] != "submitted":
        raise StepFailed(f"the referral is {created['state']}, not submitted")
    ctx.ids["referral"] = created["id"]


def team_lead_reads_the_referral(ctx: Context) -> None:
    """The team lead sees the submitted referral."""
    referral_id = ctx.ids["referral"]
    read = ctx.call(
        "GET",
        f"/api/v1/referrals/{referral_id}",
        endpoint="api.get_referral",
        as_user="lead",
    )
    if read["state"] != "submitted" or read["last_name"] != LAST_NAME:
        raise StepFailed(f"the team lead reads {read['state']} / {read['last_name']!r}")


def team_lead_is_emailed(ctx: Context) -> None:
    """The worker emails the team lead through SMTP: a link, no personal data."""
    _email_to(ctx, "lead", f"/referrals/{ctx.ids['referral']}")


def team_lead_has_an_inbox_item(ctx: Context) -> None:
    """The same notification is in the team lead's inbox."""
    inbox = ctx.call("GET", "/api/v1/inbox", endpoint="notifications_api.api_inbox", as_user="lead")
    links = [item.get("link") for item in inbox["items"]]
    if f"/referrals/{ctx.ids['referral']}" not in links:
        raise StepFailed(f"the inbox has no item for the referral: {links}")


def _email_to(ctx: Context, role: str, link: str, timeout: float = 90):
    """Wait for an email to the user of `role` that links to `link`; it has no personal data."""
    address = USERS[role][0]

    def arrived():
        for path in sorted((ctx.maildir / "new").glob("*")):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if address not in str(message.get("To", "")):
                continue
            text = "\n".join(
                part.get_content()
                for part in message.walk()
                if part.get_content_maintype() == "text"
            )
            if link in text:
                return message, text
        return None

    message, text = wait_for(arrived, timeout, f"an email to {address} linking to {link}")
    leaked = [item for item in ctx.personal_data if item in message.as_string() + text]
    if leaked:
        raise StepFailed(f"the email to {address} carries personal data: {leaked}")
    ctx.ids["emails"] = ctx.ids.get("emails", 0) + 1
    return message


def team_lead_schedules_a_conference(ctx: Context) -> None:
    """The team lead schedules a conference with one member per agency and chairs it."""
    from zoneinfo import ZoneInfo

    from workflows.calendar import WorkingCalendar

    held_on = WorkingCalendar().add_working_days(date.today(), 10)
    starts_at = datetime.combine(held_on, dt_time(9, 0), tzinfo=ZoneInfo("Europe/Stockholm"))
    members = [ctx.user_ids[f"member_{agency}"] for agency in AGENCIES]
    conference = ctx.call(
        "POST",
        "/api/v1/conferences",
        endpoint="api.create_conference",
        as_user="lead",
        body={
            "programme_id": ctx.ids["programme"],
            "starts_at": starts_at.isoformat(),
            "place": "Kommunhuset, sal Röd",
            "member_ids": members,
            "chair_id": ctx.user_ids["lead"],
        },
        expect=201,
    )
    seated = sorted(m["user_id"] for m in conference["members"])
    if seated != sorted([*members, ctx.user_ids["lead"]]):
        raise StepFailed(f"the conference seats {seated}")
    ctx.ids["conference"] = conference["id"]


def team_lead_publishes_the_agenda(ctx: Context) -> None:
    """The referral goes on the agenda, the agenda is published, every member is present."""
    conference_id = ctx.ids["conference"]
    ctx.call(
        "POST",
        f"/api/v1/conferences/{conference_id}/agenda",
        endpoint="api.add_to_conference_agenda",
        as_user="lead",
        body={"referral_id": ctx.ids["referral"]},
        expect=201,
    )
    published = ctx.call(
        "POST",
        f"/api/v1/conferences/{conference_id}/publish",
        endpoint="api.publish_conference_agenda",
        as_user="lead",
    )
    if published["state"] != "published":
        raise StepFailed(f"the conference is {published['state']}")
    present = [m["user_id"] for m in published["members"]]
    ctx.call(
        "PUT",
        f"/api/v1/conferences/{conference_id}/attendance",
        endpoint="api.record_conference_attendance",
        as_user="lead",
        body={"present_user_ids": present},
    )


def members_are_emailed_the_agenda(ctx: Context) -> None:
    """Each member's email about the published agenda arrives."""
    for agency in AGENCIES:
        _email_to(ctx, f"member_{agency}", f"/conferences/{ctx.ids['conference']}")


def the_meeting_day_comes(ctx: Context) -> None:
    """The conference's meeting starts: a decision waits for it, and a scenario over HTTP cannot
    wait ten working days, so its start is moved to a minute ago in the database."""
    import os

    from sqlalchemy import create_engine, text

    # As the tables' owner: the application's role sees a förbund's rows only within it.
    engine = create_engine(
        os.environ.get("COORD_MIGRATION_DATABASE_URL") or os.environ["COORD_DATABASE_URL"]
    )
    try:
        with engine.begin() as conn:
            moved = conn.execute(
                text(
                    "UPDATE conference SET starts_at = now() - interval '1 minute' WHERE id = :id"
                ),
                {"id": ctx.ids["conference"]},
            ).rowcount
    finally:
        engine.dispose()
    if moved != 1:
        raise StepFailed(f"the conference {ctx.ids['conference']} was not found")


def conference_admits_the_referral(ctx: Context) -> None:
    """The chair records the decision to admit, with every agency's position: a case opens."""
    decision = ctx.call(
        "POST",
        f"/api/v1/referrals/{ctx.ids['referral']}/decision",
        endpoint="api.decide_referral",
        as_user="lead",
        body={
            "conference_id": ctx.ids["conference"],
            "outcome": "admit",
            "recommendation": "Samordnade insatser från kommunen och Arbetsförmedlingen.",
            "positions": [{"agency": a, "position": "Tillstyrker."} for a in AGENCIES],
            "coordinator_id": ctx.user_ids["coordinator"],
            "complexity_weight": 2,
        },
        expect=201,
    )
    if decision["outcome"] != "admit" or not decision.get("case_id"):
        raise StepFailed(f"the decision is {decision}")
    ctx.ids["case"] = decision["case_id"]


def referrer_and_coordinator_are_emailed(ctx: Context) -> None:
    """The referrer hears of the decision, the coordinator of the new case."""
    _email_to(ctx, "referrer", f"/conferences/referrals/{ctx.ids['referral']}/decision")
    _email_to(ctx, "coordinator", f"/cases/{ctx.ids['case']}")


def coordinator_books_three_meetings(ctx: Context) -> None:
    """The coordinator books three coaching meetings that start within half a minute."""
    from datetime import UTC

    soon = datetime.now(UTC) + timedelta(seconds=20)
    ctx.meetings = []
    for number in range(3):
        starts_at = soon + timedelta(seconds=5 * number)
        meeting = ctx.call(
            "POST",
            f"/api/v1/cases/{ctx.ids['case']}/meetings",
            endpoint="api.book_case_meeting",
            as_user="coordinator",
            body={
                "kind": "coaching",
                "starts_at": starts_at.isoformat(),
                "ends_at": (starts_at + timedelta(minutes=45)).isoformat(),
                "location": "Samordningsförbundets lokaler",
                "attendee_ids": [],
            },
            expect=201,
        )
        ctx.meetings.append((meeting["id"], starts_at))


def participant_misses_three_meetings(ctx: Context) -> None:
    """Once they have begun, the three meetings are recorded as missed: the ladder escalates."""
    from datetime import UTC

    wait = (ctx.meetings[-1][1] - datetime.now(UTC)).total_seconds() + 1
    if wait > 0:
        time.sleep(wait)
    counts = []
    for meeting_id, _starts_at in ctx.meetings:
        answer = ctx.call(
            "POST",
            f"/api/v1/meetings/{meeting_id}/attendance",
            endpoint="api.record_meeting_attendance",
            as_user="coordinator",
            body={"status": "missed"},
        )
        counts.append(answer["items"][0]["missed_count"])
    if counts != [1, 2, 3]:
        raise StepFailed(f"the missed-meeting count went {counts}")


def team_lead_is_emailed_the_escalation(ctx: Context) -> None:
    """The escalation after the third miss reaches the team lead by email (SMTP)."""
    _email_to(ctx, "lead", "/meetings/escalations/")


def referrer_decides_to_continue(ctx: Context) -> None:
    """The referrer decides the escalation: continue with a revised plan; the count resets."""
    decided = ctx.call(
        "POST",
        f"/api/v1/cases/{ctx.ids['case']}/escalation/decision",
        endpoint="api.decide_case_escalation",
        as_user="referrer",
        body={"decision": "continue", "comment": "Vi fortsätter med en reviderad plan."},
    )
    if decided.get("decision") != "continue" or decided.get("status") == "open":
        raise StepFailed(f"the escalation after the decision: {decided}")


def coordinator_registers_the_exit(ctx: Context) -> None:
    """The coordinator registers the exit: the case is exiting and a return referral drafted."""
    exited = ctx.call(
        "POST",
        f"/api/v1/cases/{ctx.ids['case']}/exit",
        endpoint="api.exit_case",
        as_user="coordinator",
        body={
            "exit_reason": "studier",
            "support_at_exit": ["studiestod"],
            "occupation_at_exit": "studier",
            "work_at_exit": "ej_subventionerat",
            "exited_on": None,
        },
        expect=201,
    )
    if exited["case_state"] != "exiting" or not exited.get("return_referral_id"):
        raise StepFailed(f"after the exit: {exited}")
    if sorted(f["occasion"] for f in exited["follow_ups"]) != ["follow_up_12", "follow_up_6"]:
        raise StepFailed(f"the follow-ups: {exited['follow_ups']}")
    ctx.ids["return_referral"] = exited["return_referral_id"]


def coordinator_signs_the_return_referral(ctx: Context) -> None:
    """The coordinator completes the return referral and signs it: it goes to the referrer."""
    path = f"/api/v1/return-referrals/{ctx.ids['return_referral']}"
    ctx.call(
        "PUT",
        path,
        endpoint="api.update_return_referral",
        as_user="coordinator",
        body={
            "purpose": "Stöd mot studier.",
            "actions_taken": "Coachningssamtal och studiebesök.",
            "results": "Antagen till Komvux med studiestöd.",
            "health_care_needs": "Inga nya behov.",
            "health_how_met": "Vårdcentralen följer upp.",
            "participant_comments": "Nöjd med stödet.",
            "recommendations": [
                {"agency": "af", "text": "Följ upp efter första terminen."},
            ],
        },
    )
    signed = ctx.call(
        "POST",
        f"{path}/finalise",
        endpoint="api.finalise_return_referral",
        as_user="coordinator",
    )
    packet = signed.get("packet") or {}
    if not signed.get("signed_at") or not packet.get("id"):
        raise StepFailed(f"the signed return referral: {signed.get('state')}, packet {packet}")
    if packet.get("recipient_id") != ctx.user_ids["referrer"]:
        raise StepFailed(f"the packet went to user {packet.get('recipient_id')}")
    ctx.ids["packet"] = packet["id"]


def referrer_is_emailed_the_packet(ctx: Context) -> None:
    """The referrer is emailed that the return referral has come: a link, no personal data."""
    _email_to(ctx, "referrer", f"/packets/{ctx.ids['packet']}")


def referrer_reads_and_acknowledges_the_packet(ctx: Context) -> None:
    """The referrer opens the packet's PDF and acknowledges the packet; its reminders stop."""
    pdf = ctx.call(
        "GET",
        f"/api/v1/packets/{ctx.ids['packet']}.pdf",
        endpoint="api.packet_pdf",
        as_user="referrer",
        raw=True,
    )
    if not pdf.startswith(b"%PDF-"):
        raise StepFailed(f"the packet's PDF starts with {pdf[:20]!r}")
    acknowledged = ctx.call(
        "POST",
        f"/api/v1/return-referrals/{ctx.ids['return_referral']}/acknowledge",
        endpoint="api.acknowledge_return_referral",
        as_user="referrer",
    )
    if acknowledged.get("acknowledged_by_id") != ctx.user_ids["referrer"]:
        raise StepFailed(f"the packet after the acknowledgement: {acknowledged}")
    statuses = {r.get("status") for r in acknowledged.get("reminders", [])}
    if statuses != {"cancelled"}:
        raise StepFailed(f"the packet's reminders after the acknowledgement: {statuses}")


def metrics_show_the_scenario(ctx: Context) -> None:
    """The metrics count exactly the scenario's requests, its email and the workers' beats.

    Web: requests and latency by endpoint (no URL in a label), the state gauges, notifications
    sent and none failed, a fresh heartbeat per worker. Workers: the delivery task counted.
    """
    samples = metric_samples(get_text(ctx.metrics_url))
    wrong = []
    for (endpoint, status_class), count in sorted(ctx.requests.items()):
        seen = value(
            samples, "coord_http_requests_total", endpoint=endpoint, status_class=status_class
        )
        timed = value(samples, "coord_http_request_duration_seconds_count", endpoint=endpoint)
        polled = endpoint == "health.healthz"  # the harness polled it before the scenario
        if seen < count or (seen != count and not polled):
            wrong.append(f"{endpoint} {status_class}: metrics {seen:.0f}, made {count}")
        if timed < count:
            wrong.append(f"{endpoint}: latency observed {timed:.0f} times, made {count}")
    labels = {v for s in samples for v in s.labels.values()}
    if any("/" in v and v.startswith("/") for v in labels):
        wrong.append("a URL appears as a label")
    if value(samples, "coord_metrics_source_up", source="database") != 1:
        wrong.append("the database source is down")
    if value(samples, "coord_metrics_source_up", source="broker") != 1:
        wrong.append("the broker source is down")
    if value(samples, "coord_notifications", status="sent") < ctx.ids["emails"]:
        wrong.append(f"fewer sent notifications counted than the {ctx.ids['emails']} emails")
    if value(samples, "coord_reminders_pending") < len(AGENCIES):
        wrong.append("the members' reminders to prepare are not counted as pending")
    if value(samples, "coord_notifications", status="failed") != 0:
        wrong.append("a notification failed")
    for name in ("coord_reminders_due", "coord_reminders_overdue", "coord_celery_queue_length"):
        if not any(s.name == name for s in samples):
            wrong.append(f"{name} is missing")
    ages = [s for s in samples if s.name == "coord_worker_heartbeat_age_seconds"]
    if len(ages) != len(ctx.worker_metrics_urls) or any(s.value > 30 for s in ages):
        wrong.append(f"worker heartbeats: {[(s.labels, round(s.value)) for s in ages]}")
    delivered = 0.0
    for url in ctx.worker_metrics_urls:
        worker = metric_samples(get_text(url))
        delivered += value(
            worker,
            "coord_celery_tasks_total",
            task="notifications.deliver_notification",
            outcome="success",
        )
        if not any(s.name == "coord_worker_heartbeat_age_seconds" for s in worker):
            wrong.append(f"{url} has no heartbeat age")
    if delivered < ctx.ids["emails"]:
        wrong.append(f"the workers report {delivered:.0f} deliveries, {ctx.ids['emails']} emails")
    if wrong:
        raise StepFailed("; ".join(wrong))
    print(
        "    metrics: "
        + ", ".join(f"{e} {c}={n}" for (e, c), n in sorted(ctx.requests.items()))
        + f"; deliveries by the workers={delivered:.0f}"
    )


def logs_are_json_without_personal_data(ctx: Context) -> None:
    """Every log line of web, workers and beat is JSON; none has the participant's data."""
    leaked = []
    for path in sorted(ctx.log_dir.glob("*.log")):
        text = path.read_text(encoding="utf-8", errors="replace")
        leaked += [f"{path.name}: {item!r}" for item in ctx.personal_data if item in text]
    if leaked:
        raise StepFailed(f"personal data in the logs: {leaked}")
    web = (ctx.log_dir / "web.log").read_text(encoding="utf-8").splitlines()
    entries = []
    for line in web:
        if line.strip():
            try:
                entries.append(json.loads(line))
            except ValueError as exc:
                raise StepFailed(f"a web log line is not JSON: {line[:200]!r}") from exc
    created = [
        e
        for e in entries
        if e.get("logger") == "coordination.request" and e.get("endpoint") == "api.create_referral"
    ]
    needed = {"time", "level", "logger", "message", "request_id", "endpoint", "status"}
    if not created or not needed <= set(created[0]) or "duration_ms" not in created[0]:
        raise StepFailed(f"no structured request line for the referral: {created[:1]}")
    for name in ("worker1.log", "worker2.log", "beat.log"):
        for line in (ctx.log_dir / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                try:
                    json.loads(line)
                except ValueError as exc:
                    raise StepFailed(f"a line of {name} is not JSON: {line[:200]!r}") from exc
    access = [e for e in entries if e.get("logger") == "gunicorn.access"]
    if not access or any("?" in e.get("message", "") for e in access):
        raise StepFailed("the access log is missing or has a query string")


STEPS: list[Callable[[Context], None]] = [
    web_is_ready,
    users_sign_in,
    referrer_submits_a_referral,
    team_lead_reads_the_referral,
    team_lead_is_emailed,
    team_lead_has_an_inbox_item,
    team_lead_schedules_a_conference,
    team_lead_publishes_the_agenda,
    members_are_emailed_the_agenda,
    the_meeting_day_comes,
    conference_admits_the_referral,
    referrer_and_coordinator_are_emailed,
    coordinator_books_three_meetings,
    participant_misses_three_meetings,
    team_lead_is_emailed_the_escalation,
    referrer_decides_to_continue,
    coordinator_registers_the_exit,
    coordinator_signs_the_return_referral,
    referrer_is_emailed_the_packet,
    referrer_reads_and_acknowledges_the_packet,
    metrics_show_the_scenario,
    logs_are_json_without_personal_data,
]


def run(ctx: Context) -> int:
    started = time.monotonic()
    for number, step in enumerate(STEPS, 1):
        title = (step.__doc__ or step.__name__).strip().splitlines()[0]
        t0 = time.monotonic()
        try:
            step(ctx)
        except StepFailed as exc:
            print(f"FAIL {number}/{len(STEPS)} {step.__name__}: {exc}")
            return 1
        print(f"ok   {number}/{len(STEPS)} {title} ({time.monotonic() - t0:.1f}s)")
    print(f"scenario passed: {len(STEPS)} steps in {time.monotonic() - started:.1f}s")
    return 0


def fixtures() -> None:
    """The organisation and programme the smoke users work in (there is no API for these)."""
    from coordination.app import create_app
    from coordination.codes.operations import ensure_default_codes
    from coordination.extensions import db
    from coordination.organisations.models import OrganisationUnit
    from coordination.programmes.models import Programme
    from coordination.tenancy.context import use

    app = create_app()
    with app.app_context(), use(1):  # the installation's first förbund (made by the migration)
        ensure_default_codes()
        db.session.add_all(
            [
                OrganisationUnit(name=FORBUND, agency_kind="forbund"),
                *(
                    OrganisationUnit(
                        name=unit,
                        agency_kind=agency,
                        municipality="Dalby" if agency == "kommun" else None,
                    )
                    for agency, unit in AGENCIES.items()
                ),
                Programme(name=PROGRAMME, description="Röktestets insats."),
            ]
        )
        db.session.commit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fixtures")
    sub.add_parser("users", help="print email, name, role and TOTP secret of each smoke user")
    go = sub.add_parser("run")
    go.add_argument("--base-url", required=True)
    go.add_argument("--metrics-url", required=True)
    go.add_argument("--worker-metrics-url", action="append", default=[])
    go.add_argument("--maildir", required=True, type=Path)
    go.add_argument("--log-dir", required=True, type=Path)
    go.add_argument("--user-ids", required=True, type=Path, help="lines: role key, user id")
    args = parser.parse_args(argv)
    if args.command == "fixtures":
        fixtures()
        return 0
    if args.command == "users":
        for key, (address, name, role, secret) in USERS.items():
            print(f"{key}\t{address}\t{name}\t{role}\t{secret}")
        return 0
    context = Context(
        base_url=args.base_url.rstrip("/"),
        metrics_url=args.metrics_url,
        worker_metrics_urls=args.worker_metrics_url,
        maildir=args.maildir,
        log_dir=args.log_dir,
        user_ids={
            key: int(user_id)
            for key, user_id in (
                line.split("\t") for line in args.user_ids.read_text().splitlines() if line
            )
        },
    )
    return run(context)


if __name__ == "__main__":
    sys.exit(main())

"""A data set of N participants, written with SQL into a migrated database.

Python writes the rows that need per-row decisions (users, persons with valid personnummer,
referrals, decisions, cases, assignments) with COPY; PostgreSQL derives the large tables from them
with INSERT … SELECT (histories, plans, ~10 meetings per participant, attendance, notifications,
SUS records); the access log is written with COPY, its hash chain computed as the app does.

The shape at 200,000 participants: 1,000 coordinators with 15–40 open cases each (27,500 open
cases), 20 team leads, 2,000 referrers, 8 conference members, 85 % of the participants with a case
(the rest: open, withdrawn or recommend-only referrals), 2 M meetings, 1 M access-log rows.
Every id is offset past the rows already in the tables, so the generator also writes into the test
database (inside the test's transaction), and a second data set into another förbund.

Every row belongs to one förbund (DOMAIN.md §14): the tables' `forbund_id` defaults to
`current_forbund_id()`, which reads the setting `app.forbund_id`; `build` sets it for its
transaction. It writes as the tables' owner: COPY is refused where row-level security applies, and
the ids it offsets from are every förbund's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from cryptography.fernet import Fernet

from coordination.auth.encryption import derived_key
from coordination.web_bench import activity
from coordination.web_bench.activity import SPAN_DAYS, copy_rows
from workflows.personnummer import luhn_check_digit

PASSWORD = "bench-losenord-2026"
# The tables written here with COPY and explicit ids (their sequences are moved on afterwards).
COPIED_TABLES = [
    "organisation_unit",
    "user_account",
    "membership",
    "programme",
    "person",
    "referral",
    "conference",
    "decision",
    "case_record",
    "coordinator_assignment",
    "consent",
]
GENERATOR_VERSION = "4"
MUNICIPALITIES = ("Borås", "Bollebygd", "Herrljunga", "Mark", "Svenljunga", "Tranemo")
AGENCIES = ("kommun", "af", "fk", "region")
FIRST = ("Anna", "Erik", "Maria", "Karl", "Sara", "Lars", "Emma", "Johan", "Lina", "Omar", "Aida")
LAST = ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Ali")


def totp_secret(user_id: int) -> str:
    """Return the bench user's TOTP secret (base32), the same for every build."""
    return base64.b32encode(hashlib.sha1(f"bench-{user_id}".encode()).digest()).decode()


@dataclass
class BenchUser:
    """A user the bench signs in as."""

    id: int
    email: str
    role: str
    unit_id: int


@dataclass
class Dataset:
    """What the build made: the users by role and a few ids the measurements need."""

    participants: int
    users: dict[str, list[BenchUser]] = field(default_factory=dict)
    loads: dict[int, list[int]] = field(default_factory=dict)  # coordinator id -> open case ids
    referral_ids: list[int] = field(default_factory=list)
    open_case_ids: list[int] = field(default_factory=list)

    def coordinator_with(self, cases: int) -> BenchUser:
        """Return the coordinator whose open caseload is nearest `cases`."""
        return min(self.users["coordinator"], key=lambda u: abs(len(self.loads[u.id]) - cases))


def _next_ids(cur, tables: list[str]) -> dict[str, int]:
    """Return, per table, the offset past its largest id."""
    found = {}
    for table in tables:
        cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        found[table] = cur.fetchone()[0]
    return found


def _identity(p: int) -> tuple[str, date]:
    birth = date(1962, 1, 1) + timedelta(days=p % 15000)
    serial = (p // 15000) % 1000
    digits = birth.strftime("%y%m%d") + f"{serial:03d}"
    return f"{birth:%Y%m%d}{serial:03d}{luhn_check_digit(digits)}", birth


def _loads(coordinators: int, case_people: int) -> list[int]:
    """Return each coordinator's number of open cases: 15–40, scaled down for tiny sets."""
    loads = [15 + (c * 7) % 26 for c in range(coordinators)]
    cap = int(case_people * 0.6)
    if sum(loads) > cap:
        total = sum(loads)
        loads = [max(1, load * cap // total) for load in loads]
    return loads


FORBUND_SETTING = "app.forbund_id"  # coordination.tenancy.context.SETTING, read by the defaults


def build(
    conn, participants: int, *, secret_key: str, password_hash: str, forbund_id: int = 1
) -> Dataset:
    """Write a data set of `participants` people into förbund `forbund_id`; the caller commits.

    The förbund must exist (förbund 1 is made by the migration). The setting `app.forbund_id` is
    the förbund's while the rows are written, and what it was before afterwards.
    """
    cur = conn.cursor()
    cur.execute("SELECT current_setting(%s, true)", (FORBUND_SETTING,))
    before = cur.fetchone()[0] or ""
    cur.execute("SELECT set_config(%s, %s, true)", (FORBUND_SETTING, str(forbund_id)))
    built = _build(
        cur,
        participants,
        secret_key=secret_key,
        password_hash=password_hash,
        forbund_id=forbund_id,
    )
    cur.execute("SELECT set_config(%s, %s, true)", (FORBUND_SETTING, before))
    return built


def _build(
    cur, participants: int, *, secret_key: str, password_hash: str, forbund_id: int
) -> Dataset:
    n = participants
    rng = random.Random(17)
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    fernet = Fernet(derived_key(secret_key).encode())
    off = _next_ids(cur, COPIED_TABLES)
    data = Dataset(participants=n)

    # --- units, users, memberships, programmes --------------------------------------------
    u0 = off["organisation_unit"]
    forbund = u0 + 1
    units = [(forbund, f"Bench förbund {u0}", "forbund", None)]
    for i, (municipality, agency) in enumerate((m, a) for m in MUNICIPALITIES for a in AGENCIES):
        units.append((u0 + 2 + i, f"Bench {agency} {municipality} {u0}", agency, municipality))
    copy_rows(
        cur,
        "organisation_unit",
        "id, name, agency_kind, municipality, active",
        [(*u, True) for u in units],
    )
    agency_unit = {a: u0 + 2 + i for i, a in enumerate(AGENCIES)}

    coordinators = max(2, n // 200)
    counts = {
        "team_lead": max(2, coordinators // 50),
        "analyst": 1,
        "coordinator": coordinators,
        "referrer": max(2, n // 100),
        "conference_member": len(AGENCIES) * 2,
    }
    next_user = off["user_account"]
    users = []
    for role, count in counts.items():
        data.users[role] = []
        for k in range(1, count + 1):
            next_user += 1
            if role == "referrer":
                unit = u0 + 2 + k % (len(units) - 1)
            elif role == "conference_member":
                unit = agency_unit[AGENCIES[k % len(AGENCIES)]]
            else:
                unit = forbund
            user = BenchUser(next_user, f"{role}{k}.{next_user}@bench.example", role, unit)
            data.users[role].append(user)
            users.append(user)
    created = now - timedelta(days=SPAN_DAYS + 30)
    copy_rows(
        cur,
        "user_account",
        "id, email, name, password_hash, locale, active, session_version, created_at, "
        "totp_secret, totp_enrolled_at, totp_last_step, totp_failures",
        (
            (
                u.id,
                u.email,
                f"{u.role.replace('_', ' ').title()} {u.id}",
                password_hash,
                "sv",
                True,
                1,
                created,
                fernet.encrypt(totp_secret(u.id).encode()).decode(),
                created,
                0,
                0,
            )
            for u in users
        ),
    )
    copy_rows(
        cur, "membership", "user_id, unit_id, role", ((u.id, u.unit_id, u.role) for u in users)
    )
    p0 = off["programme"]
    programmes = [p0 + 1, p0 + 2, p0 + 3]
    copy_rows(
        cur,
        "programme",
        "id, name, description, active, min_age, max_age, min_agencies, capacity, "
        "duration_warning_percent, conference_weekday, conference_interval_weeks, "
        "agenda_cutoff_working_days, prepare_reminder_working_days, quorum_all_named_agencies, "
        "priority_rule, missed_threshold, counting_mode, group_sessions_count, "
        "escalation_decision_working_days, plan_review_months, completion_deadline_working_days, "
        "complexity_default, max_duration_days, priority_age_low, priority_age_high",
        (
            (
                pid,
                f"Bench insats {pid}",
                "",
                True,
                16,
                64,
                2,
                n,
                80,
                1,
                1,
                3,
                2,
                True,
                "age_25_45_children_first",
                3,
                "since_reset",
                False,
                5,
                3,
                10,
                1,
                730,
                25,
                45,
            )
            for pid in programmes
        ),
    )
    copy_rows(
        cur,
        "coordinator_profile",
        "user_id, team_unit_id, capacity, updated_at",
        ((u.id, forbund, 45, now) for u in data.users["coordinator"]),
    )

    # --- conferences: one a week per programme over the span, and one ahead -------------------
    c0 = off["conference"]
    weeks = SPAN_DAYS // 7 + 6
    team_lead = data.users["team_lead"][0].id

    def conference_id(programme_index: int, week: int) -> int:
        return c0 + programme_index * weeks + week + 1

    conferences = []
    for pi, pid in enumerate(programmes):
        for week in range(weeks):
            held = today - timedelta(days=7 * (week + 1))
            conferences.append((conference_id(pi, week), pid, "closed", held))
        conferences.append((c0 + 3 * weeks + pi + 1, pid, "published", today + timedelta(days=7)))
    copy_rows(
        cur,
        "conference",
        "id, programme_id, state, origin, held_on, starts_at, place, agenda_cutoff_at, "
        "prepare_due_at, cutoff_done_at, published_at, published_by_id, closed_at, "
        "created_by_id, created_at, version",
        (
            (
                cid,
                pid,
                state,
                "cadence",
                held,
                datetime.combine(held, time(9), UTC),
                "Förbundets kontor",
                datetime.combine(held - timedelta(days=5), time(12), UTC),
                datetime.combine(held - timedelta(days=2), time(12), UTC),
                datetime.combine(held - timedelta(days=5), time(12), UTC),
                datetime.combine(held - timedelta(days=4), time(12), UTC),
                team_lead,
                datetime.combine(held, time(12), UTC) if state == "closed" else None,
                team_lead,
                datetime.combine(held - timedelta(days=30), time(8), UTC),
                1,
            )
            for cid, pid, state, held in conferences
        ),
    )
    # Two sets of members, one per agency kind each, on alternate conferences; the chair.
    members = data.users["conference_member"]
    member_rows = []
    for cid, _pid, state, _held in conferences:
        present = True if state == "closed" else None
        chosen = members[:4] if cid % 2 == 0 else members[4:8]
        for member in chosen:
            k = members.index(member) + 1
            member_rows.append((cid, member.id, AGENCIES[k % 4], "member", present))
        member_rows.append((cid, team_lead, "forbund", "chair", present))
    copy_rows(
        cur, "conference_member", "conference_id, user_id, agency, role, present", member_rows
    )

    # --- persons, referrals, consents, decisions, cases, assignments --------------------------
    pe0, r0, d0, k0 = off["person"], off["referral"], off["decision"], off["case_record"]
    case_people = [p for p in range(1, n + 1) if p % 20 >= 3]
    loads = _loads(coordinators, len(case_people))
    pool = [
        u.id for u, load in zip(data.users["coordinator"], loads, strict=True) for _ in range(load)
    ]
    rng.shuffle(pool)
    open_people = set(case_people[-len(pool) :])
    open_rank = {p: j for j, p in enumerate(sorted(open_people))}
    data.loads = {u.id: [] for u in data.users["coordinator"]}
    referrers = data.users["referrer"]
    coordinator_ids = [u.id for u in data.users["coordinator"]]

    persons, referrals, consents, decisions, cases, assignments, bench_cases = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    assignment_id = off["coordinator_assignment"]
    for p in range(1, n + 1):
        kind = p % 20
        pid = programmes[p % 3]
        pi = p % 3
        number, birth = _identity(p)
        first, last = FIRST[p % len(FIRST)], LAST[(p // 7) % len(LAST)]
        gender = ("kvinna", "man", "annat")[p % 3 if p % 17 == 0 else p % 2]
        protected = p % 97 == 0
        person_id = pe0 + p
        referrer = referrers[p % len(referrers)]
        days_ago = 20 + (n - p) * SPAN_DAYS // n
        if kind == 0:
            days_ago = 5 + p % 40
        referred_on = today - timedelta(days=days_ago)
        referred_at = datetime.combine(referred_on, time(10), UTC)
        decided_week = max(0, (days_ago - 14) // 7)
        decided_on = today - timedelta(days=7 * (decided_week + 1))
        decided_at = datetime.combine(decided_on, time(11), UTC)
        state = {0: ("submitted", "on_agenda", "completion_requested")[p % 3], 1: "withdrawn"}.get(
            kind, "decided"
        )
        decision_id = d0 + p if state == "decided" else None
        persons.append(
            (
                person_id,
                number,
                False,
                birth,
                first,
                last,
                gender,
                f"070-{p:07d}",
                None,
                None,
                "sms",
                False,
                None,
                protected,
                referred_at,
            )
        )
        updated = decided_at if state == "decided" else referred_at + timedelta(days=1)
        referrals.append(
            (
                r0 + p,
                pid,
                state,
                1,
                referrer.id,
                referrer.unit_id,
                person_id,
                f"{number[:8]}-{number[8:]}",
                first,
                last,
                gender,
                f"070-{p:07d}",
                "sms",
                False,
                protected,
                MUNICIPALITIES[p % 6],
                "psykiska_besvar",
                '["kommun", "af"]',
                '["forsorjningsstod"]',
                "arbetssokande_utan_sysselsattning",
                "gymnasium",
                "upp_till_2_ar",
                False,
                "Behöver samordnat stöd.",
                "Kan personen skrivas in?",
                referred_on - timedelta(days=1),
                "written",
                '["kommun", "af", "fk", "region"]',
                '["health", "employment"]',
                referred_at,
                updated,
                referred_at,
                referred_on,
                decision_id,
                "Personen har fått arbete." if state == "withdrawn" else None,
                "Beskriv nuvarande stöd." if state == "completion_requested" else None,
                now + timedelta(days=7) if state == "completion_requested" else None,
            )
        )
        consents.append(
            (
                pe0 + p,
                person_id,
                r0 + p,
                '["kommun", "af", "fk", "region"]',
                '["health", "employment"]',
                referred_on - timedelta(days=1),
                "written",
                referrer.id,
                referred_at,
            )
        )
        if state != "decided":
            if state in ("submitted", "on_agenda", "completion_requested"):
                data.referral_ids.append(r0 + p)
            continue
        conference = conference_id(pi, decided_week)
        if kind == 2:
            decisions.append(
                (
                    decision_id,
                    conference,
                    "recommend",
                    "Gemensam rekommendation: stöd via AF.",
                    '["af", "kommun"]',
                    None,
                    None,
                    team_lead,
                    decided_at,
                )
            )
            continue
        case_id = k0 + p
        is_open = p in open_people
        enrolled_on = decided_on
        if is_open:
            j = open_rank[p]
            coordinator = pool[j]
            data.loads[coordinator].append(case_id)
            data.open_case_ids.append(case_id)
            case_state = (
                "enrolled",
                "paused",
                "exiting",
                "active",
                "active",
                "active",
                "active",
                "active",
                "active",
                "active",
            )[j % 10]
            exited_on = None
        else:
            j = -1
            coordinator = coordinator_ids[p % len(coordinator_ids)]
            case_state = "closed"
            exited_on = min(enrolled_on + timedelta(days=200 + p % 300), today - timedelta(days=1))
        first_coordinator = coordinator
        if is_open and j % 10 == 5:
            first_coordinator = coordinator_ids[(p + 1) % len(coordinator_ids)]
        decisions.append(
            (
                decision_id,
                conference,
                "admit",
                "Skrivs in i insatsen.",
                '["kommun", "af"]',
                first_coordinator,
                1,
                team_lead,
                decided_at,
            )
        )
        paused = case_state == "paused"
        cases.append(
            (
                case_id,
                person_id,
                pid,
                r0 + p,
                case_state,
                "active" if paused else None,
                "illness" if paused else None,
                today + timedelta(days=30) if paused else None,
                1,
                enrolled_on,
                decided_at,
                1,
            )
        )
        enrolled_at = datetime.combine(enrolled_on, time(11), UTC)
        if first_coordinator != coordinator:
            assignment_id += 1
            changed = enrolled_at + timedelta(days=20)
            assignments.append(
                (
                    assignment_id,
                    case_id,
                    first_coordinator,
                    False,
                    enrolled_at,
                    changed,
                    None,
                    team_lead,
                    False,
                )
            )
            enrolled_at = changed
        assignment_id += 1
        ended = datetime.combine(exited_on, time(15), UTC) if exited_on else None
        assignments.append(
            (
                assignment_id,
                case_id,
                coordinator,
                ended is None,
                enrolled_at,
                ended,
                "Byte av koordinator" if first_coordinator != coordinator else None,
                team_lead,
                False,
            )
        )
        bench_cases.append(
            (
                case_id,
                person_id,
                pid,
                coordinator,
                referrer.id,
                is_open,
                j,
                enrolled_on,
                exited_on,
                birth.year,
                gender,
                MUNICIPALITIES[p % 6],
            )
        )

    copy_rows(
        cur,
        "person",
        "id, identity_number, coordination_number, birth_date, first_name, last_name, gender, "
        "phone, email, address, preferred_channel, interpreter_needed, interpreter_language, "
        "protected_identity, created_at",
        persons,
    )
    copy_rows(
        cur,
        "decision",
        "id, conference_id, outcome, recommendation, agencies, coordinator_id, "
        "complexity_weight, decided_by_id, decided_at",
        decisions,
    )
    copy_rows(
        cur,
        "referral",
        "id, programme_id, state, version, referrer_id, referring_unit_id, person_id, "
        "identity_number, first_name, last_name, gender, phone, preferred_channel, "
        "interpreter_needed, protected_identity, home_municipality, reason, agencies_needed, "
        "support_current, occupation, education, time_on_support, children_in_household, "
        "background, question_to_conference, consent_given_on, consent_form, consent_agencies, "
        "consent_info_kinds, created_at, updated_at, submitted_at, referral_date, decision_id, "
        "withdrawn_reason, completion_note, completion_due_at",
        referrals,
    )
    copy_rows(
        cur,
        "consent",
        "id, person_id, referral_id, agencies, info_kinds, given_on, form, recorded_by_id, "
        "recorded_at",
        consents,
    )
    copy_rows(
        cur,
        "case_record",
        "id, person_id, programme_id, referral_id, state, paused_from, pause_reason, "
        "expected_return_on, complexity_weight, enrolled_on, created_at, version",
        cases,
    )
    copy_rows(
        cur,
        "coordinator_assignment",
        "id, case_id, coordinator_id, active, assigned_at, ended_at, reason, assigned_by_id, "
        "over_capacity",
        assignments,
    )
    cur.execute(
        "CREATE TEMP TABLE bench_case (case_id int PRIMARY KEY, person_id int, "
        "programme_id int, coordinator_id int, referrer_id int, open bool, j int, "
        "enrolled_on date, exited_on date, birth_year int, gender text, municipality text) "
        "ON COMMIT DROP"
    )
    copy_rows(
        cur,
        "bench_case",
        "case_id, person_id, programme_id, coordinator_id, referrer_id, open, j, enrolled_on, "
        "exited_on, birth_year, gender, municipality",
        bench_cases,
    )
    activity.derived_tables(
        cur,
        n=n,
        r0=r0,
        d0=d0,
        c0=c0,
        weeks=weeks,
        team_lead=team_lead,
        referral_count=n,
        case_count=len(bench_cases),
    )
    activity.notifications(cur, data, n=n, r0=r0)
    activity.access_log(cur, data, n=n, now=now, pe0=pe0, r0=r0, k0=k0, forbund_id=forbund_id)
    for table in COPIED_TABLES:
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    return data


def describe(data: Dataset) -> dict:
    """Return the ids the measurements need, as JSON-ready data."""
    return {
        "participants": data.participants,
        "users": {
            role: [[u.id, u.email, u.role, u.unit_id] for u in users]
            for role, users in data.users.items()
        },
        "loads": {str(k): v for k, v in data.loads.items()},
        "referral_ids": data.referral_ids,
        "open_case_ids": data.open_case_ids,
    }


def from_description(raw: dict) -> Dataset:
    """Return the Dataset `describe` wrote."""
    return Dataset(
        participants=raw["participants"],
        users={role: [BenchUser(*u) for u in users] for role, users in raw["users"].items()},
        loads={int(k): v for k, v in raw["loads"].items()},
        referral_ids=raw["referral_ids"],
        open_case_ids=raw["open_case_ids"],
    )


def dumps(data: Dataset) -> str:
    """Serialise the description (stored in the marker table)."""
    return json.dumps(describe(data))

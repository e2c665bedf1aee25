"""The data set's activity: histories, agendas, plans, meetings and attendance, escalations,
tasks, exits and SUS records derived in SQL from the core tables, then notifications and the
access log (chained as the sweeper chains). `data.build` writes the core tables and calls these.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from coordination.audit.models import canonical

if TYPE_CHECKING:
    from coordination.web_bench.data import Dataset

SPAN_DAYS = 8 * 365  # the history covered by the data set
MEETINGS_PER_PARTICIPANT = 10
LOG_ROWS_PER_PARTICIPANT = 5


def copy_rows(cur, table: str, columns: str, rows) -> None:
    """Write rows into a table with COPY."""
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def derived_tables(cur, *, n, r0, d0, c0, weeks, team_lead, referral_count, case_count) -> None:
    """Histories, agendas, plans, meetings, attendance, escalations, tasks, exits, SUS."""
    per_case = max(1, round(MEETINGS_PER_PARTICIPANT * n / max(case_count, 1)))
    statements = [
        # Referral history: submitted, on the agenda, decided or withdrawn.
        f"""
        INSERT INTO referral_history (referral_id, from_state, to_state, action, by_id, at)
        SELECT r.id, 'draft', 'submitted', 'submit', r.referrer_id, r.submitted_at
        FROM referral r WHERE r.id > {r0}
        UNION ALL
        SELECT r.id, 'submitted', 'on_agenda', 'put_on_agenda', {team_lead},
               r.submitted_at + interval '3 days'
        FROM referral r WHERE r.id > {r0} AND r.state IN ('on_agenda', 'decided')
        UNION ALL
        SELECT r.id, 'on_agenda', 'decided', 'decide', {team_lead}, d.decided_at
        FROM referral r JOIN decision d ON d.id = r.decision_id WHERE r.id > {r0}
        UNION ALL
        SELECT r.id, 'submitted', 'withdrawn', 'withdraw', r.referrer_id, r.updated_at
        FROM referral r WHERE r.id > {r0} AND r.state = 'withdrawn'
        """,
        # Agenda items: decided ones at their conference, open ones on the next one.
        f"""
        INSERT INTO agenda_item (conference_id, referral_id, number, status, origin, added_at,
                                 added_by_id)
        SELECT d.conference_id, r.id, 1 + (r.id % 40), 'decided', 'cutoff',
               d.decided_at - interval '5 days', {team_lead}
        FROM referral r JOIN decision d ON d.id = r.decision_id WHERE r.id > {r0}
        UNION ALL
        SELECT c.id, r.id, 1 + (r.id % 40), 'pending', 'cutoff', r.submitted_at, {team_lead}
        FROM referral r
        JOIN conference c ON c.programme_id = r.programme_id AND c.state = 'published'
             AND c.id > {c0}
        WHERE r.id > {r0} AND r.state = 'on_agenda'
        """,
        # Case history.
        """
        INSERT INTO case_history (case_id, from_state, to_state, action, by_id, at)
        SELECT b.case_id, 'waiting', 'enrolled', 'enrol', b.coordinator_id,
               b.enrolled_on + time '11:00'
        FROM bench_case b
        UNION ALL
        SELECT b.case_id, 'enrolled', 'active', 'activate', b.coordinator_id,
               b.enrolled_on + time '11:00' + interval '14 days'
        FROM bench_case b WHERE b.j % 10 <> 0
        UNION ALL
        SELECT b.case_id, 'active', 'paused', 'pause', b.coordinator_id,
               now() - interval '10 days'
        FROM bench_case b WHERE b.open AND b.j % 10 = 1
        UNION ALL
        SELECT b.case_id, 'active', 'exiting', 'start_exit', b.coordinator_id,
               coalesce(b.exited_on, current_date - 3) + time '10:00'
        FROM bench_case b WHERE NOT b.open OR b.j % 10 = 2
        UNION ALL
        SELECT b.case_id, 'exiting', 'closed', 'close', b.coordinator_id,
               b.exited_on + time '15:00'
        FROM bench_case b WHERE NOT b.open
        """,
        # Plan: version 1 signed, a draft version 2 for a quarter of the open cases.
        """
        INSERT INTO plan_version (case_id, number, state, own_goal, long_term_goal,
            overall_agency, coordinator_id, review_on, planned_exit_on, exit_steps,
            created_by_id, created_at, updated_at, signed_at)
        SELECT b.case_id, 1, 'signed', 'Komma närmare arbete', 'Egen försörjning', 'kommun',
               b.coordinator_id,
               greatest(b.enrolled_on + 90, current_date - 20 + b.case_id % 120),
               b.enrolled_on + 365, 'Avslut via AF', b.coordinator_id,
               b.enrolled_on + time '12:00', b.enrolled_on + time '12:00' + interval '20 days',
               b.enrolled_on + time '12:00' + interval '20 days'
        FROM bench_case b
        UNION ALL
        SELECT b.case_id, 2, 'draft', 'Komma närmare arbete', 'Egen försörjning', 'kommun',
               b.coordinator_id, current_date + 60, b.enrolled_on + 400, 'Avslut via AF',
               b.coordinator_id, now() - interval '5 days', now() - interval '5 days', NULL
        FROM bench_case b WHERE b.open AND b.j % 4 = 0
        """,
        # The case keeps its plan in force (action_plans.in_force).
        """
        UPDATE case_record c SET plan_in_force = true, plan_review_on = v.review_on
        FROM plan_version v WHERE v.case_id = c.id AND v.state = 'signed'
        """,
        """
        CREATE TEMP TABLE bench_plan ON COMMIT DROP AS
        SELECT v.id, v.number, v.state, b.* FROM plan_version v
        JOIN bench_case b ON b.case_id = v.case_id
        """,
        """
        INSERT INTO plan_goal (version_id, position, text, target_on)
        SELECT v.id, k, 'Delmål ' || k, v.enrolled_on + 60 * k
        FROM bench_plan v, generate_series(1, 2) k
        """,
        """
        INSERT INTO plan_action (version_id, ref, position, what, agency, start_on, due_on,
                                 status, revision)
        SELECT v.id, 'a' || k, k, 'Insats ' || k,
               (ARRAY['kommun', 'af', 'fk', 'region'])[1 + (v.case_id + k) % 4],
               v.enrolled_on, v.enrolled_on + 90 * k,
               CASE WHEN NOT v.open THEN 'done'
                    WHEN k = 1 THEN 'done' WHEN k = 2 THEN 'ongoing' ELSE 'planned' END, 1
        FROM bench_plan v, generate_series(1, 3) k
        """,
        """
        INSERT INTO plan_sign_off (version_id, party, method, signed_by_id, signed_at)
        SELECT v.id, 'participant', 'in_person', v.coordinator_id,
               v.enrolled_on + time '12:00' + interval '20 days'
        FROM bench_plan v WHERE v.state = 'signed'
        UNION ALL
        SELECT v.id, 'kommun', NULL, v.coordinator_id,
               v.enrolled_on + time '12:00' + interval '20 days'
        FROM bench_plan v WHERE v.state = 'signed'
        """,
        # Meetings: one a week up to the exit, or up to a week or two ahead for open cases.
        f"""
        INSERT INTO meeting (uid, case_id, kind, status, starts_at, ends_at, location,
            organiser_id, sequence, created_at, updated_at, cancelled_at, cancelled_by_id)
        SELECT 'bench-' || b.case_id || '-' || k || '@bench.example', b.case_id,
               (ARRAY['coaching', 'three_party', 'network', 'follow_up', 'coaching'])
                   [1 + k % 5],
               CASE WHEN k % 15 = 7 THEN 'cancelled' ELSE 'booked' END,
               t.s, t.s + interval '1 hour', 'Förbundets kontor', b.coordinator_id,
               0, t.s - interval '7 days', t.s - interval '7 days',
               CASE WHEN k % 15 = 7 THEN t.s - interval '1 day' END,
               CASE WHEN k % 15 = 7 THEN b.coordinator_id END
        FROM bench_case b, generate_series(0, {per_case - 1}) k,
        LATERAL (SELECT ((CASE WHEN b.open THEN current_date + 2 + b.case_id % 14
                               ELSE b.exited_on END) + time '08:00'
                         + (b.case_id % 8) * interval '1 hour'
                         - ({per_case - 1} - k) * interval '7 days') AT TIME ZONE 'UTC' AS s) t
        """,
        """
        INSERT INTO attendance (meeting_id, case_id, status, recorded_at, recorded_by_id,
                                version)
        SELECT m.id, m.case_id,
               CASE WHEN m.id % 11 = 3 THEN 'missed'
                    WHEN m.id % 23 = 5 THEN 'cancelled_by_participant' ELSE 'attended' END,
               m.ends_at, m.organiser_id, 1
        FROM bench_case b JOIN meeting m ON m.case_id = b.case_id
        WHERE m.status = 'booked' AND m.starts_at < now()
        """,
        """
        INSERT INTO escalation (case_id, status, opened_at, missed_count, decision_due_at,
                                referrer_id)
        SELECT b.case_id, 'open', now() - interval '2 days', 3, now() + interval '5 days',
               b.referrer_id
        FROM bench_case b WHERE b.open AND b.j % 50 = 0
        """,
        """
        INSERT INTO case_task (case_id, assignee_id, kind, due_at, created_at)
        SELECT b.case_id, b.coordinator_id, 'contact_after_miss',
               now() + (b.j % 5 - 2) * interval '1 day', now() - interval '3 days'
        FROM bench_case b WHERE b.open AND b.j % 7 = 0
        """,
        """
        INSERT INTO exit_registration (case_id, exit_reason, support_at_exit,
            occupation_at_exit, work_at_exit, exited_on, registered_by_id, registered_at,
            updated_at)
        SELECT b.case_id, (ARRAY['arbete', 'studier', 'fortsatt_rehabilitering', 'ovrigt'])
                              [1 + b.case_id % 4],
               '["a_kassa"]', 'arbete', 'ej_subventionerat', b.exited_on, b.coordinator_id,
               b.exited_on + time '15:00', b.exited_on + time '15:00'
        FROM bench_case b WHERE NOT b.open
        """,
        """
        INSERT INTO sus_participant (programme_id, participant_ref, case_id, source, gender,
            birth_year, home_municipality, referring_agency, enrolled_on, exited_on,
            exit_reason, age_at_enrolment, months_in_programme, created_at)
        SELECT b.programme_id, 'P-' || b.person_id, b.case_id, 'live', b.gender, b.birth_year,
               b.municipality, 'kommun', b.enrolled_on, b.exited_on,
               CASE WHEN NOT b.open THEN 'arbete' END,
               extract(year FROM b.enrolled_on)::int - b.birth_year,
               ((coalesce(b.exited_on, current_date) - b.enrolled_on) / 30)::int,
               b.enrolled_on + time '11:00'
        FROM bench_case b
        """,
        """
        INSERT INTO sus_registration (participant_id, occasion, registered_on, work,
                                      occupation, education, time_on_support)
        SELECT s.id, 'intake', s.enrolled_on, 'annat', 'arbetssokande_i_atgard', 'gymnasium',
               'upp_till_3_ar'
        FROM sus_participant s JOIN bench_case b ON b.case_id = s.case_id
        UNION ALL
        SELECT s.id, 'exit', s.exited_on, 'arbete', 'arbete', 'gymnasium', 'upp_till_3_ar'
        FROM sus_participant s JOIN bench_case b ON b.case_id = s.case_id
        WHERE s.exited_on IS NOT NULL
        """,
        """
        INSERT INTO sus_support (registration_id, code, participant_id, occasion)
        SELECT r.id, CASE WHEN r.occasion = 'intake' THEN 'forsorjningsstod' ELSE 'a_kassa' END,
               r.participant_id, r.occasion
        FROM sus_registration r JOIN sus_participant s ON s.id = r.participant_id
        JOIN bench_case b ON b.case_id = s.case_id
        """,
    ]
    for statement in statements:
        cur.execute(statement)


def notifications(cur, data: Dataset, *, n: int, r0: int) -> None:
    """Inbox items for every staff user (half read), and one sent email per referral."""
    staff = [u.id for role in ("coordinator", "team_lead") for u in data.users[role]]
    referrers = [u.id for u in data.users["referrer"]]
    cur.execute(
        """
        INSERT INTO notification (recipient_id, kind, channel, template, locale, params, link,
            idempotency_key, status, attempts, not_before, sent_at, read_at, done_at, created_at)
        SELECT u.id, u.kind, 'inbox', u.kind, 'sv', '{}', '/inbox',
               'bench:' || u.id || ':' || k, 'sent', 1, s.at, s.at,
               CASE WHEN k %% 2 = 0 THEN s.at END, CASE WHEN k %% 3 = 0 THEN s.at END, s.at
        FROM (SELECT unnest(%(staff)s::int[]) AS id, 'case_assigned' AS kind
              UNION ALL SELECT unnest(%(referrers)s::int[]), 'referral_submitted') u,
        generate_series(1, 40) k,
        LATERAL (SELECT now() - k * interval '2 days' AS at) s
        """,
        {"staff": staff, "referrers": referrers},
    )
    cur.execute(
        """
        INSERT INTO notification (recipient_id, kind, channel, template, locale, params, link,
            subject_type, subject_id, idempotency_key, status, attempts, not_before, sent_at,
            created_at)
        SELECT r.referrer_id, 'referral_decided', 'email', 'referral_decided_admit', 'sv',
               json_build_object('referral_id', r.id), '/referrals/' || r.id, 'referral', r.id,
               'bench:decided:' || r.id, 'sent', 1, d.decided_at, d.decided_at, d.decided_at
        FROM referral r JOIN decision d ON d.id = r.decision_id WHERE r.id > %(r0)s
        """,
        {"r0": r0},
    )


def access_log(
    cur, data: Dataset, *, n: int, now: datetime, pe0: int, r0: int, k0: int, forbund_id: int
):
    """The access log: reads and lists of cases and referrals, chained as the sweeper chains
    (each förbund has its own chain, continued here from its tail)."""
    cur.execute(
        "SELECT hash FROM access_log WHERE chain_seq IS NOT NULL AND forbund_id = %s "
        "ORDER BY chain_seq DESC LIMIT 1",
        (forbund_id,),
    )
    row = cur.fetchone()
    previous = row[0] if row else ""
    cur.execute("SELECT coalesce(max(id), 0) FROM access_log")
    a0 = cur.fetchone()[0]
    cur.execute(
        "SELECT coalesce(max(chain_seq), 0) FROM access_log WHERE forbund_id = %s", (forbund_id,)
    )
    s0 = cur.fetchone()[0]
    total = n * LOG_ROWS_PER_PARTICIPANT
    start = now - timedelta(days=SPAN_DAYS)
    step = (now - timedelta(hours=1) - start) / max(total, 1)
    coordinators = data.users["coordinator"]
    leads = data.users["team_lead"]

    class Row:
        __slots__ = (
            "at",
            "user_id",
            "unit_id",
            "role",
            "action",
            "object_type",
            "object_id",
            "person_id",
            "outcome",
            "channel",
            "break_glass",
            "reason",
            "prev_hash",
            "assurance",
        )

    def rows():
        nonlocal previous
        entry = Row()
        entry.outcome, entry.channel, entry.break_glass, entry.reason = (
            "allowed",
            "web",
            False,
            None,
        )
        entry.assurance = None  # a sign-in's assurance level: none on reads
        for i in range(total):
            p = 1 + (i * 7919) % n
            user = coordinators[i % len(coordinators)] if i % 4 else leads[i % len(leads)]
            entry.at = start + step * i
            entry.user_id, entry.unit_id, entry.role = user.id, user.unit_id, user.role
            entry.action = "read" if i % 3 else "list"
            if p % 20 >= 3:
                entry.object_type, entry.object_id = "case", str(k0 + p)
            else:
                entry.object_type, entry.object_id = "referral", str(r0 + p)
            entry.person_id = pe0 + p
            entry.prev_hash = previous
            digest = hashlib.sha256(canonical(entry).encode("utf-8")).hexdigest()
            yield (
                a0 + i + 1,
                entry.at,
                entry.user_id,
                entry.unit_id,
                entry.role,
                entry.action,
                entry.object_type,
                entry.object_id,
                entry.person_id,
                "allowed",
                "web",
                False,
                None,
                previous,
                digest,
                s0 + i + 1,
            )
            previous = digest

    copy_rows(
        cur,
        "access_log",
        "id, at, user_id, unit_id, role, action, object_type, object_id, person_id, outcome, "
        "channel, break_glass, reason, prev_hash, hash, chain_seq",
        rows(),
    )
    cur.execute(
        "SELECT setval(pg_get_serial_sequence('access_log', 'id'), "
        "(SELECT max(id) FROM access_log))"
    )

"""The indexes the list pages, lazy loads and the header's unread count rely on (issue 17).

Each was chosen from the plan of its query on a seeded database: without it the query is a
sequential scan (or a scan of a whole index) that grows with the installation.
"""

from sqlalchemy import text

from coordination.extensions import db

# name: (table, what the definition must say)
EXPECTED = {
    "ix_coordinator_assignment_case": ("coordinator_assignment", "(case_id)"),
    "ix_consent_person": ("consent", "(person_id)"),
    "ix_consent_referral": ("consent", "(referral_id)"),
    "ix_referral_history_referral": ("referral_history", "(referral_id)"),
    "ix_referral_updated": ("referral", "(updated_at, id)"),
    "ix_referral_referrer_updated": ("referral", "(referrer_id, updated_at, id)"),
    "ix_referral_state_updated": ("referral", "(state, updated_at, id)"),
    "ix_meeting_booked_starts": ("meeting", "(starts_at) WHERE ((status)::text = 'booked'::text)"),
    "ix_referral_open_state": (
        "referral",
        "(forbund_id, state, completion_due_at) WHERE ((state)::text = ANY "
        "((ARRAY['completion_requested'::character varying, 'on_agenda'::character varying, "
        "'submitted'::character varying])::text[]))",
    ),
    "ix_case_record_loaded": (
        "case_record",
        "(forbund_id, id, complexity_weight) WHERE ((state)::text = ANY "
        "((ARRAY['active'::character varying, 'enrolled'::character varying, "
        "'exiting'::character varying, 'paused'::character varying])::text[]))",
    ),
    "ix_case_record_open_programme": (
        "case_record",
        "(forbund_id, programme_id, state) WHERE ((state)::text <> 'closed'::text)",
    ),
    "ix_coordinator_assignment_active_load": (
        "coordinator_assignment",
        "(forbund_id, case_id, coordinator_id) WHERE active",
    ),
    "ix_notification_inbox": ("notification", "(recipient_id, channel, created_at)"),
    "ix_notification_unread": (
        "notification",
        "(recipient_id) WHERE (((channel)::text = 'inbox'::text) AND (read_at IS NULL) "
        "AND (done_at IS NULL))",
    ),
    "ix_attendance_case_status": ("attendance", "(forbund_id, case_id, status)"),
    "ix_sus_participant_municipality": (
        "sus_participant",
        "(forbund_id, home_municipality, gender)",
    ),
}


def test_the_migrated_database_has_every_index_the_lists_need():
    rows = db.session.execute(
        text("SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'")
    )
    found = {name: (table, definition) for name, table, definition in rows}
    missing = sorted(name for name in EXPECTED if name not in found)
    assert missing == [], f"indexes missing after the migrations: {missing}"
    for name, (table, columns) in EXPECTED.items():
        found_table, definition = found[name]
        assert found_table == table, name
        assert definition.endswith(f"USING btree {columns}"), definition


def test_the_unread_count_is_read_from_its_index():
    plan = "\n".join(
        db.session.scalars(
            text(
                "EXPLAIN SELECT count(*) FROM notification WHERE recipient_id = 1 "
                "AND channel = 'inbox' AND read_at IS NULL AND done_at IS NULL"
            )
        )
    )
    assert "ix_notification_unread" in plan, plan


def test_the_report_filter_lists_municipalities_by_skipping_through_their_index():
    plan = "\n".join(
        db.session.scalars(
            text(
                "EXPLAIN SELECT min(home_municipality) FROM sus_participant "
                "WHERE forbund_id = 1 AND home_municipality > 'A'"
            )
        )
    )
    assert "ix_sus_participant_municipality" in plan, plan

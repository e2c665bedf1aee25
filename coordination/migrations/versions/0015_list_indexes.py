"""list indexes: what the list pages, lazy loads and the header's unread count read by

Revision ID: 0015_list_indexes
Revises: 0014_access_log_sweeper
Create Date: 2026-12-04 17:40:00

Each index was chosen from the plan of the query it serves (issue 17): every assignment of a case
(only the active one had an index), a person's consents and a referral's, a referral's history,
the referral list newest change first (everything, one referrer's, one state: keyset on
updated_at and id), booked meetings in a time window, and the unread inbox items of one user (a partial
index).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015_list_indexes"
down_revision = "0014_access_log_sweeper"
branch_labels = None
depends_on = None

UNREAD_SQL = "channel = 'inbox' AND read_at IS NULL AND done_at IS NULL"
BOOKED_SQL = "status = 'booked'"

INDEXES = (
    ("ix_coordinator_assignment_case", "coordinator_assignment", ["case_id"]),
    ("ix_consent_person", "consent", ["person_id"]),
    ("ix_consent_referral", "consent", ["referral_id"]),
    ("ix_referral_history_referral", "referral_history", ["referral_id"]),
    ("ix_referral_updated", "referral", ["updated_at", "id"]),
    ("ix_referral_referrer_updated", "referral", ["referrer_id", "updated_at", "id"]),
    ("ix_referral_state_updated", "referral", ["state", "updated_at", "id"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.create_index(
        "ix_meeting_booked_starts",
        "meeting",
        ["starts_at"],
        unique=False,
        postgresql_where=sa.text(BOOKED_SQL),
        sqlite_where=sa.text(BOOKED_SQL),
    )
    op.create_index(
        "ix_notification_unread",
        "notification",
        ["recipient_id"],
        unique=False,
        postgresql_where=sa.text(UNREAD_SQL),
        sqlite_where=sa.text(UNREAD_SQL),
    )


def downgrade():
    op.drop_index("ix_notification_unread", table_name="notification")
    op.drop_index("ix_meeting_booked_starts", table_name="meeting")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)

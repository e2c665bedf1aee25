"""home indexes: what the team lead's start page counts, read from indexes alone

Revision ID: 0032_home_indexes
Revises: 0031_statistics_indexes
Create Date: 2026-12-05 06:00:00

Each was chosen from the plan of the query it serves at 200,000 participants, and each is read
alone (an index-only scan of one förbund's rows): the open referrals by state and the overdue
completions among them (the closed referrals of every year are not read); every coordinator's
weighted load for the over-capacity item of the to-do list, the active assignments merged in
case order with the cases that weigh on a caseload; the open cases by programme and state for
the queue and places.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0032_home_indexes"
down_revision = "0031_statistics_indexes"
branch_labels = None
depends_on = None

OPEN_REFERRAL_SQL = "state IN ('completion_requested', 'on_agenda', 'submitted')"
OPEN_CASE_SQL = "state <> 'closed'"
LOADED_CASE_SQL = "state IN ('active', 'enrolled', 'exiting', 'paused')"
ACTIVE_SQL = "active"

INDEXES = (
    (
        "ix_referral_open_state",
        "referral",
        ["forbund_id", "state", "completion_due_at"],
        OPEN_REFERRAL_SQL,
    ),
    (
        "ix_case_record_loaded",
        "case_record",
        ["forbund_id", "id", "complexity_weight"],
        LOADED_CASE_SQL,
    ),
    (
        "ix_case_record_open_programme",
        "case_record",
        ["forbund_id", "programme_id", "state"],
        OPEN_CASE_SQL,
    ),
    (
        "ix_coordinator_assignment_active_load",
        "coordinator_assignment",
        ["forbund_id", "case_id", "coordinator_id"],
        ACTIVE_SQL,
    ),
)


def upgrade():
    for name, table, columns, where in INDEXES:
        op.create_index(
            name,
            table,
            columns,
            unique=False,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def downgrade():
    for name, table, _columns, _where in reversed(INDEXES):
        op.drop_index(name, table_name=table)

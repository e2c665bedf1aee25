"""statistics indexes: participants by home municipality and gender, attendance by case and status

Revision ID: 0031_statistics_indexes
Revises: 0030_case_plan_in_force
Create Date: 2026-12-05 06:00:00

The report by home municipality counts every participant record per municipality and gender,
and every report's filter lists the municipalities the records name. Both read
ix_sus_participant_municipality (förbund, home municipality, gender): the count as an index-only
scan in municipality order, the list as a skip scan (one probe per municipality) instead of a
grouping of every record.

The attendance report counts the registered attendances per status and the participant's gender:
ix_attendance_case_status (förbund, case, status) lets it count per case and status from the
index alone, in case order, and join the cases once per case and status rather than once per
meeting.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0031_statistics_indexes"
down_revision = "0030_case_plan_in_force"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_sus_participant_municipality",
        "sus_participant",
        ["forbund_id", "home_municipality", "gender"],
        unique=False,
    )
    op.create_index(
        "ix_attendance_case_status",
        "attendance",
        ["forbund_id", "case_id", "status"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_attendance_case_status", table_name="attendance")
    op.drop_index("ix_sus_participant_municipality", table_name="sus_participant")

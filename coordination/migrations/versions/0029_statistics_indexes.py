"""statistics indexes: the participants' home municipality and gender, for the reports

Revision ID: 0029_statistics_indexes
Revises: 0027_forbund
Create Date: 2026-12-05 06:00:00

The report by home municipality counts every participant record per municipality and gender,
and every report's filter lists the municipalities the records name. Both read
ix_sus_participant_municipality (förbund, home municipality, gender): the count as an index-only
scan in municipality order, the list as a skip scan (one probe per municipality) instead of a
grouping of every record.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0029_statistics_indexes"
down_revision = "0027_forbund"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_sus_participant_municipality",
        "sus_participant",
        ["forbund_id", "home_municipality", "gender"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_sus_participant_municipality", table_name="sus_participant")

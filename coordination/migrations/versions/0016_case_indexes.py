"""case indexes: escalation(case_id), for the case lists' missed count

Revision ID: 0016_case_indexes
Revises: 0015_list_indexes
Create Date: 2026-12-04 18:15:00

The caseload computes each case's missed-meeting count in SQL, which starts from the case's last
`continue` decision (`escalation` by `case_id` and decision). Only a partial index (the one open
escalation per case) covered `case_id`, so each row read the whole table.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016_case_indexes'
down_revision = "0015_list_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_escalation_case', 'escalation', ['case_id'], unique=False)


def downgrade():
    op.drop_index('ix_escalation_case', table_name='escalation')

"""case plan in force: the case keeps whether a plan version is signed and its review date

Revision ID: 0030_case_plan_in_force
Revises: 0027_forbund
Create Date: 2026-12-05 06:00:00

The team lead's caseload ranks every open case by its warnings; one of them (the plan's review
is overdue) read the version in force once per case, 60 ms of 85 at 200,000 participants.
`action_plans.in_force` keeps the two columns in every flush that writes a plan version; this
migration fills them for the cases there are.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030_case_plan_in_force'
down_revision = '0027_forbund'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('plan_in_force', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column('plan_review_on', sa.Date(), nullable=True))
    op.execute(
        "UPDATE case_record SET "
        "plan_in_force = EXISTS (SELECT 1 FROM plan_version v "
        "WHERE v.case_id = case_record.id AND v.state = 'signed'), "
        "plan_review_on = (SELECT v.review_on FROM plan_version v "
        "WHERE v.case_id = case_record.id AND v.state = 'signed' "
        "ORDER BY v.number DESC LIMIT 1)"
    )


def downgrade():
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_column('plan_review_on')
        batch_op.drop_column('plan_in_force')

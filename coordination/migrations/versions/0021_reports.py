"""reports: programme outcome targets

Revision ID: 0021_reports
Revises: 0020_member_orgs
Create Date: 2026-12-06 10:00:00

A programme's outcome targets (../shared/DOMAIN.md §12, "Programme targets"): a SUS variable, an
occasion and a set of codes with a target percentage, reported against the outcome per period.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021_reports'
down_revision = '0020_member_orgs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('programme_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('variable', sa.String(length=40), nullable=False),
    sa.Column('occasion', sa.String(length=20), nullable=True),
    sa.Column('codes', sa.JSON(), nullable=False),
    sa.Column('target_percent', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("variable IN ('exit_reason', 'occupation', 'work', 'education', 'time_on_support', 'support', 'joint_recommendation')", name=op.f('ck_programme_target_variable_valid')),
    sa.CheckConstraint("occasion IN ('intake', 'exit', 'follow_up_6', 'follow_up_12')", name=op.f('ck_programme_target_occasion_valid')),
    sa.CheckConstraint('target_percent BETWEEN 0 AND 100', name=op.f('ck_programme_target_target_percent_range')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_programme_target_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_target'))
    )
    with op.batch_alter_table('programme_target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_target_programme_id'), ['programme_id'], unique=False)


def downgrade():
    with op.batch_alter_table('programme_target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_target_programme_id'))
    op.drop_table('programme_target')

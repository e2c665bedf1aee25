"""member organisations: the förbund's register, the unit's link and the SUS record's code

Revision ID: 0020_member_orgs
Revises: 0019_live_intake
Create Date: 2026-12-05 10:00:00

Besides the four agency kinds, the förbund registers its member organisations (each municipality,
each AF/FK office area or region unit that refers) with a code and a kind (DOMAIN.md §12). A unit
can belong to one, and a SUS participant keeps the referring organisation's code beside the kind.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_member_orgs'
down_revision = '0019_live_intake'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('member_organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('kommun', 'af', 'fk', 'region')", name=op.f('ck_member_organisation_kind_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_organisation')),
    sa.UniqueConstraint('code', name=op.f('uq_member_organisation_code')),
    sa.UniqueConstraint('name', name=op.f('uq_member_organisation_name'))
    )
    with op.batch_alter_table('organisation_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_organisation_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_organisation_unit_member_organisation_id_member_organisation'),
            'member_organisation',
            ['member_organisation_id'],
            ['id'],
        )
    with op.batch_alter_table('sus_participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referring_organisation', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('sus_participant', schema=None) as batch_op:
        batch_op.drop_column('referring_organisation')
    with op.batch_alter_table('organisation_unit', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_organisation_unit_member_organisation_id_member_organisation'),
            type_='foreignkey',
        )
        batch_op.drop_column('member_organisation_id')
    op.drop_table('member_organisation')

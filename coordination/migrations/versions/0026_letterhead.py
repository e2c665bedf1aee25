"""letterhead: the förbund's name and contact details on every document

Revision ID: 0026_letterhead
Revises: 0025_positions
Create Date: 2026-12-05 00:15:00

One row, edited by an admin; documents fall back to the förbund unit's name until it is saved.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_letterhead'
down_revision = '0025_positions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('letterhead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('website', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letterhead'))
    )


def downgrade():
    op.drop_table('letterhead')

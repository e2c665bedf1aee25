"""positions: members record their agency's position before the conference; end reasons

Revision ID: 0025_positions
Revises: 0024_oidc
Create Date: 2026-12-05 00:00:00

- member_position: one agency's position (ställningstagande) on a referral on the agenda,
  recorded by its member before the meeting; the chair's decision form starts from it.
- conference: the reason given when the meeting was closed or cancelled, and when it was
  cancelled (both actions now go through a confirmation page that asks why).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025_positions"
down_revision = "0024_oidc"
branch_labels = None
depends_on = None

AGENCIES = "agency IN ('kommun', 'af', 'fk', 'region', 'forbund')"


def upgrade():
    op.create_table(
        "member_position",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=20), nullable=False),
        sa.Column("stance", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(AGENCIES, name=op.f("ck_member_position_agency_valid")),
        sa.CheckConstraint("length(trim(stance)) > 0", name=op.f("ck_member_position_has_text")),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"],
            ["agenda_item.id"],
            name=op.f("fk_member_position_agenda_item_id_agenda_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_member_position_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_position")),
        sa.UniqueConstraint("agenda_item_id", "agency", name="uq_member_position_agency"),
    )
    op.create_index(
        op.f("ix_member_position_agenda_item_id"), "member_position", ["agenda_item_id"]
    )
    with op.batch_alter_table("conference", schema=None) as batch_op:
        batch_op.add_column(sa.Column("close_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("conference", schema=None) as batch_op:
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("close_reason")
    op.drop_index(op.f("ix_member_position_agenda_item_id"), table_name="member_position")
    op.drop_table("member_position")

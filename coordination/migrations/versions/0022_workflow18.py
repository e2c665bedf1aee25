"""workflow18: goal status, the programme's priority age band, the municipality code list

Revision ID: 0022_workflow18
Revises: 0021_reports
Create Date: 2026-12-05 10:00:00

- plan_goal: how far the goal was reached (reached / partly_reached / not_reached), at a plan
  review or at exit, by whom and when.
- programme: the priority rule's age band (default 25–45), a setting per programme (DOMAIN.md §4).
- code: the `municipality` list, SCB's 290 municipality codes (added where missing). The free-text
  home municipality of referrals and SUS participants becomes the code where the text names a
  municipality (any case, with or without " kommun"); any other text is left as it is.
"""

import sqlalchemy as sa
from alembic import op

from workflows.municipalities import MUNICIPALITIES, municipality_code

# revision identifiers, used by Alembic.
revision = "0022_workflow18"
down_revision = '0021_reports'
branch_labels = None
depends_on = None

CODE = sa.table(
    "code",
    sa.column("list_name", sa.String),
    sa.column("code", sa.String),
    sa.column("label_sv", sa.String),
    sa.column("label_en", sa.String),
    sa.column("position", sa.Integer),
    sa.column("historical", sa.Boolean),
)
HOME_TABLES = ("referral", "sus_participant")


def _home_values(bind, table: str) -> list[str]:
    rows = bind.execute(
        sa.text(
            f"SELECT DISTINCT home_municipality FROM {table} "  # noqa: S608 (fixed table names)
            "WHERE home_municipality IS NOT NULL"
        )
    )
    return [row[0] for row in rows]


def _rewrite(bind, table: str, mapping: dict[str, str]) -> None:
    for old, new in mapping.items():
        bind.execute(
            sa.text(
                f"UPDATE {table} SET home_municipality = :new "  # noqa: S608 (fixed table names)
                "WHERE home_municipality = :old"
            ),
            {"new": new, "old": old},
        )


def upgrade():
    with op.batch_alter_table("plan_goal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("status_occasion", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("status_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_plan_goal_status_by_id_user_account"),
            "user_account",
            ["status_by_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            op.f("ck_plan_goal_status_valid"),
            "status IN ('reached', 'partly_reached', 'not_reached')",
        )
        batch_op.create_check_constraint(
            op.f("ck_plan_goal_status_occasion_valid"), "status_occasion IN ('review', 'exit')"
        )
        batch_op.create_check_constraint(
            op.f("ck_plan_goal_status_recorded"),
            "(status IS NULL) = (status_at IS NULL) "
            "AND (status IS NULL) = (status_occasion IS NULL)",
        )

    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority_age_low", sa.Integer(), server_default="25", nullable=False)
        )
        batch_op.add_column(
            sa.Column("priority_age_high", sa.Integer(), server_default="45", nullable=False)
        )
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.alter_column("priority_age_low", server_default=None)
        batch_op.alter_column("priority_age_high", server_default=None)
        batch_op.create_check_constraint(
            op.f("ck_programme_priority_age_band"),
            "priority_age_low >= 0 AND priority_age_low <= priority_age_high "
            "AND priority_age_high <= 120",
        )

    bind = op.get_bind()
    present = {
        row[0]
        for row in bind.execute(sa.text("SELECT code FROM code WHERE list_name = 'municipality'"))
    }
    op.bulk_insert(
        CODE,
        [
            {
                "list_name": "municipality",
                "code": code,
                "label_sv": name,
                "label_en": name,
                "position": position,
                "historical": False,
            }
            for position, (code, name) in enumerate(MUNICIPALITIES)
            if code not in present
        ],
    )
    entries = [
        (row[0], row[1])
        for row in bind.execute(
            sa.text("SELECT code, label_sv FROM code WHERE list_name = 'municipality'")
        )
    ]
    for table in HOME_TABLES:
        mapping = {}
        for value in _home_values(bind, table):
            code = municipality_code(value, entries)
            if code is not None and code != value:
                mapping[value] = code
        _rewrite(bind, table, mapping)


def downgrade():
    bind = op.get_bind()
    names = dict(MUNICIPALITIES)
    for table in HOME_TABLES:
        _rewrite(
            bind,
            table,
            {value: names[value] for value in _home_values(bind, table) if value in names},
        )
    bind.execute(sa.text("DELETE FROM code WHERE list_name = 'municipality'"))

    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_programme_priority_age_band"), type_="check")
        batch_op.drop_column("priority_age_high")
        batch_op.drop_column("priority_age_low")

    with op.batch_alter_table("plan_goal", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plan_goal_status_recorded"), type_="check")
        batch_op.drop_constraint(op.f("ck_plan_goal_status_occasion_valid"), type_="check")
        batch_op.drop_constraint(op.f("ck_plan_goal_status_valid"), type_="check")
        batch_op.drop_constraint(op.f("fk_plan_goal_status_by_id_user_account"), type_="foreignkey")
        batch_op.drop_column("status_at")
        batch_op.drop_column("status_by_id")
        batch_op.drop_column("status_occasion")
        batch_op.drop_column("status")

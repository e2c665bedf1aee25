"""one history: merge the six branches of the parallel build into one head

Revision ID: 0010_one_history
Revises: 0002_notifications, 0004_statistics, 0005_access, 0007_cases_plans, 0008_meetings,
    0009_exits
Create Date: 2026-12-04 14:45:00

From here on the history is linear: `flask db upgrade` (one head) everywhere, and every new
revision revises the one before it (tests/test_database.py checks there is exactly one head).
"""

revision = "0010_one_history"
down_revision = ("0002_notifications", "0004_statistics", "0005_access", "0007_cases_plans", "0008_meetings", "0009_exits")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

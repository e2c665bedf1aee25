"""one reminder table: the participant's meeting reminder becomes a row of `reminder`

Revision ID: 0011_one_reminder_table
Revises: 0010_one_history
Create Date: 2026-12-05 10:00:00

`reminder` now holds everything owed later: a row is owed to a user (recipient_id) or to a case's
participant (case_id, exactly one of the two), and carries the participant's channel, attempts and
last error. The rows of `participant_reminder` move into it (kind `participant_reminder`, subject
the meeting, the meeting's sequence in params and in the idempotency key, sent_at as fired_at), and
that table is dropped.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011_one_reminder_table"
down_revision = "0010_one_history"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('pending', 'fired', 'cancelled')"
NEW_STATUSES = "status IN ('pending', 'fired', 'sent', 'handed_over', 'failed', 'cancelled')"
PARTICIPANT_STATUSES = "status IN ('pending', 'sent', 'handed_over', 'cancelled', 'failed')"
ONE_TARGET = "(recipient_id IS NULL) <> (case_id IS NULL)"
KIND = "participant_reminder"

_participant = sa.table(
    "participant_reminder",
    sa.column("id", sa.Integer()),
    sa.column("meeting_id", sa.Integer()),
    sa.column("case_id", sa.Integer()),
    sa.column("sequence", sa.Integer()),
    sa.column("due_at", sa.DateTime(timezone=True)),
    sa.column("status", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("attempts", sa.Integer()),
    sa.column("last_error", sa.Text()),
    sa.column("sent_at", sa.DateTime(timezone=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_reminder = sa.table(
    "reminder",
    sa.column("id", sa.Integer()),
    sa.column("subject_type", sa.String()),
    sa.column("subject_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("template", sa.String()),
    sa.column("recipient_id", sa.Integer()),
    sa.column("case_id", sa.Integer()),
    sa.column("due_at", sa.DateTime(timezone=True)),
    sa.column("level", sa.Integer()),
    sa.column("params", sa.JSON()),
    sa.column("link", sa.String()),
    sa.column("idempotency_key", sa.String()),
    sa.column("status", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("attempts", sa.Integer()),
    sa.column("last_error", sa.Text()),
    sa.column("fired_at", sa.DateTime(timezone=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _key(meeting_id, case_id, sequence) -> str:
    # The same key as coordination.core.reminders.participant_reminder_key.
    return f"ParticipantReminder:meeting:{meeting_id}:case:{case_id}:seq{sequence}"


def upgrade():
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("channel", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.alter_column("recipient_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint(op.f("ck_reminder_status_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reminder_status_valid"), NEW_STATUSES)
        batch_op.create_check_constraint(op.f("ck_reminder_attempts_nonnegative"), "attempts >= 0")
        batch_op.create_check_constraint(op.f("ck_reminder_one_target"), ONE_TARGET)
        batch_op.create_foreign_key(
            op.f("fk_reminder_case_id_case_record"),
            "case_record",
            ["case_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.alter_column("attempts", existing_type=sa.Integer(), server_default=None)

    connection = op.get_bind()
    rows = connection.execute(sa.select(_participant).order_by(_participant.c.id)).mappings()
    moved = [
        {
            "subject_type": "meeting",
            "subject_id": row["meeting_id"],
            "kind": KIND,
            "template": KIND,
            "recipient_id": None,
            "case_id": row["case_id"],
            "due_at": row["due_at"],
            "level": 1,
            "params": {"meeting_id": row["meeting_id"], "sequence": row["sequence"]},
            "link": None,
            "idempotency_key": _key(row["meeting_id"], row["case_id"], row["sequence"]),
            "status": row["status"],
            "channel": row["channel"],
            "attempts": row["attempts"],
            "last_error": row["last_error"],
            "fired_at": row["sent_at"],
            "created_at": row["created_at"],
        }
        for row in rows
    ]
    if moved:
        connection.execute(_reminder.insert(), moved)

    with op.batch_alter_table("participant_reminder", schema=None) as batch_op:
        batch_op.drop_index("ix_participant_reminder_due")
    op.drop_table("participant_reminder")


def downgrade():
    """Recreate participant_reminder and move the participants' reminders back into it.

    What is lost: their row ids (they get new ones, so an email or SMS sent again after the
    downgrade would carry a new Message-ID / provider key), and the overdue-escalation reminders
    stay in `reminder` as ordinary user reminders (the older sweep fires the pending ones, and
    writes that day's reminder again under its own key, so a team lead may get one twice that day).
    """
    op.create_table(
        "participant_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(PARTICIPANT_STATUSES, name=op.f("ck_participant_reminder_status_valid")),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_participant_reminder_attempts_nonnegative")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_record.id"],
            name=op.f("fk_participant_reminder_case_id_case_record"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_participant_reminder_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant_reminder")),
        sa.UniqueConstraint(
            "meeting_id", "case_id", "sequence", name="uq_participant_reminder_occurrence"
        ),
    )
    with op.batch_alter_table("participant_reminder", schema=None) as batch_op:
        batch_op.create_index("ix_participant_reminder_due", ["status", "due_at"], unique=False)

    connection = op.get_bind()
    owed_to_participants = _reminder.c.case_id.is_not(None)
    rows = connection.execute(
        sa.select(_reminder).where(owed_to_participants).order_by(_reminder.c.id)
    ).mappings()
    back = [
        {
            "meeting_id": row["subject_id"],
            "case_id": row["case_id"],
            "sequence": int((row["params"] or {}).get("sequence", 0)),
            "due_at": row["due_at"],
            "status": row["status"],
            "channel": row["channel"],
            "attempts": row["attempts"],
            "last_error": row["last_error"],
            "sent_at": row["fired_at"],
            "created_at": row["created_at"],
        }
        for row in rows
    ]
    if back:
        connection.execute(_participant.insert(), back)
    connection.execute(_reminder.delete().where(owed_to_participants))

    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_reminder_case_id_case_record"), type_="foreignkey")
        batch_op.drop_constraint(op.f("ck_reminder_one_target"), type_="check")
        batch_op.drop_constraint(op.f("ck_reminder_attempts_nonnegative"), type_="check")
        batch_op.drop_constraint(op.f("ck_reminder_status_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reminder_status_valid"), OLD_STATUSES)
        batch_op.alter_column("recipient_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")
        batch_op.drop_column("channel")
        batch_op.drop_column("case_id")

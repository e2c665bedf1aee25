"""auth hardening: TOTP secrets encrypted at rest, pending logins on the server, code-step lockout,
API tokens with a label and their last use

Revision ID: 0012_auth_hardening
Revises: 0011_one_reminder_table
Create Date: 2026-12-06 09:00:00

`user_account.totp_secret` grows to hold a Fernet token and every stored secret is encrypted with
the installation's key (COORD_TOTP_ENCRYPTION_KEY, or the one derived from COORD_SECRET_KEY); the
downgrade decrypts them again. `pending_login` holds the step between password and code (the cookie
keeps only a nonce); `user_account` counts wrong codes for the account's code-step lock.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_auth_hardening"
down_revision = "0011_one_reminder_table"
branch_labels = None
depends_on = None

_users = sa.table("user_account", sa.column("id", sa.Integer), sa.column("totp_secret", sa.String))


def _rewrite_secrets(change) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_users.c.id, _users.c.totp_secret).where(_users.c.totp_secret.is_not(None))
    ).all()
    for user_id, secret in rows:
        connection.execute(
            _users.update().where(_users.c.id == user_id).values(totp_secret=change(secret))
        )


def upgrade():
    from coordination.auth.encryption import encrypt_text

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=255),
            existing_nullable=True,
        )
        batch_op.add_column(
            sa.Column("totp_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("totp_last_failure_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("totp_locked_until", sa.DateTime(timezone=True), nullable=True))
    _rewrite_secrets(encrypt_text)

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "pending_login",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.Column("enrol_secret", sa.String(length=255), nullable=True),
        sa.CheckConstraint(
            "end_reason IN ('completed', 'too_many_codes')",
            name=op.f("ck_pending_login_end_reason_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_pending_login_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_login")),
        sa.UniqueConstraint("nonce_hash", name=op.f("uq_pending_login_nonce_hash")),
    )
    op.create_index("ix_pending_login_user_id", "pending_login", ["user_id"], unique=False)


def downgrade():
    from coordination.auth.encryption import decrypt_text

    op.drop_index("ix_pending_login_user_id", table_name="pending_login")
    op.drop_table("pending_login")

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("label")

    _rewrite_secrets(decrypt_text)
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("totp_locked_until")
        batch_op.drop_column("totp_last_failure_at")
        batch_op.drop_column("totp_failures")
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=255),
            type_=sa.String(length=64),
            existing_nullable=True,
        )

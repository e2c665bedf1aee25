"""access log sweeper: requests only insert log rows; a sweeper chains them afterwards

Revision ID: 0014_access_log_sweeper
Revises: 0013_audit_hardening
Create Date: 2026-12-04 17:40:00

`access_log.chain_seq` is a row's place in the hash chain, given by the sweeper (NULL until it is
chained); the chain is walked in that order. Existing rows, chained at flush in id order, get
their id as their place. `access_log_checkpoint.last_seq` is the place of a checkpoint's last row.
The append-only guard now lets exactly one update through: filling in the chain columns of a row
still unchained, nothing else.

Downgrading restores the old guard; rows chained by the sweeper are linked in chain_seq order, which
the old verification (id order) may report as broken, and rows still unchained carry no hash.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_access_log_sweeper'
down_revision = '0013_audit_hardening'
branch_labels = None
depends_on = None

# Every column the sweeper must leave as it found it.
FIXED_COLUMNS = (
    "id at user_id unit_id role action object_type object_id person_id outcome channel break_glass "
    "reason"
).split()

GUARD_PG = """
CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.at < now() - interval '5 years' THEN
            RETURN OLD;  -- rows past the retention period may be erased, nothing younger
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        -- The sweeper chains a row once: its place and hashes, nothing else of it.
        IF OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
           AND to_jsonb(NEW) - '{chain_seq,prev_hash,hash}'::text[]
             = to_jsonb(OLD) - '{chain_seq,prev_hash,hash}'::text[] THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'access_log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""

OLD_GUARD_PG = """
CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < now() - interval '5 years' THEN
        RETURN OLD;  -- rows past the retention period may be erased, nothing younger
    END IF;
    RAISE EXCEPTION 'access_log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""

UNCHANGED_SQLITE = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in FIXED_COLUMNS)
GUARD_SQLITE = f"""CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
    WHEN NOT (OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL AND {UNCHANGED_SQLITE})
    BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END"""
OLD_GUARD_SQLITE = """CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
       BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END"""


def upgrade():
    op.add_column('access_log', sa.Column('chain_seq', sa.BigInteger(), nullable=True))
    op.add_column('access_log_checkpoint', sa.Column('last_seq', sa.BigInteger(), nullable=True))
    _guard(GUARD_PG, GUARD_SQLITE)
    # The rows so far were chained at flush, in id order: that is their place (through the guard).
    op.execute("UPDATE access_log SET chain_seq = id")
    op.execute("UPDATE access_log_checkpoint SET last_seq = last_id")
    op.create_index('uq_access_log_chain_seq', 'access_log', ['chain_seq'], unique=True)
    op.create_index(
        'ix_access_log_unchained', 'access_log', ['id'], unique=False,
        postgresql_where=sa.text('chain_seq IS NULL'), sqlite_where=sa.text('chain_seq IS NULL'),
    )


def downgrade():
    op.drop_index(
        'ix_access_log_unchained', table_name='access_log',
        postgresql_where=sa.text('chain_seq IS NULL'), sqlite_where=sa.text('chain_seq IS NULL'),
    )
    op.drop_index('uq_access_log_chain_seq', table_name='access_log')
    _guard(OLD_GUARD_PG, OLD_GUARD_SQLITE)
    op.drop_column('access_log_checkpoint', 'last_seq')
    op.drop_column('access_log', 'chain_seq')


def _guard(pg: str, sqlite: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(pg)
    elif bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS access_log_no_update")
        op.execute(sqlite)

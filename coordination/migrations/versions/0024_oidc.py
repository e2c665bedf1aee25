"""oidc: signing in through an organisation unit's OpenID Connect provider

Revision ID: 0024_oidc
Revises: 0023_socioeconomics
Create Date: 2026-12-05 00:00:00

DOMAIN.md §15.
- oidc_provider: a unit's identity provider (issuer, client id, the NAME of the environment
  variable holding the client secret, the claim that identifies the user, an optional lowest acr).
- user_account: hsa_id and personnummer_digest (a keyed digest, never the number), unique.
- user_session: how it began (password / oidc), the assurance level (acr), the provider, the ID
  token (encrypted) for RP-initiated logout, and the provider's sub and sid for back-channel logout.
- access_log: assurance, the acr of a sign-in (covered by the hash chain only where it is set).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0024_oidc'
down_revision = "0023_socioeconomics"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oidc_provider',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('secret_env', sa.String(length=100), nullable=False),
    sa.Column('claim', sa.String(length=20), nullable=False),
    sa.Column('min_acr', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("claim IN ('hsa_id', 'personnummer', 'email')", name=op.f('ck_oidc_provider_claim_valid')),
    sa.ForeignKeyConstraint(['unit_id'], ['organisation_unit.id'], name=op.f('fk_oidc_provider_unit_id_organisation_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_provider')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_oidc_provider_unit_id'))
    )
    # A plain ADD COLUMN (no table copy on SQLite): the access log's guard triggers stay.
    op.add_column('access_log', sa.Column('assurance', sa.String(length=200), nullable=True))

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hsa_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('personnummer_digest', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_hsa_id'), ['hsa_id'])
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_personnummer_digest'), ['personnummer_digest'])

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=10), server_default='password', nullable=False))
        batch_op.add_column(sa.Column('assurance', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('provider_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('id_token', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('provider_sub', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('provider_sid', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_user_session_provider_id', ['provider_id'], unique=False)
        batch_op.create_index('ix_user_session_provider_sid', ['provider_sid'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_user_session_provider_id_oidc_provider'), 'oidc_provider', ['provider_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(batch_op.f('ck_user_session_method_valid'), "method IN ('password', 'oidc')")


def downgrade():
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_user_session_method_valid'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_user_session_provider_id_oidc_provider'), type_='foreignkey')
        batch_op.drop_index('ix_user_session_provider_sid')
        batch_op.drop_index('ix_user_session_provider_id')
        batch_op.drop_column('provider_sid')
        batch_op.drop_column('provider_sub')
        batch_op.drop_column('id_token')
        batch_op.drop_column('provider_id')
        batch_op.drop_column('assurance')
        batch_op.drop_column('method')

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_account_personnummer_digest'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_user_account_hsa_id'), type_='unique')
        batch_op.drop_column('personnummer_digest')
        batch_op.drop_column('hsa_id')

    op.drop_column('access_log', 'assurance')

    op.drop_table('oidc_provider')

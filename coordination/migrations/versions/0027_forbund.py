"""forbund: several förbund on one installation, separated in the code and by row-level security

Revision ID: 0027_forbund
Revises: 0026_letterhead
Create Date: 2026-12-05 03:00:00

Creates the förbund table and the first förbund, which every existing row then belongs to
(DOMAIN.md §14); gives every tenant table its `forbund_id`, makes the natural keys unique per
förbund, and on PostgreSQL turns on row-level security keyed on `app.forbund_id`.
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

from coordination.tenancy import rls


# revision identifiers, used by Alembic.
revision = '0027_forbund'
down_revision = '0026_letterhead'
branch_labels = None
depends_on = None

# Natural keys that become unique per förbund: (table, constraint, old columns, kind).
PER_FORBUND = [
    ('code', 'uq_code_list_code', ['list_name', 'code']),
    ('member_organisation', 'uq_member_organisation_code', ['code']),
    ('member_organisation', 'uq_member_organisation_name', ['name']),
    ('organisation_unit', 'uq_organisation_unit_name', ['name']),
    ('day_off', 'uq_day_off_date', ['date']),
    ('person', 'uq_person_identity_number', ['identity_number']),
    ('programme', 'uq_programme_name', ['name']),
    ('socio_price_list', 'uq_socio_price_list_version', ['name', 'year', 'version']),
    ('notification_preference', 'uq_notification_preference_choice', ['user_id', 'kind', 'channel']),
]


def upgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    forbund = op.create_table('forbund',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forbund')),
    sa.UniqueConstraint('name', name=op.f('uq_forbund_name')),
    sa.UniqueConstraint('slug', name=op.f('uq_forbund_slug'))
    )
    # The first förbund: the one this installation served until now (named by its letterhead,
    # when one was saved). An administrator can rename it.
    name = bind.execute(sa.text('SELECT name FROM letterhead ORDER BY id LIMIT 1')).scalar()
    op.bulk_insert(forbund, [{
        'id': 1, 'slug': 'forbund-1', 'name': name or 'Samordningsförbundet', 'active': True,
        'created_at': datetime.now(UTC),
    }])
    if postgres:
        op.execute("SELECT setval(pg_get_serial_sequence('forbund', 'id'), 1)")
        op.execute(rls.CURRENT_FORBUND_FUNCTION)

    for table in rls.TENANT_TABLES:
        optional = table in rls.OPTIONAL_TABLES
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(
                'forbund_id', sa.Integer(), nullable=optional, server_default=sa.text('1')
            ))
            batch.create_foreign_key(
                f'fk_{table}_forbund_id_forbund', 'forbund', ['forbund_id'], ['id']
            )
        if postgres:
            op.execute(
                f'ALTER TABLE {table} ALTER COLUMN forbund_id SET DEFAULT current_forbund_id()'
            )
        else:
            with op.batch_alter_table(table) as batch:
                batch.alter_column('forbund_id', server_default=None)

    for table, constraint, columns in PER_FORBUND:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(constraint, type_='unique')
            batch.create_unique_constraint(constraint, ['forbund_id', *columns])
    with op.batch_alter_table('letterhead') as batch:
        batch.create_unique_constraint('uq_letterhead_forbund_id', ['forbund_id'])
    # A coordinator of two förbund has a profile (team, capacity) in each.
    with op.batch_alter_table('coordinator_profile') as batch:
        batch.drop_constraint('pk_coordinator_profile', type_='primary')
        batch.create_primary_key('pk_coordinator_profile', ['forbund_id', 'user_id'])
    op.drop_index('uq_access_log_chain_seq', table_name='access_log')
    op.create_index(
        'uq_access_log_chain_seq', 'access_log',
        [sa.text('coalesce(forbund_id, 0)'), 'chain_seq'], unique=True,
    )

    with op.batch_alter_table('user_account') as batch:
        batch.add_column(sa.Column('platform_role', sa.String(length=20), nullable=True))
        batch.create_check_constraint(
            'platform_role_valid', "platform_role IN ('platform_admin', 'national_analyst')"
        )
    with op.batch_alter_table('api_token') as batch:
        batch.add_column(sa.Column('forbund_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            'fk_api_token_forbund_id_forbund', 'forbund', ['forbund_id'], ['id'],
            ondelete='CASCADE',
        )
    op.execute('UPDATE api_token SET forbund_id = 1')
    with op.batch_alter_table('oidc_provider') as batch:
        batch.add_column(sa.Column('forbund_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            'fk_oidc_provider_forbund_id_forbund', 'forbund', ['forbund_id'], ['id'],
            ondelete='CASCADE',
        )
    op.execute('UPDATE oidc_provider SET forbund_id = 1')

    if postgres:
        op.execute(rls.USER_FORBUND_FUNCTION)
        for table in rls.TENANT_TABLES:
            for statement in rls.policy_statements(table):
                op.execute(statement)


def downgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    if postgres:
        for table in rls.TENANT_TABLES:
            op.execute(f'DROP POLICY IF EXISTS forbund_isolation ON {table}')
            op.execute(f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY')
    with op.batch_alter_table('oidc_provider') as batch:
        batch.drop_constraint('fk_oidc_provider_forbund_id_forbund', type_='foreignkey')
        batch.drop_column('forbund_id')
    with op.batch_alter_table('api_token') as batch:
        batch.drop_constraint('fk_api_token_forbund_id_forbund', type_='foreignkey')
        batch.drop_column('forbund_id')
    with op.batch_alter_table('user_account') as batch:
        batch.drop_constraint('platform_role_valid', type_='check')
        batch.drop_column('platform_role')
    op.drop_index('uq_access_log_chain_seq', table_name='access_log')
    op.create_index('uq_access_log_chain_seq', 'access_log', ['chain_seq'], unique=True)
    with op.batch_alter_table('coordinator_profile') as batch:
        batch.drop_constraint('pk_coordinator_profile', type_='primary')
        batch.create_primary_key('pk_coordinator_profile', ['user_id'])
    with op.batch_alter_table('letterhead') as batch:
        batch.drop_constraint('uq_letterhead_forbund_id', type_='unique')
    for table, constraint, columns in PER_FORBUND:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(constraint, type_='unique')
            batch.create_unique_constraint(constraint, columns)
    for table in rls.TENANT_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'fk_{table}_forbund_id_forbund', type_='foreignkey')
            batch.drop_column('forbund_id')
    if postgres:
        op.execute('DROP FUNCTION IF EXISTS user_forbund_ids(integer)')
        op.execute('DROP FUNCTION IF EXISTS current_forbund_id()')
    op.drop_table('forbund')

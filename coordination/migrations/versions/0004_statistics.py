"""statistics: SUS participant records, registrations per occasion, self-ratings, imports

Revision ID: 0004_statistics
Revises: 0001_foundation
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004_statistics"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sus_import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('participant_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_id'], ['user_account.id'], name=op.f('fk_sus_import_batch_imported_by_id_user_account')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_sus_import_batch_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sus_import_batch'))
    )
    op.create_table('sus_participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('participant_ref', sa.String(length=80), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.Column('gender', sa.String(length=20), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('home_municipality', sa.String(length=100), nullable=True),
    sa.Column('referring_agency', sa.String(length=40), nullable=True),
    sa.Column('enrolled_on', sa.Date(), nullable=False),
    sa.Column('exited_on', sa.Date(), nullable=True),
    sa.Column('exit_reason', sa.String(length=80), nullable=True),
    sa.Column('age_at_enrolment', sa.Integer(), nullable=True),
    sa.Column('months_in_programme', sa.Integer(), nullable=True),
    sa.Column('rating_due_recorded_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('import', 'live')", name=op.f('ck_sus_participant_source_valid')),
    sa.CheckConstraint('exited_on IS NULL OR exited_on >= enrolled_on', name=op.f('ck_sus_participant_exit_after_enrolment')),
    sa.ForeignKeyConstraint(['import_batch_id'], ['sus_import_batch.id'], name=op.f('fk_sus_participant_import_batch_id_sus_import_batch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_sus_participant_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sus_participant'))
    )
    with op.batch_alter_table('sus_participant', schema=None) as batch_op:
        batch_op.create_index('ix_sus_participant_enrolled', ['programme_id', 'enrolled_on'], unique=False)
        batch_op.create_index('ix_sus_participant_enrolled_on', ['enrolled_on'], unique=False)
        batch_op.create_index('ix_sus_participant_exited', ['programme_id', 'exited_on'], unique=False)
        batch_op.create_index('ix_sus_participant_exited_on', ['exited_on'], unique=False)
        batch_op.create_index('ix_sus_participant_ref', ['participant_ref'], unique=False)
        batch_op.create_index('uq_sus_participant_case', ['case_id'], unique=True)

    op.create_table('sus_registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('occasion', sa.String(length=20), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=True),
    sa.Column('work', sa.String(length=80), nullable=True),
    sa.Column('occupation', sa.String(length=80), nullable=True),
    sa.Column('education', sa.String(length=80), nullable=True),
    sa.Column('time_on_support', sa.String(length=80), nullable=True),
    sa.CheckConstraint("occasion IN ('intake', 'exit', 'follow_up_6', 'follow_up_12')", name=op.f('ck_sus_registration_occasion_valid')),
    sa.ForeignKeyConstraint(['participant_id'], ['sus_participant.id'], name=op.f('fk_sus_registration_participant_id_sus_participant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sus_registration')),
    sa.UniqueConstraint('participant_id', 'occasion', name='uq_sus_registration_occasion')
    )
    with op.batch_alter_table('sus_registration', schema=None) as batch_op:
        batch_op.create_index('ix_sus_registration_occasion', ['occasion', 'participant_id'], unique=False)

    op.create_table('sus_support',
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('occasion', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['sus_participant.id'], name=op.f('fk_sus_support_participant_id_sus_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['sus_registration.id'], name=op.f('fk_sus_support_registration_id_sus_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('registration_id', 'code', name=op.f('pk_sus_support'))
    )
    with op.batch_alter_table('sus_support', schema=None) as batch_op:
        batch_op.create_index('ix_sus_support_occasion_participant', ['occasion', 'participant_id', 'code'], unique=False)

    op.create_table('progression_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('rated_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('job_search_clarity', sa.Integer(), nullable=False),
    sa.Column('use_of_competences', sa.Integer(), nullable=False),
    sa.Column('managing_a_job', sa.Integer(), nullable=False),
    sa.Column('time_available', sa.Integer(), nullable=False),
    sa.Column('health_for_work', sa.Integer(), nullable=False),
    sa.Column('network_support', sa.Integer(), nullable=False),
    sa.Column('contacting_strangers', sa.Integer(), nullable=False),
    sa.Column('cooperation', sa.Integer(), nullable=False),
    sa.Column('managing_studies', sa.Integer(), nullable=False),
    sa.Column('job_goal_clarity', sa.Integer(), nullable=False),
    sa.CheckConstraint('contacting_strangers BETWEEN 1 AND 10', name=op.f('ck_progression_rating_contacting_strangers_range')),
    sa.CheckConstraint('cooperation BETWEEN 1 AND 10', name=op.f('ck_progression_rating_cooperation_range')),
    sa.CheckConstraint('health_for_work BETWEEN 1 AND 10', name=op.f('ck_progression_rating_health_for_work_range')),
    sa.CheckConstraint('job_goal_clarity BETWEEN 1 AND 10', name=op.f('ck_progression_rating_job_goal_clarity_range')),
    sa.CheckConstraint('job_search_clarity BETWEEN 1 AND 10', name=op.f('ck_progression_rating_job_search_clarity_range')),
    sa.CheckConstraint('managing_a_job BETWEEN 1 AND 10', name=op.f('ck_progression_rating_managing_a_job_range')),
    sa.CheckConstraint('managing_studies BETWEEN 1 AND 10', name=op.f('ck_progression_rating_managing_studies_range')),
    sa.CheckConstraint('network_support BETWEEN 1 AND 10', name=op.f('ck_progression_rating_network_support_range')),
    sa.CheckConstraint('time_available BETWEEN 1 AND 10', name=op.f('ck_progression_rating_time_available_range')),
    sa.CheckConstraint('use_of_competences BETWEEN 1 AND 10', name=op.f('ck_progression_rating_use_of_competences_range')),
    sa.ForeignKeyConstraint(['participant_id'], ['sus_participant.id'], name=op.f('fk_progression_rating_participant_id_sus_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_progression_rating_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progression_rating')),
    sa.UniqueConstraint('participant_id', 'rated_on', name='uq_progression_rating_day')
    )
    with op.batch_alter_table('progression_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progression_rating_participant_id'), ['participant_id'], unique=False)


def downgrade():
    op.drop_table("progression_rating")
    with op.batch_alter_table("sus_support", schema=None) as batch_op:
        batch_op.drop_index("ix_sus_support_occasion_participant")
    op.drop_table("sus_support")
    with op.batch_alter_table("sus_registration", schema=None) as batch_op:
        batch_op.drop_index("ix_sus_registration_occasion")
    op.drop_table("sus_registration")
    with op.batch_alter_table("sus_participant", schema=None) as batch_op:
        batch_op.drop_index("uq_sus_participant_case")
        batch_op.drop_index("ix_sus_participant_ref")
        batch_op.drop_index("ix_sus_participant_exited_on")
        batch_op.drop_index("ix_sus_participant_exited")
        batch_op.drop_index("ix_sus_participant_enrolled_on")
        batch_op.drop_index("ix_sus_participant_enrolled")
    op.drop_table("sus_participant")
    op.drop_table("sus_import_batch")

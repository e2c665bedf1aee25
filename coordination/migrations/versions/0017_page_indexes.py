"""page indexes: the indexes the list pages' own queries need, chosen from their plans

Revision ID: 0017_page_indexes
Revises: 0016_case_indexes
Create Date: 2026-12-04 18:00:00

A user's coming meetings (the meetings page): their invitations (`meeting_attendee(user_id)`),
the meetings they organise (`meeting(organiser_id, starts_at)`) and those not yet ended
(`meeting(ends_at)`); each was a sequential scan of its table at 500,000 meetings. The search of the
statistics' participants by reference ignores case (`lower(participant_ref)`).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_page_indexes'
down_revision = '0016_case_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_meeting_attendee_user', 'meeting_attendee', ['user_id', 'meeting_id'])
    op.create_index('ix_meeting_organiser_starts', 'meeting', ['organiser_id', 'starts_at'])
    op.create_index('ix_meeting_ends', 'meeting', ['ends_at'])
    op.create_index(
        'ix_sus_participant_ref_lower', 'sus_participant', [sa.text('lower(participant_ref)')]
    )


def downgrade():
    op.drop_index('ix_sus_participant_ref_lower', table_name='sus_participant')
    op.drop_index('ix_meeting_ends', table_name='meeting')
    op.drop_index('ix_meeting_organiser_starts', table_name='meeting')
    op.drop_index('ix_meeting_attendee_user', table_name='meeting_attendee')

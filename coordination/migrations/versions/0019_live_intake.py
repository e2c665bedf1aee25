"""live intake: every enrolled case gets its SUS record and intake registration

Revision ID: 0019_live_intake
Revises: 0018_more_page_indexes
Create Date: 2026-12-05 10:00:00

A participant now enters the statistics when the case is enrolled (../shared/DOMAIN.md §12, "the
live programme counts from its first day"), not at its exit. Cases enrolled before this change
have no SUS record until they exit, so the reports of the current year miss today's participants.
This data migration gives every case that has been enrolled (enrolled, active, paused, exiting
or closed, with an enrolment date) and has no SUS record one, with its intake registration taken
from the referral as the application makes it (statistics.intake.ensure_sus_participant): gender
and birth year of the person, home municipality, referring agency, occupation, education, time
on support and means of support, each only when it is a code offered today. A live record
without an intake registration gets one too. Plain SQL through table stubs, PostgreSQL and
SQLite alike; the application's models are not imported, since they change after this revision.

Downgrade keeps the records: they are what the application would have made at the exit anyway.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019_live_intake'
down_revision = '0018_more_page_indexes'
branch_labels = None
depends_on = None

ENROLLED_STATES = ('enrolled', 'active', 'paused', 'exiting', 'closed')
AGENCIES = ('kommun', 'af', 'fk', 'region')
CHUNK = 500

case_t = sa.table(
    'case_record',
    sa.column('id', sa.Integer),
    sa.column('programme_id', sa.Integer),
    sa.column('person_id', sa.Integer),
    sa.column('referral_id', sa.Integer),
    sa.column('state', sa.String),
    sa.column('enrolled_on', sa.Date),
)
person_t = sa.table(
    'person',
    sa.column('id', sa.Integer),
    sa.column('gender', sa.String),
    sa.column('birth_date', sa.Date),
)
referral_t = sa.table(
    'referral',
    sa.column('id', sa.Integer),
    sa.column('referring_unit_id', sa.Integer),
    sa.column('home_municipality', sa.String),
    sa.column('occupation', sa.String),
    sa.column('education', sa.String),
    sa.column('time_on_support', sa.String),
    sa.column('support_current', sa.JSON),
)
unit_t = sa.table(
    'organisation_unit', sa.column('id', sa.Integer), sa.column('agency_kind', sa.String)
)
code_t = sa.table(
    'code',
    sa.column('list_name', sa.String),
    sa.column('code', sa.String),
    sa.column('historical', sa.Boolean),
)
participant_t = sa.table(
    'sus_participant',
    sa.column('id', sa.Integer),
    sa.column('programme_id', sa.Integer),
    sa.column('participant_ref', sa.String),
    sa.column('case_id', sa.Integer),
    sa.column('source', sa.String),
    sa.column('gender', sa.String),
    sa.column('birth_year', sa.Integer),
    sa.column('home_municipality', sa.String),
    sa.column('referring_agency', sa.String),
    sa.column('enrolled_on', sa.Date),
    sa.column('age_at_enrolment', sa.Integer),
    sa.column('created_at', sa.DateTime(timezone=True)),
)
registration_t = sa.table(
    'sus_registration',
    sa.column('id', sa.Integer),
    sa.column('participant_id', sa.Integer),
    sa.column('occasion', sa.String),
    sa.column('registered_on', sa.Date),
    sa.column('work', sa.String),
    sa.column('occupation', sa.String),
    sa.column('education', sa.String),
    sa.column('time_on_support', sa.String),
)
support_t = sa.table(
    'sus_support',
    sa.column('registration_id', sa.Integer),
    sa.column('code', sa.String),
    sa.column('participant_id', sa.Integer),
    sa.column('occasion', sa.String),
)


def _offered(bind) -> dict[str, set[str]]:
    offered: dict[str, set[str]] = {}
    rows = bind.execute(
        sa.select(code_t.c.list_name, code_t.c.code).where(code_t.c.historical == sa.false())
    )
    for list_name, code in rows:
        offered.setdefault(list_name, set()).add(code)
    return offered


def _enrolled_cases_without_record():
    return (
        sa.select(
            case_t.c.id,
            case_t.c.programme_id,
            case_t.c.enrolled_on,
            person_t.c.gender,
            person_t.c.birth_date,
            referral_t.c.home_municipality,
            unit_t.c.agency_kind,
        )
        .select_from(
            case_t.join(person_t, person_t.c.id == case_t.c.person_id)
            .join(referral_t, referral_t.c.id == case_t.c.referral_id)
            .outerjoin(unit_t, unit_t.c.id == referral_t.c.referring_unit_id)
        )
        .where(
            case_t.c.enrolled_on.is_not(None),
            case_t.c.state.in_(ENROLLED_STATES),
            ~sa.exists().where(participant_t.c.case_id == case_t.c.id),
        )
        .order_by(case_t.c.id)
    )


def _live_records_without_intake():
    intake = sa.exists().where(
        registration_t.c.participant_id == participant_t.c.id,
        registration_t.c.occasion == 'intake',
    )
    return (
        sa.select(
            participant_t.c.id,
            participant_t.c.enrolled_on,
            referral_t.c.occupation,
            referral_t.c.education,
            referral_t.c.time_on_support,
            referral_t.c.support_current,
        )
        .select_from(
            participant_t.join(case_t, case_t.c.id == participant_t.c.case_id).join(
                referral_t, referral_t.c.id == case_t.c.referral_id
            )
        )
        .where(participant_t.c.source == 'live', ~intake)
        .order_by(participant_t.c.id)
    )


def _chunks(rows):
    rows = list(rows)
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def upgrade():
    bind = op.get_bind()
    offered = _offered(bind)

    def code(list_name, value):
        return value if value in offered.get(list_name, set()) else None

    now = datetime.now(UTC)
    for chunk in _chunks(bind.execute(_enrolled_cases_without_record()).all()):
        bind.execute(
            participant_t.insert(),
            [
                {
                    'programme_id': row.programme_id,
                    'participant_ref': f'case-{row.id}',
                    'case_id': row.id,
                    'source': 'live',
                    'gender': code('gender', row.gender),
                    'birth_year': row.birth_date.year if row.birth_date else None,
                    'home_municipality': row.home_municipality,
                    'referring_agency': row.agency_kind if row.agency_kind in AGENCIES else None,
                    'enrolled_on': row.enrolled_on,
                    'age_at_enrolment': (
                        row.enrolled_on.year - row.birth_date.year if row.birth_date else None
                    ),
                    'created_at': now,
                }
                for row in chunk
            ],
        )

    for chunk in _chunks(bind.execute(_live_records_without_intake()).all()):
        bind.execute(
            registration_t.insert(),
            [
                {
                    'participant_id': row.id,
                    'occasion': 'intake',
                    'registered_on': row.enrolled_on,
                    'work': None,
                    'occupation': code('occupation', row.occupation),
                    'education': code('education', row.education),
                    'time_on_support': code('time_on_support', row.time_on_support),
                }
                for row in chunk
            ],
        )
        made = dict(
            bind.execute(
                sa.select(registration_t.c.participant_id, registration_t.c.id).where(
                    registration_t.c.occasion == 'intake',
                    registration_t.c.participant_id.in_([row.id for row in chunk]),
                )
            ).all()
        )
        supports = [
            {
                'registration_id': made[row.id],
                'code': support,
                'participant_id': row.id,
                'occasion': 'intake',
            }
            for row in chunk
            for support in dict.fromkeys(row.support_current or [])
            if support in offered.get('support', set())
        ]
        if supports:
            bind.execute(support_t.insert(), supports)


def downgrade():
    # The records stay: they are what the application makes at enrolment (and made at the exit).
    pass

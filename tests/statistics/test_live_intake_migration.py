"""0019_live_intake: cases enrolled before the live intake existed get their SUS record.

Here on PostgreSQL, run inside the test's transaction; tests/test_sqlite_default.py runs it on
the SQLite database of `make run` (downgrade, upgrade) after the demo's record is removed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import delete, func, select

from coordination.extensions import db
from coordination.statistics import reports
from coordination.statistics.models import SusParticipant, SusRegistration
from coordination.statistics.queries import participant_for_case
from coordination.statistics.reports.base import Filters
from tests.factories import admit_case, make_case, make_programme, make_return_referral

MIGRATION = (
    Path(__file__).resolve().parents[2] / "coordination/migrations/versions/0019_live_intake.py"
)


def run_live_intake_migration(connection) -> None:
    """Run the revision's upgrade on a connection (as `flask db upgrade` would)."""
    spec = importlib.util.spec_from_file_location("live_intake_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with Operations.context(MigrationContext.configure(connection)):
        module.upgrade()


def _forget(case_id: int) -> None:
    """Remove a case's SUS record, as before the live intake existed."""
    db.session.execute(delete(SusParticipant).where(SusParticipant.case_id == case_id))
    db.session.commit()


def test_the_migration_gives_enrolled_cases_their_record_and_intake():
    programme = make_programme(capacity=3)
    active = make_case(programme=programme, home_municipality="0780")
    paused_later = make_case(programme=programme)
    exited = make_return_referral("draft", case=admit_case(programme=programme)).case
    waiting = admit_case(programme=programme)
    assert waiting.state == "waiting"
    kept = participant_for_case(exited.id)
    kept_id = kept.id
    _forget(active.id)
    # A record without its intake registration gets one; the exit's stays as it was.
    db.session.execute(
        delete(SusRegistration).where(
            SusRegistration.participant_id == participant_for_case(paused_later.id).id,
            SusRegistration.occasion == "intake",
        )
    )
    db.session.commit()
    counted = reports.run("participants", Filters(programme_id=programme.id)).rows
    assert counted[1].counts["total"] == 2  # active and exited are not yet counted in full

    run_live_intake_migration(db.session.connection())
    db.session.expire_all()

    made = participant_for_case(active.id)
    assert (made.participant_ref, made.source, made.programme_id) == (
        f"case-{active.id}",
        "live",
        programme.id,
    )
    assert made.enrolled_on == active.enrolled_on
    assert (made.gender, made.birth_year) == ("kvinna", active.person.birth_date.year)
    assert made.age_at_enrolment == active.enrolled_on.year - made.birth_year
    assert (made.home_municipality, made.referring_agency) == ("0780", "kommun")
    intake = made.registration("intake")
    assert (intake.registered_on, intake.work, intake.occupation, intake.education) == (
        active.enrolled_on,
        None,
        "arbetssokande_utan_sysselsattning",
        "gymnasium",
    )
    assert (intake.time_on_support, intake.support_codes) == ("upp_till_2_ar", ["forsorjningsstod"])
    assert participant_for_case(paused_later.id).registration("intake").support_codes == [
        "forsorjningsstod"
    ]
    assert participant_for_case(exited.id).id == kept_id
    assert participant_for_case(waiting.id) is None
    counted = reports.run("participants", Filters(programme_id=programme.id)).rows
    assert [(r.code, r.counts["total"]) for r in counted] == [
        ("enrolled", 3),
        ("active", 3),
        ("exited", 1),
    ]

    records = db.session.scalar(select(func.count()).select_from(SusParticipant))
    run_live_intake_migration(db.session.connection())  # a second run changes nothing
    assert db.session.scalar(select(func.count()).select_from(SusParticipant)) == records

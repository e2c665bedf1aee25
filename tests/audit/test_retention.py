"""Retention: personal data of long-closed business is erased; open business is kept."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from coordination.consent.models import Consent
from coordination.core.db import utcnow
from coordination.extensions import db
from coordination.people.models import Person
from coordination.people.retention import due_for_erasure, erase_expired
from coordination.referrals.models import Referral, ReferralHistory
from tests.factories import make_referral
from tests.notifications.conftest import enqueued  # noqa: F401


def _age(referral, years: float) -> None:
    db.session.execute(
        update(ReferralHistory)
        .where(ReferralHistory.referral_id == referral.id)
        .values(at=utcnow() - timedelta(days=365.25 * years))
    )
    db.session.commit()


def test_withdrawn_long_ago_is_erased_and_open_is_kept():
    old = make_referral("withdrawn", first_name="Gammal")
    recent = make_referral("withdrawn")
    still_open = make_referral("submitted")
    _age(old, 6)
    _age(still_open, 6)
    person_id = old.person_id
    assert due_for_erasure(utcnow(), 5) == [person_id]
    assert erase_expired(utcnow(), 5) == 1
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Person, person_id) is None
    erased = db.session.get(Referral, old.id)
    assert erased.first_name == "" and erased.identity_number == "" and erased.person_id is None
    assert erased.state == "withdrawn"  # the statistics keep the referral without identity
    assert not db.session.scalars(select(Consent).where(Consent.person_id == person_id)).all()
    assert db.session.get(Referral, recent.id).person_id is not None
    assert db.session.get(Referral, still_open.id).person_id is not None


# --- no free text about an erased person is left anywhere ------------------------------------

SECRET = "HEMLIGT"  # in every text typed about the erased people in the test below


def _texts_left(marker: str) -> list[tuple[str, str]]:
    """Return (table, column) of every text or JSON column that still holds the marker."""
    columns = db.session.execute(
        text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND data_type IN ('text', 'character varying', 'json', 'jsonb')"
        )
    ).all()
    found = []
    for table, column in columns:
        hit = db.session.scalar(
            text(f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE :marker'),
            {"marker": f"%{marker}%"},
        )
        if hit:
            found.append((table, column))
    return found


def _statistics(programme_id: int) -> dict:
    from coordination.statistics.reports.base import Filters
    from coordination.statistics.reports.referrals import joint_recommendation, referral_funnel

    filters = Filters(programme_id=programme_id)
    return {
        report.name: [(row.code, row.counts) for row in report.rows]
        for report in (referral_funnel(filters, None), joint_recommendation(filters, None))
    }


@pytest.mark.usefixtures("enqueued")  # the decisions' notifications are not sent anywhere
def test_erasure_leaves_no_free_text_about_the_person_but_keeps_the_counts():
    from coordination.cases.models import Case
    from coordination.conferences.models import AgencyPosition, Decision
    from coordination.meetings import ladder
    from coordination.referrals import operations as referral_ops
    from tests.factories import (
        admit_case,
        case_conference,
        decide_referral,
        make_meeting,
        make_programme,
        make_user,
    )

    programme = make_programme()
    conference = case_conference(programme)
    lead = conference.chair.user
    typed = {
        "background": f"{SECRET} bakgrund om missbruk.",
        "question_to_conference": f"{SECRET} fråga till remissgruppen.",
    }
    # Withdrawn: the reason stays in the history's note too.
    withdrawn = make_referral("submitted", programme=programme, **typed)
    referral_ops.withdraw(withdrawn, by=withdrawn.referrer, reason=f"{SECRET} flyttade.")
    # Recommended: sent back for completion once, then decided with the written text.
    recommended = make_referral("submitted", programme=programme, **typed)
    referral_ops.request_completion(recommended, by=lead, note=f"{SECRET} komplettera hälsan.")
    referral_ops.submit(recommended, by=recommended.referrer)
    db.session.commit()
    from coordination.conferences import agenda as conf_agenda

    conf_agenda.add_to_agenda(conference, recommended, by=lead)
    db.session.commit()
    decide_referral(
        recommended,
        conference,
        recommendation=f"{SECRET} rekommendation om vård.",
        positions={a: f"{SECRET} {a} tillstyrker." for a in conference.present_agencies},
    )
    # Admitted: a case with an escalation decided with a comment, then closed.
    case = admit_case(programme=programme, **typed)
    coordinator = case.active_assignment.coordinator
    past = utcnow().replace(microsecond=0) - timedelta(days=20)
    for day in range(3):
        start = past + timedelta(days=day)
        meeting = make_meeting(case, starts_at=start, now=start - timedelta(days=1))
        ladder.record_attendance(meeting, status="missed", by=coordinator, reason=f"{SECRET} sjuk.")
    ladder.decide_escalation(
        case, decision="continue", comment=f"{SECRET} ny plan.", by=make_user("team_lead")
    )
    db.session.commit()
    db.session.execute(update(Case).where(Case.id == case.id).values(state="closed"))
    db.session.commit()
    later = utcnow() + timedelta(days=round(365.25 * 6))  # rather than ageing every entry
    people = {withdrawn.person_id, recommended.person_id, case.person_id}
    assert _texts_left(SECRET)  # the scan finds what was typed
    before = _statistics(programme.id)

    assert people <= set(due_for_erasure(later, 5))
    erase_expired(later, 5)
    db.session.commit()
    db.session.expire_all()

    assert _texts_left(SECRET) == []
    assert _statistics(programme.id) == before
    # The rows the statistics count are kept, without identity.
    decision = db.session.get(Decision, db.session.get(Referral, recommended.id).decision_id)
    assert decision.outcome == "recommend" and decision.recommendation == "[gallrad]"
    positions = db.session.scalars(
        select(AgencyPosition).where(AgencyPosition.decision_id == decision.id)
    ).all()
    assert {p.agency for p in positions} == set(conference.present_agencies)
    assert {p.stance for p in positions} == {"[gallrad]"}
    history = db.session.scalars(
        select(ReferralHistory)
        .where(ReferralHistory.referral_id == withdrawn.id)
        .order_by(ReferralHistory.id)
    ).all()
    assert [h.to_state for h in history][-1] == "withdrawn"
    assert all(h.note is None for h in history)
    for person_id in people:
        assert db.session.get(Person, person_id) is None

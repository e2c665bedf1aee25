"""Two team leads decide one referral at once: the row lock lets one win, the other gets 409."""

import threading

import pytest
from sqlalchemy import func, select

from coordination.audit.models import AccessLogEntry
from coordination.conferences import decisions as decision_ops
from coordination.conferences import operations as ops
from coordination.conferences.models import AgendaItem, Conference, Decision
from coordination.extensions import db
from coordination.referrals.models import Referral
from coordination.tenancy import context as tenancy
from tests.committed import purge, snapshot
from tests.conftest import FIRST_FORBUND
from tests.factories import make_referral, make_user, token_headers


@pytest.mark.committing
def test_two_simultaneous_decisions_one_wins_the_other_gets_409(app, api):
    marks = snapshot()
    log_rows_before = db.session.scalar(select(func.count()).select_from(AccessLogEntry))
    try:
        referral = make_referral("on_agenda")
        referral_id = referral.id
        conference_id = db.session.scalar(
            select(AgendaItem.conference_id).where(AgendaItem.referral_id == referral_id)
        )
        conference = db.session.get(Conference, conference_id)
        ops.record_attendance(
            conference,
            present_user_ids=[m.user_id for m in conference.members],
            by=conference.chair.user,
        )
        db.session.commit()
        first_lead_id = conference.chair.user_id
        second_lead = make_user("team_lead")
        headers = token_headers(second_lead)
        positions = {a: "Tillstyrker." for a in conference.present_agencies}
        body = {
            "conference_id": conference_id,
            "outcome": "recommend",
            "recommendation": "Den andra ledamotens rekommendation.",
            "positions": [{"agency": a, "position": p} for a, p in positions.items()],
        }
        db.session.remove()

        holding, release = threading.Event(), threading.Event()
        outcome: dict = {}

        def first_decides_and_holds_the_lock():
            with app.app_context(), tenancy.use(FIRST_FORBUND):
                try:
                    chair = db.session.get(Conference, conference_id).chair.user
                    decision_ops.decide(
                        referral_id,
                        conference=db.session.get(Conference, conference_id),
                        by=chair,
                        data=decision_ops.DecisionInput(
                            outcome="recommend",
                            recommendation="Den första ledamotens rekommendation.",
                            positions=positions,
                        ),
                    )
                    holding.set()
                    release.wait(timeout=20)
                    db.session.commit()
                    outcome["first"] = "committed"
                except Exception as exc:  # pragma: no cover - reported below
                    outcome["first"] = repr(exc)
                    holding.set()
                finally:
                    db.session.remove()

        def second_decides_through_the_api():
            response = api.post(
                f"/api/v1/referrals/{referral_id}/decision", json=body, headers=headers
            )
            outcome["second"] = (response.status_code, response.get_json())

        first = threading.Thread(target=first_decides_and_holds_the_lock)
        first.start()
        assert holding.wait(timeout=20)
        second = threading.Thread(target=second_decides_through_the_api)
        second.start()
        second.join(timeout=1.0)
        assert second.is_alive(), "the second decision must wait for the first one's row lock"
        release.set()
        first.join(timeout=20)
        second.join(timeout=20)

        assert outcome["first"] == "committed"
        status, problem = outcome["second"]
        assert status == 409
        assert "redan beslutad" in problem["detail"]
        decided = db.session.get(Referral, referral_id)
        assert decided.state == "decided"
        decisions = db.session.scalars(
            select(Decision).where(Decision.conference_id == conference_id)
        ).all()
        assert [d.recommendation for d in decisions] == ["Den första ledamotens rekommendation."]
        assert decisions[0].decided_by_id == first_lead_id
        assert problem["decision_id"] == decisions[0].id
        log_rows_after = db.session.scalar(select(func.count()).select_from(AccessLogEntry))
        assert log_rows_after == log_rows_before  # nothing this test cannot clean up
    finally:
        release_all = locals().get("release")
        if release_all is not None:
            release_all.set()
        purge(marks)

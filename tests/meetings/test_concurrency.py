"""The third miss recorded twice at the same moment opens one escalation: the case row lock
serialises the two, and the partial unique index refuses a second open escalation anyway."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from coordination.extensions import db
from coordination.meetings import ladder
from coordination.meetings.models import Escalation, LadderStep, Meeting
from coordination.tenancy import context as tenancy
from tests.committed import purge, snapshot
from tests.conftest import FIRST_FORBUND
from tests.factories import make_case, make_meeting

PAST = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)


def _two_misses_and_two_open_meetings():
    case = make_case()
    coordinator = case.active_assignment.coordinator
    ids = []
    for day in range(4):
        start = PAST + timedelta(days=day)
        meeting = make_meeting(case, starts_at=start, now=start - timedelta(days=1))
        ids.append(meeting.id)
        if day < 2:
            ladder.record_attendance(meeting, status="missed", by=coordinator)
    db.session.commit()
    return case.id, coordinator.id, ids[2], ids[3]


@pytest.mark.committing
@pytest.mark.parametrize("same_meeting", [False, True], ids=["two meetings", "one meeting"])
def test_two_simultaneous_third_misses_open_one_escalation(app, enqueued, same_meeting):
    marks = snapshot()
    release = threading.Event()
    try:
        case_id, coordinator_id, first_id, second_id = _two_misses_and_two_open_meetings()
        if same_meeting:
            second_id = first_id
        db.session.remove()
        holding = threading.Event()
        outcome: dict = {}

        def record(name: str, meeting_id: int, hold: bool):
            with app.app_context(), tenancy.use(FIRST_FORBUND):
                try:
                    from coordination.auth.models import User

                    by = db.session.get(User, coordinator_id)
                    result = ladder.record_attendance(
                        db.session.get(Meeting, meeting_id), status="missed", by=by
                    )
                    if hold:
                        holding.set()
                        release.wait(timeout=20)
                    db.session.commit()
                    outcome[name] = [a.value for a in result.actions]
                except Exception as exc:  # pragma: no cover - reported below
                    outcome[name] = repr(exc)
                    holding.set()
                finally:
                    db.session.remove()

        first = threading.Thread(target=record, args=("first", first_id, True))
        first.start()
        assert holding.wait(timeout=20)
        second = threading.Thread(target=record, args=("second", second_id, False))
        second.start()
        second.join(timeout=1.0)
        assert second.is_alive(), "the second registration must wait for the case's row lock"
        release.set()
        first.join(timeout=20)
        second.join(timeout=20)

        assert outcome["first"] == ["open_escalation"]
        assert outcome["second"] == []  # a fourth miss, or the same one again: nothing new
        escalations = db.session.scalars(
            select(Escalation).where(Escalation.case_id == case_id)
        ).all()
        assert len(escalations) == 1 and escalations[0].status == "open"
        opened = db.session.scalar(
            select(func.count()).where(
                LadderStep.case_id == case_id, LadderStep.kind == "escalation_opened"
            )
        )
        assert opened == 1
    finally:
        release.set()
        purge(marks)


def test_the_database_refuses_a_second_open_escalation_for_a_case():
    case_id, *_rest = _two_misses_and_two_open_meetings()
    now = datetime.now(UTC)
    db.session.add(Escalation(case_id=case_id, status="open", missed_count=3, decision_due_at=now))
    db.session.flush()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(
            Escalation(case_id=case_id, status="open", missed_count=3, decision_due_at=now)
        )
        db.session.flush()

"""The demo data `make run` loads: every role has something to look at."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from coordination.action_plans.operations import latest_version, missing_of
from coordination.auth.models import User
from coordination.auth.security import enrol_totp
from coordination.cases.models import Case
from coordination.conferences.models import Conference
from coordination.demo import DEMO_PASSWORD, load_demo
from coordination.extensions import db
from coordination.meetings.models import Meeting
from notifications.models import Notification


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_the_demo_has_an_admitted_case_with_a_plan_to_sign_and_a_meeting(client):
    logins = load_demo()
    db.session.commit()
    assert ("koordinator@demo.example", "coordinator") in logins
    conference = db.session.scalar(select(Conference))
    assert conference.state == "published" and len(conference.agenda) == 2
    case = db.session.scalar(select(Case))
    coordinator = _user("koordinator@demo.example")
    assert case.state == "enrolled" and case.coordinator_id == coordinator.id
    assert missing_of(latest_version(case.id)) == ["af", "kommun"]  # the participant signed
    meetings = db.session.scalars(select(Meeting).where(Meeting.case_id == case.id)).all()
    assert len(meetings) == 1
    for signer in ("remittent.af@demo.example", "remittent.kommun@demo.example"):
        asked = db.session.scalars(
            select(Notification.kind).where(Notification.recipient_id == _user(signer).id)
        ).all()
        assert "plan_sign_off_requested" in asked, signer
    enrol_totp(coordinator, pyotp.random_base32())
    db.session.commit()
    client.login(coordinator.email, DEMO_PASSWORD)
    caseload = client.get("/cases/").get_data(as_text=True)
    assert "Aisha Demosson" in caseload
    plan = client.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    assert "Jag vill jobba med djur" in plan

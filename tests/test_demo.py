"""The demo data `make run` loads: every role has something to look at, and a journey works.

The checks here run on the suite's PostgreSQL; tests/test_sqlite_default.py runs the same ones on
the SQLite file database that `make run` uses by default.
"""

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
from coordination.referrals.models import Referral
from notifications.models import Notification
from tests.conftest import FormClient


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _referral(first_name: str) -> Referral:
    return db.session.scalar(select(Referral).where(Referral.first_name == first_name))


def sign_in(app, email: str) -> FormClient:
    """Return a browser of the demo person, signed in (with the authenticator where it is on)."""
    user = _user(email)
    if app.config["COORD"]["REQUIRE_TOTP"] and user.totp_enrolled_at is None:
        enrol_totp(user, pyotp.random_base32())
        db.session.commit()
    browser = FormClient(app.test_client())
    response = browser.login(email, DEMO_PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def check_the_demo(app, logins) -> None:
    """The demo has an admitted case with a plan to sign and a meeting; its coordinator sees it."""
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
    browser = sign_in(app, coordinator.email)
    caseload = browser.get("/cases/").get_data(as_text=True)
    assert "Aisha Demosson" in caseload
    plan = browser.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    assert "Jag vill jobba med djur" in plan
    # The live programme counts from its first day: the case is in the reports, intake complete.
    from coordination.statistics import reports
    from coordination.statistics.reports.base import Filters

    counted = reports.run("participants", Filters()).rows
    # Beside the ten participants of the history (five women, all exited), the live case (a
    # woman) is enrolled and active from its first day.
    assert [(r.code, r.counts["kvinna"], r.counts["total"]) for r in counted] == [
        ("enrolled", 6, 11),
        ("active", 6, 11),
        ("exited", 5, 10),
    ]
    work = reports.run("work", Filters(occasion="intake")).rows
    assert [(r.code, r.counts["total"]) for r in work] == [("uppgift_saknas", 11)]
    page = browser.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Inskrivning (SUS)" in page and "Komplett" in page


def walk_a_referral_to_a_case(app) -> None:
    """The referrer submits the demo's draft; the chair puts it on the agenda and admits the
    waiting referral; the coordinator finds the new case in the caseload."""
    conference = db.session.scalar(select(Conference))
    draft, waiting = _referral("David"), _referral("Bo")
    coordinator = _user("koordinator@demo.example")

    referrer = sign_in(app, "remittent.kommun@demo.example")
    page = referrer.post_form(f"/referrals/{draft.id}/submit", follow_redirects=True)
    assert "Remissen är skickad till remissgruppen." in page.get_data(as_text=True)

    chair = sign_in(app, "samordnare@demo.example")
    page = chair.post_form(
        f"/conferences/{conference.id}/agenda", {"referral_id": draft.id}, follow_redirects=True
    )
    assert f"Remiss {draft.id} är satt på dagordningen." in page.get_data(as_text=True)
    decision = f"/conferences/{conference.id}/referrals/{waiting.id}/decision"
    assert "Bo Exempelsson" in chair.get(decision).get_data(as_text=True)
    page = chair.post_form(
        decision,
        {
            "outcome": "admit",
            "recommendation": "Samordnade insatser från kommunen och Arbetsförmedlingen.",
            "coordinator_id": coordinator.id,
            "complexity_weight": 2,
            **{f"position_{a}": "Tillstyrker." for a in ("kommun", "af", "fk", "region")},
        },
        follow_redirects=True,
    )
    assert f"Beslutet om remiss {waiting.id} är sparat." in page.get_data(as_text=True)

    caseload = sign_in(app, coordinator.email).get("/cases/").get_data(as_text=True)
    assert "Bo Exempelsson" in caseload and "Aisha Demosson" in caseload


def test_the_demo_has_an_admitted_case_with_a_plan_to_sign_and_a_meeting(app):
    logins = load_demo()
    db.session.commit()
    check_the_demo(app, logins)
    walk_a_referral_to_a_case(app)

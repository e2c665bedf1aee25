"""Conference events owe messages: the decision to the referrer (and coordinator), the agenda."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coordination.extensions import db
from notifications.models import Notification, Reminder
from tests.factories import make_conference, make_programme, make_referral, make_user


@pytest.fixture(autouse=True)
def _no_broker(enqueued, settings):
    """Delivery tasks are captured; messages go out at any hour."""


def _inbox(user_id: int) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.recipient_id == user_id, Notification.channel == "inbox"
            )
        )
    )


def test_a_recommendation_reaches_the_referrer_and_an_admission_the_coordinator():
    programme = make_programme()
    recommended = make_referral("decided", programme=programme, outcome="recommend")
    items = _inbox(recommended.referrer_id)
    assert [n.kind for n in items if n.kind == "referral_decided"] == ["referral_decided"]
    item = next(n for n in items if n.kind == "referral_decided")
    assert item.link == f"/conferences/referrals/{recommended.id}/decision"
    assert item.template == "referral_decided_recommend"

    coordinator = make_user("coordinator")
    admitted = make_referral(
        "decided", programme=programme, outcome="admit", coordinator=coordinator
    )
    assigned = [n for n in _inbox(coordinator.id) if n.kind == "case_assigned"]
    assert len(assigned) == 1 and assigned[0].link.startswith("/cases/")
    assert any(n.template == "referral_decided_admit" for n in _inbox(admitted.referrer_id))


def test_publishing_the_agenda_tells_members_and_reminds_them_to_prepare():
    conference = make_conference(state="published")
    member_ids = [m.user_id for m in conference.members]
    for member_id in member_ids:
        assert [n.kind for n in _inbox(member_id)].count("agenda_published") == 1
    reminders = db.session.scalars(
        select(Reminder).where(
            Reminder.subject_type == "conference", Reminder.subject_id == conference.id
        )
    ).all()
    assert {r.recipient_id for r in reminders} == set(member_ids)
    assert all(r.due_at == conference.prepare_due_at for r in reminders)


def test_no_message_names_the_participant():
    referral = make_referral("decided", outcome="recommend", first_name="Zlatanka")
    rows = db.session.scalars(
        select(Notification).where(Notification.recipient_id == referral.referrer_id)
    ).all()
    assert rows and all("Zlatanka" not in str(r.params) + (r.link or "") for r in rows)

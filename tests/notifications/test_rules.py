"""The rules table: which event owes whom what, and when; and that a replay writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from coordination.extensions import db
from coordination.referrals import operations as ref_ops
from coordination.referrals.events import CompletionRequested, ReferralSubmitted
from notifications import operations as ops
from notifications.models import Notification, Reminder
from notifications.rules import RULES
from tests.factories import make_referral, make_user
from workflows.calendar import STOCKHOLM


def rows_for(subject_id: int) -> set[tuple]:
    """Return (recipient, kind, channel, status) of every notification about a referral."""
    found = db.session.execute(
        select(
            Notification.recipient_id,
            Notification.kind,
            Notification.channel,
            Notification.status,
        ).where(Notification.subject_type == "referral", Notification.subject_id == subject_id)
    )
    return set(found)


def reminders_for(subject_id: int) -> list[Reminder]:
    return list(
        db.session.scalars(
            select(Reminder)
            .where(Reminder.subject_type == "referral", Reminder.subject_id == subject_id)
            .order_by(Reminder.level)
        )
    )


@pytest.fixture(autouse=True)
def _no_broker(enqueued, settings):
    """Delivery tasks are captured; messages go out at any hour."""


def test_referral_submitted_notifies_every_team_lead_by_their_preferences():
    lead_a = make_user("team_lead")
    lead_b = make_user("team_lead")
    lead_b.phone = "070-111 22 33"
    ops.set_preferences(lead_b, {("referral_submitted", "sms")})  # SMS, not email
    db.session.commit()
    referral = make_referral("submitted")
    assert rows_for(referral.id) == {
        (lead_a.id, "referral_submitted", "inbox", "sent"),
        (lead_a.id, "referral_submitted", "email", "pending"),
        (lead_b.id, "referral_submitted", "inbox", "sent"),
        (lead_b.id, "referral_submitted", "sms", "pending"),
    }


def test_completion_requested_notifies_the_referrer_and_schedules_two_reminders():
    referral = make_referral("completion_requested")
    referrer = referral.referrer_id
    assert {r for r in rows_for(referral.id) if r[1] == "completion_requested"} == {
        (referrer, "completion_requested", "inbox", "sent"),
        (referrer, "completion_requested", "email", "pending"),
    }
    first, second = reminders_for(referral.id)
    assert (first.level, first.template, first.status) == (1, "completion_reminder", "pending")
    assert (second.level, second.template) == (2, "completion_deadline")
    assert second.due_at == referral.completion_due_at
    local_first = first.due_at.astimezone(STOCKHOLM)
    assert (local_first.hour, local_first.minute) == (8, 0)
    assert first.recipient_id == second.recipient_id == referrer


@pytest.mark.parametrize(
    ("event", "expected_status"),
    [("resubmit", "cancelled"), ("withdraw", "cancelled")],
)
def test_resubmitting_or_withdrawing_cancels_the_completion_reminders(event, expected_status):
    referral = make_referral("completion_requested")
    referrer = referral.referrer
    if event == "resubmit":
        ref_ops.submit(referral, by=referrer)
    else:
        ref_ops.withdraw(referral, by=referrer, reason="")
    db.session.commit()
    assert [r.status for r in reminders_for(referral.id)] == [expected_status] * 2


def test_a_resubmitted_referral_notifies_the_team_leads_again():
    lead = make_user("team_lead")
    referral = make_referral("completion_requested")
    ref_ops.submit(referral, by=referral.referrer)
    db.session.commit()
    count = db.session.scalar(
        select(db.func.count()).where(
            Notification.recipient_id == lead.id,
            Notification.channel == "inbox",
            Notification.subject_id == referral.id,
        )
    )
    assert count == 2  # one inbox item per submission


@pytest.mark.parametrize("event_type", [ReferralSubmitted, CompletionRequested])
def test_running_a_rule_twice_for_the_same_event_writes_one_row(event_type):
    make_user("team_lead")
    referral = make_referral("completion_requested")
    now = datetime.now(UTC)
    if event_type is ReferralSubmitted:
        event = ReferralSubmitted(
            referral_id=referral.id,
            programme_id=referral.programme_id,
            referrer_id=referral.referrer_id,
            occurred_at=now,
        )
    else:
        event = CompletionRequested(
            referral_id=referral.id,
            referrer_id=referral.referrer_id,
            due_at=referral.completion_due_at,
            occurred_at=now,
        )
    RULES[event_type](db.session, event)
    db.session.commit()
    before_n = db.session.scalar(select(db.func.count()).select_from(Notification))
    before_r = db.session.scalar(select(db.func.count()).select_from(Reminder))
    RULES[event_type](db.session, event)
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(Notification)) == before_n
    assert db.session.scalar(select(db.func.count()).select_from(Reminder)) == before_r


def test_due_messages_are_enqueued_by_id_after_the_commit_and_not_before(enqueued):
    make_user("team_lead")
    referral = make_referral("draft")
    ref_ops.submit(referral, by=referral.referrer)
    db.session.flush()
    assert enqueued == []  # nothing leaves before the commit
    db.session.commit()
    email_ids = set(
        db.session.scalars(
            select(Notification.id).where(
                Notification.subject_id == referral.id, Notification.channel == "email"
            )
        )
    )
    assert email_ids and set(enqueued) == email_ids


def test_a_rolled_back_change_owes_nobody_anything(enqueued):
    make_user("team_lead")
    referral = make_referral("draft")
    ref_ops.submit(referral, by=referral.referrer)
    db.session.rollback()
    assert rows_for(referral.id) == set()
    assert enqueued == []

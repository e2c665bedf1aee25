"""Delivery task bodies: sent once, quiet hours, backoff, resend, SMS, no personal data."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select, text

from coordination.extensions import db
from coordination.organisations.calendar import add_day_off
from coordination.referrals import operations as ref_ops
from coordination.referrals.events import ReferralSubmitted
from notifications import operations as ops
from notifications.channels import HttpSmsProvider
from notifications.delivery import SWEEP_LOCK_KEY, deliver, sweep
from notifications.models import Notification, Reminder
from notifications.outbox import notify
from notifications.rules import RULES
from tests.factories import PASSWORD, make_referral, make_user
from workflows.calendar import STOCKHOLM


def local(y, mo, d, h=0, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=STOCKHOLM)


def email_row(user, key="test:1", **fields) -> Notification:
    """Owe a user one email about referral 1, due now; return the row."""
    now = fields.pop("now", datetime.now(UTC))
    ids = notify(
        db.session,
        now,
        recipient=user,
        kind=fields.pop("kind", "referral_submitted"),
        template=fields.pop("template", "referral_submitted"),
        key=key,
        link="/referrals/1",
        subject=("referral", 1),
        params=fields.pop("params", {"referral_id": 1}),
    )
    db.session.commit()
    rows = [db.session.get(Notification, i) for i in ids]
    return next(r for r in rows if r.channel == "email")


def test_the_same_delivery_run_twice_sends_one_message(sink, enqueued):
    user = make_user("team_lead")
    row = email_row(user)
    assert deliver(row.id) == "sent"
    assert deliver(row.id) == "already_sent"
    assert sink.count() == 1
    received = sink.snapshot()[0]
    assert received.to == (user.email,)
    assert received.subject == "En ny remiss väntar på handläggning"
    assert received.message_id.startswith("<") and received.message_id.endswith(">")
    db.session.refresh(row)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None


def test_the_email_has_text_and_html_in_the_recipients_language_and_a_link(sink, enqueued):
    user = make_user("team_lead")
    user.locale = "en"
    db.session.commit()
    row = email_row(user)
    deliver(row.id)
    parsed = message_from_bytes(sink.snapshot()[0].raw, policy=email_policy.default)
    types = sorted(part.get_content_type() for part in parsed.walk() if not part.is_multipart())
    assert types == ["text/html", "text/plain"]
    assert parsed["Content-Language"] == "en"
    assert "http://127.0.0.1:5000/referrals/1" in sink.snapshot()[0].text


def test_the_message_id_is_the_same_whenever_the_same_notification_is_sent(sink, enqueued):
    user = make_user("team_lead")
    row = email_row(user)
    deliver(row.id)
    row.status = "pending"  # as if the sent mark had been lost in a crash
    db.session.commit()
    deliver(row.id)
    first, second = sink.snapshot()
    assert first.message_id == second.message_id


def test_a_message_owed_friday_at_1730_goes_out_monday_at_0800(settings, enqueued):
    settings(NOTIFY_QUIET_HOURS=True)
    user = make_user("team_lead")
    friday_evening = local(2026, 3, 13, 17, 30)
    row = email_row(user, now=friday_evening.astimezone(UTC))
    assert row.not_before == local(2026, 3, 16, 8, 0).astimezone(UTC)
    assert row.enqueued_at is None  # nothing due later waits in the broker
    inbox = db.session.scalar(
        select(Notification).where(
            Notification.recipient_id == user.id, Notification.channel == "inbox"
        )
    )
    assert inbox.status == "sent"  # the inbox has no quiet hours
    assert enqueued == []
    assert deliver(row.id, now=local(2026, 3, 16, 7, 59).astimezone(UTC)) == "not_due"


def test_the_forbunds_own_day_off_is_not_a_sending_day(settings, enqueued):
    settings(NOTIFY_QUIET_HOURS=True)
    add_day_off(local(2026, 3, 16).date(), "Klämdag")
    db.session.commit()
    user = make_user("team_lead")
    row = email_row(user, now=local(2026, 3, 13, 17, 30).astimezone(UTC))
    assert row.not_before == local(2026, 3, 17, 8, 0).astimezone(UTC)


def test_failures_back_off_exponentially_then_fail_and_an_admin_resends(
    app, settings, sink, enqueued, client
):
    settings(SMTP_PORT=1, NOTIFY_MAX_ATTEMPTS=5, NOTIFY_BACKOFF_SECONDS=60)  # nobody listens
    user = make_user("team_lead")
    row = email_row(user)
    now = datetime.now(UTC)
    waits = []
    for _attempt in range(4):
        assert deliver(row.id, now=now) == "retry"
        db.session.refresh(row)
        waits.append(row.not_before - now)
        assert row.enqueued_at is None  # the sweep, not the broker, holds the next attempt
        now = row.not_before
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert deliver(row.id, now=now) == "failed"
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("failed", 5)
    assert "Error" in row.last_error

    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    page = client.get("/admin/notifications").get_data(as_text=True)
    assert "En ny remiss väntar på handläggning" in page and "Skicka igen" in page
    settings(SMTP_PORT=sink.port)
    response = client.post_form(f"/admin/notifications/{row.id}/resend")
    assert response.status_code == 302
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("pending", 0)
    assert enqueued[-1] == row.id  # enqueued after the commit
    assert deliver(row.id) == "sent"
    assert sink.count() == 1
    assert "Alla meddelanden har kunnat skickas." in client.get("/admin/notifications").get_data(
        as_text=True
    )


def test_only_admins_see_failed_messages(client):
    user = make_user("referrer")
    client.login(user.email, PASSWORD)
    assert client.get("/admin/notifications").status_code == 403


def test_preferences_page_turns_email_off_and_sms_on(client, enqueued, sms_file, sink):
    lead = make_user("team_lead")
    lead.phone = "070-555 66 77"
    db.session.commit()
    client.login(lead.email, PASSWORD)
    page = client.get("/inbox/preferences").get_data(as_text=True)
    assert 'name="kind-referral_submitted" value="email" checked' in page
    response = client.post_form(
        "/inbox/preferences",
        {"kind-referral_submitted": ["sms"], "kind-completion_requested": ["email"]},
    )
    assert response.status_code == 302
    referral = make_referral("submitted")
    channels = set(
        db.session.scalars(
            select(Notification.channel).where(
                Notification.recipient_id == lead.id, Notification.subject_id == referral.id
            )
        )
    )
    assert channels == {"inbox", "sms"}
    sms = db.session.scalar(
        select(Notification).where(
            Notification.recipient_id == lead.id, Notification.channel == "sms"
        )
    )
    assert deliver(sms.id) == "sent"
    line = json.loads(sms_file.read_text().strip())
    assert line["to"] == "070-555 66 77"
    assert line["text"] == (
        f"En ny remiss väntar på handläggning http://127.0.0.1:5000/referrals/{referral.id}"
    )
    assert sink.count() == 0


def test_the_http_sms_provider_posts_json_with_the_bearer_token():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Authorization"], json.loads(body)))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    provider = HttpSmsProvider(f"http://127.0.0.1:{server.server_port}/sms", "s3cret")
    provider.send("070-1", "Gör något http://x/referrals/1", "key-1")
    thread.join(5)
    server.server_close()
    assert received == [
        (
            "Bearer s3cret",
            {"to": "070-1", "text": "Gör något http://x/referrals/1", "reference": "key-1"},
        )
    ]


def test_no_message_names_the_participant(sink, sms_file, enqueued):
    lead = make_user("team_lead")
    lead.phone = "070-999 00 00"
    ops.set_preferences(lead, {("referral_submitted", "email"), ("referral_submitted", "sms")})
    db.session.commit()
    referral = make_referral("completion_requested", first_name="Zebulon", last_name="Quxenstierna")
    identity = referral.identity_number
    ref_ops.submit(referral, by=referral.referrer)
    db.session.commit()
    # The reminders fall due too.
    sweep(now=referral.completion_due_at + timedelta(minutes=1))
    pending = db.session.scalars(
        select(Notification.id).where(
            Notification.status == "pending", Notification.channel.in_(["email", "sms"])
        )
    ).all()
    for notification_id in pending:
        assert deliver(notification_id) == "sent"
    sent = [m.raw.decode("utf-8", "replace") + m.text for m in sink.snapshot()]
    sent += sms_file.read_text().splitlines()
    about = select(Notification).where(Notification.subject_id == referral.id)
    sent += [n.link or "" for n in db.session.scalars(about)]
    assert len(sink.snapshot()) >= 3 and sms_file.read_text()
    for text_ in sent:
        for secret in ("Zebulon", "Quxenstierna", identity, identity.replace("-", "")):
            assert secret not in text_


def test_the_sweep_fires_due_reminders_once_and_enqueues_their_messages(enqueued):
    referral = make_referral("completion_requested")
    first, second = db.session.scalars(
        select(Reminder).where(Reminder.subject_id == referral.id).order_by(Reminder.level)
    ).all()
    result = sweep(now=first.due_at + timedelta(seconds=1))
    assert result.reminders_fired == 1
    db.session.refresh(first)
    db.session.refresh(second)
    assert (first.status, second.status) == ("fired", "pending")
    made = db.session.scalars(
        select(Notification).where(Notification.template == "completion_reminder")
    ).all()
    assert {n.channel for n in made} == {"inbox", "email"}
    email_id = next(n.id for n in made if n.channel == "email")
    assert email_id in enqueued
    again = sweep(now=first.due_at + timedelta(seconds=2))
    assert again.reminders_fired == 0 and email_id not in again.enqueued
    assert len(made) == 2


def test_the_sweep_re_enqueues_a_message_the_broker_lost(settings, enqueued):
    settings(NOTIFY_REQUEUE_SECONDS=300)
    user = make_user("team_lead")
    row = email_row(user)
    assert enqueued == []  # notify() alone does not enqueue; the commit hook or sweep does
    now = datetime.now(UTC)
    assert row.id not in sweep(now=now).enqueued  # just enqueued: not again yet
    assert row.id in sweep(now=now + timedelta(seconds=301)).enqueued


def test_a_second_sweep_while_one_runs_does_nothing(app, enqueued):
    with db.engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": SWEEP_LOCK_KEY})
        assert sweep().ran is False
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SWEEP_LOCK_KEY})
    assert sweep().ran is True


def test_when_the_broker_is_down_the_commit_stands_and_the_sweep_takes_over(monkeypatch):
    from notifications.tasks import deliver_notification

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(deliver_notification, "apply_async", refuse)
    make_user("team_lead")
    referral = make_referral("submitted")  # commits despite the broker
    row = db.session.scalar(
        select(Notification).where(
            Notification.subject_id == referral.id, Notification.channel == "email"
        )
    )
    assert row is not None and row.status == "pending"


def test_a_rule_for_an_inactive_team_lead_owes_nothing(enqueued):
    lead = make_user("team_lead")
    lead.active = False
    db.session.commit()
    referral = make_referral("submitted")
    assert (
        db.session.scalar(select(Notification).where(Notification.recipient_id == lead.id)) is None
    )
    RULES[ReferralSubmitted](
        db.session,
        ReferralSubmitted(
            referral_id=referral.id,
            programme_id=referral.programme_id,
            referrer_id=referral.referrer_id,
            occurred_at=datetime.now(UTC),
        ),
    )
    assert (
        db.session.scalar(select(Notification).where(Notification.recipient_id == lead.id)) is None
    )


@pytest.mark.parametrize("status", ["cancelled", "failed"])
def test_a_message_that_is_not_pending_is_not_sent(sink, enqueued, status):
    user = make_user("team_lead")
    row = email_row(user)
    row.status = status
    db.session.commit()
    assert deliver(row.id) == f"already_{status}"
    assert sink.count() == 0

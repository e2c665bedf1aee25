"""The meeting reminders that depend on the clock, both rows of the one reminder table.

- The participant's reminder the day before (owed by the meeting operations to the case, see
  coordination.core.reminders): the one sweep locks a due row (FOR UPDATE SKIP LOCKED), sends it
  by the person's preferred channel (SMS or email: the time only, no name, no place, no link) and
  marks it sent in the same transaction; phone, letter or missing contact details hand it to the
  coordinator's inbox.
- An open escalation past its decision deadline owes the team leads one reminder on the deadline's
  day and one each following working day: the sweep's scan writes it as a reminder row per lead
  and day (its idempotency key makes a second scan write nothing), then delivers it like any other.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from flask import current_app, render_template
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import select

from coordination.cases.models import Case
from coordination.core.db import utcnow
from coordination.core.reminders import Reminder
from coordination.extensions import db
from coordination.meetings.models import Escalation, Meeting
from coordination.organisations.calendar import working_calendar
from notifications.channels import mailer, sms_provider
from notifications.meeting_rules import meeting_params, team_leads
from notifications.outbox import enqueue, notify, remind, take_due_ids
from notifications.rendering import message_id
from workflows.calendar import STOCKHOLM
from workflows.case import CaseState
from workflows.meeting import overdue_reminder_day

log = logging.getLogger(__name__)

PARTICIPANT_BATCH = 200


def _settings() -> dict:
    return current_app.config["COORD"]


# --- the participant's reminder ---------------------------------------------------------------


def reminder_text(starts_at: datetime, now: datetime) -> str:
    """Return the participant's reminder: the time only ("Du har ett möte i morgon kl. 10.00.")."""
    local = starts_at.astimezone(STOCKHOLM)
    today = now.astimezone(STOCKHOLM).date()
    at = local.strftime("%H.%M")
    with force_locale("sv"):
        if local.date() == today + timedelta(days=1):
            return _("Du har ett möte i morgon kl. %(at)s. Välkommen!", at=at)
        if local.date() == today:
            return _("Du har ett möte i dag kl. %(at)s. Välkommen!", at=at)
        day = format_date(local.date(), "d MMMM")
        return _("Du har ett möte den %(day)s kl. %(at)s. Välkommen!", day=day, at=at)


def participant_email(reminder: Reminder, to: str, text: str) -> EmailMessage:
    """Build the participant's reminder email (text and HTML), with nothing but the time."""
    with force_locale("sv"):
        subject = _("Påminnelse om ditt möte")
        context = {"title": subject, "text": text, "locale": "sv"}
        body = render_template("emails/participant_reminder.txt", **context)
        html = render_template("emails/participant_reminder.html", **context)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = _settings()["MAIL_FROM"]
    message["To"] = to
    message["Message-ID"] = message_id(reminder.idempotency_key)
    message["Date"] = format_datetime(utcnow())
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = "sv"
    return message


def _hand_over(session, reminder: Reminder, meeting: Meeting, case: Case, now) -> None:
    """Owe the coordinator an inbox item: remind the participant yourself."""
    assignment = case.active_assignment
    user = assignment.coordinator if assignment else meeting.organiser
    if user is None:
        return
    notify(
        session,
        now,
        recipient=user,
        kind="participant_contact",
        template="participant_contact",
        key=f"ParticipantContact:{reminder.idempotency_key}",
        link=f"/meetings/{meeting.id}",
        subject=("meeting", meeting.id),
        params=meeting_params(meeting, working_calendar(session)),
    )


def _send_participant_reminder(session, reminder: Reminder, now: datetime) -> str:
    meeting = session.get(Meeting, reminder.subject_id)
    case = session.get(Case, reminder.case_id)
    if (
        meeting is None
        or case is None
        or meeting.cancelled
        or case.state == CaseState.CLOSED.value
        or now >= meeting.starts_at
    ):
        reminder.status = "cancelled"
        return "cancelled"
    person = case.person
    channel = person.preferred_channel
    reminder.channel = channel
    if channel == "sms" and person.phone:
        text = reminder_text(meeting.starts_at, now)
        sms_provider(_settings()).send(person.phone, text, reminder.idempotency_key)
    elif channel == "email" and person.email:
        text = reminder_text(meeting.starts_at, now)
        mailer(_settings()).send(participant_email(reminder, person.email, text))
    else:
        _hand_over(session, reminder, meeting, case, now)
        reminder.status = "handed_over"
        reminder.fired_at = now
        return "handed_over"
    reminder.status = "sent"
    reminder.fired_at = utcnow()
    reminder.attempts += 1
    reminder.last_error = None
    return "sent"


def send_due_participant_reminders(now: datetime | None, enqueued: list[int]) -> int:
    """Send the due participants' reminders one row at a time (lock, send, mark, commit).

    One row per transaction, unlike the users' reminders: each sends outside the database, so its
    sent mark commits right after its own send.
    """
    session = db.session
    handled = 0
    for _round in range(PARTICIPANT_BATCH):
        moment = now or utcnow()
        reminder = session.scalar(
            select(Reminder)
            .where(
                Reminder.case_id.is_not(None),
                Reminder.status == "pending",
                Reminder.due_at <= moment,
            )
            .order_by(Reminder.due_at, Reminder.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if reminder is None:
            session.rollback()
            break
        try:
            _send_participant_reminder(session, reminder, moment)
        except Exception as exc:  # the channel refused: retried, then handed to the coordinator
            _participant_failure(session, reminder, exc, moment)
        due = take_due_ids(session)
        session.commit()
        enqueued += enqueue(due)
        handled += 1
    return handled


def _participant_failure(session, reminder: Reminder, exc: Exception, now) -> str:
    # Only the type: a provider's message could echo the phone number or the address.
    reminder.attempts += 1
    reminder.last_error = type(exc).__name__
    log.warning("participant reminder %s attempt %s failed", reminder.id, reminder.attempts)
    if reminder.attempts >= int(_settings().get("NOTIFY_MAX_ATTEMPTS", 5)):
        reminder.status = "failed"
        meeting = session.get(Meeting, reminder.subject_id)
        case = session.get(Case, reminder.case_id)
        if meeting is not None and case is not None:
            _hand_over(session, reminder, meeting, case, now)
        return "failed"
    base = int(_settings().get("NOTIFY_BACKOFF_SECONDS", 60))
    reminder.due_at = now + timedelta(seconds=base * 2 ** (reminder.attempts - 1))
    return "retry"


# --- overdue escalation decisions ------------------------------------------------------------


def owe_overdue_escalation_reminders(now: datetime | None = None) -> int:
    """Owe the team leads today's reminder of every open escalation past its deadline.

    Writes reminder rows due now, one per lead, escalation and day (a second scan the same day
    writes nothing); the sweep delivers them right after. Returns how many rows are new.
    """
    session = db.session
    moment = now or utcnow()
    escalations = list(
        session.scalars(
            select(Escalation)
            .where(Escalation.status == "open", Escalation.decision_due_at <= moment)
            .order_by(Escalation.id)
        )
    )
    if not escalations:
        session.rollback()
        return 0
    calendar = working_calendar(session)
    leads = team_leads(session)
    written = 0
    for escalation in escalations:
        day = overdue_reminder_day(escalation.decision_due_at, moment, calendar)
        if day is None:
            continue
        due_on = escalation.decision_due_at.astimezone(calendar.tz).date().isoformat()
        for lead in leads:
            new_id = remind(
                session,
                moment,
                recipient_id=lead.id,
                kind="escalation_overdue",
                template="escalation_overdue",
                key=f"EscalationOverdue:escalation:{escalation.id}:{day.isoformat()}",
                due_at=moment,
                level=1,
                subject=("escalation", escalation.id),
                link=f"/meetings/escalations/{escalation.id}",
                params={
                    "escalation_id": escalation.id,
                    "case_id": escalation.case_id,
                    "due_on": due_on,
                },
            )
            written += new_id is not None
    session.commit()
    return written

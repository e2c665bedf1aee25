"""Which event owes whom what, and when: one table from event type to handler.

A handler `(session, event) -> None` runs inside the transaction that records the event and takes
"now" from the event (`event.occurred_at`, the recording operation's clock), so a frozen clock in
a test reaches every due time computed here. It adds rows with `notify` (an inbox item, plus
email/SMS by the recipient's preference, sent within working hours unless the kind is urgent),
`remind` (a message owed at a later time) and `cancel_pending`. Every row gets an idempotency key
from the event, its subject, the occurrence, the recipient and the channel (and the level for
reminders), so running a handler twice for the same event writes nothing the second time.

To add a rule: write the handler here, add it to RULES (or the event type to IGNORED, saying
why), add its kind to notifications/kinds.py and its email templates to
templates/emails/<template>.txt and .html.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from coordination.action_plans.events import (
    PlanActionUpdated,
    PlanActivated,
    PlanSignedOff,
    PlanVersionCreated,
)
from coordination.auth.events import ActivationOwed
from coordination.auth.models import User
from coordination.auth.queries import team_leads
from coordination.cases.events import (
    CaseEnrolled,
    CaseOpened,
    CasePaused,
    CaseResumed,
    CoordinatorAssigned,
)
from coordination.conferences.events import (
    AgendaCutOff,
    AgendaPublished,
    ConferenceAttendanceRecorded,
    ConferenceCancelled,
    ConferenceClosed,
    ConferenceScheduled,
    ReferralDecided,
    ReferralPutOnAgenda,
)
from coordination.consent.events import ConsentRecorded, ConsentWithdrawn
from coordination.core.db import DbSession
from coordination.core.events import DomainEvent
from coordination.exits.events import (
    CaseClosed,
    CaseExited,
    FollowUpRegistered,
    FollowUpsScheduled,
    PacketAcknowledged,
    PacketDelivered,
    RecommendationOutcomesRecorded,
    ReturnReferralFinalised,
)
from coordination.meetings.events import (
    AttendanceRecorded,
    CaseDischarged,
    EscalationDecided,
    EscalationOpened,
    EscalationWithdrawn,
    GroupEnrolled,
    GroupScheduled,
    MeetingBooked,
    MeetingCancelled,
    MeetingChanged,
    MeetingConfirmed,
    MissedMeetingTask,
    TaskCancelled,
    TaskCompleted,
)
from coordination.organisations.calendar import working_calendar
from coordination.referrals.events import CompletionRequested, ReferralSubmitted, ReferralWithdrawn
from coordination.referrals.models import Referral
from coordination.statistics.events import (
    ProgressionRatingDue,
    ProgressionRatingRecorded,
    ProgressionRatingsImported,
    SusParticipantsImported,
    SusRegistrationRecorded,
)
from notifications import case_rules as cases
from notifications import exit_rules as exits
from notifications import meeting_rules as meetings
from notifications import rating_rules as ratings
from notifications.events import NotificationsQueued
from notifications.outbox import cancel_pending, notify, preferences_of, remind

Rule = Callable[[DbSession, Any], None]  # (session, event): "now" is event.occurred_at

COMPLETION_REMINDER_WORKING_DAYS = 2


def _referral_link(referral_id: int) -> str:
    return f"/referrals/{referral_id}"


def referral_submitted(session: DbSession, event: ReferralSubmitted) -> None:
    """Tell every team lead a referral is waiting; cancel the reminders to complete it."""
    now = event.occurred_at
    referral_id = event.referral_id
    subject = ("referral", referral_id)
    cancel_pending(session, subject, ["completion_reminder"])
    referral = session.get(Referral, referral_id)
    # A referral can be submitted again after completion: each submission is its own occurrence.
    occurrence = referral.submitted_at.isoformat() if referral and referral.submitted_at else ""
    leads = team_leads(session)
    preferences = preferences_of(session, [u.id for u in leads])
    calendar = working_calendar(session)
    for lead in leads:
        notify(
            session,
            now,
            recipient=lead,
            kind="referral_submitted",
            template="referral_submitted",
            key=f"ReferralSubmitted:referral:{referral_id}:{occurrence}",
            link=_referral_link(referral_id),
            subject=subject,
            params={"referral_id": referral_id},
            calendar=calendar,
            preferences=preferences,
        )


def completion_requested(session: DbSession, event: CompletionRequested) -> None:
    """Ask the referrer to complete the referral; remind them before and at the deadline.

    Level 1 falls due at the start of the working day two working days before the deadline's
    day (skipped when that has already passed), level 2 at the deadline itself.
    """
    now = event.occurred_at
    referral_id = event.referral_id
    referrer = session.get(User, event.referrer_id)
    if referrer is None:
        return
    due_at = event.due_at.astimezone(UTC)
    calendar = working_calendar(session)
    due_on = due_at.astimezone(calendar.tz).date()
    subject = ("referral", referral_id)
    link = _referral_link(referral_id)
    params = {"referral_id": referral_id, "due_on": due_on.isoformat()}
    key = f"CompletionRequested:referral:{referral_id}:{due_at.isoformat()}"
    notify(
        session,
        now,
        recipient=referrer,
        kind="completion_requested",
        template="completion_requested",
        key=key,
        link=link,
        subject=subject,
        params=params,
        calendar=calendar,
    )
    before_day = calendar.add_working_days(due_on, -COMPLETION_REMINDER_WORKING_DAYS)
    before = datetime.combine(before_day, calendar.day_start, tzinfo=calendar.tz).astimezone(UTC)
    schedule = [(1, "completion_reminder", before), (2, "completion_deadline", due_at)]
    for level, template, when in schedule:
        if when <= now:
            continue
        remind(
            session,
            now,
            recipient_id=referrer.id,
            kind="completion_reminder",
            template=template,
            key=key,
            due_at=when,
            level=level,
            subject=subject,
            link=link,
            params=params,
        )


def referral_withdrawn(session: DbSession, event: ReferralWithdrawn) -> None:
    """A withdrawn referral needs no completion: cancel its reminders."""
    cancel_pending(session, ("referral", event.referral_id), ["completion_reminder"])


def referral_decided(session: DbSession, event: ReferralDecided) -> None:
    """Tell the referrer the conference has decided; on admission, tell the coordinator too."""
    now = event.occurred_at
    referral_id = event.referral_id
    calendar = working_calendar(session)
    referrer = session.get(User, event.referrer_id)
    if referrer is not None:
        notify(
            session,
            now,
            recipient=referrer,
            kind="referral_decided",
            template="referral_decided_" + event.outcome,
            key=f"ReferralDecided:referral:{referral_id}:{event.decision_id}",
            link=f"/conferences/referrals/{referral_id}/decision",
            subject=("referral", referral_id),
            params={"referral_id": referral_id},
            calendar=calendar,
        )
    coordinator = session.get(User, event.coordinator_id) if event.coordinator_id else None
    if coordinator is not None and event.case_id:
        notify(
            session,
            now,
            recipient=coordinator,
            kind="case_assigned",
            template="case_assigned",
            key=f"CaseAssigned:case:{event.case_id}:{coordinator.id}:{event.decision_id}",
            link=f"/cases/{event.case_id}",
            subject=("case", event.case_id),
            params={"case_id": event.case_id},
            calendar=calendar,
        )


def agenda_published(session: DbSession, event: AgendaPublished) -> None:
    """Tell each member the agenda is out, and remind them to prepare before the conference."""
    now = event.occurred_at
    conference_id = event.conference_id
    prepare_due_at = event.prepare_due_at.astimezone(UTC)
    calendar = working_calendar(session)
    subject = ("conference", conference_id)
    link = f"/conferences/{conference_id}"
    params = {
        "conference_id": conference_id,
        "prepare_on": prepare_due_at.astimezone(calendar.tz).date().isoformat(),
    }
    for member_id in event.member_ids:
        member = session.get(User, member_id)
        if member is None or not member.active:
            continue
        key = f"AgendaPublished:conference:{conference_id}:{member_id}"
        notify(
            session,
            now,
            recipient=member,
            kind="agenda_published",
            template="agenda_published",
            key=key,
            link=link,
            subject=subject,
            params=params,
            calendar=calendar,
        )
        if prepare_due_at > now:
            remind(
                session,
                now,
                recipient_id=member.id,
                kind="prepare_reminder",
                template="prepare_reminder",
                key=key,
                due_at=prepare_due_at,
                level=1,
                subject=subject,
                link=link,
                params=params,
            )


def conference_cancelled(session: DbSession, event: ConferenceCancelled) -> None:
    """A cancelled conference needs no preparation."""
    cancel_pending(session, ("conference", event.conference_id), ["prepare_reminder"])


def case_opened(session: DbSession, event: CaseOpened) -> None:
    """A case that has to wait for a place is news for the team leads (the queue grows)."""
    now = event.occurred_at
    if event.state != "waiting":
        return
    case_id = event.case_id
    leads = team_leads(session)
    preferences = preferences_of(session, [u.id for u in leads])
    calendar = working_calendar(session)
    for lead in leads:
        notify(
            session,
            now,
            recipient=lead,
            kind="case_queued",
            template="case_queued",
            key=f"CaseQueued:case:{case_id}",
            link="/cases/queue",
            subject=("case", case_id),
            params={"case_id": case_id},
            calendar=calendar,
            preferences=preferences,
        )


def activation_owed(session: DbSession, event: ActivationOwed) -> None:
    """Send a new account's owner the link to choose a password (made when the email is
    rendered, so the link is stored nowhere: notifications.rendering)."""
    user = session.get(User, event.user_id)
    if user is None:
        return
    notify(
        session,
        event.occurred_at,
        recipient=user,
        kind="account_activation",
        template="account_activation",
        key=f"ActivationOwed:user:{user.id}:{event.occurred_at.isoformat()}",
        subject=("user", user.id),
        preferences={(user.id, "account_activation", "email"): True},
    )


RULES: dict[type[DomainEvent], Rule] = {
    ActivationOwed: activation_owed,
    ReferralSubmitted: referral_submitted,
    CompletionRequested: completion_requested,
    ReferralWithdrawn: referral_withdrawn,
    ReferralDecided: referral_decided,
    AgendaPublished: agenda_published,
    ConferenceCancelled: conference_cancelled,
    CaseOpened: case_opened,
    # Exit, packets and follow-ups (handlers in notifications/exit_rules.py).
    PacketDelivered: exits.packet_delivered,
    PacketAcknowledged: exits.packet_acknowledged,
    ConsentWithdrawn: exits.consent_withdrawn,
    FollowUpsScheduled: exits.follow_ups_scheduled,
    FollowUpRegistered: exits.follow_up_registered,
    # Cases and the joint action plan (handlers in notifications/case_rules.py).
    CaseEnrolled: cases.case_changed,
    CoordinatorAssigned: cases.coordinator_assigned,
    CasePaused: cases.case_changed,
    CaseResumed: cases.case_changed,
    PlanVersionCreated: cases.plan_version_created,
    PlanSignedOff: cases.case_changed,
    PlanActivated: cases.case_changed,
    PlanActionUpdated: cases.case_changed,
    CaseExited: cases.case_changed,
    CaseClosed: cases.case_changed,
    # Meetings and the missed-meeting ladder (handlers in notifications/meeting_rules.py).
    MeetingBooked: meetings.meeting_booked,
    MeetingChanged: meetings.meeting_changed,
    MeetingCancelled: meetings.meeting_cancelled,
    MeetingConfirmed: meetings.meeting_confirmed,
    AttendanceRecorded: meetings.attendance_recorded,
    MissedMeetingTask: meetings.missed_meeting_task,
    EscalationOpened: meetings.escalation_opened,
    EscalationWithdrawn: meetings.escalation_withdrawn,
    EscalationDecided: meetings.escalation_decided,
    TaskCompleted: meetings.task_closed,
    TaskCancelled: meetings.task_closed,
    GroupScheduled: meetings.group_scheduled,
    # Self-ratings (handlers in notifications/rating_rules.py).
    ProgressionRatingDue: ratings.rating_due,
    ProgressionRatingRecorded: ratings.rating_recorded,
}

# Events that owe nobody a message or a reminder, each for a reason. tests/notifications checks
# that every event type is in RULES or here, never both.
IGNORED: frozenset[type[DomainEvent]] = frozenset(
    {
        # Conferences: members hear of a conference when its agenda is published, and the
        # referrer when the conference decides; scheduling, cut-off, a referral put on the agenda,
        # attendance and closing change nothing anyone is waiting for.
        ConferenceScheduled,
        ConferenceClosed,
        ReferralPutOnAgenda,
        AgendaCutOff,
        ConferenceAttendanceRecorded,
        # Consent is checked whenever information is shared; nobody waits for news of it (a
        # withdrawal stops the packet reminders of a recipient it shuts out: exit_rules).
        ConsentRecorded,
        # The parties hear of a discharge with EscalationDecided (its template per decision).
        CaseDischarged,
        # Enrolment in a group: the group's sessions are already in the leader's invitation.
        GroupEnrolled,
        # The return referral's packet records PacketDelivered, which owes the referrer.
        ReturnReferralFinalised,
        # Outcomes of the recommendations are statistics for the förbund, not a to-do.
        RecommendationOutcomesRecorded,
        # SUS statistics: registrations and imported history are read in reports, not announced.
        SusRegistrationRecorded,
        SusParticipantsImported,
        ProgressionRatingsImported,
        # The notification layer's own announcement: enqueued after the commit by
        # dispatch.enqueue_committed, not turned into rows.
        NotificationsQueued,
    }
)

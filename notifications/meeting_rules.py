"""The handlers of the meeting and ladder rules (../shared/DOMAIN.md §8); the table is rules.RULES.

Invitations (with the .ics attached at sending, see notifications.meetings), the reminder to
register attendance one working day after a meeting, SamSIP confirmation reminders, the ladder's
tasks and notices, and the escalation's messages to the referrer, the coordinator and the team
leads. The overdue-decision reminders and the participant's reminder are the sweep's (they depend on
the clock, not on an event): notifications.meetings.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from coordination.auth.models import User
from coordination.auth.queries import team_leads
from coordination.cases.models import Case
from coordination.core.db import DbSession
from coordination.meetings.events import (
    AttendanceRecorded,
    EscalationDecided,
    EscalationOpened,
    EscalationWithdrawn,
    GroupScheduled,
    MeetingBooked,
    MeetingCancelled,
    MeetingChanged,
    MeetingConfirmed,
    MissedMeetingTask,
    TaskCancelled,
    TaskCompleted,
)
from coordination.meetings.models import Escalation, Meeting, Task
from coordination.organisations.calendar import working_calendar
from notifications.models import Notification, Reminder
from notifications.outbox import cancel_pending, notify, preferences_of, remind
from workflows.calendar import WorkingCalendar
from workflows.meeting import MeetingKind, attendance_reminder_at, confirmation_reminders_at

TASK_KINDS = ("missed_meeting_task", "case_task")


def meeting_params(meeting: Meeting, calendar: WorkingCalendar, **extra) -> dict:
    """Return the ids and the local day and time of a meeting (no personal data)."""
    local = meeting.starts_at.astimezone(calendar.tz)
    return {
        "meeting_id": meeting.id,
        "starts_on": local.date().isoformat(),
        "at": local.strftime("%H.%M"),
        **extra,
    }


def _link(meeting: Meeting) -> str:
    return f"/meetings/{meeting.id}"


def _users(session: DbSession, ids) -> list[User]:
    ids = [i for i in dict.fromkeys(ids) if i is not None]
    if not ids:
        return []
    found = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def _send_invitations(session, meeting, now, users, template: str, method: str, calendar):
    preferences = preferences_of(session, [u.id for u in users])
    for user in users:
        notify(
            session,
            now,
            recipient=user,
            kind="meeting_invitation",
            template=template,
            key=f"{template}:meeting:{meeting.id}:seq{meeting.sequence}",
            link=_link(meeting),
            subject=("meeting", meeting.id),
            params=meeting_params(meeting, calendar, method=method, sequence=meeting.sequence),
            calendar=calendar,
            preferences=preferences,
        )


def _attendance_reminder(session, meeting: Meeting, now: datetime, calendar) -> None:
    if meeting.cancelled:
        return
    if meeting.case is not None:
        assignment = meeting.case.active_assignment
        recipient_id = assignment.coordinator_id if assignment else meeting.organiser_id
    else:
        recipient_id = meeting.group.leader_id if meeting.group else meeting.organiser_id
    due = attendance_reminder_at(meeting.ends_at, calendar)
    if recipient_id is None or due <= now:
        return
    remind(
        session,
        now,
        recipient_id=recipient_id,
        kind="attendance_reminder",
        template="attendance_reminder",
        key=f"AttendanceDue:meeting:{meeting.id}:seq{meeting.sequence}",
        due_at=due,
        level=1,
        subject=("meeting", meeting.id),
        link=_link(meeting),
        params=meeting_params(meeting, calendar),
    )


def _confirmation_reminders(session, meeting: Meeting, now: datetime, calendar) -> None:
    if meeting.kind != MeetingKind.SAMSIP.value or meeting.cancelled:
        return
    times = confirmation_reminders_at(now, meeting.starts_at, calendar)
    for attendee in meeting.attendees:
        if attendee.confirmed_at is not None:
            continue
        for level, when in enumerate(times, start=1):
            remind(
                session,
                now,
                recipient_id=attendee.user_id,
                kind="meeting_confirmation_reminder",
                template="meeting_confirmation_reminder",
                key=f"ConfirmSamsip:meeting:{meeting.id}:seq{meeting.sequence}",
                due_at=when,
                level=level,
                subject=("meeting", meeting.id),
                link=_link(meeting),
                params=meeting_params(meeting, calendar),
            )


def _cancel_reminders_of(session, meeting_id: int, user_id: int, kind: str) -> None:
    session.execute(
        update(Reminder)
        .where(
            Reminder.subject_type == "meeting",
            Reminder.subject_id == meeting_id,
            Reminder.recipient_id == user_id,
            Reminder.kind == kind,
            Reminder.status == "pending",
        )
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )


def meeting_booked(session: DbSession, event: MeetingBooked) -> None:
    """Invite the attendees (.ics attached), and owe the attendance and confirmation reminders."""
    now = event.occurred_at
    meeting = session.get(Meeting, event.meeting_id)
    if meeting is None or meeting.cancelled:
        return
    calendar = working_calendar(session)
    if meeting.group_id is None and meeting.ends_at > now:
        users = [a.user for a in meeting.attendees]
        _send_invitations(session, meeting, now, users, "meeting_invitation", "REQUEST", calendar)
    _attendance_reminder(session, meeting, now, calendar)
    _confirmation_reminders(session, meeting, now, calendar)


def meeting_changed(session: DbSession, event: MeetingChanged) -> None:
    """Send the updated invitation (a CANCEL to those no longer invited); renew the reminders."""
    now = event.occurred_at
    meeting = session.get(Meeting, event.meeting_id)
    if meeting is None:
        return
    calendar = working_calendar(session)
    subject = ("meeting", meeting.id)
    kinds = ["attendance_reminder", "meeting_confirmation_reminder", "meeting_invitation"]
    cancel_pending(session, subject, kinds)  # an unsent older invitation is outdated
    if meeting.ends_at > now:
        users = [a.user for a in meeting.attendees]
        _send_invitations(session, meeting, now, users, "meeting_changed", "REQUEST", calendar)
        removed = _users(session, event.removed_user_ids)
        _send_invitations(session, meeting, now, removed, "meeting_cancelled", "CANCEL", calendar)
    _attendance_reminder(session, meeting, now, calendar)
    _confirmation_reminders(session, meeting, now, calendar)


def meeting_cancelled(session: DbSession, event: MeetingCancelled) -> None:
    """Send the CANCEL to every invitee; the meeting owes no more reminders."""
    now = event.occurred_at
    meeting = session.get(Meeting, event.meeting_id)
    if meeting is None:
        return
    cancel_pending(
        session,
        ("meeting", meeting.id),
        ["attendance_reminder", "meeting_confirmation_reminder", "meeting_invitation"],
    )
    if meeting.ends_at > now:
        calendar = working_calendar(session)
        users = [a.user for a in meeting.attendees]
        _send_invitations(session, meeting, now, users, "meeting_cancelled", "CANCEL", calendar)


def meeting_confirmed(session: DbSession, event: MeetingConfirmed) -> None:
    """A confirmed invitee needs no more reminders to confirm."""
    _cancel_reminders_of(session, event.meeting_id, event.user_id, "meeting_confirmation_reminder")


def attendance_recorded(session: DbSession, event: AttendanceRecorded) -> None:
    """Once every participant's attendance is registered, no reminder to register it is owed."""
    if event.all_registered:
        cancel_pending(session, ("meeting", event.meeting_id), ["attendance_reminder"])


def _task_link(task_id: int) -> str:
    return f"/meetings/tasks/{task_id}"


def _due_on(task: Task, calendar: WorkingCalendar) -> str:
    return task.due_at.astimezone(calendar.tz).date().isoformat()


def missed_meeting_task(session: DbSession, event: MissedMeetingTask) -> None:
    """Give the coordinator the ladder's task; from the second miss on, tell the team leads too."""
    now = event.occurred_at
    task = session.get(Task, event.task_id)
    assignee = session.get(User, event.assignee_id)
    if task is None or assignee is None:
        return
    calendar = working_calendar(session)
    count = event.missed_count
    repeated = bool(event.notify_team_lead)
    notify(
        session,
        now,
        recipient=assignee,
        kind="missed_meeting_task",
        template="missed_meeting_repeated" if repeated else "missed_meeting_first",
        key=f"MissedMeetingTask:task:{task.id}",
        link=_task_link(task.id),
        subject=("task", task.id),
        params={
            "task_id": task.id,
            "case_id": task.case_id,
            "count": count,
            "due_on": _due_on(task, calendar),
        },
        calendar=calendar,
    )
    if not repeated:
        return
    leads = team_leads(session)
    preferences = preferences_of(session, [u.id for u in leads])
    for lead in leads:
        notify(
            session,
            now,
            recipient=lead,
            kind="missed_meeting_notice",
            template="missed_meeting_notice",
            key=f"MissedMeetingNotice:task:{task.id}",
            link=f"/meetings/cases/{task.case_id}",
            subject=("case", task.case_id),
            params={"case_id": task.case_id, "count": count},
            calendar=calendar,
            preferences=preferences,
        )


def _escalation_recipients(session: DbSession, escalation: Escalation) -> list[User]:
    case = session.get(Case, escalation.case_id)
    assignment = case.active_assignment if case is not None else None
    ids = [escalation.referrer_id, assignment.coordinator_id if assignment else None]
    return _users(session, ids + [u.id for u in team_leads(session)])


def _tell_about_escalation(session, escalation: Escalation, now, template: str, key: str):
    calendar = working_calendar(session)
    recipients = _escalation_recipients(session, escalation)
    preferences = preferences_of(session, [u.id for u in recipients])
    due_on = escalation.decision_due_at.astimezone(calendar.tz).date().isoformat()
    for user in recipients:
        notify(
            session,
            now,
            recipient=user,
            kind="escalation",
            template=template,
            key=key,
            link=f"/meetings/escalations/{escalation.id}",
            subject=("escalation", escalation.id),
            params={
                "escalation_id": escalation.id,
                "case_id": escalation.case_id,
                "count": escalation.missed_count,
                "due_on": due_on,
            },
            calendar=calendar,
            preferences=preferences,
        )


def escalation_opened(session: DbSession, event: EscalationOpened) -> None:
    """Ask the referrer to take part in the decision; tell the coordinator and the team leads."""
    now = event.occurred_at
    escalation = session.get(Escalation, event.escalation_id)
    if escalation is not None:
        key = f"EscalationOpened:escalation:{escalation.id}"
        _tell_about_escalation(session, escalation, now, "escalation_opened", key)


def escalation_withdrawn(session: DbSession, event: EscalationWithdrawn) -> None:
    """Tell everyone who was asked that no decision is needed after all."""
    now = event.occurred_at
    escalation = session.get(Escalation, event.escalation_id)
    if escalation is not None:
        key = f"EscalationWithdrawn:escalation:{escalation.id}"
        _tell_about_escalation(session, escalation, now, "escalation_withdrawn", key)


def escalation_decided(session: DbSession, event: EscalationDecided) -> None:
    """Tell the parties the decision; after `continue`, give the coordinator the plan to revise."""
    now = event.occurred_at
    escalation = session.get(Escalation, event.escalation_id)
    if escalation is None:
        return
    template = f"escalation_decided_{escalation.decision}"
    key = f"EscalationDecided:escalation:{escalation.id}"
    _tell_about_escalation(session, escalation, now, template, key)
    task = session.get(Task, event.task_id) if event.task_id else None
    assignee = session.get(User, task.assignee_id) if task is not None else None
    if task is not None and assignee is not None:
        calendar = working_calendar(session)
        notify(
            session,
            now,
            recipient=assignee,
            kind="case_task",
            template="revise_plan_task",
            key=f"TaskAssigned:task:{task.id}",
            link=_task_link(task.id),
            subject=("task", task.id),
            params={"task_id": task.id, "case_id": task.case_id, "due_on": _due_on(task, calendar)},
            calendar=calendar,
        )


def task_closed(session: DbSession, event: TaskCompleted | TaskCancelled) -> None:
    """A task done or struck off leaves the to-do list: its inbox items are done, no email owed."""
    now = event.occurred_at
    subject = ("task", event.task_id)
    cancel_pending(session, subject, TASK_KINDS)
    session.execute(
        update(Notification)
        .where(
            Notification.subject_type == subject[0],
            Notification.subject_id == subject[1],
            Notification.channel == "inbox",
            Notification.done_at.is_(None),
        )
        .values(done_at=now)
        .execution_options(synchronize_session=False)
    )


def group_scheduled(session: DbSession, event: GroupScheduled) -> None:
    """Tell the leader that the group's sessions are scheduled."""
    now = event.occurred_at
    leader = session.get(User, event.leader_id)
    if leader is None:
        return
    notify(
        session,
        now,
        recipient=leader,
        kind="group_scheduled",
        template="group_scheduled",
        key=f"GroupScheduled:group:{event.group_id}",
        link=f"/meetings/groups/{event.group_id}",
        subject=("group", event.group_id),
        params={"group_id": event.group_id, "sessions": event.sessions},
    )

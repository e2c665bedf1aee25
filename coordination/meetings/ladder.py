"""Attendance and the missed-meeting ladder: registering and correcting attendance, the tasks and
escalations the count calls for, the decision on an escalation, and completing a task.

Attendance is registered under the case's row lock (SELECT … FOR UPDATE): the count before and
after the change is taken inside the lock and workflows.ladder says what is owed, so two requests
recording the third miss at the same moment open one escalation (the partial unique index on open
escalations is the last line). A discharge moves the case through START_EXIT (workflows.case).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coordination.cases.models import Case
from coordination.cases.operations import change_state, get_case
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import utcnow
from coordination.core.errors import Conflict, IllegalTransition, ValidationFailed
from coordination.core.i18n import local_today
from coordination.extensions import db
from coordination.meetings.events import (
    AttendanceRecorded,
    CaseDischarged,
    EscalationDecided,
    EscalationOpened,
    EscalationWithdrawn,
    MissedMeetingTask,
    TaskCancelled,
    TaskCompleted,
)
from coordination.meetings.models import (
    DECISIONS,
    DISCHARGE_EXIT_REASON,
    Attendance,
    AttendanceHistory,
    Escalation,
    LadderStep,
    Meeting,
    Task,
)
from coordination.meetings.operations import cancel_participant_reminders
from coordination.meetings.queries import (
    MEETING_STATES,
    all_registered,
    coordinator_of,
    is_participant,
    missed_count,
    open_escalation,
)
from coordination.organisations.calendar import working_calendar
from workflows.calendar import WorkingCalendar
from workflows.case import CaseAction, next_state
from workflows.ladder import Count, LadderAction, react
from workflows.meeting import AttendanceStatus, attendance_allowed, decision_due_at, task_due_at

MISS_TASK_KINDS = ("contact_after_miss", "follow_up_repeated_miss")


@dataclass
class AttendanceResult:
    """What one registration did."""

    attendance: Attendance
    changed: bool
    count: Count
    actions: list[LadderAction]


def _step(
    case_id: int, kind: str, now: datetime, count: int, by: Actor | None, **ids: Any
) -> LadderStep:
    step = LadderStep(
        case_id=case_id,
        kind=kind,
        at=now,
        missed_count=count,
        by_id=getattr(by, "id", None),
        **ids,
    )
    db.session.add(step)
    return step


# --- registering attendance ------------------------------------------------------------------


def _refuse_unknown(meeting: Meeting, case_id: int | None, status: str) -> int:
    """Refuse a status that is not one, or a case that does not take part; return the case."""
    if status not in {s.value for s in AttendanceStatus}:
        raise ValidationFailed(
            _("Ange närvaron."), errors={"status": [_("Välj ett av alternativen.")]}
        )
    if case_id is None or not is_participant(meeting, case_id):
        raise ValidationFailed(
            _("Deltagandet hör inte till mötet."),
            errors={"case_id": [_("Deltagandet hör inte till mötet.")]},
        )
    return case_id


def _refuse_untimely(meeting: Meeting, status: str, now: datetime) -> None:
    """Refuse attendance at a cancelled meeting, or anything but a cancellation before it starts."""
    if meeting.cancelled:
        raise IllegalTransition(_("Mötet är inställt; det finns ingen närvaro att registrera."))
    if not attendance_allowed(status, meeting.starts_at, now):
        raise ValidationFailed(
            _("Mötet har inte börjat än. Före mötet kan bara ett återbud registreras."),
            errors={"status": [_("Mötet har inte börjat än.")]},
        )


def _write_attendance(
    meeting: Meeting,
    case_id: int,
    attendance: Attendance | None,
    status: str,
    *,
    by: Actor,
    reason: str | None,
    now: datetime,
) -> Attendance:
    """Store the status (a new row or a corrected one) with its history row."""
    previous = attendance.status if attendance is not None else None
    if attendance is None:
        attendance = Attendance(meeting_id=meeting.id, case_id=case_id, status=status)
        db.session.add(attendance)
    attendance.status = status
    attendance.recorded_at = now
    attendance.recorded_by_id = getattr(by, "id", None)
    if previous is not None:
        attendance.version += 1
    attendance.history.append(
        AttendanceHistory(
            from_status=previous,
            to_status=status,
            at=now,
            by_id=getattr(by, "id", None),
            reason=(reason or "").strip() or None,
        )
    )
    db.session.flush()
    return attendance


def _note_correction(
    meeting: Meeting,
    case_id: int,
    previous: str,
    status: str,
    after: Count,
    by: Actor,
    now: datetime,
) -> None:
    """Write the correction on the ladder; a miss that was not one takes its tasks away."""
    _step(
        case_id,
        "correction",
        now,
        after.current,
        by,
        meeting_id=meeting.id,
        note=f"{previous} → {status}",
    )
    if previous == AttendanceStatus.MISSED.value:
        _cancel_tasks_of_miss(case_id, meeting.id, now, after.current, by)


def _climb(
    case: Case, meeting: Meeting, before: Count, after: Count, by: Actor, now: datetime
) -> list[LadderAction]:
    """Do what the ladder owes for the change of count (only for cases that have meetings)."""
    if case.state not in MEETING_STATES:
        return []
    escalation = open_escalation(case.id)
    actions = react(
        before,
        after,
        escalation_open=escalation is not None,
        threshold=case.programme.missed_threshold,
    )
    for action in actions:
        _apply(action, case, meeting, escalation, after, by, now)
    return actions


def record_attendance(
    meeting: Meeting,
    *,
    case_id: int | None = None,
    status: str,
    by: Actor,
    reason: str | None = None,
    now: datetime | None = None,
) -> AttendanceResult:
    """Register or correct the participant's attendance and climb (or descend) the ladder.

    Runs under the case's row lock; registering the same status again changes nothing.
    """
    now = now or utcnow()
    case_id = _refuse_unknown(meeting, case_id if case_id is not None else meeting.case_id, status)
    case = get_case(case_id, lock=True)
    _refuse_untimely(meeting, status, now)
    attendance = db.session.scalar(
        select(Attendance)
        .where(Attendance.meeting_id == meeting.id, Attendance.case_id == case_id)
        .execution_options(populate_existing=True)
    )
    if attendance is not None and attendance.status == status:
        return AttendanceResult(attendance, False, missed_count(case), [])
    before = missed_count(case)
    previous = attendance.status if attendance is not None else None
    attendance = _write_attendance(
        meeting, case_id, attendance, status, by=by, reason=reason, now=now
    )
    after = missed_count(case)
    if status != AttendanceStatus.MISSED.value:
        cancel_participant_reminders(meeting, case_id)
    if previous is not None:
        _note_correction(meeting, case_id, previous, status, after, by, now)
    actions = _climb(case, meeting, before, after, by, now)
    db.session.flush()
    events.record(
        db.session,
        AttendanceRecorded(
            meeting_id=meeting.id,
            case_id=case_id,
            attendance_id=attendance.id,
            status=status,
            correction=previous is not None,
            all_registered=all_registered(meeting),
            occurred_at=now,
        ),
    )
    return AttendanceResult(attendance, True, after, actions)


def record_bulk_attendance(
    meeting: Meeting, statuses: dict[int, str], *, by: Actor, now: datetime | None = None
) -> list[AttendanceResult]:
    """Register the attendance of several participants of a group session, one case at a time."""
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    for case_id, status in statuses.items():
        if status not in {s.value for s in AttendanceStatus}:
            errors[f"status_{case_id}"] = [_("Välj ett av alternativen.")]
        elif not is_participant(meeting, case_id):
            errors[f"status_{case_id}"] = [_("Deltagandet hör inte till mötet.")]
    if not statuses:
        errors["statuses"] = [_("Ange närvaron för minst en deltagare.")]
    if errors:
        raise ValidationFailed(_("Närvaron kunde inte registreras."), errors=errors)
    # Cases are locked in id order, so two bulk registrations never deadlock.
    return [
        record_attendance(meeting, case_id=case_id, status=statuses[case_id], by=by, now=now)
        for case_id in sorted(statuses)
    ]


# --- what the ladder owes ---------------------------------------------------------------------


def _cancel_tasks_of_miss(
    case_id: int, meeting_id: int, now: datetime, count: int, by: Actor
) -> None:
    for task in db.session.scalars(
        select(Task).where(
            Task.case_id == case_id,
            Task.meeting_id == meeting_id,
            Task.kind.in_(MISS_TASK_KINDS),
            Task.done_at.is_(None),
            Task.cancelled_at.is_(None),
        )
    ):
        task.cancelled_at = now
        task.cancel_reason = _("Närvaron rättades: mötet var inte ett uteblivet möte.")
        _step(case_id, "task_cancelled", now, count, by, meeting_id=meeting_id, task_id=task.id)
        events.record(db.session, TaskCancelled(task_id=task.id, case_id=case_id, occurred_at=now))


def _new_task(
    case: Case, kind: str, due_at: datetime, by: Actor, now: datetime, **ids: Any
) -> Task:
    assignee = coordinator_of(case) or by
    task = Task(
        case_id=case.id, kind=kind, assignee_id=assignee.id, due_at=due_at, created_at=now, **ids
    )
    db.session.add(task)
    db.session.flush()
    return task


def _apply(
    action: LadderAction,
    case: Case,
    meeting: Meeting,
    escalation: Escalation | None,
    count: Count,
    by: Actor,
    now: datetime,
) -> None:
    calendar = working_calendar()
    if action in (LadderAction.FIRST_MISS_TASK, LadderAction.REPEATED_MISS_TASK):
        _miss_task(action, case, meeting, count, by, now, calendar)
    elif action is LadderAction.OPEN_ESCALATION:
        _open_escalation(case, meeting, count, by, now, calendar)
    elif action is LadderAction.WITHDRAW_ESCALATION and escalation is not None:
        _withdraw_escalation(escalation, case, meeting, count, by, now)


def _miss_task(
    action: LadderAction,
    case: Case,
    meeting: Meeting,
    count: Count,
    by: Actor,
    now: datetime,
    calendar: WorkingCalendar,
) -> Task:
    first = action is LadderAction.FIRST_MISS_TASK
    task = _new_task(
        case,
        MISS_TASK_KINDS[0] if first else MISS_TASK_KINDS[1],
        task_due_at(now, calendar),
        by,
        now,
        meeting_id=meeting.id,
    )
    _step(case.id, action.value, now, count.current, by, meeting_id=meeting.id, task_id=task.id)
    events.record(
        db.session,
        MissedMeetingTask(
            task_id=task.id,
            case_id=case.id,
            meeting_id=meeting.id,
            assignee_id=task.assignee_id,
            missed_count=count.current,
            notify_team_lead=not first,
            occurred_at=now,
        ),
    )
    return task


def _withdraw_escalation(
    escalation: Escalation, case: Case, meeting: Meeting, count: Count, by: Actor, now: datetime
) -> None:
    escalation.status = "withdrawn"
    escalation.withdrawn_at = now
    escalation.withdraw_reason = _(
        "Närvaron rättades och antalet uteblivna möten är nu %(n)s, under gränsen %(t)s.",
        n=count.peak,
        t=case.programme.missed_threshold,
    )
    _step(
        case.id,
        "escalation_withdrawn",
        now,
        count.current,
        by,
        meeting_id=meeting.id,
        escalation_id=escalation.id,
    )
    events.record(
        db.session,
        EscalationWithdrawn(
            escalation_id=escalation.id,
            case_id=case.id,
            referrer_id=escalation.referrer_id,
            occurred_at=now,
        ),
    )


def _open_escalation(
    case: Case,
    meeting: Meeting,
    count: Count,
    by: Actor,
    now: datetime,
    calendar: WorkingCalendar,
) -> Escalation:
    programme = case.programme
    escalation = Escalation(
        case_id=case.id,
        status="open",
        opened_at=now,
        missed_count=count.peak,
        decision_due_at=decision_due_at(now, programme.escalation_decision_working_days, calendar),
        referrer_id=case.referral.referrer_id if case.referral else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(escalation)
            db.session.flush()
    except IntegrityError as exc:  # the partial unique index: someone else opened it
        raise Conflict(_("Deltagandet har redan en öppen eskalering.")) from exc
    _step(
        case.id,
        "escalation_opened",
        now,
        count.current,
        by,
        meeting_id=meeting.id,
        escalation_id=escalation.id,
    )
    coordinator = coordinator_of(case)
    events.record(
        db.session,
        EscalationOpened(
            escalation_id=escalation.id,
            case_id=case.id,
            referrer_id=escalation.referrer_id,
            coordinator_id=coordinator.id if coordinator else None,
            decision_due_at=escalation.decision_due_at,
            occurred_at=now,
        ),
    )
    return escalation


# --- the decision on an escalation ------------------------------------------------------------


def _discharge(case: Case, escalation: Escalation, by: Actor, now: datetime) -> None:
    """Start the case's exit on the escalation's decision."""
    escalation.exit_reason = DISCHARGE_EXIT_REASON
    change_state(
        case,
        CaseAction.START_EXIT,
        by=by,
        reason=_(
            "Avslutas efter uteblivna möten (avbrutit/uteblivit), beslut om eskalering %(id)s.",
            id=escalation.id,
        ),
        now=now,
    )


def _revise_plan_task(case: Case, escalation: Escalation, by: Actor, now: datetime) -> Task:
    """Give the coordinator a task to revise the plan by the programme's working-day limit."""
    calendar = working_calendar()
    due_on = calendar.add_working_days(
        local_today(now), case.programme.escalation_decision_working_days
    )
    return _new_task(
        case,
        "revise_plan",
        calendar.end_of_working_day(due_on),
        by,
        now,
        escalation_id=escalation.id,
    )


def decide_escalation(
    case: Case, *, decision: str, comment: str = "", by: Actor, now: datetime | None = None
) -> Escalation:
    """Record the decision on the open escalation: continue (the count resets) or discharge."""
    now = now or utcnow()
    case = get_case(case.id, lock=True)
    if decision not in DECISIONS:
        raise ValidationFailed(
            _("Välj ett beslut."), errors={"decision": [_("Välj fortsätta eller avsluta.")]}
        )
    escalation = open_escalation(case.id)
    if escalation is None:
        raise Conflict(_("Deltagandet har ingen öppen eskalering att besluta om."))
    if decision == "discharge":
        next_state(case.state, CaseAction.START_EXIT)  # refused before the escalation changes
    escalation.status = "decided"
    escalation.decision = decision
    escalation.comment = (comment or "").strip() or None
    escalation.decided_at = now
    escalation.decided_by_id = getattr(by, "id", None)
    if decision == "discharge":
        _discharge(case, escalation, by, now)
    db.session.flush()
    _step(
        case.id,
        f"decided_{decision}",
        now,
        0 if decision == "continue" else missed_count(case).current,
        by,
        escalation_id=escalation.id,
        note=escalation.comment,
    )
    task = _revise_plan_task(case, escalation, by, now) if decision == "continue" else None
    events.record(
        db.session,
        EscalationDecided(
            escalation_id=escalation.id,
            case_id=case.id,
            decision=decision,
            referrer_id=escalation.referrer_id,
            task_id=task.id if task is not None else None,
            occurred_at=now,
        ),
    )
    if decision == "discharge":
        events.record(
            db.session,
            CaseDischarged(
                case_id=case.id,
                escalation_id=escalation.id,
                exit_reason=DISCHARGE_EXIT_REASON,
                occurred_at=now,
            ),
        )
    db.session.flush()
    return escalation


# --- tasks -----------------------------------------------------------------------------------


def complete_task(task: Task, *, by: Actor, now: datetime | None = None) -> Task:
    """Mark a task done (its inbox item too)."""
    now = now or utcnow()
    if task.cancelled_at is not None:
        raise IllegalTransition(_("Uppgiften är struken."))
    if task.done_at is None:
        task.done_at = now
        task.done_by_id = getattr(by, "id", None)
        db.session.flush()
        events.record(
            db.session, TaskCompleted(task_id=task.id, case_id=task.case_id, occurred_at=now)
        )
    return task

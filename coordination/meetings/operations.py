"""The only place that changes meetings, attendance, groups, ladder tasks and escalations.

Attendance is registered under the case's row lock (SELECT … FOR UPDATE): the count before and
after the change is taken inside the lock and workflows.ladder says what is owed, so two requests
recording the third miss at the same moment open one escalation (the partial unique index on open
escalations is the last line). A discharge moves the case through START_EXIT (workflows.case).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from coordination.auth.models import User
from coordination.cases.models import Case
from coordination.cases.operations import change_state, get_case
from coordination.consent.operations import covering
from coordination.core import events
from coordination.core.db import get_row, utcnow
from coordination.core.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from coordination.core.i18n import label, local_today
from coordination.core.reminders import cancel_participant_reminders, owe_participant_reminder
from coordination.extensions import db
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
from coordination.meetings.models import (
    DECISIONS,
    DISCHARGE_EXIT_REASON,
    Attendance,
    AttendanceHistory,
    Escalation,
    GroupActivity,
    GroupEnrolment,
    LadderStep,
    Meeting,
    MeetingAttendee,
    Task,
)
from coordination.organisations.calendar import working_calendar as calendar_with_days_off
from coordination.programmes.models import Programme
from workflows.calendar import WorkingCalendar
from workflows.case import CaseAction, CaseState, next_state
from workflows.ladder import Count, LadderAction, LadderSettings, Mark, react
from workflows.ladder import count as ladder_count
from workflows.meeting import (
    CASE_KINDS,
    GROUP_PRESETS,
    AttendanceStatus,
    MeetingKind,
    MeetingStatus,
    attendance_allowed,
    decision_due_at,
    group_sessions,
    participant_reminder_at,
    task_due_at,
)
from workflows.organisation import MEMBER_AGENCIES, AgencyKind, Role

# Cases whose meetings are booked and whose misses climb the ladder.
MEETING_STATES = frozenset(
    {CaseState.ENROLLED.value, CaseState.ACTIVE.value, CaseState.PAUSED.value}
)
BOOKABLE_STATES = MEETING_STATES | {CaseState.EXITING.value}
STAFF_ROLES = (Role.REFERRER, Role.CONFERENCE_MEMBER, Role.COORDINATOR, Role.TEAM_LEAD)
MAX_MEETING_HOURS = 12
MAX_ATTENDEES = 30
MEMBER_AGENCY_CODES = {a.value for a in MEMBER_AGENCIES}


def working_calendar() -> WorkingCalendar:
    """Return the förbund's working calendar (Swedish holidays and its own days off)."""
    return calendar_with_days_off(db.session)


# --- loading ---------------------------------------------------------------------------------


def get_meeting(meeting_id: int, *, lock: bool = False) -> Meeting:
    """Load a meeting, locking its row when it is about to change."""
    return get_row(Meeting, meeting_id, lock=lock, missing=_("Mötet finns inte."))


def coordinator_of(case: Case) -> User | None:
    """Return the case's active coordinator."""
    assignment = case.active_assignment
    return assignment.coordinator if assignment is not None else None


def open_escalation(case_id: int) -> Escalation | None:
    """Return the case's open escalation, if any."""
    return db.session.scalar(
        select(Escalation).where(Escalation.case_id == case_id, Escalation.status == "open")
    )


def escalations_of(case_id: int) -> list[Escalation]:
    """Return every escalation of a case, newest first."""
    return list(
        db.session.scalars(
            select(Escalation)
            .where(Escalation.case_id == case_id)
            .order_by(Escalation.opened_at.desc(), Escalation.id.desc())
        )
    )


def ladder_history(case_id: int) -> list[LadderStep]:
    """Return the case's missed-meeting history, oldest first."""
    return list(
        db.session.scalars(
            select(LadderStep)
            .where(LadderStep.case_id == case_id)
            .order_by(LadderStep.at, LadderStep.id)
        )
    )


def meetings_of(case_id: int) -> list[Meeting]:
    """Return the case's own meetings and the sessions of its groups, by time."""
    groups = select(GroupEnrolment.group_id).where(GroupEnrolment.case_id == case_id)
    return list(
        db.session.scalars(
            select(Meeting)
            .where((Meeting.case_id == case_id) | Meeting.group_id.in_(groups))
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )


def open_tasks(*, case_id: int | None = None, assignee_id: int | None = None) -> list[Task]:
    """Return open tasks of a case or of an assignee, by due time."""
    query = select(Task).where(Task.done_at.is_(None), Task.cancelled_at.is_(None))
    if case_id is not None:
        query = query.where(Task.case_id == case_id)
    if assignee_id is not None:
        query = query.where(Task.assignee_id == assignee_id)
    return list(db.session.scalars(query.order_by(Task.due_at, Task.id)))


# --- the ladder's count -----------------------------------------------------------------------


def settings_of(programme: Programme) -> LadderSettings:
    """Return the programme's ladder settings."""
    return LadderSettings(
        threshold=programme.missed_threshold,
        counting_mode=programme.counting_mode,
        group_sessions_count=programme.group_sessions_count,
    )


def reset_at(case_id: int) -> datetime | None:
    """Return when the count last started again (the latest `continue` decision)."""
    return db.session.scalar(
        select(func.max(Escalation.decided_at)).where(
            Escalation.case_id == case_id, Escalation.decision == "continue"
        )
    )


def marks_of(case_ids: list[int]) -> dict[int, list[Mark]]:
    """Return each case's registered attendance at meetings that were not cancelled."""
    rows = db.session.execute(
        select(
            Attendance.case_id,
            Attendance.meeting_id,
            Meeting.starts_at,
            Attendance.status,
            Meeting.group_id,
        )
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(
            Attendance.case_id.in_(case_ids),
            Meeting.status == MeetingStatus.BOOKED.value,
        )
    )
    marks: dict[int, list[Mark]] = {case_id: [] for case_id in case_ids}
    for case_id, meeting_id, starts_at, status, group_id in rows:
        marks[case_id].append(
            Mark(meeting_id, starts_at, AttendanceStatus(status), group_id is not None)
        )
    return marks


def missed_count(case: Case) -> Count:
    """Return the case's missed-meeting count now."""
    return ladder_count(
        marks_of([case.id])[case.id], settings_of(case.programme), reset_at(case.id)
    )


# --- booking ---------------------------------------------------------------------------------


@dataclass
class MeetingInput:
    """What a booking or a change says."""

    kind: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    location: str | None = None
    attendee_ids: list[int] = field(default_factory=list)


def agency_of(user: User) -> str | None:
    """Return the agency kind a user represents (a member agency before the förbund)."""
    kinds = sorted(user.agency_kinds)
    members = [k for k in kinds if k in MEMBER_AGENCY_CODES]
    return (members or kinds or [None])[0]


def _attendees(case: Case | None, ids: list[int], errors: dict, now: datetime) -> list[User]:
    unique = list(dict.fromkeys(ids or []))
    if len(unique) > MAX_ATTENDEES:
        errors["attendee_ids"] = [_("Bjud in högst %(n)s personer.", n=MAX_ATTENDEES)]
        return []
    users = []
    for user_id in unique:
        user = db.session.get(User, user_id)
        if user is None or not user.active or not user.has_any_role(STAFF_ROLES):
            errors.setdefault("attendee_ids", []).append(
                _("Deltagare %(id)s är inte en aktiv medarbetare.", id=user_id)
            )
            continue
        agency = agency_of(user)
        if case is not None and agency in MEMBER_AGENCY_CODES:
            # Nothing about the person crosses to an agency their consent does not cover.
            if covering(case.person_id, [agency], local_today(now)) is None:
                errors.setdefault("attendee_ids", []).append(
                    _(
                        "Samtycket omfattar inte %(agency)s, så %(name)s kan inte bjudas in.",
                        agency=label("agency", agency),
                        name=user.name,
                    )
                )
                continue
        users.append(user)
    return users


def _times(data: MeetingInput, errors: dict) -> None:
    if data.starts_at is None:
        errors["starts_at"] = [_("Ange när mötet börjar.")]
    if data.ends_at is None:
        errors["ends_at"] = [_("Ange när mötet slutar.")]
    if data.starts_at is not None and data.ends_at is not None:
        if data.ends_at <= data.starts_at:
            errors["ends_at"] = [_("Mötet måste sluta efter att det har börjat.")]
        elif data.ends_at - data.starts_at > timedelta(hours=MAX_MEETING_HOURS):
            errors["ends_at"] = [_("Ett möte kan vara högst %(h)s timmar.", h=MAX_MEETING_HOURS)]


def _location(kind: str | None, location: str | None, errors: dict) -> str | None:
    location = (location or "").strip() or None
    if kind == MeetingKind.HOME_VISIT.value and location:
        errors["location"] = [
            _(
                "Skriv ingen plats för ett hembesök: adressen finns hos koordinatorn "
                "och får inte stå i kallelsen."
            )
        ]
    elif location and len(location) > 300:
        errors["location"] = [_("Skriv högst 300 tecken.")]
    return location


def book_meeting(case: Case, data: MeetingInput, *, by, now: datetime | None = None) -> Meeting:
    """Book a meeting of a case with attendees from any agency; every problem at once."""
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    if data.kind not in {k.value for k in CASE_KINDS}:
        errors["kind"] = [_("Välj vilket slags möte det är.")]
    _times(data, errors)
    location = _location(data.kind, data.location, errors)
    attendees = _attendees(case, data.attendee_ids, errors, now)
    if case.state not in BOOKABLE_STATES:
        errors["case"] = [
            _(
                "Möten bokas för inskrivna deltagare. Deltagandet har status %(state)s.",
                state=label("state", case.state),
            )
        ]
    if errors:
        raise ValidationFailed(_("Mötet kunde inte bokas. Rätta felen nedan."), errors=errors)
    meeting = Meeting(
        uid=f"{uuid.uuid4()}@samordning",
        case_id=case.id,
        kind=data.kind,
        status=MeetingStatus.BOOKED.value,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        location=location,
        organiser_id=getattr(by, "id", None),
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    db.session.add(meeting)
    organiser = [by] if by is not None and by.id not in {u.id for u in attendees} else []
    for user in organiser + attendees:
        meeting.attendees.append(
            MeetingAttendee(
                user_id=user.id,
                agency_kind=agency_of(user),
                invited_at=now,
                confirmed_at=now if by is not None and user.id == by.id else None,
            )
        )
    db.session.flush()
    _schedule_participant_reminder(meeting, case.id, now)
    events.record(
        db.session,
        MeetingBooked(
            meeting_id=meeting.id,
            case_id=case.id,
            group_id=None,
            kind=meeting.kind,
            organiser_id=meeting.organiser_id,
            attendee_ids=tuple(a.user_id for a in meeting.attendees),
            occurred_at=now,
        ),
    )
    return meeting


def _refuse_if_held(meeting: Meeting, message: str) -> None:
    held = [a for a in meeting.attendance if a.status in ("attended", "missed")]
    if held:
        raise Conflict(message)


def change_meeting(
    meeting: Meeting, data: MeetingInput, *, by, now: datetime | None = None
) -> Meeting:
    """Change the time, place or attendees; the invitation goes out again with a higher SEQUENCE."""
    now = now or utcnow()
    if meeting.cancelled:
        raise IllegalTransition(_("Mötet är inställt och kan inte ändras."))
    _refuse_if_held(meeting, _("Närvaron är redan registrerad: mötet har hållits."))
    errors: dict[str, list[str]] = {}
    _times(data, errors)
    location = _location(meeting.kind, data.location, errors)
    keep = {a.user_id for a in meeting.attendees}
    wanted_ids = list(dict.fromkeys(data.attendee_ids or []))
    new_users = _attendees(meeting.case, [i for i in wanted_ids if i not in keep], errors, now)
    if errors:
        raise ValidationFailed(_("Mötet kunde inte ändras. Rätta felen nedan."), errors=errors)
    organiser_id = meeting.organiser_id
    wanted = set(wanted_ids) | ({organiser_id} if organiser_id else set())
    removed = [a for a in meeting.attendees if a.user_id not in wanted]
    time_changed = (data.starts_at, data.ends_at) != (meeting.starts_at, meeting.ends_at)
    if not (time_changed or location != meeting.location or removed or new_users):
        return meeting
    for attendee in removed:
        meeting.attendees.remove(attendee)
    for user in new_users:
        meeting.attendees.append(
            MeetingAttendee(user_id=user.id, agency_kind=agency_of(user), invited_at=now)
        )
    meeting.starts_at, meeting.ends_at, meeting.location = data.starts_at, data.ends_at, location
    meeting.sequence += 1
    meeting.updated_at = now
    if time_changed:
        for attendee in meeting.attendees:
            if attendee.user_id != getattr(by, "id", None):
                attendee.confirmed_at = None  # a new time needs a new confirmation
        _cancel_participant_reminders(meeting)
        for case_id in _participant_case_ids(meeting):
            _schedule_participant_reminder(meeting, case_id, now)
    db.session.flush()
    events.record(
        db.session,
        MeetingChanged(
            meeting_id=meeting.id,
            case_id=meeting.case_id,
            group_id=meeting.group_id,
            sequence=meeting.sequence,
            time_changed=time_changed,
            attendee_ids=tuple(a.user_id for a in meeting.attendees),
            removed_user_ids=tuple(a.user_id for a in removed),
            occurred_at=now,
        ),
    )
    return meeting


def cancel_meeting(
    meeting: Meeting, *, reason: str = "", by, now: datetime | None = None
) -> Meeting:
    """Cancel a meeting; the invitees get a CANCEL with the same UID and a higher SEQUENCE."""
    now = now or utcnow()
    if meeting.cancelled:
        raise IllegalTransition(_("Mötet är redan inställt."))
    _refuse_if_held(meeting, _("Närvaron är redan registrerad: mötet har hållits."))
    meeting.status = MeetingStatus.CANCELLED.value
    meeting.cancelled_at = now
    meeting.cancelled_by_id = getattr(by, "id", None)
    meeting.cancel_reason = (reason or "").strip() or None
    meeting.sequence += 1
    meeting.updated_at = now
    _cancel_participant_reminders(meeting)
    db.session.flush()
    events.record(
        db.session,
        MeetingCancelled(
            meeting_id=meeting.id,
            case_id=meeting.case_id,
            group_id=meeting.group_id,
            sequence=meeting.sequence,
            attendee_ids=tuple(a.user_id for a in meeting.attendees),
            occurred_at=now,
        ),
    )
    return meeting


def confirm(meeting: Meeting, user, *, now: datetime | None = None) -> MeetingAttendee:
    """Confirm that an invitee will take part (SamSIP invitees must); twice changes nothing."""
    now = now or utcnow()
    attendee = next((a for a in meeting.attendees if a.user_id == user.id), None)
    if attendee is None:
        raise NotFound(_("Du är inte inbjuden till mötet."))
    if meeting.cancelled:
        raise IllegalTransition(_("Mötet är inställt."))
    if attendee.confirmed_at is None:
        attendee.confirmed_at = now
        db.session.flush()
        events.record(
            db.session,
            MeetingConfirmed(
                meeting_id=meeting.id, attendee_id=attendee.id, user_id=user.id, occurred_at=now
            ),
        )
    return attendee


# --- participant reminders -------------------------------------------------------------------


def _participant_case_ids(meeting: Meeting) -> list[int]:
    if meeting.case_id is not None:
        return [meeting.case_id]
    return [e.case_id for e in meeting.group.current_enrolments] if meeting.group else []


def _schedule_participant_reminder(meeting: Meeting, case_id: int, now: datetime) -> None:
    due = participant_reminder_at(meeting.starts_at)
    if due <= now or meeting.cancelled:
        return
    owe_participant_reminder(
        db.session,
        meeting_id=meeting.id,
        case_id=case_id,
        sequence=meeting.sequence,
        due_at=due,
        now=now,
    )


def _cancel_participant_reminders(meeting: Meeting, case_id: int | None = None) -> None:
    cancel_participant_reminders(db.session, meeting.id, case_id)


# --- attendance and the ladder ----------------------------------------------------------------


@dataclass
class AttendanceResult:
    """What one registration did."""

    attendance: Attendance
    changed: bool
    count: Count
    actions: list[LadderAction]


def _step(case_id: int, kind: str, now: datetime, count: int, by, **ids) -> LadderStep:
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


def _participant_of(meeting: Meeting, case_id: int) -> bool:
    if meeting.case_id is not None:
        return meeting.case_id == case_id
    return any(e.case_id == case_id for e in meeting.group.current_enrolments)


def record_attendance(
    meeting: Meeting,
    *,
    case_id: int | None = None,
    status: str,
    by,
    reason: str | None = None,
    now: datetime | None = None,
) -> AttendanceResult:
    """Register or correct the participant's attendance and climb (or descend) the ladder.

    Runs under the case's row lock; registering the same status again changes nothing.
    """
    now = now or utcnow()
    case_id = case_id if case_id is not None else meeting.case_id
    if status not in {s.value for s in AttendanceStatus}:
        raise ValidationFailed(
            _("Ange närvaron."), errors={"status": [_("Välj ett av alternativen.")]}
        )
    if case_id is None or not _participant_of(meeting, case_id):
        raise ValidationFailed(
            _("Deltagandet hör inte till mötet."),
            errors={"case_id": [_("Deltagandet hör inte till mötet.")]},
        )
    case = get_case(case_id, lock=True)
    if meeting.cancelled:
        raise IllegalTransition(_("Mötet är inställt; det finns ingen närvaro att registrera."))
    if not attendance_allowed(status, meeting.starts_at, now):
        raise ValidationFailed(
            _("Mötet har inte börjat än. Före mötet kan bara ett återbud registreras."),
            errors={"status": [_("Mötet har inte börjat än.")]},
        )
    attendance = db.session.scalar(
        select(Attendance)
        .where(Attendance.meeting_id == meeting.id, Attendance.case_id == case_id)
        .execution_options(populate_existing=True)
    )
    settings = settings_of(case.programme)
    if attendance is not None and attendance.status == status:
        return AttendanceResult(attendance, False, missed_count(case), [])
    before = missed_count(case)
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
    after = missed_count(case)
    if status != AttendanceStatus.MISSED.value:
        _cancel_participant_reminders(meeting, case_id)
    if previous is not None:
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
    actions: list[LadderAction] = []
    if case.state in MEETING_STATES:
        escalation = open_escalation(case_id)
        actions = react(
            before,
            after,
            escalation_open=escalation is not None,
            threshold=settings.threshold,
        )
        for action in actions:
            _apply(action, case, meeting, escalation, after, by, now)
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


def all_registered(meeting: Meeting) -> bool:
    """Tell whether every participant of the meeting has an attendance."""
    registered = set(
        db.session.scalars(select(Attendance.case_id).where(Attendance.meeting_id == meeting.id))
    )
    return set(_participant_case_ids(meeting)) <= registered


def record_bulk_attendance(
    meeting: Meeting, statuses: dict[int, str], *, by, now: datetime | None = None
) -> list[AttendanceResult]:
    """Register the attendance of several participants of a group session, one case at a time."""
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    for case_id, status in statuses.items():
        if status not in {s.value for s in AttendanceStatus}:
            errors[f"status_{case_id}"] = [_("Välj ett av alternativen.")]
        elif not _participant_of(meeting, case_id):
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


def _cancel_tasks_of_miss(case_id: int, meeting_id: int, now, count: int, by) -> None:
    for task in db.session.scalars(
        select(Task).where(
            Task.case_id == case_id,
            Task.meeting_id == meeting_id,
            Task.kind.in_(("contact_after_miss", "follow_up_repeated_miss")),
            Task.done_at.is_(None),
            Task.cancelled_at.is_(None),
        )
    ):
        task.cancelled_at = now
        task.cancel_reason = _("Närvaron rättades: mötet var inte ett uteblivet möte.")
        _step(case_id, "task_cancelled", now, count, by, meeting_id=meeting_id, task_id=task.id)
        events.record(db.session, TaskCancelled(task_id=task.id, case_id=case_id, occurred_at=now))


def _new_task(case: Case, kind: str, due_at: datetime, by, now: datetime, **ids) -> Task:
    assignee = coordinator_of(case) or by
    task = Task(
        case_id=case.id, kind=kind, assignee_id=assignee.id, due_at=due_at, created_at=now, **ids
    )
    db.session.add(task)
    db.session.flush()
    return task


def _apply(action, case, meeting, escalation, count: Count, by, now) -> None:
    calendar = working_calendar()
    if action in (LadderAction.FIRST_MISS_TASK, LadderAction.REPEATED_MISS_TASK):
        first = action is LadderAction.FIRST_MISS_TASK
        task = _new_task(
            case,
            "contact_after_miss" if first else "follow_up_repeated_miss",
            task_due_at(now, calendar),
            by,
            now,
            meeting_id=meeting.id,
        )
        _step(
            case.id,
            action.value,
            now,
            count.current,
            by,
            meeting_id=meeting.id,
            task_id=task.id,
        )
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
    elif action is LadderAction.OPEN_ESCALATION:
        _open_escalation(case, meeting, count, by, now, calendar)
    elif action is LadderAction.WITHDRAW_ESCALATION and escalation is not None:
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


def _open_escalation(case, meeting, count: Count, by, now, calendar) -> Escalation:
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


def decide_escalation(
    case: Case, *, decision: str, comment: str = "", by, now: datetime | None = None
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
    calendar = working_calendar()
    if decision == "discharge":
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
    task_id = None
    if decision == "continue":
        task = _new_task(
            case,
            "revise_plan",
            calendar.end_of_working_day(
                calendar.add_working_days(
                    local_today(now), case.programme.escalation_decision_working_days
                )
            ),
            by,
            now,
            escalation_id=escalation.id,
        )
        task_id = task.id
    events.record(
        db.session,
        EscalationDecided(
            escalation_id=escalation.id,
            case_id=case.id,
            decision=decision,
            referrer_id=escalation.referrer_id,
            task_id=task_id,
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


def complete_task(task: Task, *, by, now: datetime | None = None) -> Task:
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


# --- groups ----------------------------------------------------------------------------------


@dataclass
class GroupInput:
    """What a new group activity says; a preset fills what is left out."""

    programme_id: int | None = None
    name: str = ""
    preset: str = "halsogrupp"
    capacity: int | None = None
    weekdays: list[int] = field(default_factory=list)
    start_time: time | None = None
    minutes: int | None = None
    first_date: date | None = None
    weeks: int | None = None
    location: str | None = None
    leader_id: int | None = None


def create_group(data: GroupInput, *, by, now: datetime | None = None) -> GroupActivity:
    """Create a group activity and generate its sessions from the schedule."""
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    preset = GROUP_PRESETS.get(data.preset)
    if data.preset not in (*GROUP_PRESETS, "other"):
        errors["preset"] = [_("Välj vilket slags grupp det är.")]
    capacity = data.capacity or (preset.capacity if preset else None)
    weeks = data.weeks or (preset.weeks if preset else None)
    weekdays = sorted(set(data.weekdays or (preset.weekdays if preset else ())))
    start = data.start_time or (preset.start if preset else None)
    minutes = data.minutes or (preset.minutes if preset else None)
    programme = db.session.get(Programme, data.programme_id) if data.programme_id else None
    leader = db.session.get(User, data.leader_id) if data.leader_id else None
    name = (data.name or "").strip()
    if programme is None or not programme.active:
        errors["programme_id"] = [_("Välj en aktiv insats.")]
    if not name:
        errors["name"] = [_("Ge gruppen ett namn, till exempel ”Hälsogrupp våren”.")]
    elif len(name) > 200:
        errors["name"] = [_("Skriv högst 200 tecken.")]
    if not capacity or capacity < 1:
        errors["capacity"] = [_("Ange hur många deltagare gruppen tar emot.")]
    if not weeks or not 1 <= weeks <= 52:
        errors["weeks"] = [_("Ange antal veckor, 1–52.")]
    if not weekdays or not set(weekdays) <= set(range(5)):
        errors["weekdays"] = [_("Välj minst en veckodag, måndag–fredag.")]
    if start is None:
        errors["start_time"] = [_("Ange tid som TT:MM.")]
    if not minutes or not 15 <= minutes <= 8 * 60:
        errors["minutes"] = [_("Ange hur länge ett tillfälle varar, 15–480 minuter.")]
    if data.first_date is None:
        errors["first_date"] = [_("Ange första dagen som ÅÅÅÅ-MM-DD.")]
    if (
        leader is None
        or not leader.active
        or not leader.has_any_role([Role.COORDINATOR, Role.TEAM_LEAD])
    ):
        errors["leader_id"] = [_("Välj en koordinator som leder gruppen.")]
    location = (data.location or "").strip() or None
    if location and len(location) > 300:
        errors["location"] = [_("Skriv högst 300 tecken.")]
    if errors:
        raise ValidationFailed(_("Gruppen kunde inte skapas. Rätta felen nedan."), errors=errors)
    calendar = working_calendar()
    sessions = group_sessions(data.first_date, weeks, weekdays, start, minutes, calendar)
    if not sessions:
        raise ValidationFailed(
            _("Schemat ger inga tillfällen."),
            errors={"first_date": [_("Schemat ger inga tillfällen. Välj andra dagar.")]},
        )
    group = GroupActivity(
        programme_id=programme.id,
        name=name,
        preset=data.preset,
        capacity=capacity,
        weekdays=weekdays,
        start_time=start,
        minutes=minutes,
        first_date=data.first_date,
        weeks=weeks,
        location=location,
        leader_id=leader.id,
        created_by_id=getattr(by, "id", None),
        created_at=now,
    )
    db.session.add(group)
    db.session.flush()
    for session in sessions:
        meeting = Meeting(
            uid=f"{uuid.uuid4()}@samordning",
            group_id=group.id,
            kind=MeetingKind.GROUP_SESSION.value,
            status=MeetingStatus.BOOKED.value,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            location=location,
            organiser_id=leader.id,
            created_at=now,
            updated_at=now,
        )
        meeting.attendees.append(
            MeetingAttendee(user_id=leader.id, agency_kind=AgencyKind.FORBUND.value, invited_at=now)
        )
        group.sessions.append(meeting)
    db.session.flush()
    for meeting in group.sessions:
        events.record(
            db.session,
            MeetingBooked(
                meeting_id=meeting.id,
                case_id=None,
                group_id=group.id,
                kind=meeting.kind,
                organiser_id=leader.id,
                attendee_ids=(leader.id,),
                occurred_at=now,
            ),
        )
    events.record(
        db.session,
        GroupScheduled(
            group_id=group.id, leader_id=leader.id, sessions=len(group.sessions), occurred_at=now
        ),
    )
    return group


def get_group(group_id: int, *, lock: bool = False) -> GroupActivity:
    """Load a group activity, locking its row when its enrolments are about to change."""
    return get_row(GroupActivity, group_id, lock=lock, missing=_("Gruppen finns inte."))


def enrol(group: GroupActivity, case: Case, *, by, now: datetime | None = None) -> GroupEnrolment:
    """Enrol a case in a group while it has room (the group row is locked while counting)."""
    now = now or utcnow()
    group = get_group(group.id, lock=True)
    if case.state not in MEETING_STATES:
        raise Conflict(
            _(
                "Bara inskrivna deltagare kan delta i en grupp. Deltagandet har status %(state)s.",
                state=label("state", case.state),
            )
        )
    if case.programme_id != group.programme_id:
        raise ValidationFailed(
            _("Deltagandet hör till en annan insats än gruppen."),
            errors={"case_id": [_("Deltagandet hör till en annan insats än gruppen.")]},
        )
    current = group.current_enrolments
    if any(e.case_id == case.id for e in current):
        raise Conflict(_("Deltagandet är redan med i gruppen."))
    if len(current) >= group.capacity:
        raise Conflict(_("Gruppen är full (%(capacity)s deltagare).", capacity=group.capacity))
    enrolment = GroupEnrolment(
        group_id=group.id, case_id=case.id, enrolled_at=now, enrolled_by_id=getattr(by, "id", None)
    )
    group.enrolments.append(enrolment)
    group.version += 1
    db.session.flush()
    for meeting in group.sessions:
        if not meeting.cancelled:
            _schedule_participant_reminder(meeting, case.id, now)
    events.record(db.session, GroupEnrolled(group_id=group.id, case_id=case.id, occurred_at=now))
    return enrolment


def groups_for(programme_id: int) -> list[GroupActivity]:
    """Return the programme's group activities, newest first."""
    return list(
        db.session.scalars(
            select(GroupActivity)
            .where(GroupActivity.programme_id == programme_id)
            .order_by(GroupActivity.first_date.desc())
        )
    )

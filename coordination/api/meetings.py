"""The meeting endpoints of the API: booking, the invitation, attendance, the escalation decision,
tasks and group activities. Same operations, permissions and access log as the pages.
"""

from __future__ import annotations

from flask import Response, jsonify
from flask_login import current_user
from sqlalchemy import select

from coordination.api import bp
from coordination.api.catalogue import paginated
from coordination.api.registry import endpoint, json_body
from coordination.audit.operations import log_access
from coordination.cases.models import Case
from coordination.core.errors import ValidationFailed
from coordination.core.permissions import get_visible, require
from coordination.extensions import db
from coordination.meetings import groups as group_ops
from coordination.meetings import ical, ladder, queries
from coordination.meetings import operations as ops
from coordination.meetings import permissions as perms
from coordination.meetings.models import GroupEnrolment, Meeting, Task
from coordination.meetings.schemas import (
    AttendanceDumpSchema,
    AttendanceLoadSchema,
    CancelSchema,
    CaseLadderDumpSchema,
    EnrolSchema,
    EscalationDecisionSchema,
    EscalationDumpSchema,
    GroupCreateSchema,
    GroupDumpSchema,
    MeetingChangeSchema,
    MeetingCreateSchema,
    MeetingDumpSchema,
    TaskDumpSchema,
)
from workflows.organisation import Role

STAFF = (Role.REFERRER, Role.TEAM_LEAD, Role.CONFERENCE_MEMBER, Role.COORDINATOR)
GROUP_ROLES = (Role.TEAM_LEAD, Role.COORDINATOR)


def _meeting(meeting_id: int, *, lock: bool = False) -> Meeting:
    return get_visible(Meeting, meeting_id, perms.can_view, lock=lock)


def _log(meeting: Meeting, action: str) -> None:
    person_id = meeting.case.person_id if meeting.case is not None else None
    log_access("meeting", meeting.id, action=action, person_id=person_id)


def _dump(meeting: Meeting) -> dict:
    db.session.refresh(meeting)
    return MeetingDumpSchema().dump(meeting)


@endpoint(
    bp,
    "POST",
    "/cases/<int:case_id>/meetings",
    "Book a meeting (any party of the case may call a SamSIP meeting); invitations go out",
    body=MeetingCreateSchema,
    response=MeetingDumpSchema,
    roles=STAFF,
    status=201,
)
def book_case_meeting(case_id: int):
    """Book a meeting of a case."""
    case = perms.load_case(case_id)
    data = MeetingCreateSchema().load(json_body())
    require(perms.can_book(current_user, case, data["kind"]))
    meeting = ops.book_meeting(case, ops.MeetingInput(**data), by=current_user)
    _log(meeting, "create")
    db.session.commit()
    return jsonify(_dump(meeting)), 201


@endpoint(
    bp,
    "GET",
    "/cases/<int:case_id>/meetings",
    "A case's meetings and its groups' sessions, by time",
    response=MeetingDumpSchema,
    many=True,
    roles=STAFF,
)
def list_case_meetings(case_id: int):
    """List a case's meetings."""
    case = perms.load_case(case_id)
    groups = select(GroupEnrolment.group_id).where(GroupEnrolment.case_id == case.id)
    query = select(Meeting).where((Meeting.case_id == case.id) | Meeting.group_id.in_(groups))
    log_access("case", case.id, action="list", person_id=case.person_id)
    db.session.commit()
    return paginated(query, MeetingDumpSchema, Meeting.starts_at)


@endpoint(
    bp,
    "GET",
    "/meetings/<int:meeting_id>",
    "Read a meeting with its invitees and attendance",
    response=MeetingDumpSchema,
    roles=STAFF,
)
def get_meeting(meeting_id: int):
    """Read a meeting."""
    meeting = _meeting(meeting_id)
    _log(meeting, "read")
    db.session.commit()
    return jsonify(MeetingDumpSchema().dump(meeting))


@endpoint(
    bp,
    "PATCH",
    "/meetings/<int:meeting_id>",
    "Change the time, place or invitees; the invitation goes out again (same UID, SEQUENCE + 1)",
    body=MeetingChangeSchema,
    response=MeetingDumpSchema,
    roles=STAFF,
)
def change_meeting(meeting_id: int):
    """Change a meeting."""
    meeting = _meeting(meeting_id)
    require(perms.can_change(current_user, meeting))
    data = MeetingChangeSchema().load(json_body())
    meeting = ops.get_meeting(meeting_id, lock=True)
    keep = [a.user_id for a in meeting.attendees if a.user_id != meeting.organiser_id]
    change = ops.MeetingInput(
        kind=meeting.kind,
        starts_at=data.get("starts_at", meeting.starts_at),
        ends_at=data.get("ends_at", meeting.ends_at),
        location=data["location"] if "location" in data else meeting.location,
        attendee_ids=data.get("attendee_ids", keep),
    )
    ops.change_meeting(meeting, change, by=current_user)
    _log(meeting, "update")
    db.session.commit()
    return jsonify(_dump(meeting))


@endpoint(
    bp,
    "POST",
    "/meetings/<int:meeting_id>/cancel",
    "Cancel a meeting; the invitees get METHOD:CANCEL with the same UID",
    body=CancelSchema,
    response=MeetingDumpSchema,
    roles=STAFF,
)
def cancel_meeting(meeting_id: int):
    """Cancel a meeting."""
    meeting = _meeting(meeting_id)
    require(perms.can_change(current_user, meeting))
    data = CancelSchema().load(json_body())
    meeting = ops.get_meeting(meeting_id, lock=True)
    ops.cancel_meeting(meeting, reason=data["reason"], by=current_user)
    _log(meeting, "update")
    db.session.commit()
    return jsonify(_dump(meeting))


@endpoint(
    bp,
    "POST",
    "/meetings/<int:meeting_id>/confirm",
    "Confirm that the caller, an invitee, will take part (SamSIP invitees must)",
    response=MeetingDumpSchema,
    roles=STAFF,
)
def confirm_meeting(meeting_id: int):
    """Confirm taking part."""
    meeting = _meeting(meeting_id)
    require(perms.attendee_row(current_user, meeting) is not None)
    ops.confirm(meeting, current_user)
    _log(meeting, "update")
    db.session.commit()
    return jsonify(_dump(meeting))


@endpoint(
    bp,
    "GET",
    "/meetings/<int:meeting_id>.ics",
    "The iCalendar invitation (Europe/Stockholm with VTIMEZONE; CANCEL once cancelled)",
    roles=STAFF,
)
def meeting_ics(meeting_id: int):
    """Download the invitation."""
    meeting = _meeting(meeting_id)
    method, data = ical.invitation(meeting)
    _log(meeting, "export")
    db.session.commit()
    return Response(
        data,
        headers={
            "Content-Type": f"text/calendar; charset=utf-8; method={method}",
            "Content-Disposition": f'attachment; filename="{ical.filename(meeting)}"',
        },
    )


@endpoint(
    bp,
    "POST",
    "/meetings/<int:meeting_id>/attendance",
    "Register or correct attendance: {status} (case_id for one group participant) or "
    "{attendance: [{case_id, status}]}; the ladder recounts",
    body=AttendanceLoadSchema,
    response=AttendanceDumpSchema,
    many=True,
    roles=STAFF,
)
def record_meeting_attendance(meeting_id: int):
    """Register attendance."""
    meeting = _meeting(meeting_id)
    require(perms.can_record_attendance(current_user, meeting))
    data = AttendanceLoadSchema().load(json_body())
    if "attendance" in data:
        if meeting.case_id is not None:
            raise ValidationFailed(
                "A case's meeting takes one status.",
                errors={"attendance": ["Use status for a case's meeting."]},
            )
        statuses = {e["case_id"]: e["status"] for e in data["attendance"]}
        results = ladder.record_bulk_attendance(meeting, statuses, by=current_user)
    else:
        results = [
            ladder.record_attendance(
                meeting,
                case_id=data.get("case_id"),
                status=data["status"],
                reason=data.get("reason"),
                by=current_user,
            )
        ]
    for result in results:
        case = db.session.get(Case, result.attendance.case_id)
        log_access("attendance", result.attendance.id, action="update", person_id=case.person_id)
    db.session.commit()
    items = []
    for result in results:
        item = AttendanceDumpSchema().dump(result.attendance)
        item.update(
            missed_count=result.count.current,
            ladder_actions=[a.value for a in result.actions],
        )
        items.append(item)
    return jsonify({"items": items, "total": len(items)})


def _ladder(case: Case) -> dict:
    summary_count = queries.missed_count(case)
    escalations = queries.escalations_of(case.id)
    return CaseLadderDumpSchema().dump(
        {
            "case_id": case.id,
            "case_state": case.state,
            "missed_count": summary_count.current,
            "missed_threshold": case.programme.missed_threshold,
            "counting_mode": case.programme.counting_mode,
            "escalated": any(e.status == "open" for e in escalations),
            "escalations": escalations,
            "history": queries.ladder_history(case.id),
            "open_tasks": queries.open_tasks(case_id=case.id),
        }
    )


@endpoint(
    bp,
    "GET",
    "/cases/<int:case_id>/escalation",
    "A case's missed count, escalations and the history of the ladder",
    response=CaseLadderDumpSchema,
    roles=STAFF,
)
def case_escalation(case_id: int):
    """Read a case's ladder."""
    case = perms.load_case(case_id, read=True)
    db.session.commit()
    return jsonify(_ladder(case))


@endpoint(
    bp,
    "POST",
    "/cases/<int:case_id>/escalation/decision",
    "Decide the open escalation: continue (revised plan; the count resets) or discharge "
    "(exit reason avbrutit_uteblivit; the case starts its exit)",
    body=EscalationDecisionSchema,
    response=EscalationDumpSchema,
    roles=STAFF,
)
def decide_case_escalation(case_id: int):
    """Record the escalation decision."""
    case = perms.load_case(case_id)
    require(perms.can_decide(current_user, case))
    data = EscalationDecisionSchema().load(json_body())
    escalation = ladder.decide_escalation(
        case, decision=data["decision"], comment=data.get("comment") or "", by=current_user
    )
    log_access("case", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    return jsonify(EscalationDumpSchema().dump(escalation))


@endpoint(
    bp,
    "GET",
    "/tasks",
    "The caller's open tasks, by due time",
    response=TaskDumpSchema,
    many=True,
    roles=STAFF,
)
def my_tasks():
    """List the caller's open tasks."""
    query = select(Task).where(
        Task.assignee_id == current_user.id, Task.done_at.is_(None), Task.cancelled_at.is_(None)
    )
    return paginated(query, TaskDumpSchema, Task.due_at)


@endpoint(
    bp,
    "POST",
    "/tasks/<int:task_id>/done",
    "Mark one of the caller's tasks done (its inbox item too)",
    response=TaskDumpSchema,
    roles=STAFF,
)
def complete_my_task(task_id: int):
    """Mark a task done."""
    task = get_visible(Task, task_id, lambda user, task: task.assignee_id == user.id, kind="task")
    ladder.complete_task(task, by=current_user)
    log_access("case", task.case_id, action="update", person_id=task.case.person_id)
    db.session.commit()
    return jsonify(TaskDumpSchema().dump(task))


@endpoint(
    bp,
    "POST",
    "/groups",
    "Create a group activity; its sessions are generated (hälsogrupp: 12 places, 2 a week, "
    "12 weeks; aktivitetsgrupp: 10 weeks)",
    body=GroupCreateSchema,
    response=GroupDumpSchema,
    roles=GROUP_ROLES,
    status=201,
)
def create_group():
    """Create a group activity."""
    data = GroupCreateSchema().load(json_body())
    group = group_ops.create_group(group_ops.GroupInput(**data), by=current_user)
    log_access("group", group.id, action="create")
    db.session.commit()
    return jsonify(GroupDumpSchema().dump(group)), 201


@endpoint(
    bp,
    "GET",
    "/groups/<int:group_id>",
    "Read a group activity with its sessions and participants",
    response=GroupDumpSchema,
    roles=GROUP_ROLES,
)
def get_group(group_id: int):
    """Read a group activity."""
    group = perms.load_group(group_id, read=True)
    db.session.commit()
    return jsonify(GroupDumpSchema().dump(group))


@endpoint(
    bp,
    "POST",
    "/groups/<int:group_id>/enrolments",
    "Enrol a case in a group activity while it has room",
    body=EnrolSchema,
    response=GroupDumpSchema,
    roles=GROUP_ROLES,
    status=201,
)
def enrol_in_group(group_id: int):
    """Enrol a case."""
    group = perms.load_group(group_id)
    data = EnrolSchema().load(json_body())
    case = perms.load_case(data["case_id"])
    require(perms.can_enrol(current_user, group, case))
    group_ops.enrol(group, case, by=current_user)
    log_access("case", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    db.session.refresh(group)
    return jsonify(GroupDumpSchema().dump(group)), 201

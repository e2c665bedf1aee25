"""Reading meetings: a case's meetings, tasks, escalations and ladder history, the missed count,
and the summary the case page and the caseload show for many cases in a few queries.

Nothing here changes a row or locks one; the loaders that lock for a change live with the writes
(`operations.get_meeting`, `groups.get_group`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, union
from sqlalchemy import case as sql_case
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.sql.functions import GenericFunction

from coordination.auth.models import User
from coordination.cases.models import Case, CoordinatorAssignment
from coordination.core.actor import Actor
from coordination.core.db import UTCDateTime, utcnow
from coordination.core.paging import Page, keyset_page
from coordination.core.reminders import PARTICIPANT_REMINDER, Reminder
from coordination.extensions import db
from coordination.meetings.models import (
    Attendance,
    Escalation,
    GroupActivity,
    GroupEnrolment,
    LadderStep,
    Meeting,
    MeetingAttendee,
    Task,
)
from coordination.programmes.models import Programme
from coordination.referrals.models import Referral
from workflows.case import CaseState
from workflows.ladder import Count, LadderSettings, Mark, count
from workflows.meeting import AttendanceStatus, MeetingStatus
from workflows.organisation import MEMBER_AGENCIES, Role
from workflows.programme import CountingMode

# Cases whose meetings are booked and whose misses climb the ladder.
MEETING_STATES = frozenset(
    {CaseState.ENROLLED.value, CaseState.ACTIVE.value, CaseState.PAUSED.value}
)
STAFF_ROLES = (Role.REFERRER, Role.CONFERENCE_MEMBER, Role.COORDINATOR, Role.TEAM_LEAD)
GROUP_LEADER_ROLES = (Role.COORDINATOR, Role.TEAM_LEAD)
MEMBER_AGENCY_CODES = {a.value for a in MEMBER_AGENCIES}


# --- people ----------------------------------------------------------------------------------


def agency_of(user: Actor) -> str | None:
    """Return the agency kind a user represents (a member agency before the förbund)."""
    kinds = sorted(user.agency_kinds)
    members = [k for k in kinds if k in MEMBER_AGENCY_CODES]
    chosen = members or kinds
    return chosen[0] if chosen else None


def coordinator_of(case: Case) -> User | None:
    """Return the case's active coordinator."""
    assignment = case.active_assignment
    return assignment.coordinator if assignment is not None else None


def active_staff() -> list[User]:
    """Return the active users who may be invited to a meeting, by name."""
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [u for u in users if u.has_any_role(STAFF_ROLES)]


def group_leaders() -> list[User]:
    """Return the active users who may lead a group activity, by name."""
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [u for u in users if u.has_any_role(GROUP_LEADER_ROLES)]


# --- meetings and their participants ---------------------------------------------------------


def meetings_of(case_id: int) -> list[Meeting]:
    """Return the case's own meetings and the sessions of its groups, by time."""
    # A union of two indexed reads: with an OR, the planner scans every meeting (380 ms at 2 M).
    ids = union(
        select(Meeting.id).where(Meeting.case_id == case_id),
        select(Meeting.id)
        .join(GroupEnrolment, GroupEnrolment.group_id == Meeting.group_id)
        .where(GroupEnrolment.case_id == case_id),
    )
    return list(
        db.session.scalars(
            select(Meeting).where(Meeting.id.in_(ids)).order_by(Meeting.starts_at, Meeting.id)
        )
    )


def upcoming_meetings_page(user_id: int, now: datetime) -> Page:
    """Return a page of the booked meetings a user organises or is invited to that have not
    ended, by start, with what their permissions and the access log read (cases, attendees,
    groups and their participants) loaded in a few statements."""
    theirs = union(
        select(MeetingAttendee.meeting_id).where(MeetingAttendee.user_id == user_id),
        select(Meeting.id).where(Meeting.organiser_id == user_id),
    )
    case_parts = (
        selectinload(Case.assignments),
        selectinload(Case.referral).selectinload(Referral.referring_unit),
        selectinload(Case.person),
    )
    return keyset_page(
        select(Meeting).where(
            Meeting.id.in_(theirs),
            Meeting.ends_at > now,
            Meeting.status == MeetingStatus.BOOKED.value,
        ),
        [Meeting.starts_at],
        Meeting.id,
        name="meetings",
        options=[
            selectinload(Meeting.attendees),
            selectinload(Meeting.case).options(*case_parts),
            selectinload(Meeting.group)
            .selectinload(GroupActivity.enrolments)
            .selectinload(GroupEnrolment.case)
            .options(*case_parts),
        ],
    )


def participant_case_ids(meeting: Meeting) -> list[int]:
    """Return the cases taking part: the meeting's case, or a group session's current enrolments."""
    if meeting.case_id is not None:
        return [meeting.case_id]
    return [e.case_id for e in meeting.group.current_enrolments] if meeting.group else []


def is_participant(meeting: Meeting, case_id: int) -> bool:
    """Tell whether the case takes part in the meeting."""
    if meeting.case_id is not None:
        return meeting.case_id == case_id
    group = meeting.group  # a meeting belongs to a case or to a group (a CHECK constraint)
    return group is not None and any(e.case_id == case_id for e in group.current_enrolments)


def all_registered(meeting: Meeting) -> bool:
    """Tell whether every participant of the meeting has an attendance."""
    registered = set(
        db.session.scalars(select(Attendance.case_id).where(Attendance.meeting_id == meeting.id))
    )
    return set(participant_case_ids(meeting)) <= registered


def participant_reminders(meeting_id: int) -> list[Reminder]:
    """Return the reminders owed to the participants of a meeting."""
    return list(
        db.session.scalars(
            select(Reminder)
            .where(
                Reminder.kind == PARTICIPANT_REMINDER,
                Reminder.subject_type == "meeting",
                Reminder.subject_id == meeting_id,
            )
            .order_by(Reminder.id)
        )
    )


# --- tasks, escalations and the ladder's history ---------------------------------------------


def open_tasks(*, case_id: int | None = None, assignee_id: int | None = None) -> list[Task]:
    """Return open tasks of a case or of an assignee, by due time."""
    query = select(Task).where(Task.done_at.is_(None), Task.cancelled_at.is_(None))
    if case_id is not None:
        query = query.where(Task.case_id == case_id)
    if assignee_id is not None:
        query = query.where(Task.assignee_id == assignee_id)
    return list(db.session.scalars(query.order_by(Task.due_at, Task.id)))


def open_tasks_page(*, assignee_id: int) -> Page:
    """Return a page of an assignee's open tasks, by due time."""
    return keyset_page(
        select(Task).where(
            Task.assignee_id == assignee_id, Task.done_at.is_(None), Task.cancelled_at.is_(None)
        ),
        [Task.due_at],
        Task.id,
        name="tasks",
    )


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


def open_escalations_page(user_id: int, *, every_case: bool) -> Page:
    """Return a page of the open escalations a user follows, by decision deadline.

    `every_case` (a team lead): all of them; otherwise those the user referred or coordinates.
    """
    query = select(Escalation).where(Escalation.status == "open")
    if not every_case:
        coordinated = select(CoordinatorAssignment.case_id).where(
            CoordinatorAssignment.coordinator_id == user_id,
            CoordinatorAssignment.active.is_(True),
        )
        query = query.where(
            or_(Escalation.referrer_id == user_id, Escalation.case_id.in_(coordinated))
        )
    return keyset_page(query, [Escalation.decision_due_at], Escalation.id, name="escalations")


def ladder_history(case_id: int) -> list[LadderStep]:
    """Return the case's missed-meeting history, oldest first."""
    return list(
        db.session.scalars(
            select(LadderStep)
            .where(LadderStep.case_id == case_id)
            .order_by(LadderStep.at, LadderStep.id)
        )
    )


# --- the ladder's count -----------------------------------------------------------------------


def settings_of(programme: Programme) -> LadderSettings:
    """Return the programme's ladder settings."""
    return LadderSettings(
        threshold=programme.missed_threshold,
        counting_mode=CountingMode(programme.counting_mode),
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
    return count(marks_of([case.id])[case.id], settings_of(case.programme), reset_at(case.id))


# --- groups ----------------------------------------------------------------------------------


def groups_for(programme_id: int) -> list[GroupActivity]:
    """Return the programme's group activities, newest first."""
    return list(
        db.session.scalars(
            select(GroupActivity)
            .where(GroupActivity.programme_id == programme_id)
            .order_by(GroupActivity.first_date.desc())
        )
    )


def groups_page(user: Actor) -> Page:
    """Return a page of the group activities the user may see (permissions.can_view_group, in
    SQL), newest first, with their leaders and enrolments."""
    query = select(GroupActivity)
    if not user.has_any_role([Role.TEAM_LEAD]):
        theirs = (
            select(GroupEnrolment.group_id)
            .join(
                CoordinatorAssignment,
                CoordinatorAssignment.case_id == GroupEnrolment.case_id,
            )
            .where(
                GroupEnrolment.left_at.is_(None),
                CoordinatorAssignment.coordinator_id == user.id,
                CoordinatorAssignment.active.is_(True),
            )
        )
        query = query.where(or_(GroupActivity.leader_id == user.id, GroupActivity.id.in_(theirs)))
    return keyset_page(
        query,
        [GroupActivity.first_date],
        GroupActivity.id,
        descending=True,
        options=[selectinload(GroupActivity.leader), selectinload(GroupActivity.enrolments)],
    )


def active_programmes() -> list[Programme]:
    """Return the active programmes a group can belong to, by name."""
    return list(
        db.session.scalars(
            select(Programme).where(Programme.active.is_(True)).order_by(Programme.name)
        )
    )


def enrollable_cases(group: GroupActivity) -> list[Case]:
    """Return the cases of the group's programme that could join it (not already in), by id."""
    current = {e.case_id for e in group.current_enrolments}
    cases = db.session.scalars(
        select(Case)
        .where(
            Case.programme_id == group.programme_id,
            Case.state.in_(sorted(MEETING_STATES)),
        )
        .order_by(Case.id)
    )
    return [c for c in cases if c.id not in current]


# --- the summary for the case page and the caseload ------------------------------------------


def _next_meeting_at(ids: list[int], now: datetime) -> dict[int, datetime]:
    """Return each case's next booked meeting, its own or a session of its groups."""
    own = (
        select(Meeting.case_id.label("case_id"), func.min(Meeting.starts_at).label("next_at"))
        .where(
            Meeting.case_id.in_(ids),
            Meeting.status == MeetingStatus.BOOKED.value,
            Meeting.starts_at > now,
        )
        .group_by(Meeting.case_id)
    )
    in_groups = (
        select(GroupEnrolment.case_id, func.min(Meeting.starts_at))
        .join(Meeting, Meeting.group_id == GroupEnrolment.group_id)
        .where(
            GroupEnrolment.case_id.in_(ids),
            GroupEnrolment.left_at.is_(None),
            Meeting.status == MeetingStatus.BOOKED.value,
            Meeting.starts_at > now,
        )
        .group_by(GroupEnrolment.case_id)
    )
    next_at: dict[int, datetime] = {}
    for case_id, at in [*db.session.execute(own), *db.session.execute(in_groups)]:
        if case_id not in next_at or at < next_at[case_id]:
            next_at[case_id] = at
    return next_at


def _by_case(query: Any) -> dict[int, Any]:
    return dict(db.session.execute(query).all())


def case_meeting_summary(
    case_ids: Iterable[int], now: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """Return {case_id: {"next_meeting_at", "missed_count", "escalated", ...}} for the cases.

    Also "missed_threshold", "escalation_due_at" (the open escalation's decision deadline) and
    "open_tasks" (the ladder's open tasks).
    """
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    now = now or utcnow()
    programmes: dict[int, Programme] = _by_case(
        select(Case.id, Programme)
        .join(Programme, Programme.id == Case.programme_id)
        .where(Case.id.in_(ids))
    )
    next_at = _next_meeting_at(ids, now)
    resets = _by_case(
        select(Escalation.case_id, func.max(Escalation.decided_at))
        .where(Escalation.case_id.in_(ids), Escalation.decision == "continue")
        .group_by(Escalation.case_id)
    )
    open_escalations = _by_case(
        select(Escalation.case_id, Escalation.decision_due_at).where(
            Escalation.case_id.in_(ids), Escalation.status == "open"
        )
    )
    tasks = _by_case(
        select(Task.case_id, func.count())
        .where(Task.case_id.in_(ids), Task.done_at.is_(None), Task.cancelled_at.is_(None))
        .group_by(Task.case_id)
    )
    marks = marks_of(ids)
    result: dict[int, dict[str, Any]] = {}
    for case_id in ids:
        programme = programmes.get(case_id)
        if programme is None:
            continue
        counted = count(marks[case_id], settings_of(programme), resets.get(case_id))
        result[case_id] = {
            "next_meeting_at": next_at.get(case_id),
            "missed_count": counted.current,
            "missed_threshold": programme.missed_threshold,
            "escalated": case_id in open_escalations,
            "escalation_due_at": open_escalations.get(case_id),
            "open_tasks": tasks.get(case_id, 0),
        }
    return result


# --- the same figures as SQL columns, for lists sorted and filtered in the database -------------


class earliest(GenericFunction):
    """The earlier of two values, NULL only when both are (PostgreSQL's LEAST)."""

    identifier = "earliest"
    name = "least"
    inherit_cache = True


@compiles(earliest, "sqlite")
def _earliest_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    first, second = (compiler.process(c, **kw) for c in element.clauses)
    return f"min(coalesce({first}, {second}), coalesce({second}, {first}))"


def _marks_where(attendance: Any, meeting: Any, reset: Any, group_sessions_count: Any) -> list:
    """The marks `workflows.ladder.counted` keeps: booked meetings after the reset, group sessions
    only where the programme counts them."""
    return [
        attendance.case_id == Case.id,
        meeting.id == attendance.meeting_id,
        meeting.status == MeetingStatus.BOOKED.value,
        or_(reset.is_(None), meeting.starts_at > reset),
        or_(group_sessions_count.is_(True), meeting.group_id.is_(None)),
    ]


def case_columns(now: datetime | None = None) -> dict[str, Any]:
    """Return the summary's figures of the case `Case` as correlated SQL expressions.

    "next_meeting_at", "missed_count" (the ladder's current count, as `workflows.ladder.count`
    computes it), "escalated" and "open_tasks": for a query over `Case` to show, sort and filter
    on without reading the rows one by one. Without `now`, "next" is after the moment each
    statement runs, and the expressions are built once per process (building them cost more
    than a page of one case's query).
    """
    if now is None:
        return dict(_columns_now())
    return _columns(now)


@cache
def _columns_now() -> dict[str, Any]:
    # The clock read when the statement runs, as the caller's `utcnow()` would have been.
    return _columns(bindparam("columns_now", callable_=lambda: utcnow(), type_=UTCDateTime()))


def _columns(now: Any) -> dict[str, Any]:
    booked_ahead = (Meeting.status == MeetingStatus.BOOKED.value, Meeting.starts_at > now)
    own = (
        select(func.min(Meeting.starts_at))
        .where(Meeting.case_id == Case.id, *booked_ahead)
        .correlate(Case)
        .scalar_subquery()
    )
    in_groups = (
        select(func.min(Meeting.starts_at))
        .join(GroupEnrolment, GroupEnrolment.group_id == Meeting.group_id)
        .where(GroupEnrolment.case_id == Case.id, GroupEnrolment.left_at.is_(None), *booked_ahead)
        .correlate(Case)
        .scalar_subquery()
    )
    programme = select(Programme).where(Programme.id == Case.programme_id).correlate(Case)
    mode = programme.with_only_columns(Programme.counting_mode).scalar_subquery()
    groups_count = programme.with_only_columns(Programme.group_sessions_count).scalar_subquery()
    reset = (
        select(func.max(Escalation.decided_at))
        .where(Escalation.case_id == Case.id, Escalation.decision == "continue")
        .correlate(Case)
        .scalar_subquery()
    )
    mark, mark_meeting = Attendance, Meeting
    later, later_meeting = aliased(Attendance), aliased(Meeting)
    missed = (
        select(func.count())
        .select_from(mark)
        .join(mark_meeting, mark_meeting.id == mark.meeting_id)
        .where(
            *_marks_where(mark, mark_meeting, reset, groups_count),
            mark.status == AttendanceStatus.MISSED.value,
        )
        .correlate(Case)
    )
    # The current run: the misses that no attended meeting follows (cancellations neither count
    # nor end it), in the ladder's order of (start, meeting id).
    attended_after = (
        select(later.id)
        .select_from(later)
        .join(later_meeting, later_meeting.id == later.meeting_id)
        .where(
            *_marks_where(later, later_meeting, reset, groups_count),
            later.status == AttendanceStatus.ATTENDED.value,
            or_(
                later_meeting.starts_at > mark_meeting.starts_at,
                and_(
                    later_meeting.starts_at == mark_meeting.starts_at,
                    later_meeting.id > mark_meeting.id,
                ),
            ),
        )
        .correlate(Case, mark, mark_meeting)
    )
    missed_count = sql_case(
        (mode == CountingMode.SINCE_RESET.value, missed.scalar_subquery()),
        else_=missed.where(~attended_after.exists()).scalar_subquery(),
    )
    escalated = (
        select(Escalation.id)
        .where(Escalation.case_id == Case.id, Escalation.status == "open")
        .correlate(Case)
        .exists()
    )
    open_tasks = (
        select(func.count())
        .select_from(Task)
        .where(Task.case_id == Case.id, Task.done_at.is_(None), Task.cancelled_at.is_(None))
        .correlate(Case)
        .scalar_subquery()
    )
    return {
        "next_meeting_at": earliest(own, in_groups, type_=UTCDateTime()),
        "missed_count": missed_count,
        "escalated": escalated,
        "open_tasks": open_tasks,
    }

"""What the case page and the caseload show about meetings, for many cases in a few queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select

from coordination.cases.models import Case
from coordination.core.db import utcnow
from coordination.extensions import db
from coordination.meetings.models import Escalation, GroupEnrolment, Meeting, Task
from coordination.meetings.operations import marks_of, settings_of
from coordination.programmes.models import Programme
from workflows.ladder import count
from workflows.meeting import MeetingStatus


def case_meeting_summary(case_ids: Iterable[int], now: datetime | None = None) -> dict[int, dict]:
    """Return {case_id: {"next_meeting_at", "missed_count", "escalated", ...}} for the cases.

    Also "missed_threshold", "escalation_due_at" (the open escalation's decision deadline) and
    "open_tasks" (the ladder's open tasks).
    """
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    now = now or utcnow()
    programmes = dict(
        db.session.execute(
            select(Case.id, Programme)
            .join(Programme, Programme.id == Case.programme_id)
            .where(Case.id.in_(ids))
        ).all()
    )
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
    resets = dict(
        db.session.execute(
            select(Escalation.case_id, func.max(Escalation.decided_at))
            .where(Escalation.case_id.in_(ids), Escalation.decision == "continue")
            .group_by(Escalation.case_id)
        ).all()
    )
    open_escalations = dict(
        db.session.execute(
            select(Escalation.case_id, Escalation.decision_due_at).where(
                Escalation.case_id.in_(ids), Escalation.status == "open"
            )
        ).all()
    )
    tasks = dict(
        db.session.execute(
            select(Task.case_id, func.count())
            .where(Task.case_id.in_(ids), Task.done_at.is_(None), Task.cancelled_at.is_(None))
            .group_by(Task.case_id)
        ).all()
    )
    marks = marks_of(ids)
    result = {}
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

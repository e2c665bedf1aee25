"""Reading cases for the caseload and the case page: one row per case with its warnings.

The plan columns come from the action plans and the meeting columns (next meeting, missed count,
escalation) from the meetings package, through the readers they hand to `cases.hooks`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from coordination.auth.models import User
from coordination.cases import hooks
from coordination.cases import permissions as perms
from coordination.cases.models import Case, CoordinatorAssignment
from coordination.extensions import db
from workflows.action_plan import OPEN_ACTION_STATUSES, ActionStatus
from workflows.calendar import WorkingCalendar
from workflows.case import CaseState
from workflows.caseload import CaseFacts, CaseWarning, days_in_programme, warnings

SORTS = (
    "id",
    "state",
    "coordinator",
    "next_meeting",
    "missed",
    "open_tasks",
    "open_actions",
    "review_on",
    "days",
    "warnings",
)
CASELOAD_STATES = frozenset(
    {CaseState.ENROLLED, CaseState.ACTIVE, CaseState.PAUSED, CaseState.EXITING}
)


def meeting_summary(case_ids: Iterable[int]) -> dict[int, dict]:
    """Return {case_id: {next_meeting_at, missed_count, escalated}} from the meetings package."""
    return hooks.meeting_summary(case_ids)


@dataclass
class CaseRow:
    """One case as the caseload and the API show it to one user."""

    case: Case
    show_identity: bool
    coordinator: User | None
    next_meeting_at: datetime | None
    missed_count: int | None
    escalated: bool | None
    open_tasks: int | None
    open_actions: int
    plan_version: int | None
    plan_state: str | None
    in_force_version: int | None
    review_on: date | None
    days: int | None
    warnings: list[CaseWarning] = field(default_factory=list)

    @property
    def person_label(self) -> str:
        """Return the name, or the code for a protected person the user may not see."""
        person = self.case.person
        if self.show_identity:
            return f"{person.first_name} {person.last_name}".strip()
        return person.code


def _plan_facts(case_id: int):
    return hooks.latest_version(case_id), hooks.signed_version(case_id)


def case_row(
    case: Case, user, *, today: date, calendar: WorkingCalendar, summary: dict | None = None
) -> CaseRow:
    """Build the row of one case for a user."""
    summary = summary or {}
    latest, in_force = _plan_facts(case.id)
    current = in_force or latest
    open_actions = (
        sum(1 for a in current.actions if ActionStatus(a.status) in OPEN_ACTION_STATUSES)
        if current
        else 0
    )
    review_on = in_force.review_on if in_force else (latest.review_on if latest else None)
    escalated = summary.get("escalated")
    facts = CaseFacts(
        state=case.state,
        enrolled_on=case.enrolled_on,
        plan_signed=in_force is not None,
        review_on=review_on,
        max_duration_days=case.programme.max_duration_days,
        duration_warning_percent=case.programme.duration_warning_percent,
        escalated=bool(escalated),
    )
    coordinator_id = case.coordinator_id
    return CaseRow(
        case=case,
        show_identity=perms.can_see_identity(user, case),
        coordinator=db.session.get(User, coordinator_id) if coordinator_id else None,
        next_meeting_at=summary.get("next_meeting_at"),
        missed_count=summary.get("missed_count"),
        escalated=escalated,
        open_tasks=summary.get("open_tasks"),
        open_actions=open_actions,
        plan_version=latest.number if latest else None,
        plan_state=latest.state if latest else None,
        in_force_version=in_force.number if in_force else None,
        review_on=review_on,
        days=days_in_programme(case.enrolled_on, today),
        warnings=warnings(facts, today, calendar),
    )


def rows_for(cases: list[Case], user, *, today: date, calendar: WorkingCalendar) -> list[CaseRow]:
    """Build the rows of several cases, asking the meetings package once."""
    summaries = meeting_summary(c.id for c in cases)
    return [
        case_row(c, user, today=today, calendar=calendar, summary=summaries.get(c.id))
        for c in cases
    ]


@dataclass(frozen=True)
class CaseloadFilter:
    """The caseload's filters and sort order."""

    state: str | None = None
    coordinator_id: int | None = None
    programme_id: int | None = None
    warnings_only: bool = False
    sort: str = "warnings"
    descending: bool = True


def caseload_cases(user, flt: CaseloadFilter) -> list[Case]:
    """Return the cases of a caseload: a coordinator's own, or everyone's for a team lead."""
    query = select(Case).where(Case.state != CaseState.CLOSED.value)
    if flt.state in {s.value for s in CaseState}:
        query = query.where(Case.state == flt.state)
    else:
        query = query.where(Case.state.in_([s.value for s in CASELOAD_STATES]))
    coordinator_id = flt.coordinator_id if perms.is_team_lead(user) else user.id
    if coordinator_id is not None:
        query = query.join(
            CoordinatorAssignment,
            (CoordinatorAssignment.case_id == Case.id) & CoordinatorAssignment.active.is_(True),
        ).where(CoordinatorAssignment.coordinator_id == coordinator_id)
    if flt.programme_id is not None:
        query = query.where(Case.programme_id == flt.programme_id)
    return list(db.session.scalars(query.order_by(Case.id)))


SORT_VALUES = {
    "id": lambda r: r.case.id,
    "state": lambda r: r.case.state,
    "coordinator": lambda r: r.coordinator.name if r.coordinator else None,
    "next_meeting": lambda r: r.next_meeting_at,
    "missed": lambda r: r.missed_count,
    "open_tasks": lambda r: r.open_tasks,
    "open_actions": lambda r: r.open_actions,
    "review_on": lambda r: r.review_on,
    "days": lambda r: r.days,
    "warnings": lambda r: len(r.warnings),
}


def sort_rows(rows: list[CaseRow], name: str, descending: bool) -> list[CaseRow]:
    """Sort by one column (rows without a value last, ties by case number)."""
    value = SORT_VALUES.get(name, SORT_VALUES["id"])
    present = sorted((r for r in rows if value(r) is not None), key=lambda r: r.case.id)
    present.sort(key=value, reverse=descending)
    return present + sorted((r for r in rows if value(r) is None), key=lambda r: r.case.id)


def caseload(user, flt: CaseloadFilter, *, today: date, calendar: WorkingCalendar) -> list[CaseRow]:
    """Return the caseload's rows, filtered and sorted (ties by case number)."""
    rows = rows_for(caseload_cases(user, flt), user, today=today, calendar=calendar)
    if flt.warnings_only:
        rows = [r for r in rows if r.warnings]
    return sort_rows(rows, flt.sort, flt.descending)

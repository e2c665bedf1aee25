"""Reading cases for the caseload, the case list of the API and the case page: one row per case
with its figures and warnings, filtered, sorted, counted and paged in the database.

The plan columns come from the action plans and the meeting columns (next meeting, missed count,
escalation, open tasks) from the meetings package, as SQL expressions handed to `cases.hooks`, so
a page of rows is one query whatever the number of cases. The warnings are the rule of
`workflows.caseload.warnings`: the rows shown get them from that rule, while the filter and the
sort compare the same facts in SQL with the dates `workflows.caseload.warning_thresholds` gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, and_, false, func, literal, null, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import aliased, lazyload, selectinload

from coordination.auth.models import User
from coordination.cases import hooks
from coordination.cases import permissions as perms
from coordination.cases.models import Case, CoordinatorAssignment
from coordination.core.db import name_matches, number_in, search_text
from coordination.extensions import db
from coordination.people.models import Person
from coordination.programmes.models import Programme
from workflows.calendar import WorkingCalendar
from workflows.case import CaseState
from workflows.caseload import (
    CaseFacts,
    CaseWarning,
    days_in_programme,
    warning_thresholds,
    warnings,
)

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
DESCENDING_FIRST = frozenset({"warnings", "missed", "days", "open_tasks", "open_actions"})
CASELOAD_STATES = frozenset(
    {CaseState.ENROLLED, CaseState.ACTIVE, CaseState.PAUSED, CaseState.EXITING}
)
PAGE_SIZE = 50

Coordinator = aliased(User, name="coordinator")
_active = aliased(CoordinatorAssignment, name="active_assignment")


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


@dataclass(frozen=True)
class CaseloadFilter:
    """The caseload's filters and sort order."""

    state: str | None = None
    coordinator_id: int | None = None
    programme_id: int | None = None
    warnings_only: bool = False
    sort: str = "warnings"
    descending: bool = True
    search: str = ""


@dataclass(frozen=True)
class Cursor:
    """A row's place in a sort order: its sort value (None: it has none) and its case number.

    For the coordinator order the value is the coordinator's id (their name is looked up), so a
    link never carries a name.
    """

    value: Any
    case_id: int


@dataclass
class Page:
    """One page of the caseload: its rows, where it starts, and the links on either side."""

    rows: list[CaseRow]
    total: int
    first: int  # the number of the page's first row in the whole list, from 1
    next: Cursor | None = None
    previous: Cursor | None = None

    @property
    def last(self) -> int:
        """Return the number of the page's last row."""
        return self.first + len(self.rows) - 1


# --- the columns ------------------------------------------------------------------------------


class CaseColumns:
    """The SQL of one request: the case's figures, its warnings and the sort keys."""

    def __init__(self, *, today: date, calendar: WorkingCalendar, now: datetime | None = None):
        self.today = today
        self.figures = {**hooks.plan_columns(), **hooks.meeting_columns(now)}
        self.warning_count = self._warning_count(today, calendar)

    def _warning_count(self, today: date, calendar: WorkingCalendar):
        """The number of warnings `workflows.caseload.warnings` gives the case, in SQL."""
        thresholds = warning_thresholds(today, calendar)
        limits = db.session.execute(
            select(Programme.id, Programme.max_duration_days, Programme.duration_warning_percent)
        ).all()
        over_by = {p: thresholds.over_max_by(d) for p, d, _pct in limits if d}
        near_by = {p: thresholds.near_max_by(d, pct) for p, d, pct in limits if d}
        # The version in force, as the case keeps it: its review date is past (none: no
        # warning), or, none signed, the plan is overdue unsigned. Columns of the case, so the
        # team lead's ranking of every open case reads no plan.
        plan_late = sql_case(
            (Case.plan_in_force.is_(True), Case.plan_review_on < today),
            else_=Case.enrolled_on <= thresholds.plan_unsigned_by,
        )
        over = _enrolled_by(over_by)
        conditions = (
            self.figures["escalated"],
            plan_late,
            over,
            and_(~over, _enrolled_by(near_by)),
        )
        counted = sum((sql_case((c, 1), else_=0) for c in conditions[1:]), _one(conditions[0]))
        quiet = (CaseState.WAITING.value, CaseState.CLOSED.value)
        return sql_case((Case.state.in_(quiet), 0), else_=counted)

    def sort_key(self, name: str):
        """Return (the SQL the order compares, whether its direction is the days' reversed)."""
        keys = {
            "id": Case.id,
            "state": Case.state,
            "coordinator": Coordinator.name,
            "next_meeting": self.figures["next_meeting_at"],
            "missed": self.figures["missed_count"],
            "open_tasks": self.figures["open_tasks"],
            "open_actions": self.figures["open_actions"],
            "review_on": self.figures["review_on"],
            "days": Case.enrolled_on,  # more days in the programme is an earlier enrolment
            "warnings": self.warning_count,
        }
        return keys.get(name, Case.id), name == "days"


def _one(condition):
    return sql_case((condition, 1), else_=0)


def _enrolled_by(dates: dict[int, date]):
    """Tell whether the case was enrolled on or before its programme's date (none: false)."""
    if not dates:
        return false()
    whens = {pid: literal(d, Date) for pid, d in dates.items()}
    return Case.enrolled_on <= sql_case(whens, value=Case.programme_id, else_=null())


def _rows_query(cols: CaseColumns, ranked=None):
    """Select each case with its coordinator and figures (one row per case), from the ranked
    cases when given."""
    query = select(Case, Coordinator, *(expr.label(name) for name, expr in cols.figures.items()))
    if ranked is not None:
        query = query.select_from(ranked).join(Case, Case.id == ranked.c.case_id)
    return (
        query.outerjoin(_active, and_(_active.case_id == Case.id, _active.active.is_(True)))
        .outerjoin(Coordinator, Coordinator.id == _active.coordinator_id)
        .options(
            selectinload(Case.person),
            selectinload(Case.programme),
            selectinload(Case.assignments),
            lazyload(Coordinator.memberships),
        )
    )


def _row(result, user, *, today: date, calendar: WorkingCalendar) -> CaseRow:
    """Turn one result row into what the pages show, the warnings by the workflows rule."""
    case: Case = result[0]
    figures = result._mapping
    in_force = figures["in_force_version"]
    facts = CaseFacts(
        state=case.state,
        enrolled_on=case.enrolled_on,
        plan_signed=in_force is not None,
        review_on=figures["review_on"],
        max_duration_days=case.programme.max_duration_days,
        duration_warning_percent=case.programme.duration_warning_percent,
        escalated=bool(figures["escalated"]),
    )
    return CaseRow(
        case=case,
        show_identity=perms.can_see_identity(user, case),
        coordinator=result[1],
        next_meeting_at=figures["next_meeting_at"],
        missed_count=figures["missed_count"],
        escalated=bool(figures["escalated"]),
        open_tasks=figures["open_tasks"],
        open_actions=figures["open_actions"] or 0,
        plan_version=figures["plan_version"],
        plan_state=figures["plan_state"],
        in_force_version=in_force,
        review_on=figures["review_on"],
        days=days_in_programme(case.enrolled_on, today),
        warnings=warnings(facts, today, calendar),
    )


# --- one case, a few cases --------------------------------------------------------------------


def rows_for(case_ids: list[int], user, *, today: date, calendar: WorkingCalendar) -> list[CaseRow]:
    """Return the rows of the given cases, in the order given (two queries)."""
    if not case_ids:
        return []
    cols = CaseColumns(today=today, calendar=calendar)
    found = db.session.execute(_rows_query(cols).where(Case.id.in_(case_ids))).unique().all()
    rows = {r[0].id: _row(r, user, today=today, calendar=calendar) for r in found}
    return [rows[i] for i in case_ids if i in rows]


# --- the caseload -----------------------------------------------------------------------------


def _caseload_where(user, flt: CaseloadFilter) -> list:
    """The conditions of a caseload: a coordinator's own cases, every case for a team lead."""
    states = [s.value for s in CaseState if s is not CaseState.CLOSED]
    if flt.state in states:
        where = [Case.state == flt.state]
    else:
        where = [Case.state.in_(sorted(s.value for s in CASELOAD_STATES))]
    coordinator_id = _coordinator_of(user, flt)
    if coordinator_id is not None:
        where.append(_active.coordinator_id == coordinator_id)
    if flt.programme_id is not None:
        where.append(Case.programme_id == flt.programme_id)
    if search_text(flt.search):
        where.append(_matches(user, flt.search))
    return where


def _reads_coordinator(user, flt: CaseloadFilter, sort: str) -> bool:
    """Tell whether ranking the caseload needs each case's active coordinator: to sort by
    name, to filter by coordinator (a coordinator's own cases), or to search (a protected name
    is found by its coordinator alone). The team lead's whole list by warnings does not."""
    return (
        sort == "coordinator"
        or _coordinator_of(user, flt) is not None
        or bool(search_text(flt.search))
    )


def _coordinator_of(user, flt: CaseloadFilter) -> int | None:
    """The coordinator whose cases the caseload lists: the team lead's choice (none: every
    case), a coordinator's own."""
    return flt.coordinator_id if perms.is_team_lead(user) else user.id


def _matches(user, text: str):
    """The cases whose number or person's name matches the search, in SQL.

    A case is found by its number (digits, with or without a leading "#"), by the person's code
    (P-000012, shown in place of a protected name), or by every word of the text in the person's
    name. A protected person's name matches only for the one who may see it (the assigned
    coordinator), as `permissions.can_see_identity`.
    """
    text = search_text(text)
    conditions = []
    number = number_in(text)
    if number is not None:
        conditions.append(Case.id == number)
    code = text.upper().removeprefix("P-")
    if text.upper().startswith("P-") and number_in(code) is not None:
        conditions.append(Case.person_id == number_in(code))
    named_ids = select(Person.id).where(name_matches(Person.first_name, Person.last_name, text))
    open_ids = named_ids.where(Person.protected_identity.is_(False))
    conditions.append(
        or_(
            Case.person_id.in_(open_ids),
            and_(_active.coordinator_id == user.id, Case.person_id.in_(named_ids)),
        )
    )
    return or_(*conditions)


def _count(where: list, *, by_coordinator: bool) -> int:
    """Count the cases matching `where` (joined to the active coordinator when it filters)."""
    query = select(func.count()).select_from(Case).where(*where)
    if by_coordinator:
        query = query.join(_active, and_(_active.case_id == Case.id, _active.active.is_(True)))
    return db.session.scalar(query) or 0


class _Order:
    """The caseload's order over the ranked rows: the sort value (rows without one last), then
    the case number."""

    def __init__(self, ranked, sort: str, descending: bool, value_type):
        self.key, self.number = ranked.c.sort_key, ranked.c.case_id
        self.sort, self.descending, self.type = sort, descending, value_type

    def value_of(self, result) -> Any:
        """Return the value a link carries for a row (the coordinator's id, not their name)."""
        if self.sort == "coordinator":
            return result[1].id if result[1] is not None else None
        return result._mapping["sort_key"]

    def _compared(self, value: Any):
        if self.sort == "coordinator":
            return select(User.name).where(User.id == value).scalar_subquery()
        return literal(value, self.type)

    def by(self, *, backwards: bool = False) -> list:
        """Return the ORDER BY (reversed to read the page before a row)."""
        descending = self.descending != backwards
        value = self.key.desc() if descending else self.key.asc()
        value = value.nulls_first() if backwards else value.nulls_last()
        return [value, self.number.desc() if backwards else self.number.asc()]

    def after(self, cursor: Cursor):
        """The rows that come after the cursor's row."""
        key, number = self.key, self.number
        if cursor.value is None:
            return and_(key.is_(None), number > cursor.case_id)
        value = self._compared(cursor.value)
        beyond = key < value if self.descending else key > value
        return or_(key.is_(None), beyond, and_(key == value, number > cursor.case_id))

    def before(self, cursor: Cursor):
        """The rows that come before the cursor's row."""
        key, number = self.key, self.number
        if cursor.value is None:
            return or_(key.is_not(None), number < cursor.case_id)
        value = self._compared(cursor.value)
        ahead = key > value if self.descending else key < value
        return or_(ahead, and_(key == value, number < cursor.case_id))


def caseload_page(
    user,
    flt: CaseloadFilter,
    *,
    today: date,
    calendar: WorkingCalendar,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int | None = None,
) -> Page:
    """Return one page of the caseload: the rows after `after` (or before `before`), sorted.

    One statement: the matching cases with their sort value (and warnings, to filter on) are
    ranked once in a materialised CTE; the page, the total and the page's place are read from it,
    and the figures are computed for the page's rows only.
    """
    size = size or PAGE_SIZE
    cols = CaseColumns(today=today, calendar=calendar)
    sort = flt.sort if flt.sort in SORTS else "id"
    key, flipped = cols.sort_key(sort)
    ranked_columns = [Case.id.label("case_id"), key.label("sort_key")]
    if flt.warnings_only:
        ranked_columns.append((key if sort == "warnings" else cols.warning_count).label("warned"))
    ranked = select(*ranked_columns).select_from(Case)
    if _reads_coordinator(user, flt, sort):
        ranked = ranked.outerjoin(
            _active, and_(_active.case_id == Case.id, _active.active.is_(True))
        ).outerjoin(Coordinator, Coordinator.id == _active.coordinator_id)
    ranked = (
        ranked.where(*_caseload_where(user, flt))
        .cte("ranked")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    shown = [ranked.c.warned > 0] if flt.warnings_only else []
    order = _Order(ranked, sort, flt.descending != flipped, key.type)

    def counted(*conditions):
        query = select(func.count()).select_from(ranked).where(*shown, *conditions)
        return query.scalar_subquery()

    if before is not None:
        place, keyset = counted(order.before(before)), [order.before(before)]
    elif after is not None:
        place, keyset = counted(~order.after(after)), [order.after(after)]
    else:
        place, keyset = literal(0), []
    backwards = before is not None
    # The page's rows first (sorted and cut in the ranked rows alone), then what they show.
    page = (
        select(ranked)
        .where(*shown, *keyset)
        .order_by(*order.by(backwards=backwards))
        .limit(size + 1)
        .subquery("page")
    )
    order = _Order(page, sort, flt.descending != flipped, key.type)
    query = _rows_query(cols, page).add_columns(
        page.c.sort_key.label("sort_key"), counted().label("total"), place.label("place")
    )
    found = db.session.execute(query.order_by(*order.by(backwards=backwards))).unique().all()
    more = len(found) > size
    found = found[:size]
    if before is not None:
        found.reverse()
    rows = [_row(r, user, today=today, calendar=calendar) for r in found]
    cursors = [Cursor(order.value_of(r), r[0].id) for r in found]
    if not found:
        total = db.session.scalar(select(counted())) or 0
        return Page(rows=[], total=total, first=0)
    total, place_count = found[0]._mapping["total"], found[0]._mapping["place"]
    if before is not None:
        first = place_count - len(rows) + 1
        has_next = True
    else:
        first = place_count + 1
        has_next = more
    return Page(
        rows=rows,
        total=total,
        first=first,
        next=cursors[-1] if has_next else None,
        previous=cursors[0] if first > 1 else None,
    )


def caseload_counts(user, *, today: date, calendar: WorkingCalendar) -> dict[str, int]:
    """Return how many cases the user's caseload has, with warnings, escalated (one query)."""
    cols = CaseColumns(today=today, calendar=calendar)
    where = _caseload_where(user, CaseloadFilter())
    total, with_warnings, escalated = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(_one(cols.warning_count > 0)), 0),
            func.coalesce(func.sum(_one(cols.figures["escalated"])), 0),
        )
        .select_from(Case)
        .outerjoin(_active, and_(_active.case_id == Case.id, _active.active.is_(True)))
        .where(*where)
    ).one()
    return {"total": total, "with_warnings": with_warnings, "escalated": escalated}


# --- the API's list ---------------------------------------------------------------------------


def listed(
    user,
    *,
    where: list,
    coordinator_id: int | None,
    page: int,
    per_page: int,
    today: date,
    calendar: WorkingCalendar,
) -> tuple[list[CaseRow], int]:
    """Return one page of the cases matching `where` by case number, and how many match."""
    cols = CaseColumns(today=today, calendar=calendar)
    if coordinator_id is not None:
        where = [*where, _active.coordinator_id == coordinator_id]
    query = (
        _rows_query(cols)
        .where(*where)
        .order_by(Case.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    found = db.session.execute(query).unique().all()
    rows = [_row(r, user, today=today, calendar=calendar) for r in found]
    return rows, _count(where, by_coordinator=coordinator_id is not None)


# --- the links between pages ------------------------------------------------------------------

_INT_SORTS = frozenset({"id", "coordinator", "missed", "open_tasks", "open_actions", "warnings"})
_DATE_SORTS = frozenset({"review_on", "days"})


def cursor_text(cursor: Cursor) -> tuple[str, str]:
    """Return the cursor as the two values of a link (an empty value: the row has none)."""
    value = cursor.value
    if value is None:
        text = ""
    elif isinstance(value, date):  # a datetime is a date too
        text = value.isoformat()
    else:
        text = str(value)
    return text, str(cursor.case_id)


def parse_cursor(sort: str, value: str | None, case_id: str | None) -> Cursor | None:
    """Read a cursor from a link; one that cannot be read is no cursor (the first page)."""
    if value is None or not case_id or not case_id.isascii() or not case_id.isdigit():
        return None
    number = int(case_id)
    if value == "":
        return Cursor(None, number) if number < 2**31 else None
    try:
        if sort in _INT_SORTS:
            parsed: Any = int(value) if value.isascii() else None
            if parsed is None or not -(2**31) < parsed < 2**31:
                return None
        elif sort in _DATE_SORTS:
            parsed = date.fromisoformat(value)
        elif sort == "next_meeting":
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                return None
        elif value in {s.value for s in CaseState}:
            parsed = value
        else:
            return None
    except ValueError:
        return None
    return Cursor(parsed, number) if number < 2**31 else None

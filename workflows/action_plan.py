"""The joint action plan (SamSIP, ../shared/DOMAIN.md §9): versions, sign-off, comparison and
reminders.

A plan is a series of versions. The newest version is edited in place while nobody has signed
it; once someone has, a change makes a new version that needs every sign-off again. A version is
in force when the participant and every responsible agency have signed it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from workflows.calendar import WorkingCalendar
from workflows.case import CaseState
from workflows.caseload import duration_warning_on, plan_sign_off_due_on
from workflows.errors import TransitionRefused

PARTICIPANT = "participant"
ACTION_DUE_SOON_WORKING_DAYS = 5
EXIT_NOTICE_DAYS = 28  # four weeks before the planned exit


class PlanState(StrEnum):
    """Where one version of the plan is."""

    DRAFT = "draft"  # nobody has signed: edited in place
    SIGNING = "signing"  # some have signed, not everyone
    SIGNED = "signed"  # everyone required has signed: the plan in force
    SUPERSEDED = "superseded"  # a later version replaced it


class ActionStatus(StrEnum):
    """How far one action of the plan has come."""

    PLANNED = "planned"
    ONGOING = "ongoing"
    DONE = "done"
    CANCELLED = "cancelled"


OPEN_ACTION_STATUSES = frozenset({ActionStatus.PLANNED, ActionStatus.ONGOING})


class GoalStatus(StrEnum):
    """How far a short-term goal was reached, judged at a plan review or at exit."""

    REACHED = "reached"
    PARTLY_REACHED = "partly_reached"
    NOT_REACHED = "not_reached"


class GoalReviewOccasion(StrEnum):
    """When a goal's status was recorded."""

    REVIEW = "review"
    EXIT = "exit"


class SignOffMethod(StrEnum):
    """How the participant agreed to the plan (recorded by the coordinator)."""

    IN_PERSON = "in_person"
    PHONE = "phone"
    DIGITAL = "digital"


class ChangeMode(StrEnum):
    """What saving a changed plan does to the newest version."""

    EDIT_IN_PLACE = "edit_in_place"
    NEW_VERSION = "new_version"


def change_mode(state: PlanState | str) -> ChangeMode:
    """Return how a content change is applied to the newest version in this state."""
    current = PlanState(state)
    if current is PlanState.DRAFT:
        return ChangeMode.EDIT_IN_PLACE
    if current in (PlanState.SIGNING, PlanState.SIGNED):
        return ChangeMode.NEW_VERSION
    raise TransitionRefused("plan", current.value, "change")


def required_parties(overall_agency: str | None, action_agencies: Iterable[str]) -> frozenset[str]:
    """Return who must sign: the participant, the agency in charge and every responsible agency."""
    parties = {PARTICIPANT, *(a for a in action_agencies if a)}
    if overall_agency:
        parties.add(overall_agency)
    return frozenset(parties)


def state_after_sign_off(
    state: PlanState | str, required: Iterable[str], signed: Iterable[str]
) -> PlanState:
    """Return the version's state once the sign-offs `signed` are in (refused unless signable)."""
    current = PlanState(state)
    if current not in (PlanState.DRAFT, PlanState.SIGNING):
        raise TransitionRefused("plan", current.value, "sign_off")
    missing = set(required) - set(signed)
    return PlanState.SIGNING if missing else PlanState.SIGNED


def default_review_on(start: date, months: int) -> date:
    """Return the review date `months` months after start (the last day of a shorter month)."""
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError("unreachable")


def activates_case(case_state: CaseState | str) -> bool:
    """Tell whether a fully signed plan moves the case on (an enrolled case becomes active)."""
    return CaseState(case_state) is CaseState.ENROLLED


# --- the content of one version ------------------------------------------------------------


@dataclass(frozen=True)
class GoalContent:
    """A short-term goal with its date."""

    text: str
    target_on: date | None


@dataclass(frozen=True)
class ActionContent:
    """One action: what, which agency and contact, when, and its status."""

    ref: str
    what: str
    agency: str | None
    contact_id: int | None
    start_on: date | None
    due_on: date | None
    status: str = ActionStatus.PLANNED.value

    def agreed(self) -> tuple:
        """Return what the parties agree to (everything but the status)."""
        return (self.what, self.agency, self.contact_id, self.start_on, self.due_on)


@dataclass(frozen=True)
class PlanContent:
    """Everything a version says."""

    own_goal: str = ""
    long_term_goal: str = ""
    overall_agency: str | None = None
    review_on: date | None = None
    planned_exit_on: date | None = None
    exit_steps: str = ""
    goals: tuple[GoalContent, ...] = ()
    actions: tuple[ActionContent, ...] = field(default_factory=tuple)

    def agreed(self) -> tuple:
        """Return what the sign-offs cover (action statuses are follow-up, not agreement)."""
        return (
            self.own_goal,
            self.long_term_goal,
            self.overall_agency,
            self.review_on,
            self.planned_exit_on,
            self.exit_steps,
            self.goals,
            tuple((a.ref, *a.agreed()) for a in self.actions),
        )

    def statuses(self) -> dict[str, str]:
        """Return each action's status by its ref."""
        return {a.ref: a.status for a in self.actions}


def sign_off_problems(content: PlanContent) -> dict[str, list[str]]:
    """Return, by field, the codes of what a plan lacks before anyone may sign it."""
    problems: dict[str, list[str]] = {}

    def add(name: str, code: str) -> None:
        problems.setdefault(name, []).append(code)

    if not content.own_goal.strip():
        add("own_goal", "missing")
    if not content.long_term_goal.strip():
        add("long_term_goal", "missing")
    if not content.overall_agency:
        add("overall_agency", "missing")
    if content.review_on is None:
        add("review_on", "missing")
    if content.planned_exit_on is None:
        add("planned_exit_on", "missing")
    if not content.exit_steps.strip():
        add("exit_steps", "missing")
    if not content.goals:
        add("goals", "missing")
    if not content.actions:
        add("actions", "missing")
    return problems


# --- comparing two versions side by side ---------------------------------------------------


@dataclass(frozen=True)
class ComparedAction:
    """One action as two versions have it (None where a version lacks it)."""

    ref: str
    left: ActionContent | None
    right: ActionContent | None

    @property
    def change(self) -> str:
        """Return 'added', 'removed', 'changed' or 'same'."""
        if self.left is None:
            return "added"
        if self.right is None:
            return "removed"
        return "same" if self.left == self.right else "changed"


def compare_fields(left: PlanContent, right: PlanContent) -> dict[str, bool]:
    """Return, per plan field, whether it differs between two versions."""
    names = (
        "own_goal long_term_goal overall_agency review_on planned_exit_on exit_steps goals"
    ).split()
    return {name: getattr(left, name) != getattr(right, name) for name in names}


def compare_actions(left: PlanContent, right: PlanContent) -> list[ComparedAction]:
    """Pair the actions of two versions by ref, in the right-hand version's order first."""
    lefts = {a.ref: a for a in left.actions}
    rights = {a.ref: a for a in right.actions}
    order = [a.ref for a in right.actions] + [a.ref for a in left.actions if a.ref not in rights]
    return [ComparedAction(ref, lefts.get(ref), rights.get(ref)) for ref in order]


# --- reminders (§9), computed from the case as it is now -----------------------------------


class Audience(StrEnum):
    """Who a reminder goes to."""

    CONTACT = "contact"
    COORDINATOR = "coordinator"
    COORDINATOR_AND_TEAM_LEAD = "coordinator_and_team_lead"


@dataclass(frozen=True)
class ActionFacts:
    """What the reminders need to know about one action of the plan in force."""

    action_id: int
    contact_id: int | None
    due_on: date | None
    status: str
    revision: int = 1


@dataclass(frozen=True)
class ReminderFacts:
    """What the reminders need to know about one case; `epoch` changes whenever the case does."""

    case_id: int
    state: CaseState | str
    epoch: int
    enrolled_on: date | None
    coordinator_id: int | None
    plan_signed: bool
    review_on: date | None = None
    planned_exit_on: date | None = None
    max_duration_days: int | None = None
    duration_warning_percent: int = 80
    actions: tuple[ActionFacts, ...] = ()


@dataclass(frozen=True)
class DueReminder:
    """One reminder owed at a moment; `key` identifies it for idempotent writing."""

    kind: str
    template: str
    key: str
    due_at: datetime
    audience: Audience
    recipient_id: int
    level: int
    params: Mapping[str, object]


REMINDING_STATES = frozenset({CaseState.ENROLLED, CaseState.ACTIVE})


def _morning(d: date, calendar: WorkingCalendar) -> datetime:
    return datetime.combine(d, calendar.day_start, tzinfo=calendar.tz).astimezone(UTC)


def _on_or_before(d: date, calendar: WorkingCalendar) -> date:
    return d if calendar.is_working_day(d) else calendar.previous_working_day(d)


def case_reminders(
    facts: ReminderFacts, calendar: WorkingCalendar, now: datetime
) -> list[DueReminder]:
    """Return the reminders the case owes from now on (those already due are not repeated).

    Actions of the plan in force: 5 working days before the due date and on the first working
    day after it, to the action's contact. The review date and four weeks before the planned exit,
    to the coordinator. The plan still unsigned 20 working days after enrolment, and 80 % of the
    programme's maximum duration, to the coordinator and the team lead. Each at the start of a
    working day; nothing while the case is paused, waiting or ending.
    """
    if CaseState(facts.state) not in REMINDING_STATES or facts.coordinator_id is None:
        return []
    owed: list[DueReminder] = []
    base = f"case:{facts.case_id}:e{facts.epoch}"
    params = {"case_id": facts.case_id}

    def add(kind, template, tag, day, audience, recipient_id, level=1, **extra) -> None:
        due_at = _morning(day, calendar)
        if due_at <= now or recipient_id is None:
            return
        key = f"{template}:{base}:{tag}:{due_at.isoformat()}"
        owed.append(
            DueReminder(
                kind, template, key, due_at, audience, recipient_id, level, {**params, **extra}
            )
        )

    coordinator = facts.coordinator_id
    if not facts.plan_signed:
        due = plan_sign_off_due_on(facts.enrolled_on, calendar)
        if due is not None:
            add(
                "plan_unsigned",
                "plan_unsigned",
                "plan",
                due,
                Audience.COORDINATOR_AND_TEAM_LEAD,
                coordinator,
            )
    else:
        _plan_in_force_reminders(facts, calendar, add)
    warn_on = duration_warning_on(
        facts.enrolled_on, facts.max_duration_days, facts.duration_warning_percent
    )
    if warn_on is not None:
        add(
            "case_duration",
            "case_duration_warning",
            "duration",
            _on_or_before(warn_on, calendar),
            Audience.COORDINATOR_AND_TEAM_LEAD,
            coordinator,
            percent=facts.duration_warning_percent,
        )
    return owed


def _plan_in_force_reminders(
    facts: ReminderFacts, calendar: WorkingCalendar, add: Callable[..., None]
) -> None:
    """Add the signed plan's reminders: its actions' due dates, the review and the exit notice."""
    coordinator = facts.coordinator_id
    for action in facts.actions:
        if action.due_on is None or ActionStatus(action.status) not in OPEN_ACTION_STATUSES:
            continue
        tag = f"action:{action.action_id}.{action.revision}"
        due_on = action.due_on.isoformat()
        soon = calendar.add_working_days(action.due_on, -ACTION_DUE_SOON_WORKING_DAYS)
        late = calendar.next_working_day(action.due_on)
        for level, template, day in (
            (1, "plan_action_due_soon", soon),
            (2, "plan_action_overdue", late),
        ):
            add(
                "plan_action_due",
                template,
                tag,
                day,
                Audience.CONTACT,
                action.contact_id,
                level,
                action_id=action.action_id,
                due_on=due_on,
            )
    if facts.review_on is not None:
        add(
            "plan_review_due",
            "plan_review_due",
            "review",
            _on_or_before(facts.review_on, calendar),
            Audience.COORDINATOR,
            coordinator,
            review_on=facts.review_on.isoformat(),
        )
    if facts.planned_exit_on is not None:
        notice = facts.planned_exit_on - timedelta(days=EXIT_NOTICE_DAYS)
        add(
            "planned_exit_ahead",
            "planned_exit_ahead",
            "exit",
            _on_or_before(notice, calendar),
            Audience.COORDINATOR,
            coordinator,
            exit_on=facts.planned_exit_on.isoformat(),
        )

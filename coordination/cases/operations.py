"""The only place that changes cases: admission, enrolment, coordinators, pause and resume."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from coordination.auth.models import User
from coordination.cases import hooks
from coordination.cases.events import (
    CaseEnrolled,
    CaseOpened,
    CasePaused,
    CaseResumed,
    CoordinatorAssigned,
)
from coordination.cases.models import Case, CaseHistory, CoordinatorAssignment, CoordinatorProfile
from coordination.core import events
from coordination.core.db import get_row, utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import label, local_today
from coordination.extensions import db
from coordination.organisations.models import Membership, OrganisationUnit
from coordination.people.models import Person
from coordination.programmes.models import Programme
from coordination.referrals import operations as referral_ops
from coordination.referrals.models import Referral
from workflows.case import (
    OCCUPYING_STATES,
    OPEN_STATES,
    CaseAction,
    CaseState,
    PauseReason,
    QueueEntry,
    next_state,
    order_queue,
    state_on_admission,
)
from workflows.caseload import DEFAULT_CAPACITY, LOADED_STATES, CoordinatorLoad, suggest
from workflows.organisation import Role


def is_coordinator(user: User | None) -> bool:
    """Tell whether a user is an active coordinator."""
    return bool(user is not None and user.active and user.has_any_role([Role.COORDINATOR]))


def coordinators() -> list[User]:
    """Return the active coordinators, by name."""
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [u for u in users if u.has_any_role([Role.COORDINATOR])]


def occupied_places(programme_id: int) -> int:
    """Return how many of the programme's places are taken."""
    return db.session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.programme_id == programme_id,
            Case.state.in_([s.value for s in OCCUPYING_STATES]),
        )
    )


def _lock_programme(programme_id: int) -> Programme:
    # Admissions to one programme queue up here, so two at once cannot both take the last place.
    return get_row(Programme, programme_id, lock=True)


def find_open_case(person_id: int, programme_id: int) -> Case | None:
    """Return the person's open case in the programme, if there is one."""
    return db.session.scalar(
        select(Case).where(
            Case.person_id == person_id,
            Case.programme_id == programme_id,
            Case.state.in_([s.value for s in OPEN_STATES]),
        )
    )


def refuse_open_case(person_id: int, programme_id: int) -> None:
    """Refuse a new referral for a person who already has an open case in the programme."""
    case = find_open_case(person_id, programme_id)
    if case is not None:
        raise Conflict(
            _(
                "Personen är redan inskriven i insatsen eller står i kö: deltagande %(id)s.",
                id=case.id,
            ),
            payload={"open_case_id": case.id},
        )


if refuse_open_case not in referral_ops.OPEN_CASE_CHECKS:
    referral_ops.OPEN_CASE_CHECKS.append(refuse_open_case)


def capacity_problem(coordinator: User, weight: int, programme_id: int) -> str | None:
    """Say why a reason is needed if admitting a case of `weight` now would take the coordinator
    over capacity (only when the case gets a place at once; a waiting case is assigned later)."""
    programme = db.session.get(Programme, programme_id)
    if state_on_admission(occupied_places(programme_id), programme.capacity) is CaseState.WAITING:
        return None
    capacity = profile_for(coordinator.id).capacity
    load = load_of([coordinator.id])[coordinator.id]
    if load + weight <= capacity:
        return None
    return _(
        "%(name)s har redan %(load)s av %(capacity)s viktade deltaganden. Ange varför "
        "koordinatorn ska få ett deltagande till, eller välj en annan koordinator.",
        name=coordinator.name,
        load=load,
        capacity=capacity,
    )


def admit(
    referral: Referral,
    *,
    coordinator: User,
    complexity_weight: int,
    by,
    over_capacity_reason: str = "",
    now: datetime | None = None,
) -> Case:
    """Open the case of an admitted referral: enrolled while there is room, else waiting."""
    now = now or utcnow()
    programme = _lock_programme(referral.programme_id)
    refuse_open_case(referral.person_id, referral.programme_id)
    state = state_on_admission(occupied_places(programme.id), programme.capacity)
    case = Case(
        person_id=referral.person_id,
        programme_id=programme.id,
        referral_id=referral.id,
        state=state.value,
        complexity_weight=complexity_weight,
    )
    if state is CaseState.ENROLLED:
        case.enrolled_on = local_today(now)
    else:
        case.queued_at = now
    db.session.add(case)
    db.session.flush()
    reason = (
        _("Antagen av remissgruppen.")
        if state is CaseState.ENROLLED
        else _("Antagen av remissgruppen. Insatsen är full; personen står i kö.")
    )
    _history(case, None, state.value, "admit", by, reason, now)
    if state is CaseState.ENROLLED:
        # Above capacity only with the chair's reason (checked under the coordinator's lock).
        _assign(
            case,
            coordinator,
            by,
            now,
            reason=_("Utsedd av remissgruppen."),
            over_capacity_reason=over_capacity_reason,
            origin="admission",
        )
    db.session.flush()
    events.record(
        db.session,
        CaseOpened(
            case_id=case.id,
            programme_id=programme.id,
            referral_id=referral.id,
            state=case.state,
            coordinator_id=coordinator.id if state is CaseState.ENROLLED else None,
            occurred_at=now,
        ),
    )
    if state is CaseState.ENROLLED:
        events.record(
            db.session,
            CaseEnrolled(
                case_id=case.id,
                programme_id=programme.id,
                coordinator_id=coordinator.id,
                occurred_at=now,
            ),
        )
    return case


def queue(programme_id: int) -> list[Case]:
    """Return the programme's waiting cases in the order the priority rule offers them a place."""
    programme = db.session.get(Programme, programme_id)
    rows = db.session.execute(
        select(Case, Person.birth_date, Referral.referral_date, Referral.children_in_household)
        .join(Person, Person.id == Case.person_id)
        .join(Referral, Referral.id == Case.referral_id)
        .where(Case.programme_id == programme_id, Case.state == CaseState.WAITING.value)
    ).all()
    cases = {row[0].id: row[0] for row in rows}
    entries = [
        QueueEntry(
            case_id=case.id,
            birth_date=birth_date,
            referral_date=referral_date or case.created_at.date(),
            children_in_household=children,
            queued_at=case.queued_at or case.created_at,
        )
        for case, birth_date, referral_date, children in rows
    ]
    return [cases[e.case_id] for e in order_queue(entries, programme.priority_rule)]


def enrol_from_queue(
    case: Case,
    *,
    coordinator: User | None,
    by,
    reason: str = "",
    now: datetime | None = None,
):
    """Give the first waiting case a free place, with its coordinator (above capacity: a reason)."""
    now = now or utcnow()
    next_state(case.state, CaseAction.ENROL)  # refused before anything is locked or checked
    programme = _lock_programme(case.programme_id)
    if not is_coordinator(coordinator):
        raise ValidationFailed(
            _("Välj en koordinator."), errors={"coordinator_id": [_("Välj en koordinator.")]}
        )
    if occupied_places(programme.id) >= programme.capacity:
        raise Conflict(
            _(
                "Insatsen är full (%(capacity)s platser). Personen står kvar i kön.",
                capacity=programme.capacity,
            )
        )
    first = queue(programme.id)[0]
    if first.id != case.id:
        raise Conflict(
            _(
                "Det är deltagande %(id)s som står först i kön enligt prioriteringsregeln.",
                id=first.id,
            )
        )
    change_state(
        case,
        CaseAction.ENROL,
        by=by,
        reason=_("Plats ledig."),
        now=now,
        enrolled_on=local_today(now),
    )
    _assign(
        case,
        coordinator,
        by,
        now,
        reason=_("Utsedd vid inskrivning från kön."),
        over_capacity_reason=(reason or "").strip() or None,
        origin="enrolment",
    )
    db.session.flush()
    events.record(
        db.session,
        CaseEnrolled(
            case_id=case.id,
            programme_id=programme.id,
            coordinator_id=coordinator.id,
            occurred_at=now,
        ),
    )
    return case


def change_state(
    case: Case, action: CaseAction, *, by, reason: str, now: datetime, **columns
) -> CaseState:
    """Move the case by the action: check the transition, count the version, write the history.

    The only place that changes an existing case's state; `columns` are the case's other columns
    that change with it (set together, so the CHECK constraints hold at any flush). The caller
    locks the case (get_case(..., lock=True)) and records its domain events.
    """
    target = next_state(case.state, action, paused_from=case.paused_from)
    previous = case.state
    case.state = target.value
    for name, value in columns.items():
        setattr(case, name, value)
    case.version += 1
    _history(case, previous, target.value, action.value, by, reason, now)
    return target


def _history(case: Case, from_state, to_state, action, by, reason, now) -> None:
    db.session.add(
        CaseHistory(
            case=case,
            from_state=from_state,
            to_state=to_state,
            action=action,
            by_id=getattr(by, "id", None),
            at=now,
            reason=reason,
        )
    )


# --- coordinators: profiles, load, suggestion and assignment --------------------------------


def _default_team(user_id: int) -> int | None:
    return db.session.scalar(
        select(Membership.unit_id)
        .where(Membership.user_id == user_id, Membership.role == Role.COORDINATOR.value)
        .order_by(Membership.id)
        .limit(1)
    )


def profile_for(user_id: int, *, lock: bool = False) -> CoordinatorProfile:
    """Return the coordinator's profile; locking it stores one with the defaults on first use.

    Without the lock nothing is written: a coordinator without a stored profile gets the
    defaults (capacity 15, the unit where they hold the coordinator role).
    """
    query = select(CoordinatorProfile).where(CoordinatorProfile.user_id == user_id)
    if not lock:
        found = db.session.scalar(query)
        if found is not None:
            return found
        return CoordinatorProfile(
            user_id=user_id, team_unit_id=_default_team(user_id), capacity=DEFAULT_CAPACITY
        )
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(CoordinatorProfile)
        .values(
            user_id=user_id,
            team_unit_id=_default_team(user_id),
            capacity=DEFAULT_CAPACITY,
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    return db.session.scalar(query.with_for_update().execution_options(populate_existing=True))


def load_of(coordinator_ids) -> dict[int, int]:
    """Return each coordinator's weighted caseload: the weights of their open cases."""
    ids = list(coordinator_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(CoordinatorAssignment.coordinator_id, func.sum(Case.complexity_weight))
        .join(Case, Case.id == CoordinatorAssignment.case_id)
        .where(
            CoordinatorAssignment.coordinator_id.in_(ids),
            CoordinatorAssignment.active.is_(True),
            Case.state.in_([s.value for s in LOADED_STATES]),
        )
        .group_by(CoordinatorAssignment.coordinator_id)
    )
    loads = dict.fromkeys(ids, 0)
    loads.update({coordinator_id: int(total or 0) for coordinator_id, total in rows})
    return loads


def coordinator_loads(team_unit_id: int | None = None) -> list[CoordinatorLoad]:
    """Return every active coordinator's load and capacity (only one team's when given)."""
    people = coordinators()
    profiles = {p.user_id: p for p in (profile_for(u.id) for u in people)}
    if team_unit_id is not None:
        people = [u for u in people if profiles[u.id].team_unit_id == team_unit_id]
    loads = load_of(u.id for u in people)
    return [
        CoordinatorLoad(
            coordinator_id=u.id,
            load=loads[u.id],
            capacity=profiles[u.id].capacity,
            team_id=profiles[u.id].team_unit_id,
        )
        for u in people
    ]


def team_of_case(case: Case) -> int | None:
    """Return the team a case belongs to: its coordinator's team, if it has a coordinator."""
    if case.coordinator_id is None:
        return None
    return profile_for(case.coordinator_id).team_unit_id


def suggest_coordinator(case: Case, team_unit_id: int | None = None) -> CoordinatorLoad | None:
    """Suggest the coordinator with the lowest load ratio in the case's team (or the one given).

    A team with nobody else to suggest falls back to every coordinator.
    """
    team = team_unit_id if team_unit_id is not None else team_of_case(case)
    exclude = [case.coordinator_id] if case.coordinator_id else []
    found = suggest(coordinator_loads(team), case.complexity_weight, exclude=exclude)
    if found is None and team is not None and team_unit_id is None:
        found = suggest(coordinator_loads(None), case.complexity_weight, exclude=exclude)
    return found


def get_case(case_id: int, *, lock: bool = False) -> Case:
    """Load a case, locking its row when it is about to change."""
    return get_row(Case, case_id, lock=lock, missing=_("Deltagandet finns inte."))


def _assign(
    case: Case,
    coordinator: User,
    by,
    now: datetime,
    *,
    reason: str,
    over_capacity_reason: str | None,
    origin: str,
) -> CoordinatorAssignment:
    """Make the coordinator the case's active one, holding their profile's lock while counting.

    Two assignments to one coordinator at once queue up on the profile row, so the second counts
    the first one's case and cannot take the coordinator over capacity without a reason.
    """
    profile = profile_for(coordinator.id, lock=True)
    load = load_of([coordinator.id])[coordinator.id]
    over = load + case.complexity_weight > profile.capacity
    if over and not over_capacity_reason:
        raise ValidationFailed(
            _(
                "%(name)s har redan %(load)s av %(capacity)s viktade deltaganden. Ange varför "
                "koordinatorn ska få ett deltagande till, eller välj en annan koordinator.",
                name=coordinator.name,
                load=load,
                capacity=profile.capacity,
            ),
            errors={
                "over_capacity_reason": [
                    _("Ange varför koordinatorn ska få fler deltaganden än kapaciteten medger.")
                ]
            },
            payload={"load": load, "capacity": profile.capacity},
        )
    previous = case.active_assignment
    if previous is not None:
        previous.active = False
        previous.ended_at = now
        db.session.flush()  # the partial unique index allows one active row per case
    assignment = CoordinatorAssignment(
        case=case,
        coordinator_id=coordinator.id,
        active=True,
        assigned_at=now,
        reason=reason,
        over_capacity=over,
        over_capacity_reason=over_capacity_reason if over else None,
        assigned_by_id=getattr(by, "id", None),
    )
    db.session.add(assignment)
    db.session.flush()
    events.record(
        db.session,
        CoordinatorAssigned(
            case_id=case.id,
            assignment_id=assignment.id,
            coordinator_id=coordinator.id,
            previous_coordinator_id=previous.coordinator_id if previous else None,
            origin=origin,
            occurred_at=now,
        ),
    )
    return assignment


def assign_coordinator(
    case: Case,
    coordinator: User | None,
    *,
    reason: str,
    by,
    over_capacity_reason: str = "",
    now: datetime | None = None,
) -> CoordinatorAssignment:
    """Assign or reassign the case's coordinator.

    A change needs a reason (changes are counted per case); going above the coordinator's
    capacity needs its own reason. The caller passes the case locked (get_case(..., lock=True)).
    """
    now = now or utcnow()
    reason = (reason or "").strip()
    over_capacity_reason = (over_capacity_reason or "").strip()
    if CaseState(case.state) in (CaseState.WAITING, CaseState.CLOSED):
        raise Conflict(
            _(
                "Det går inte att utse koordinator nu: deltagandet har status %(state)s.",
                state=label("state", case.state),
            ),
            payload={"state": case.state},
        )
    errors: dict[str, list[str]] = {}
    if not is_coordinator(coordinator):
        errors["coordinator_id"] = [_("Välj en koordinator.")]
    elif coordinator.id == case.coordinator_id:
        errors["coordinator_id"] = [_("Personen är redan koordinator för deltagandet.")]
    if case.coordinator_id is not None and not reason:
        errors["reason"] = [_("Ange varför koordinatorn byts. Bytena räknas per deltagande.")]
    for name, text in (("reason", reason), ("over_capacity_reason", over_capacity_reason)):
        if len(text) > 2000:
            errors[name] = [_("Skriv högst 2000 tecken.")]
    if errors:
        raise ValidationFailed(_("Koordinatorn kunde inte utses."), errors=errors)
    origin = "reassignment" if case.coordinator_id is not None else "assignment"
    assignment = _assign(
        case,
        coordinator,
        by,
        now,
        reason=reason or _("Utsedd av samordnaren."),
        over_capacity_reason=over_capacity_reason or None,
        origin=origin,
    )
    case.version += 1
    db.session.flush()
    return assignment


def set_profile(user: User, *, capacity: int | None, team_unit_id: int | None, by) -> None:
    """Change a coordinator's capacity and team."""
    errors: dict[str, list[str]] = {}
    if not is_coordinator(user):
        errors["coordinator_id"] = [_("Välj en koordinator.")]
    if capacity is None or not 0 <= capacity <= 200:
        errors["capacity"] = [_("Ange kapaciteten som ett heltal från 0 till 200.")]
    team = db.session.get(OrganisationUnit, team_unit_id) if team_unit_id else None
    if team_unit_id and team is None:
        errors["team_unit_id"] = [_("Välj ett team.")]
    if errors:
        raise ValidationFailed(_("Koordinatorns kapacitet kunde inte sparas."), errors=errors)
    profile = profile_for(user.id, lock=True)
    profile.capacity = capacity
    profile.team_unit_id = team.id if team else None
    db.session.flush()


# --- pause and resume -------------------------------------------------------------------------


def pause_errors(data: dict, today: date) -> dict[str, list[str]]:
    """Return every problem of a pause: the reason, a note for another reason, a future return."""
    errors: dict[str, list[str]] = {}
    reason = data.get("reason")
    if reason not in {r.value for r in PauseReason}:
        errors["reason"] = [_("Välj orsak till uppehållet.")]
    if reason == PauseReason.OTHER.value and not (data.get("note") or "").strip():
        errors["note"] = [_("Beskriv orsaken till uppehållet.")]
    expected_return_on = data.get("expected_return_on")
    if expected_return_on is None:
        errors["expected_return_on"] = [_("Ange när personen väntas komma tillbaka.")]
    elif expected_return_on <= today:
        errors["expected_return_on"] = [_("Dagen för återkomst måste ligga efter i dag.")]
    return errors


def pause(
    case: Case,
    *,
    reason: str | None,
    note: str = "",
    expected_return_on: date | None,
    by,
    now: datetime | None = None,
) -> Case:
    """Pause an enrolled or active case, with a reason and the expected return."""
    now = now or utcnow()
    next_state(case.state, CaseAction.PAUSE)  # an illegal pause is refused before its details
    note = (note or "").strip()
    errors = pause_errors(
        {"reason": reason, "note": note, "expected_return_on": expected_return_on},
        local_today(now),
    )
    if errors:
        raise ValidationFailed(_("Uppehållet kunde inte registreras."), errors=errors)
    why = _(
        "%(reason)s. Väntas tillbaka %(date)s.",
        reason=label("pause_reason", reason),
        date=expected_return_on.isoformat(),
    )
    change_state(
        case,
        CaseAction.PAUSE,
        by=by,
        reason=f"{why} {note}".strip(),
        now=now,
        paused_from=case.state,
        pause_reason=reason,
        pause_note=note or None,
        expected_return_on=expected_return_on,
    )
    db.session.flush()
    events.record(db.session, CasePaused(case_id=case.id, occurred_at=now))
    return case


def resume(case: Case, *, by, note: str = "", now: datetime | None = None) -> Case:
    """End a pause: the case returns to where it was (and becomes active if the plan is signed)."""
    now = now or utcnow()
    target = change_state(
        case,
        CaseAction.RESUME,
        by=by,
        reason=(note or "").strip() or _("Uppehållet är slut."),
        now=now,
        paused_from=None,
        pause_reason=None,
        pause_note=None,
        expected_return_on=None,
    )
    db.session.flush()
    events.record(db.session, CaseResumed(case_id=case.id, occurred_at=now))
    if target is CaseState.ENROLLED:
        version = hooks.signed_version(case.id)
        if version is not None:
            activate(case, by=by, version_number=version.number, now=now)
    return case


def activate(case: Case, *, by, version_number: int, now: datetime | None = None) -> Case:
    """Make an enrolled case active: its joint action plan is signed by every party."""
    now = now or utcnow()
    change_state(
        case,
        CaseAction.ACTIVATE,
        by=by,
        reason=_("Alla parter har undertecknat handlingsplanen (version %(n)s).", n=version_number),
        now=now,
    )
    db.session.flush()
    return case

"""Reading cases: coordinators and their loads, a programme's places and queue, a person's open
case, and the suggestion of a coordinator. Nothing here changes or locks a row; the loaders that
lock for a change (`get_case`, a profile under lock) live with the writes in `operations`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeGuard

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import contains_eager
from sqlalchemy.sql.expression import Exists, Subquery

from coordination.auth.models import User
from coordination.cases.models import Case, CoordinatorAssignment, CoordinatorProfile
from coordination.extensions import db
from coordination.organisations.models import Membership
from coordination.people.models import Person
from coordination.programmes.models import Programme
from coordination.referrals.models import Referral
from workflows.case import (
    OCCUPYING_STATES,
    OPEN_STATES,
    CaseState,
    QueueEntry,
    order_queue,
    state_on_admission,
)
from workflows.caseload import DEFAULT_CAPACITY, LOADED_STATES, CoordinatorLoad, suggest
from workflows.organisation import Role


def is_coordinator(user: User | None) -> TypeGuard[User]:
    """Tell whether a user is an active coordinator."""
    return bool(user is not None and user.active and user.has_any_role([Role.COORDINATOR]))


def _holds_coordinator_role() -> Exists:
    return (
        select(Membership.id)
        .where(Membership.user_id == User.id, Membership.role == Role.COORDINATOR.value)
        .correlate(User)
        .exists()
    )


@dataclass(frozen=True)
class CoordinatorName:
    """A coordinator as a list of choices shows them: the id and the name, nothing else."""

    id: int
    name: str


def coordinators() -> list[CoordinatorName]:
    """Return the active coordinators' ids and names, by name (one query of two columns: a
    förbund of 1,000 coordinators loads no account, membership or secret for a picker)."""
    return [
        CoordinatorName(uid, name)
        for uid, name in db.session.execute(
            select(User.id, User.name)
            .where(User.active.is_(True), _holds_coordinator_role())
            .order_by(User.name, User.id)
        )
    ]


def coordinator_options(
    names: list[CoordinatorName], loads: Iterable[CoordinatorLoad], *, exclude: int | None = None
) -> list[tuple[int, str]]:
    """Return a picker's options: (id, "name (load av capacity)"), by name, the text
    translated once for the whole list (a förbund may have 1,000 coordinators)."""
    by_id = {c.coordinator_id: c for c in loads}
    text = _("%(name)s (%(load)s av %(capacity)s)")
    options = []
    for named in names:
        if named.id == exclude:
            continue
        load = by_id.get(named.id)
        label = (
            text % {"name": named.name, "load": load.load, "capacity": load.capacity}
            if load is not None
            else named.name
        )
        options.append((named.id, label))
    return options


def occupied_places(programme_id: int) -> int:
    """Return how many of the programme's places are taken."""
    taken = db.session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.programme_id == programme_id,
            Case.state.in_([s.value for s in OCCUPYING_STATES]),
        )
    )
    return taken or 0


def find_open_case(person_id: int, programme_id: int) -> Case | None:
    """Return the person's open case in the programme, if there is one."""
    return db.session.scalar(
        select(Case).where(
            Case.person_id == person_id,
            Case.programme_id == programme_id,
            Case.state.in_([s.value for s in OPEN_STATES]),
        )
    )


def capacity_problem(coordinator: User, weight: int, programme_id: int) -> str | None:
    """Say why a reason is needed if admitting a case of `weight` now would take the coordinator
    over capacity (only when the case gets a place at once; a waiting case is assigned later)."""
    programme = db.session.get(Programme, programme_id)
    assert programme is not None, "a case's programme exists"
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


def queue(programme_id: int) -> list[Case]:
    """Return the programme's waiting cases in the order the priority rule offers them a place."""
    programme = db.session.get(Programme, programme_id)
    assert programme is not None, "a case's programme exists"
    rows = db.session.execute(
        select(Case, Person.birth_date, Referral.referral_date, Referral.children_in_household)
        .join(Person, Person.id == Case.person_id)
        .join(Referral, Referral.id == Case.referral_id)
        .options(contains_eager(Case.person), contains_eager(Case.referral))
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
    ordered = order_queue(entries, programme.priority_rule, programme.priority_age_band)
    return [cases[e.case_id] for e in ordered]


# --- coordinators: profiles, load and suggestion ---------------------------------------------


def default_team(user_id: int) -> int | None:
    """Return the unit where the user holds the coordinator role (the first one)."""
    return db.session.scalar(
        select(Membership.unit_id)
        .where(Membership.user_id == user_id, Membership.role == Role.COORDINATOR.value)
        .order_by(Membership.id)
        .limit(1)
    )


def profile_for(user_id: int) -> CoordinatorProfile:
    """Return the coordinator's profile, or (nothing stored yet) one with the defaults.

    Nothing is written: a coordinator without a stored profile gets capacity 15 and the unit where
    they hold the coordinator role. `operations.lock_profile` stores and locks one.
    """
    found = db.session.scalar(
        select(CoordinatorProfile).where(CoordinatorProfile.user_id == user_id)
    )
    if found is not None:
        return found
    return CoordinatorProfile(
        user_id=user_id, team_unit_id=default_team(user_id), capacity=DEFAULT_CAPACITY
    )


def load_of(coordinator_ids: Iterable[int]) -> dict[int, int]:
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


def _weighted_loads() -> Subquery:
    """The weights of the open cases summed per coordinator, as a subquery
    (coordinator_id, load)."""
    return (
        select(
            CoordinatorAssignment.coordinator_id.label("coordinator_id"),
            func.sum(Case.complexity_weight).label("load"),
        )
        .join(Case, Case.id == CoordinatorAssignment.case_id)
        .where(
            # `active` in the words of the partial index (ix_coordinator_assignment_active_load):
            # the planner does not match `active IS true` to it.
            CoordinatorAssignment.active,
            Case.state.in_(sorted(s.value for s in LOADED_STATES)),
        )
        .group_by(CoordinatorAssignment.coordinator_id)
        .subquery()
    )


def coordinator_loads(team_unit_id: int | None = None) -> list[CoordinatorLoad]:
    """Return every active coordinator's load and capacity, by name (one team's when given).

    One query: the weights of the open cases summed per coordinator, the stored profile or
    its defaults (capacity 15, the unit where they hold the coordinator role).
    """
    loads = _weighted_loads()
    first_team = (
        select(Membership.unit_id)
        .where(Membership.user_id == User.id, Membership.role == Role.COORDINATOR.value)
        .order_by(Membership.id)
        .limit(1)
        .correlate(User)
        .scalar_subquery()
    )
    team = sql_case(
        (CoordinatorProfile.user_id.is_not(None), CoordinatorProfile.team_unit_id),
        else_=first_team,
    )
    rows = db.session.execute(
        select(
            User.id,
            func.coalesce(loads.c.load, 0),
            func.coalesce(CoordinatorProfile.capacity, DEFAULT_CAPACITY),
            team,
        )
        .outerjoin(CoordinatorProfile, CoordinatorProfile.user_id == User.id)
        .outerjoin(loads, loads.c.coordinator_id == User.id)
        .where(User.active.is_(True), _holds_coordinator_role())
        .order_by(User.name, User.id)
    )
    found = [
        CoordinatorLoad(coordinator_id=uid, load=int(load), capacity=capacity, team_id=team_id)
        for uid, load, capacity, team_id in rows
    ]
    if team_unit_id is not None:
        found = [c for c in found if c.team_id == team_unit_id]
    return found


def over_capacity_select() -> Select:
    """Select the active coordinators whose weighted load is above their capacity, as
    (coordinator_id, name, load, capacity) rows: a statement to page in SQL, not a list."""
    loads = _weighted_loads()
    capacity = func.coalesce(CoordinatorProfile.capacity, DEFAULT_CAPACITY)
    return (
        select(User.id, User.name, loads.c.load, capacity.label("capacity"))
        .join(loads, loads.c.coordinator_id == User.id)
        .outerjoin(CoordinatorProfile, CoordinatorProfile.user_id == User.id)
        .where(User.active.is_(True), _holds_coordinator_role(), loads.c.load > capacity)
    )


def own_load(user_id: int) -> CoordinatorLoad:
    """Return one coordinator's weighted load and capacity (two statements at most)."""
    profile = profile_for(user_id)
    return CoordinatorLoad(
        coordinator_id=user_id,
        load=load_of([user_id])[user_id],
        capacity=profile.capacity,
        team_id=profile.team_unit_id,
    )


def team_of_case(case: Case, loads: list[CoordinatorLoad] | None = None) -> int | None:
    """Return the team a case belongs to: its coordinator's team, if it has a coordinator."""
    if case.coordinator_id is None:
        return None
    known = next((c for c in loads or () if c.coordinator_id == case.coordinator_id), None)
    if known is not None:
        return known.team_id
    return profile_for(case.coordinator_id).team_unit_id


def suggest_coordinator(
    case: Case,
    team_unit_id: int | None = None,
    loads: list[CoordinatorLoad] | None = None,
) -> CoordinatorLoad | None:
    """Suggest the coordinator with the lowest load ratio in the case's team (or the one given).

    A team with nobody else to suggest falls back to every coordinator. `loads` (every
    coordinator's, from `coordinator_loads()`) saves reading them again.
    """
    everyone = loads if loads is not None else coordinator_loads()
    team = team_unit_id if team_unit_id is not None else team_of_case(case, everyone)
    exclude = [case.coordinator_id] if case.coordinator_id else []
    in_team = everyone if team is None else [c for c in everyone if c.team_id == team]
    found = suggest(in_team, case.complexity_weight, exclude=exclude)
    if found is None and team is not None and team_unit_id is None:
        found = suggest(everyone, case.complexity_weight, exclude=exclude)
    return found

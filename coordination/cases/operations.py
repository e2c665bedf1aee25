"""The only place that changes cases: admission, enrolment from the queue, coordinators."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from coordination.auth.models import User
from coordination.cases.models import Case, CaseHistory, CoordinatorAssignment
from coordination.core import events
from coordination.core.db import utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import STOCKHOLM
from coordination.extensions import db
from coordination.people.models import Person
from coordination.programmes.models import Programme
from coordination.referrals import operations as referral_ops
from coordination.referrals.models import Referral
from workflows.case import (
    OCCUPYING_STATES,
    OPEN_STATES,
    CaseAction,
    CaseState,
    QueueEntry,
    next_state,
    order_queue,
    state_on_admission,
)
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
    return db.session.scalar(
        select(Programme)
        .where(Programme.id == programme_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


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


def admit(
    referral: Referral,
    *,
    coordinator: User,
    complexity_weight: int,
    by,
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
        case.enrolled_on = now.astimezone(STOCKHOLM).date()
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
        _assign(case, coordinator, by, now, reason=_("Utsedd av remissgruppen."))
    db.session.flush()
    events.record(
        db.session,
        "CaseOpened",
        case_id=case.id,
        programme_id=programme.id,
        referral_id=referral.id,
        state=case.state,
        coordinator_id=coordinator.id if state is CaseState.ENROLLED else None,
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


def enrol_from_queue(case: Case, *, coordinator: User | None, by, now: datetime | None = None):
    """Give the first waiting case a free place, with its coordinator."""
    now = now or utcnow()
    target = next_state(case.state, CaseAction.ENROL)
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
    previous = case.state
    case.state = target.value
    case.enrolled_on = now.astimezone(STOCKHOLM).date()
    case.version += 1
    _history(case, previous, target.value, CaseAction.ENROL.value, by, _("Plats ledig."), now)
    _assign(case, coordinator, by, now, reason=_("Utsedd vid inskrivning från kön."))
    db.session.flush()
    events.record(
        db.session,
        "CaseEnrolled",
        case_id=case.id,
        programme_id=programme.id,
        coordinator_id=coordinator.id,
    )
    return case


def _assign(case: Case, coordinator: User, by, now: datetime, *, reason: str) -> None:
    db.session.add(
        CoordinatorAssignment(
            case=case,
            coordinator_id=coordinator.id,
            active=True,
            assigned_at=now,
            reason=reason,
            assigned_by_id=getattr(by, "id", None),
        )
    )


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

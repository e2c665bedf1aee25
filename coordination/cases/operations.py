"""The only place that changes cases: admission, enrolment, coordinators, pause and resume.

Reads (places, the queue, loads, the suggestion of a coordinator) are in `queries`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
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
from coordination.cases.queries import (
    default_team,
    find_open_case,
    is_coordinator,
    load_of,
    occupied_places,
    queue,
)
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import get_row, utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import label, local_today
from coordination.extensions import db
from coordination.organisations.models import OrganisationUnit
from coordination.programmes.models import Programme
from coordination.referrals import operations as referral_ops
from coordination.referrals.models import Referral
from coordination.tenancy.context import require_id
from workflows.case import CaseAction, CaseState, PauseReason, next_state, state_on_admission
from workflows.caseload import DEFAULT_CAPACITY


def get_case(case_id: int, *, lock: bool = False) -> Case:
    """Load a case, locking its row when it is about to change."""
    return get_row(Case, case_id, lock=lock, missing=_("Deltagandet finns inte."))


def _lock_programme(programme_id: int) -> Programme:
    # Admissions to one programme queue up here, so two at once cannot both take the last place.
    return get_row(Programme, programme_id, lock=True)


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
    by: Actor,
    over_capacity_reason: str = "",
    now: datetime | None = None,
) -> Case:
    """Open the case of an admitted referral: enrolled while there is room, else waiting."""
    now = now or utcnow()
    assert referral.person_id is not None, "a submitted referral names its person"
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


def enrol_from_queue(
    case: Case,
    *,
    coordinator: User | None,
    by: Actor,
    reason: str = "",
    now: datetime | None = None,
) -> Case:
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
    case: Case,
    action: CaseAction,
    *,
    by: Actor | None,
    reason: str,
    now: datetime,
    **columns: Any,
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


def _history(
    case: Case,
    from_state: str | None,
    to_state: str,
    action: str,
    by: Actor | None,
    reason: str,
    now: datetime,
) -> None:
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


# --- coordinators: profiles and assignment ----------------------------------------------------


def lock_profile(user_id: int) -> CoordinatorProfile:
    """Lock the coordinator's profile, storing one with the defaults on first use.

    Assignments to one coordinator queue up on this row, so their load is counted one at a time.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(CoordinatorProfile)
        .values(
            forbund_id=require_id(),
            user_id=user_id,
            team_unit_id=default_team(user_id),
            capacity=DEFAULT_CAPACITY,
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["forbund_id", "user_id"])
    )
    profile = db.session.scalar(
        select(CoordinatorProfile)
        .where(CoordinatorProfile.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert profile is not None  # stored just above, or already there
    return profile


def _assign(
    case: Case,
    coordinator: User,
    by: Actor,
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
    profile = lock_profile(coordinator.id)
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
    by: Actor,
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
    assert coordinator is not None  # is_coordinator, above
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


def set_profile(
    user: User, *, capacity: int | None, team_unit_id: int | None, by: Actor | None
) -> None:
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
    assert capacity is not None  # checked above
    profile = lock_profile(user.id)
    profile.capacity = capacity
    profile.team_unit_id = team.id if team else None
    db.session.flush()


# --- pause and resume -------------------------------------------------------------------------


def pause_errors(data: dict[str, Any], today: date) -> dict[str, list[str]]:
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
    by: Actor | None,
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
    assert expected_return_on is not None  # pause_errors, above
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


def resume(case: Case, *, by: Actor, note: str = "", now: datetime | None = None) -> Case:
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


def activate(
    case: Case, *, by: Actor | None, version_number: int, now: datetime | None = None
) -> Case:
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

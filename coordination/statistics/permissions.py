"""Who may see statistics, import history and handle participants' self-ratings."""

from __future__ import annotations

from sqlalchemy import Select, false, select

from coordination.cases import permissions as case_perms
from coordination.cases.models import Case, CoordinatorAssignment
from coordination.core.permissions import get_visible
from coordination.extensions import db
from coordination.statistics.models import SusParticipant
from workflows.organisation import Role

REPORT_ROLES = (Role.ANALYST, Role.TEAM_LEAD)
IMPORT_ROLES = (Role.ADMIN,)
PARTICIPANT_ROLES = (Role.TEAM_LEAD, Role.COORDINATOR)


def can_view_reports(user) -> bool:
    """Analysts and team leads see aggregated statistics."""
    return bool(user and user.is_authenticated and user.has_any_role(REPORT_ROLES))


def can_import(user) -> bool:
    """Admins import historical participant records and self-ratings."""
    return bool(user and user.is_authenticated and user.has_any_role(IMPORT_ROLES))


def case_of(participant) -> Case | None:
    """Return the live case a SUS participant belongs to (None for imported history)."""
    return db.session.get(Case, participant.case_id) if participant.case_id else None


def person_of(participant) -> int | None:
    """Return the person in the register a SUS participant is, when it belongs to a live case."""
    case = case_of(participant)
    return case.person_id if case is not None else None


def can_view_participant(user, participant) -> bool:
    """Team leads see a participant's SUS record and self-ratings; a coordinator only those of
    a case they coordinate (they rate with the participant). Imported history has no case, so
    it is for the team leads.

    Analysts never see a single participant: their role is aggregated statistics only.
    """
    if not (user and user.is_authenticated and participant):
        return False
    if user.has_any_role([Role.TEAM_LEAD]):
        return True
    case = case_of(participant) if user.has_any_role([Role.COORDINATOR]) else None
    return case is not None and case_perms.is_assigned_coordinator(user, case)


def visible_participants(user) -> Select:
    """The SUS participants the user may see, as a query (the rule of `can_view_participant`)."""
    query = select(SusParticipant)
    if user.has_any_role([Role.TEAM_LEAD]):
        return query
    if not user.has_any_role([Role.COORDINATOR]):
        return query.where(false())
    own = select(CoordinatorAssignment.case_id).where(
        CoordinatorAssignment.coordinator_id == user.id, CoordinatorAssignment.active.is_(True)
    )
    return query.where(SusParticipant.case_id.in_(own))


def persons_by_case(participants) -> dict[int, int]:
    """Return {case_id: person_id} for the live cases of several participants, in one query."""
    case_ids = {p.case_id for p in participants if p.case_id}
    if not case_ids:
        return {}
    rows = db.session.execute(select(Case.id, Case.person_id).where(Case.id.in_(case_ids)))
    return {case_id: person_id for case_id, person_id in rows}


def can_record_rating(user, participant) -> bool:
    """Who may record a self-rating: the same staff, also after exit (history is entered late)."""
    return can_view_participant(user, participant)


def can_rate_case(user, case: Case) -> bool:
    """The case's coordinator and the team leads see and record its self-ratings (the rule of
    `can_view_participant`, for a case whose SUS record may not exist yet)."""
    if not (user and user.is_authenticated and case is not None):
        return False
    return user.has_any_role([Role.TEAM_LEAD]) or (
        user.has_any_role([Role.COORDINATOR]) and case_perms.is_assigned_coordinator(user, case)
    )


def load_rated_case(case_id: int, *, lock: bool = False) -> Case:
    """Load a case whose self-ratings the user may see and record, else 404."""
    return get_visible(
        Case,
        case_id,
        can_rate_case,
        kind="case",
        glass=("case", case_id),
        lock=lock,
        person=lambda case: case.person_id,
    )

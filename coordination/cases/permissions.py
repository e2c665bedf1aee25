"""Who may see and change a case (../shared/DOMAIN.md §7, §10).

A case is seen by its assigned coordinator, the team leads, the referrer while a valid consent
covers the referrer's agency, and the contacts of the plan's actions while a valid consent covers
the action's agency. Everyone else is told it does not exist.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from coordination.cases import hooks
from coordination.cases.models import Case, CoordinatorAssignment
from coordination.consent.operations import covering
from coordination.core.i18n import local_today
from coordination.extensions import db
from coordination.organisations.models import OrganisationUnit
from coordination.referrals.models import Referral
from workflows.organisation import Role


def is_team_lead(user) -> bool:
    """Tell whether the user is a team lead (they see every case)."""
    return user.has_any_role([Role.TEAM_LEAD])


def is_assigned_coordinator(user, case: Case) -> bool:
    """Tell whether the user is the case's active coordinator."""
    return case.coordinator_id is not None and case.coordinator_id == user.id


def referrer_agency(case: Case) -> str | None:
    """Return the agency kind of the unit the referral came from."""
    unit = db.session.get(OrganisationUnit, case.referral.referring_unit_id)
    return unit.agency_kind if unit else None


def referrer_may_view(user, case: Case, today: date) -> bool:
    """The referrer sees the case while a valid consent covers the referrer's agency."""
    if case.referral.referrer_id != user.id:
        return False
    agency = referrer_agency(case)
    return agency is not None and covering(case.person_id, [agency], today) is not None


def contact_may_view(user, case: Case, today: date) -> bool:
    """A contact of a plan action sees the case while a valid consent covers that agency."""
    return any(
        covering(case.person_id, [agency], today) is not None
        for agency in hooks.contact_agencies(user.id, case.id)
    )


def can_view(user, case: Case, today: date | None = None) -> bool:
    """Tell whether the user may see the case at all."""
    if user is None or not user.is_authenticated:
        return False
    if is_team_lead(user) or is_assigned_coordinator(user, case):
        return True
    today = today or local_today()
    return referrer_may_view(user, case, today) or contact_may_view(user, case, today)


def can_see_identity(user, case: Case) -> bool:
    """A protected person's name is shown only to the assigned coordinator."""
    return not case.person.protected_identity or is_assigned_coordinator(user, case)


def can_see_contact_details(user, case: Case) -> bool:
    """Address, phone and email are for the assigned coordinator only."""
    return is_assigned_coordinator(user, case)


def can_manage(user, case: Case) -> bool:
    """The assigned coordinator and the team leads pause, resume and keep the plan."""
    return is_assigned_coordinator(user, case) or is_team_lead(user)


def can_assign(user, case: Case) -> bool:
    """A team lead assigns and reassigns coordinators."""
    return is_team_lead(user)


def visible_case_ids(user, today: date | None = None) -> set[int] | None:
    """Return the ids of the cases the user may see; None means every case (a team lead)."""
    if is_team_lead(user):
        return None
    today = today or local_today()
    ids = set(
        db.session.scalars(
            select(CoordinatorAssignment.case_id).where(
                CoordinatorAssignment.coordinator_id == user.id,
                CoordinatorAssignment.active.is_(True),
            )
        )
    )
    candidates = set(
        db.session.scalars(
            select(Case.id)
            .join(Referral, Referral.id == Case.referral_id)
            .where(Referral.referrer_id == user.id)
        )
    )
    candidates |= hooks.contact_case_ids(user.id)
    for case_id in candidates - ids:
        case = db.session.get(Case, case_id)
        if referrer_may_view(user, case, today) or contact_may_view(user, case, today):
            ids.add(case_id)
    return ids

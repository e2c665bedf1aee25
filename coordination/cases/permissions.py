"""Who may see and change a case (../shared/DOMAIN.md §7, §10).

A case is seen by its assigned coordinator, the team leads, the referrer while a valid consent
covers the referrer's agency, and the contacts of the plan's actions while a valid consent covers
the action's agency. Everyone else is told it does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coordination.cases import hooks
from coordination.cases.models import Case, CoordinatorAssignment
from coordination.consent.models import Consent
from coordination.consent.operations import consents_by_person, covering
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


@dataclass
class Known:
    """What the consent checks of many cases read, read once for them all (`known_for`)."""

    consents: dict[int, list[Consent]] = field(default_factory=dict)
    contact_agencies: dict[int, set[str]] = field(default_factory=dict)


def known_for(user, cases: Iterable[Case]) -> Known:
    """Read the consents of the cases' people and the user's plan contacts on them, in one
    statement each, for can_view over a list (the cases' referrals loaded with them)."""
    cases = [c for c in cases if not is_assigned_coordinator(user, c)]
    if is_team_lead(user) or not cases:
        return Known()
    return Known(
        consents=consents_by_person(c.person_id for c in cases),
        contact_agencies=hooks.contact_agencies(user.id, [c.id for c in cases]),
    )


def referrer_may_view(user, case: Case, today: date, known: Known | None = None) -> bool:
    """The referrer sees the case while a valid consent covers the referrer's agency."""
    if case.referral.referrer_id != user.id:
        return False
    agency = referrer_agency(case)
    consents = known.consents if known is not None else None
    return (
        agency is not None and covering(case.person_id, [agency], today, known=consents) is not None
    )


def contact_may_view(user, case: Case, today: date, known: Known | None = None) -> bool:
    """A contact of a plan action sees the case while a valid consent covers that agency."""
    if known is None:
        known = Known(contact_agencies=hooks.contact_agencies(user.id, [case.id]))
        consents = None
    else:
        consents = known.consents
    return any(
        covering(case.person_id, [agency], today, known=consents) is not None
        for agency in known.contact_agencies.get(case.id, set())
    )


def can_view(user, case: Case, today: date | None = None, known: Known | None = None) -> bool:
    """Tell whether the user may see the case at all (`known`: from known_for, for a list)."""
    if user is None or not user.is_authenticated:
        return False
    if is_team_lead(user) or is_assigned_coordinator(user, case):
        return True
    today = today or local_today()
    return referrer_may_view(user, case, today, known) or contact_may_view(user, case, today, known)


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
    if not candidates - ids:
        # Not even an empty IN: under the förbund policy PostgreSQL plans it as a parallel scan
        # and starts its workers (6 ms at 200k) before finding it can return nothing.
        return ids
    cases = db.session.scalars(
        select(Case)
        .where(Case.id.in_(sorted(candidates - ids)))
        .options(selectinload(Case.referral), selectinload(Case.assignments))
    ).all()
    known = known_for(user, cases)
    return ids | {
        case.id
        for case in cases
        if referrer_may_view(user, case, today, known) or contact_may_view(user, case, today, known)
    }

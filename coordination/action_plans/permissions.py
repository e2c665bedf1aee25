"""Who may read, change, sign and print a case's joint action plan."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from coordination.action_plans.models import PlanAction, PlanVersion
from coordination.action_plans.operations import may_sign_for, missing_of
from coordination.cases import permissions as case_perms
from coordination.cases.models import Case
from coordination.extensions import db
from workflows.action_plan import PlanState


def contact_agencies(user_id: int, case_ids: Iterable[int]) -> dict[int, set[str]]:
    """Return, by case, the agencies of the actions the user is the contact of, in live plan
    versions (one statement for all the cases)."""
    found: dict[int, set[str]] = {}
    ids = set(case_ids)
    if not ids:
        return found
    rows = db.session.execute(
        select(PlanVersion.case_id, PlanAction.agency)
        .join(PlanVersion, PlanVersion.id == PlanAction.version_id)
        .where(
            PlanVersion.case_id.in_(ids),
            PlanVersion.state != PlanState.SUPERSEDED.value,
            PlanAction.contact_id == user_id,
        )
    )
    for case_id, agency in rows:
        found.setdefault(case_id, set()).add(agency)
    return found


def contact_case_ids(user_id: int) -> set[int]:
    """Return the cases with an action whose contact the user is, in live plan versions."""
    return set(
        db.session.scalars(
            select(PlanVersion.case_id)
            .join(PlanAction, PlanAction.version_id == PlanVersion.id)
            .where(
                PlanAction.contact_id == user_id,
                PlanVersion.state != PlanState.SUPERSEDED.value,
            )
        )
    )


def can_view(user, case: Case) -> bool:
    """Everyone who may see the case may read its plan."""
    return case_perms.can_view(user, case)


def can_edit(user, case: Case) -> bool:
    """The assigned coordinator and the team leads draw up and change the plan."""
    return case_perms.can_manage(user, case)


def can_print(user, case: Case) -> bool:
    """The coordinator (or a team lead) prints the participant's copy."""
    return case_perms.can_manage(user, case)


def parties_user_may_sign(user, case: Case, version: PlanVersion | None) -> list[str]:
    """Return the parties still to sign the version that this user may sign for."""
    if version is None or version.state not in (PlanState.DRAFT.value, PlanState.SIGNING.value):
        return []
    return [party for party in missing_of(version) if may_sign_for(user, case, party)]

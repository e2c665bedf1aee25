"""The plan in force as the case keeps it: `Case.plan_in_force` and `Case.plan_review_on`.

Every flush that writes a plan version (signing, a new version superseding the old, a changed
review date) sets both columns of that version's case again from its versions, in the same
transaction. The caseload's warnings then rank every open case without reading a plan per case.
"""

from __future__ import annotations

from sqlalchemy import bindparam, event, exists, select, update

from coordination.action_plans.models import PlanVersion
from coordination.cases.models import Case
from workflows.action_plan import PlanState


def refresh_statement():
    """The UPDATE that sets the cases `ids` (an expanding parameter) from their versions."""
    signed = (PlanVersion.case_id == Case.id, PlanVersion.state == PlanState.SIGNED.value)
    review_on = (
        select(PlanVersion.review_on)
        .where(*signed)
        .order_by(PlanVersion.number.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        update(Case)
        .where(Case.id.in_(bindparam("ids", expanding=True)))
        .values(plan_in_force=exists().where(*signed), plan_review_on=review_on)
    )


def _keep_in_force(session, _flush_context) -> None:
    touched = {
        obj.case_id
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, PlanVersion) and obj.case_id is not None
    }
    if touched:
        session.connection().execute(refresh_statement(), {"ids": sorted(touched)})


def install(session_class) -> None:
    """Keep the cases' plan columns in every flush (installing twice changes nothing)."""
    if not event.contains(session_class, "after_flush", _keep_in_force):
        event.listen(session_class, "after_flush", _keep_in_force)

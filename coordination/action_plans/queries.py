"""Reading plans for lists: the plan figures of a case as SQL columns, for queries over cases."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, select

from coordination.action_plans.models import PlanAction, PlanVersion
from coordination.cases.models import Case
from workflows.action_plan import OPEN_ACTION_STATUSES, PlanState


def case_columns() -> dict[str, Any]:
    """Return the plan figures of the case `Case` as correlated SQL expressions.

    Built once per process (they hold no value of a request): building them costs more than the
    query of a page of one case.

    "plan_version" and "plan_state" (the newest version), "in_force_version" (the newest signed
    one: `operations.signed_version`), "review_on" (the version in force's, else the newest's)
    and "open_actions" (planned or ongoing actions of the version in force, else the newest).
    The warnings read the version in force from the case itself (`in_force.py`).
    """
    return dict(_case_columns())


@cache
def _case_columns() -> dict[str, Any]:
    newest = (
        select(PlanVersion)
        .where(PlanVersion.case_id == Case.id)
        .order_by(PlanVersion.number.desc())
        .limit(1)
        .correlate(Case)
    )
    in_force = newest.where(PlanVersion.state == PlanState.SIGNED.value)

    def newest_of(query, column):
        return query.with_only_columns(column).scalar_subquery()

    in_force_number = newest_of(in_force, PlanVersion.number)
    # CASE, not coalesce(): PostgreSQL takes a CASE for leakproof, so under the förbund policies
    # (tenancy/rls.py) `version_id = CASE …` still reads the index; `version_id = coalesce(…)`
    # may not run before the policy's own filter and became a scan of every action per case.
    in_force_id = newest_of(in_force, PlanVersion.id)
    current_id = sql_case(
        (in_force_id.is_not(None), in_force_id), else_=newest_of(newest, PlanVersion.id)
    )
    open_actions = (
        select(func.count())
        .select_from(PlanAction)
        .where(
            PlanAction.version_id == current_id,
            PlanAction.status.in_(sorted(s.value for s in OPEN_ACTION_STATUSES)),
        )
        .correlate(Case)
        .scalar_subquery()
    )
    return {
        "plan_version": newest_of(newest, PlanVersion.number),
        "plan_state": newest_of(newest, PlanVersion.state),
        "in_force_version": in_force_number,
        "review_on": sql_case(
            (in_force_number.is_not(None), newest_of(in_force, PlanVersion.review_on)),
            else_=newest_of(newest, PlanVersion.review_on),
        ),
        "open_actions": open_actions,
    }

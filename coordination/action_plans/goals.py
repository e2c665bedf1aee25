"""Goals reached: how far each goal of a plan was reached, recorded at a plan review and at exit
(../shared/DOMAIN.md §9)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from coordination.action_plans.models import PlanGoal, PlanVersion
from coordination.action_plans.operations import latest_version, refuse_unless_open
from coordination.cases.models import Case
from coordination.core.actor import Actor
from coordination.core.db import utcnow
from coordination.core.errors import NotFound, ValidationFailed
from coordination.extensions import db
from workflows.action_plan import GoalReviewOccasion, GoalStatus, PlanState


def goal_review_errors(version: PlanVersion | None, rows: list[dict]) -> dict[str, list[str]]:
    """Return the problems of a goal review, by row (`goals.<i>.status`)."""
    errors: dict[str, list[str]] = {}
    ids = {g.id for g in version.goals} if version is not None else set()
    statuses = {s.value for s in GoalStatus}
    for i, row in enumerate(rows):
        if row.get("goal_id") not in ids:
            errors.setdefault(f"goals.{i}.goal_id", []).append(
                _("Delmålet finns inte i den senaste versionen av planen.")
            )
        if row.get("status") and row["status"] not in statuses:
            errors.setdefault(f"goals.{i}.status", []).append(_("Välj hur långt delmålet nåddes."))
    return errors


def record_goal_statuses(
    case: Case,
    rows: list[dict],
    *,
    by: Actor,
    occasion: GoalReviewOccasion = GoalReviewOccasion.REVIEW,
    now: datetime | None = None,
) -> list[PlanGoal]:
    """Record how far each goal of the newest version was reached (an empty status leaves it).

    At a review the case must run; at exit the exit's own rules apply. The status is recorded in
    every live version that has the same goal, with who recorded it and when; a status that is
    not changed keeps its earlier record. Return the goals that changed.
    """
    now = now or utcnow()
    if occasion is GoalReviewOccasion.REVIEW:
        refuse_unless_open(case)
    version = latest_version(case.id)
    if version is None:
        raise NotFound(_("Det finns ingen handlingsplan med delmål ännu."))
    errors = goal_review_errors(version, rows)
    if errors:
        raise ValidationFailed(_("Delmålens status kunde inte sparas."), errors=errors)
    wanted = {row["goal_id"]: row["status"] for row in rows if row.get("status")}
    texts = {g.text: wanted[g.id] for g in version.goals if g.id in wanted}
    live = db.session.scalars(
        select(PlanGoal)
        .join(PlanVersion, PlanVersion.id == PlanGoal.version_id)
        .where(
            PlanVersion.case_id == case.id,
            PlanVersion.state != PlanState.SUPERSEDED.value,
            PlanGoal.text.in_(list(texts)),
        )
    )
    changed = []
    for goal in live:
        status = texts[goal.text]
        if goal.status != status:
            goal.status = status
            goal.status_occasion = occasion.value
            goal.status_by_id = by.id
            goal.status_at = now
            changed.append(goal)
    db.session.flush()
    return changed

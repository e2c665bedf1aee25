"""The action plan endpoints of the API: read and change the plan, sign off, versions, progress."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from coordination.action_plans import goals
from coordination.action_plans import operations as ops
from coordination.action_plans import permissions as perms
from coordination.action_plans.models import PlanAction, PlanVersion
from coordination.action_plans.schemas import (
    ActionStatusLoadSchema,
    GoalReviewLoadSchema,
    PlanDumpSchema,
    PlanLoadSchema,
    SignOffDumpSchema,
    SignOffLoadSchema,
)
from coordination.api import bp
from coordination.api.cases import load_visible
from coordination.api.registry import endpoint, json_body
from coordination.audit.operations import log_access
from coordination.core.errors import NotFound
from coordination.core.i18n import local_today
from coordination.core.parsing import load_checked
from coordination.core.permissions import require, require_visible
from coordination.extensions import db
from workflows.action_plan import PARTICIPANT
from workflows.organisation import Role

STAFF = (Role.REFERRER, Role.CONFERENCE_MEMBER, Role.COORDINATOR, Role.TEAM_LEAD)
MANAGERS = (Role.COORDINATOR, Role.TEAM_LEAD)


def dump_version(version: PlanVersion, **extra) -> dict:
    """Return one version as JSON, with the parties still to sign."""
    in_force = ops.signed_version(version.case_id)
    data = PlanDumpSchema().dump(version)
    data["required_parties"] = sorted(ops.required_of(version), key=lambda p: (p != PARTICIPANT, p))
    data["missing_parties"] = ops.missing_of(version)
    data["in_force_version"] = in_force.number if in_force else None
    data["versions"] = [v.number for v in ops.versions_of(version.case_id)]
    data.update(extra)
    return data


def _latest(case_id: int) -> PlanVersion:
    version = ops.latest_version(case_id)
    if version is None:
        raise NotFound("The case has no action plan yet.")
    return version


@endpoint(
    bp,
    "GET",
    "/cases/<int:case_id>/plan",
    "The current (newest) version of the joint action plan",
    response=PlanDumpSchema,
    roles=STAFF,
)
def get_plan(case_id: int):
    """Read the newest version of the plan."""
    case = load_visible(case_id, read="action_plan")
    version = _latest(case.id)
    db.session.commit()
    return jsonify(dump_version(version))


@endpoint(
    bp,
    "PUT",
    "/cases/<int:case_id>/plan",
    "Save the whole plan; a change after anyone signed creates a new version to sign again",
    body=PlanLoadSchema,
    response=PlanDumpSchema,
    roles=MANAGERS,
)
def put_plan(case_id: int):
    """Save the plan (the response's `outcome` says what happened)."""
    case = load_visible(case_id, lock=True)
    require(perms.can_edit(current_user, case))
    data = load_checked(
        PlanLoadSchema(), json_body(), lambda d: ops.plan_errors(case, d, local_today())
    )
    result = ops.save_plan(case, data, by=current_user)
    log_access("action_plan", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    return jsonify(dump_version(result.version, outcome=result.outcome))


@endpoint(
    bp,
    "GET",
    "/cases/<int:case_id>/plan/versions/<int:number>",
    "One version of the plan, as it was",
    response=PlanDumpSchema,
    roles=STAFF,
)
def get_plan_version(case_id: int, number: int):
    """Read one version of the plan."""
    case = load_visible(case_id, read="action_plan")
    version = ops.get_version(case.id, number)
    db.session.commit()
    return jsonify(dump_version(version))


@endpoint(
    bp,
    "POST",
    "/cases/<int:case_id>/plan/sign-off",
    "Sign off the newest version: the participant (recorded by the coordinator) or an agency",
    body=SignOffLoadSchema,
    response=SignOffDumpSchema,
    roles=STAFF,
    status=201,
)
def sign_off_plan(case_id: int):
    """Record one party's sign-off."""
    case = load_visible(case_id, lock=True)
    data = SignOffLoadSchema().load(json_body())
    entry = ops.sign_off(case, by=current_user, **data)
    log_access("action_plan", case.id, action="sign_off", person_id=case.person_id)
    db.session.commit()
    return jsonify(SignOffDumpSchema().dump(entry)), 201


@endpoint(
    bp,
    "POST",
    "/cases/<int:case_id>/plan/actions/<int:action_id>/status",
    "Record progress on one action (not a change of the plan)",
    body=ActionStatusLoadSchema,
    response=PlanDumpSchema,
    roles=STAFF,
)
def set_action_status(case_id: int, action_id: int):
    """Record an action's status."""
    case = load_visible(case_id, lock=True)
    action = db.session.get(PlanAction, action_id)
    require_visible(action is not None and action.version.case_id == case.id)
    require(ops.may_update_action(current_user, case, action))
    data = ActionStatusLoadSchema().load(json_body())
    ops.set_action_status(action, data["status"], by=current_user)
    log_access("action_plan", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    return jsonify(dump_version(action.version))


@endpoint(
    bp,
    "POST",
    "/cases/<int:case_id>/plan/goal-review",
    "Record at a plan review how far each goal of the newest version was reached "
    "(reached, partly_reached, not_reached; not a change of the plan)",
    body=GoalReviewLoadSchema,
    response=PlanDumpSchema,
    roles=MANAGERS,
)
def review_goals(case_id: int):
    """Record the goals' statuses."""
    case = load_visible(case_id, lock=True)
    require(perms.can_edit(current_user, case))
    data = load_checked(
        GoalReviewLoadSchema(),
        json_body(),
        lambda d: goals.goal_review_errors(ops.latest_version(case.id), d.get("goals") or []),
    )
    goals.record_goal_statuses(case, data["goals"], by=current_user)
    log_access("action_plan", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    return jsonify(dump_version(_latest(case.id)))

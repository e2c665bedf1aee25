"""Marshmallow schemas for the joint action plan."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate

from coordination.action_plans.models import AGENCIES
from workflows.action_plan import PARTICIPANT, ActionStatus, GoalStatus, SignOffMethod

TEXT = validate.Length(max=5000)


class GoalLoadSchema(Schema):
    """A short-term goal with its date."""

    class Meta:
        unknown = RAISE

    text = fields.String(load_default="", validate=TEXT)
    target_on = fields.Date(load_default=None, allow_none=True)


class ActionLoadSchema(Schema):
    """An action; `ref` names an action of the current version (omit it for a new one)."""

    class Meta:
        unknown = RAISE

    ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    what = fields.String(load_default="", validate=TEXT)
    agency = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(AGENCIES))
    contact_id = fields.Integer(
        load_default=None,
        allow_none=True,
        metadata={"form_error": _l("Välj kontaktperson för insatsen.")},
    )
    start_on = fields.Date(load_default=None, allow_none=True)
    due_on = fields.Date(load_default=None, allow_none=True)
    status = fields.String(
        load_default=ActionStatus.PLANNED.value,
        validate=validate.OneOf([s.value for s in ActionStatus]),
    )


class PlanLoadSchema(Schema):
    """The whole plan; a change after anyone signed makes a new version (say why in change_note)."""

    class Meta:
        unknown = RAISE

    own_goal = fields.String(load_default="", validate=TEXT)
    long_term_goal = fields.String(load_default="", validate=TEXT)
    overall_agency = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(AGENCIES)
    )
    review_on = fields.Date(load_default=None, allow_none=True)
    planned_exit_on = fields.Date(load_default=None, allow_none=True)
    exit_steps = fields.String(load_default="", validate=TEXT)
    change_note = fields.String(load_default="", validate=TEXT)
    goals = fields.List(fields.Nested(GoalLoadSchema), load_default=list)
    actions = fields.List(fields.Nested(ActionLoadSchema), load_default=list)


class SignOffLoadSchema(Schema):
    """A sign-off: the participant's (with how) or an agency's."""

    class Meta:
        unknown = RAISE

    party = fields.String(
        required=True, allow_none=True, validate=validate.OneOf([PARTICIPANT, *AGENCIES])
    )
    method = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf([m.value for m in SignOffMethod]),
    )
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ActionStatusLoadSchema(Schema):
    """Progress on one action."""

    class Meta:
        unknown = RAISE

    status = fields.String(
        required=True, allow_none=True, validate=validate.OneOf([s.value for s in ActionStatus])
    )


class GoalStatusLoadSchema(Schema):
    """How far one goal was reached (an empty status leaves the goal as it is)."""

    class Meta:
        unknown = RAISE

    goal_id = fields.Integer(required=True)
    status = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(["", *(s.value for s in GoalStatus)]),
    )


class GoalReviewLoadSchema(Schema):
    """A plan review of the goals: each goal of the newest version with its status."""

    class Meta:
        unknown = RAISE

    goals = fields.List(fields.Nested(GoalStatusLoadSchema), required=True)


class GoalDumpSchema(Schema):
    """A goal as the API returns it, with how far it was reached, by whom and when."""

    id = fields.Integer()
    text = fields.String()
    target_on = fields.Date(allow_none=True)
    status = fields.String(allow_none=True)
    status_occasion = fields.String(allow_none=True)
    status_by_id = fields.Integer(allow_none=True)
    status_at = fields.AwareDateTime(allow_none=True)


class ActionDumpSchema(Schema):
    """An action as the API returns it."""

    id = fields.Integer()
    ref = fields.String()
    what = fields.String()
    agency = fields.String()
    contact_id = fields.Integer(allow_none=True)
    start_on = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    status = fields.String()


class SignOffDumpSchema(Schema):
    """A sign-off as the API returns it."""

    id = fields.Integer()
    party = fields.String()
    method = fields.String(allow_none=True)
    signed_by_id = fields.Integer()
    signed_at = fields.AwareDateTime()


class PlanDumpSchema(Schema):
    """One version of the plan, with who has signed and who still must."""

    id = fields.Integer()
    case_id = fields.Integer()
    number = fields.Integer()
    state = fields.String()
    own_goal = fields.String()
    long_term_goal = fields.String()
    overall_agency = fields.String(allow_none=True)
    coordinator_id = fields.Integer(allow_none=True)
    review_on = fields.Date(allow_none=True)
    planned_exit_on = fields.Date(allow_none=True)
    exit_steps = fields.String()
    change_note = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    signed_at = fields.AwareDateTime(allow_none=True)
    goals = fields.List(fields.Nested(GoalDumpSchema))
    actions = fields.List(fields.Nested(ActionDumpSchema))
    sign_offs = fields.List(fields.Nested(SignOffDumpSchema))
    required_parties = fields.List(fields.String())
    missing_parties = fields.List(fields.String())
    in_force_version = fields.Integer(allow_none=True)
    versions = fields.List(fields.Integer())
    outcome = fields.String(allow_none=True)

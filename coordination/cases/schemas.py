"""Marshmallow schemas for cases: assigning coordinators, pausing, and what the API returns."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate

from workflows.case import CaseState, PauseReason


class AssignCoordinatorSchema(Schema):
    """Assign or reassign the case's coordinator."""

    class Meta:
        unknown = RAISE

    coordinator_id = fields.Integer(required=True, allow_none=True)
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    over_capacity_reason = fields.String(load_default="", validate=validate.Length(max=2000))


class PauseSchema(Schema):
    """Pause a case: why, and when the person is expected back."""

    class Meta:
        unknown = RAISE

    reason = fields.String(
        required=True, allow_none=True, validate=validate.OneOf([r.value for r in PauseReason])
    )
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    expected_return_on = fields.Date(required=True, allow_none=True)


class ResumeSchema(Schema):
    """Resume a paused case."""

    class Meta:
        unknown = RAISE

    note = fields.String(load_default="", validate=validate.Length(max=2000))


class CapacitySchema(Schema):
    """A coordinator's capacity and team."""

    class Meta:
        unknown = RAISE

    capacity = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"form_error": _l("Ange kapaciteten som ett heltal från 0 till 200.")},
    )
    team_unit_id = fields.Integer(load_default=None, allow_none=True)


class QueueEnrolSchema(Schema):
    """Give the first person in the queue a place, with a coordinator (the queue page's form)."""

    class Meta:
        unknown = RAISE

    coordinator_id = fields.Integer(load_default=None, allow_none=True)
    over_capacity_reason = fields.String(load_default="", validate=validate.Length(max=2000))


class UserRefSchema(Schema):
    """A user, by id and name."""

    id = fields.Integer()
    name = fields.String()


class PersonRefSchema(Schema):
    """The participant as the caller may see them: a protected name is replaced by a code."""

    code = fields.String()
    name = fields.String(allow_none=True)
    protected_identity = fields.Boolean()


class PlanRefSchema(Schema):
    """The plan in brief."""

    version = fields.Integer(allow_none=True)
    state = fields.String(allow_none=True)
    in_force_version = fields.Integer(allow_none=True)
    review_on = fields.Date(allow_none=True)
    open_actions = fields.Integer()


class CaseDumpSchema(Schema):
    """A case as the API returns it."""

    id = fields.Integer()
    programme_id = fields.Integer()
    referral_id = fields.Integer()
    state = fields.String(validate=validate.OneOf([s.value for s in CaseState]))
    paused_from = fields.String(allow_none=True)
    pause_reason = fields.String(allow_none=True)
    expected_return_on = fields.Date(allow_none=True)
    complexity_weight = fields.Integer()
    enrolled_on = fields.Date(allow_none=True)
    days_in_programme = fields.Integer(allow_none=True)
    person = fields.Nested(PersonRefSchema)
    coordinator = fields.Nested(UserRefSchema, allow_none=True)
    coordinator_changes = fields.Integer()
    next_meeting_at = fields.AwareDateTime(allow_none=True)
    missed_meeting_count = fields.Integer(allow_none=True)
    escalated = fields.Boolean(allow_none=True)
    open_tasks = fields.Integer(allow_none=True)
    plan = fields.Nested(PlanRefSchema)
    warnings = fields.List(fields.String())


class AssignmentDumpSchema(Schema):
    """One coordinator assignment."""

    id = fields.Integer()
    case_id = fields.Integer()
    coordinator_id = fields.Integer()
    active = fields.Boolean()
    assigned_at = fields.AwareDateTime()
    ended_at = fields.AwareDateTime(allow_none=True)
    reason = fields.String(allow_none=True)
    over_capacity = fields.Boolean()
    over_capacity_reason = fields.String(allow_none=True)

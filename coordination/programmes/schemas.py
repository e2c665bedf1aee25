"""Marshmallow schemas for programmes."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from workflows.case import PRIORITY_AGE_BAND
from workflows.programme import CountingMode, PriorityRule


class ProgrammeSchema(Schema):
    """A programme's settings; every rule is checked and all errors are returned together."""

    class Meta:
        unknown = RAISE

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    active = fields.Boolean(load_default=True)
    min_age = fields.Integer(load_default=18, validate=validate.Range(0, 120))
    max_age = fields.Integer(load_default=64, validate=validate.Range(0, 120))
    min_agencies = fields.Integer(load_default=2, validate=validate.Range(1, 4))
    capacity = fields.Integer(load_default=30, validate=validate.Range(0, 100000))
    max_duration_days = fields.Integer(
        allow_none=True, load_default=None, validate=validate.Range(1, 10000)
    )
    duration_warning_percent = fields.Integer(load_default=80, validate=validate.Range(1, 100))
    conference_weekday = fields.Integer(load_default=1, validate=validate.Range(0, 4))
    conference_interval_weeks = fields.Integer(load_default=2, validate=validate.Range(1, 12))
    conference_first_date = fields.Date(allow_none=True, load_default=None)
    agenda_cutoff_working_days = fields.Integer(load_default=3, validate=validate.Range(0, 30))
    prepare_reminder_working_days = fields.Integer(load_default=2, validate=validate.Range(0, 30))
    quorum_all_named_agencies = fields.Boolean(load_default=True)
    priority_rule = fields.String(
        load_default=PriorityRule.AGE_25_45_CHILDREN_FIRST.value,
        validate=validate.OneOf([r.value for r in PriorityRule]),
    )
    missed_threshold = fields.Integer(load_default=3, validate=validate.Range(1, 20))
    counting_mode = fields.String(
        load_default=CountingMode.SINCE_RESET.value,
        validate=validate.OneOf([m.value for m in CountingMode]),
    )
    group_sessions_count = fields.Boolean(load_default=False)
    escalation_decision_working_days = fields.Integer(
        load_default=5, validate=validate.Range(1, 60)
    )
    plan_review_months = fields.Integer(load_default=3, validate=validate.Range(1, 24))
    completion_deadline_working_days = fields.Integer(
        load_default=10, validate=validate.Range(1, 60)
    )
    complexity_default = fields.Integer(load_default=1, validate=validate.Range(1, 3))
    priority_age_low = fields.Integer(
        load_default=PRIORITY_AGE_BAND[0], validate=validate.Range(0, 120)
    )
    priority_age_high = fields.Integer(
        load_default=PRIORITY_AGE_BAND[1], validate=validate.Range(0, 120)
    )

    @validates_schema
    def _age_band(self, data, **kwargs):
        errors = {}
        if data.get("min_age") is not None and data.get("max_age") is not None:
            if data["min_age"] > data["max_age"]:
                errors["max_age"] = ["The lowest age must not be above the highest."]
        low, high = data.get("priority_age_low"), data.get("priority_age_high")
        if low is not None and high is not None and low > high:
            errors["priority_age_high"] = ["The lowest age must not be above the highest."]
        if errors:
            raise ValidationError(errors)

"""Marshmallow schemas for exits, return referrals, packets and follow-ups.

Load schemas check types only (unknown fields are refused); the code lists and the rules are the
operations', so that every error is reported at once.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from coordination.action_plans.schemas import GoalStatusLoadSchema

TEXT = validate.Length(max=20000)
CODE = validate.Length(max=80)


class ExitLoadSchema(Schema):
    """The exit: reason, means of support, occupation and work at exit, and the date."""

    class Meta:
        unknown = RAISE

    exit_reason = fields.String(load_default=None, allow_none=True, validate=CODE)
    support_at_exit = fields.List(fields.String(validate=CODE), load_default=list)
    occupation_at_exit = fields.String(load_default=None, allow_none=True, validate=CODE)
    work_at_exit = fields.String(load_default=None, allow_none=True, validate=CODE)
    exited_on = fields.Date(load_default=None, allow_none=True)
    goals = fields.List(
        fields.Nested(GoalStatusLoadSchema),
        load_default=list,
        metadata={"description": "How far each goal of the newest plan version was reached"},
    )


class RecommendationSchema(Schema):
    """One recommendation for further actions, addressed to one agency."""

    class Meta:
        unknown = RAISE

    number = fields.Integer(dump_only=True)
    agency = fields.String(allow_none=True, validate=validate.Length(max=20))
    text = fields.String(validate=TEXT)


class ReturnReferralUpdateSchema(Schema):
    """The sections the coordinator writes, and the recommendations (replacing the old ones)."""

    class Meta:
        unknown = RAISE

    version = fields.Integer(load_default=None, allow_none=True)
    purpose = fields.String(validate=TEXT)
    actions_taken = fields.String(validate=TEXT)
    results = fields.String(validate=TEXT)
    health_care_needs = fields.String(validate=TEXT)
    health_how_met = fields.String(validate=TEXT)
    participant_comments = fields.String(validate=TEXT)
    recommendations = fields.List(fields.Nested(RecommendationSchema))


class OutcomeSchema(Schema):
    """What became of one recommendation."""

    class Meta:
        unknown = RAISE

    number = fields.Integer(required=True)
    status = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    note = fields.String(load_default=None, allow_none=True, validate=TEXT)


class OutcomesLoadSchema(Schema):
    """The referrer's follow-up of a packet's recommendations."""

    class Meta:
        unknown = RAISE

    outcomes = fields.List(fields.Nested(OutcomeSchema), required=True)


class FollowUpLoadSchema(Schema):
    """Means of support, occupation and work at a follow-up."""

    class Meta:
        unknown = RAISE

    support = fields.List(fields.String(validate=CODE), load_default=list)
    occupation = fields.String(load_default=None, allow_none=True, validate=CODE)
    work = fields.String(load_default=None, allow_none=True, validate=CODE)


class ReminderDumpSchema(Schema):
    """A reminder owed while a packet is not acknowledged."""

    level = fields.Integer()
    working_days = fields.Integer()
    due_at = fields.AwareDateTime()
    to = fields.String()
    status = fields.String()


class OutcomeDumpSchema(Schema):
    """What the referrer recorded for one recommendation."""

    status = fields.String()
    note = fields.String(allow_none=True)
    recorded_at = fields.AwareDateTime()


class PacketRecommendationSchema(Schema):
    """A delivered recommendation and what became of it."""

    number = fields.Integer()
    agency = fields.String(allow_none=True)
    text = fields.String()
    outcome = fields.Nested(OutcomeDumpSchema, allow_none=True)


class PacketDumpSchema(Schema):
    """A packet as the API returns it: the document's content and its acknowledgement."""

    id = fields.Integer()
    kind = fields.String()
    referral_id = fields.Integer()
    case_id = fields.Integer(allow_none=True)
    return_referral_id = fields.Integer(allow_none=True)
    decision_id = fields.Integer(allow_none=True)
    person = fields.String()
    protected_identity = fields.Boolean()
    recipient_id = fields.Integer()
    unit_id = fields.Integer()
    delivered_at = fields.AwareDateTime()
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    acknowledged_by_id = fields.Integer(allow_none=True)
    content_hash = fields.String()
    content = fields.Raw()
    withheld_sections = fields.List(fields.String())
    recommendations = fields.List(fields.Nested(PacketRecommendationSchema))
    reminders = fields.List(fields.Nested(ReminderDumpSchema))
    pdf = fields.String()


class ReturnReferralDumpSchema(Schema):
    """A return referral as the API returns it (the same content as its PDF)."""

    id = fields.Integer()
    case_id = fields.Integer()
    referral_id = fields.Integer()
    state = fields.String()
    version = fields.Integer()
    person = fields.String()
    protected_identity = fields.Boolean()
    sections = fields.Raw()
    withheld_sections = fields.List(fields.String())
    recommendations = fields.List(fields.Nested(PacketRecommendationSchema))
    facts = fields.Raw()
    signed_by_id = fields.Integer(allow_none=True)
    signed_at = fields.AwareDateTime(allow_none=True)
    content_hash = fields.String(allow_none=True)
    packet = fields.Nested(PacketDumpSchema, allow_none=True)
    pdf = fields.String()


class FollowUpDumpSchema(Schema):
    """A follow-up after exit."""

    id = fields.Integer()
    case_id = fields.Integer()
    occasion = fields.String()
    due_on = fields.Date()
    assignee_id = fields.Integer(allow_none=True)
    registered_at = fields.AwareDateTime(allow_none=True)
    support = fields.List(fields.String())
    occupation = fields.String(allow_none=True)
    work = fields.String(allow_none=True)


class ExitDumpSchema(Schema):
    """The exit as recorded, with the case's state, the draft and the follow-ups."""

    case_id = fields.Integer()
    case_state = fields.String()
    exit_reason = fields.String()
    support_at_exit = fields.List(fields.String())
    occupation_at_exit = fields.String()
    work_at_exit = fields.String()
    exited_on = fields.Date()
    return_referral_id = fields.Integer()
    follow_ups = fields.List(fields.Nested(FollowUpDumpSchema))

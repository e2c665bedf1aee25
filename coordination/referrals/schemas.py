"""Marshmallow schemas for referrals: what a draft may hold, and what the API returns."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate

from workflows.organisation import MEMBER_AGENCIES

AGENCY_CODES = [a.value for a in MEMBER_AGENCIES]
TEXT = validate.Length(max=20000)


class ReferralDraftSchema(Schema):
    """The fields a referrer may write; types are checked here, rules at submission."""

    class Meta:
        unknown = RAISE

    programme_id = fields.Integer()
    referring_unit_id = fields.Integer()
    identity_number = fields.String(validate=validate.Length(max=20))
    first_name = fields.String(validate=validate.Length(max=100))
    last_name = fields.String(validate=validate.Length(max=100))
    gender = fields.String(allow_none=True, validate=validate.Length(max=10))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    email = fields.String(allow_none=True, validate=validate.Length(max=254))
    address = fields.String(allow_none=True, validate=validate.Length(max=300))
    preferred_channel = fields.String(allow_none=True, validate=validate.Length(max=10))
    interpreter_needed = fields.Boolean()
    interpreter_language = fields.String(allow_none=True, validate=validate.Length(max=60))
    protected_identity = fields.Boolean()
    home_municipality = fields.String(allow_none=True, validate=validate.Length(max=100))
    reason = fields.String(allow_none=True, validate=validate.Length(max=80))
    agencies_needed = fields.List(fields.String(validate=validate.OneOf(AGENCY_CODES)))
    support_current = fields.List(fields.String(validate=validate.Length(max=80)))
    occupation = fields.String(allow_none=True, validate=validate.Length(max=80))
    education = fields.String(allow_none=True, validate=validate.Length(max=80))
    time_on_support = fields.String(allow_none=True, validate=validate.Length(max=80))
    children_in_household = fields.Boolean(allow_none=True)
    background = fields.String(validate=TEXT)
    question_to_conference = fields.String(validate=TEXT)
    consent_given_on = fields.Date(allow_none=True)
    consent_form = fields.String(allow_none=True, validate=validate.OneOf(["written", "oral"]))
    consent_witness = fields.String(allow_none=True, validate=validate.Length(max=200))
    consent_valid_until = fields.Date(allow_none=True)
    consent_agencies = fields.List(fields.String(validate=validate.OneOf(AGENCY_CODES)))
    consent_info_kinds = fields.List(
        fields.String(
            validate=validate.OneOf(["health", "social_services", "employment", "benefits"])
        )
    )


class ReferralCreateSchema(ReferralDraftSchema):
    """The API's create body: a draft, submitted at once when `submit` is true."""

    programme_id = fields.Integer(required=True)
    submit = fields.Boolean(load_default=False)


class CompletionRequestSchema(Schema):
    """Ask the referrer for more information."""

    class Meta:
        unknown = RAISE

    note = fields.String(
        required=True,
        validate=validate.Length(min=1, max=5000),
        metadata={"form_error": _l("Skriv vad som behöver kompletteras.")},
    )
    due_on = fields.Date(allow_none=True, metadata={"form_error": _l("Ange ett giltigt datum.")})


class WithdrawSchema(Schema):
    """Withdraw a referral before a decision."""

    class Meta:
        unknown = RAISE

    reason = fields.String(load_default="", validate=validate.Length(max=5000))


class HistorySchema(Schema):
    """One transition."""

    from_state = fields.String()
    to_state = fields.String()
    action = fields.String()
    at = fields.AwareDateTime()
    note = fields.String(allow_none=True)


class ReferralDumpSchema(ReferralDraftSchema):
    """A referral as the API returns it (personal fields masked where the caller may not see)."""

    class Meta:
        unknown = RAISE

    id = fields.Integer()
    state = fields.String()
    person_id = fields.Integer(allow_none=True)
    referrer_id = fields.Integer()
    submitted_at = fields.AwareDateTime(allow_none=True)
    referral_date = fields.Date(allow_none=True)
    completion_note = fields.String(allow_none=True)
    completion_due_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    history = fields.List(fields.Nested(HistorySchema))

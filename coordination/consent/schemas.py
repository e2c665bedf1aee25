"""Marshmallow schemas for consent."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from coordination.consent.models import FORMS, INFO_KINDS
from workflows.organisation import MEMBER_AGENCIES

AGENCIES = [a.value for a in MEMBER_AGENCIES]


class ConsentLoadSchema(Schema):
    """A new consent."""

    class Meta:
        unknown = RAISE

    agencies = fields.List(fields.String(validate=validate.OneOf(AGENCIES)))
    info_kinds = fields.List(fields.String(validate=validate.OneOf(INFO_KINDS)))
    given_on = fields.Date(allow_none=True)
    form = fields.String(allow_none=True, validate=validate.OneOf(FORMS))
    witness = fields.String(allow_none=True, validate=validate.Length(max=200))
    valid_until = fields.Date(allow_none=True)


class ConsentWithdrawSchema(Schema):
    """Withdrawing a consent."""

    class Meta:
        unknown = RAISE

    note = fields.String(load_default="", validate=validate.Length(max=5000))


class ConsentDumpSchema(Schema):
    """A consent as the API returns it."""

    id = fields.Integer()
    person_id = fields.Integer()
    referral_id = fields.Integer(allow_none=True)
    agencies = fields.List(fields.String())
    info_kinds = fields.List(fields.String())
    given_on = fields.Date()
    form = fields.String()
    witness = fields.String(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    withdrawn_at = fields.AwareDateTime(allow_none=True)
    recorded_at = fields.AwareDateTime()

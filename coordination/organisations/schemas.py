"""Marshmallow schemas of the organisation: the förbund's member organisations."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from coordination.organisations.members import CODE_PATTERN, KINDS, NAME_MAX


class MemberOrganisationLoadSchema(Schema):
    """A member organisation to register: code, name and agency kind (all required)."""

    class Meta:
        unknown = RAISE

    code = fields.String(
        required=True,
        validate=validate.Regexp(
            CODE_PATTERN, error="Lower-case letters a-z, digits and underscores, at most 40."
        ),
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))


class MemberOrganisationSchema(Schema):
    """A registered member organisation."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()

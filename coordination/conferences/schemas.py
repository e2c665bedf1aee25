"""Conference and decision schemas: separate load and dump, unknown fields rejected."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate

from workflows.conference import Outcome
from workflows.organisation import MEMBER_AGENCIES

AGENCY_CODES = [a.value for a in MEMBER_AGENCIES]


class ConferenceCreateSchema(Schema):
    """Schedule a conference by hand."""

    class Meta:
        unknown = RAISE

    programme_id = fields.Integer(required=True)
    starts_at = fields.AwareDateTime(required=True)
    place = fields.String(allow_none=True, validate=validate.Length(max=300))
    video_link = fields.String(allow_none=True, validate=validate.Length(max=500))
    member_ids = fields.List(fields.Integer(), load_default=list)
    chair_id = fields.Integer(allow_none=True)


class ConferenceFormSchema(Schema):
    """The scheduling page's form: a local day and time where the API takes `starts_at`, and one
    member per agency (`member_af`, …) where it takes `member_ids`. What cannot be read is left
    out, so the operation says what is missing in the form's own words (new and edit)."""

    class Meta:
        unknown = RAISE

    programme_id = fields.Integer(allow_none=True, load_default=None)
    held_on = fields.Date(allow_none=True, load_default=None)
    at = fields.Time(format="%H:%M", allow_none=True, load_default=None)
    place = fields.String(allow_none=True, load_default=None)
    video_link = fields.String(allow_none=True, load_default=None)
    chair_id = fields.Integer(allow_none=True, load_default=None)
    member_af = fields.Integer(allow_none=True, load_default=None)
    member_fk = fields.Integer(allow_none=True, load_default=None)
    member_kommun = fields.Integer(allow_none=True, load_default=None)
    member_region = fields.Integer(allow_none=True, load_default=None)


class AgendaAddSchema(Schema):
    """Put a referral on the agenda."""

    class Meta:
        unknown = RAISE

    referral_id = fields.Integer(required=True)


class AttendanceSchema(Schema):
    """Who is present at the conference."""

    class Meta:
        unknown = RAISE

    present_user_ids = fields.List(fields.Integer(), required=True)


class PositionSchema(Schema):
    """One represented agency's position."""

    class Meta:
        unknown = RAISE

    agency = fields.String(required=True, validate=validate.OneOf(AGENCY_CODES))
    position = fields.String(required=True, validate=validate.Length(max=5000))


class MemberPositionFormSchema(Schema):
    """A member's own agency's position before the meeting: a quick support or a text."""

    class Meta:
        unknown = RAISE

    action = fields.String(load_default="", validate=validate.Length(max=20))
    stance = fields.String(load_default="", validate=validate.Length(max=5000))


class EndReasonSchema(Schema):
    """Why the meeting is closed or cancelled (asked on the confirmation page)."""

    class Meta:
        unknown = RAISE

    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class DecisionLoadSchema(Schema):
    """The conference's decision on a referral (../shared/API.md)."""

    class Meta:
        unknown = RAISE

    conference_id = fields.Integer(required=True)
    outcome = fields.String(
        required=True,
        validate=validate.OneOf([o.value for o in Outcome]),
        metadata={
            "form_error": _l("Välj beslut: skrivs in i insatsen eller gemensam rekommendation.")
        },
    )
    recommendation = fields.String(required=True, validate=validate.Length(max=10000))
    positions = fields.List(fields.Nested(PositionSchema), load_default=list)
    coordinator_id = fields.Integer(
        allow_none=True,
        load_default=None,
        metadata={"form_error": _l("Välj koordinator för deltagandet.")},
    )
    complexity_weight = fields.Integer(
        allow_none=True,
        load_default=None,
        metadata={"form_error": _l("Välj komplexitet 1, 2 eller 3.")},
    )
    over_capacity_reason = fields.String(load_default="", validate=validate.Length(max=2000))


class PositionDumpSchema(Schema):
    """One agency's position as recorded."""

    agency = fields.String()
    position = fields.String(attribute="stance")


class DecisionDumpSchema(Schema):
    """A recorded decision, with the case it opened."""

    id = fields.Integer()
    referral_id = fields.Integer()
    conference_id = fields.Integer()
    outcome = fields.String()
    recommendation = fields.String()
    agencies = fields.List(fields.String())
    positions = fields.List(fields.Nested(PositionDumpSchema))
    coordinator_id = fields.Integer(allow_none=True)
    complexity_weight = fields.Integer(allow_none=True)
    decided_by_id = fields.Integer()
    decided_at = fields.AwareDateTime()
    case_id = fields.Integer(allow_none=True)
    case_state = fields.String(allow_none=True)


class MemberDumpSchema(Schema):
    """A conference member and their attendance."""

    user_id = fields.Integer()
    name = fields.String(attribute="user.name")
    agency = fields.String()
    role = fields.String()
    present = fields.Boolean(allow_none=True)


class AgendaItemDumpSchema(Schema):
    """One referral on the agenda."""

    number = fields.Integer()
    referral_id = fields.Integer()
    status = fields.String()
    origin = fields.String()
    added_at = fields.AwareDateTime()
    outcome = fields.String(allow_none=True)


class ConferenceDumpSchema(Schema):
    """A conference with its members and (for those who may see it) its agenda."""

    id = fields.Integer()
    programme_id = fields.Integer()
    state = fields.String()
    origin = fields.String()
    held_on = fields.Date()
    starts_at = fields.AwareDateTime()
    place = fields.String(allow_none=True)
    video_link = fields.String(allow_none=True)
    agenda_cutoff_at = fields.AwareDateTime()
    prepare_due_at = fields.AwareDateTime()
    published_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    members = fields.List(fields.Nested(MemberDumpSchema))
    agenda = fields.List(fields.Nested(AgendaItemDumpSchema))

"""Meeting, attendance, group and escalation schemas: separate load and dump, unknown rejected."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from coordination.meetings.models import DECISIONS, GROUP_PRESETS
from workflows.meeting import CASE_KINDS, AttendanceStatus

KIND_CODES = [k.value for k in CASE_KINDS]
STATUS_CODES = [s.value for s in AttendanceStatus]


class MeetingCreateSchema(Schema):
    """Book a meeting of a case (../shared/API.md)."""

    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=validate.OneOf(KIND_CODES))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    location = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=300))
    attendee_ids = fields.List(fields.Integer(), load_default=list)


class MeetingFormSchema(Schema):
    """The booking page's form: a local day and wall-clock times where the API takes UTC instants
    (`starts_at`, `ends_at`); kind, place and invitees as in MeetingCreateSchema (the operation
    checks the kind and the place for both)."""

    class Meta:
        unknown = RAISE

    kind = fields.String(allow_none=True, load_default=None)
    day = fields.Date(required=True, metadata={"form_error": _l("Ange datum som ÅÅÅÅ-MM-DD.")})
    start = fields.Time(
        format="%H:%M", required=True, metadata={"form_error": _l("Ange tid som TT:MM.")}
    )
    end = fields.Time(
        format="%H:%M", required=True, metadata={"form_error": _l("Ange tid som TT:MM.")}
    )
    location = fields.String(allow_none=True, load_default=None)
    attendee_ids = fields.List(fields.Integer(), load_default=list)

    @pre_load
    def _trim_day_and_times(self, data: dict, **_kwargs) -> dict:
        """A space typed around a date or time is no error."""
        trimmed = ("day", "start", "end")
        return {k: v.strip() if k in trimmed and isinstance(v, str) else v for k, v in data.items()}


class MeetingChangeSchema(Schema):
    """Change a meeting; a field left out keeps its value."""

    class Meta:
        unknown = RAISE

    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    location = fields.String(allow_none=True, validate=validate.Length(max=300))
    attendee_ids = fields.List(fields.Integer())


class CancelSchema(Schema):
    """Cancel a meeting."""

    class Meta:
        unknown = RAISE

    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class AttendanceEntrySchema(Schema):
    """One participant's attendance at a group session."""

    class Meta:
        unknown = RAISE

    case_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUS_CODES))


class AttendanceLoadSchema(Schema):
    """`{"status"}` for a case's meeting (case_id for one participant of a group session), or
    `{"attendance": [{"case_id", "status"}]}` for several participants of a group session at once.
    """

    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf(STATUS_CODES))
    case_id = fields.Integer()
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    attendance = fields.List(fields.Nested(AttendanceEntrySchema))

    @validates_schema
    def _one_form(self, data, **_kwargs):
        if ("status" in data) == ("attendance" in data):
            raise ValidationError("Give either status or attendance.", "status")


class EscalationDecisionSchema(Schema):
    """The decision on an open escalation (../shared/API.md)."""

    class Meta:
        unknown = RAISE

    decision = fields.String(
        required=True,
        validate=validate.OneOf(list(DECISIONS)),
        metadata={"form_error": _l("Välj fortsätta eller avsluta.")},
    )
    comment = fields.String(load_default="", allow_none=True, validate=validate.Length(max=5000))


class GroupCreateSchema(Schema):
    """A group activity; the preset fills capacity, weekdays, time, length and weeks left out."""

    class Meta:
        unknown = RAISE

    programme_id = fields.Integer(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    preset = fields.String(load_default="halsogrupp", validate=validate.OneOf(GROUP_PRESETS))
    capacity = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100))
    weekdays = fields.List(fields.Integer(validate=validate.Range(min=0, max=4)))
    start_time = fields.Time(allow_none=True)
    minutes = fields.Integer(allow_none=True)
    first_date = fields.Date(required=True)
    weeks = fields.Integer(allow_none=True)
    location = fields.String(allow_none=True, validate=validate.Length(max=300))
    leader_id = fields.Integer(required=True)


class GroupFormSchema(Schema):
    """The page's form for a new group activity: GroupCreateSchema's fields with the time as
    TT:MM, each one optional, so the operation says what is missing in the form's own words."""

    class Meta:
        unknown = RAISE

    programme_id = fields.Integer(allow_none=True, load_default=None)
    name = fields.String(load_default="")
    preset = fields.String(allow_none=True, load_default=None)
    capacity = fields.Integer(allow_none=True, load_default=None)
    weekdays = fields.List(fields.Integer(), load_default=list)
    start_time = fields.Time(format="%H:%M", allow_none=True, load_default=None)
    minutes = fields.Integer(allow_none=True, load_default=None)
    first_date = fields.Date(allow_none=True, load_default=None)
    weeks = fields.Integer(allow_none=True, load_default=None)
    location = fields.String(allow_none=True, load_default=None)
    leader_id = fields.Integer(allow_none=True, load_default=None)


class EnrolSchema(Schema):
    """Enrol a case in a group activity."""

    class Meta:
        unknown = RAISE

    case_id = fields.Integer(required=True)


class AttendeeDumpSchema(Schema):
    """An invitee and whether they have confirmed."""

    user_id = fields.Integer()
    name = fields.String(attribute="user.name")
    agency_kind = fields.String(allow_none=True)
    confirmed_at = fields.AwareDateTime(allow_none=True)


class AttendanceDumpSchema(Schema):
    """A participant's registered attendance."""

    case_id = fields.Integer()
    status = fields.String()
    recorded_at = fields.AwareDateTime()
    version = fields.Integer()


class MeetingDumpSchema(Schema):
    """A meeting as the API returns it (UTC times; ids, no personal data)."""

    id = fields.Integer()
    uid = fields.String()
    case_id = fields.Integer(allow_none=True)
    group_id = fields.Integer(allow_none=True)
    kind = fields.String()
    status = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    location = fields.String(allow_none=True)
    organiser_id = fields.Integer(allow_none=True)
    sequence = fields.Integer()
    cancelled_at = fields.AwareDateTime(allow_none=True)
    attendees = fields.List(fields.Nested(AttendeeDumpSchema))
    attendance = fields.List(fields.Nested(AttendanceDumpSchema))
    ics_url = fields.Function(lambda m: f"/api/v1/meetings/{m.id}.ics")


class TaskDumpSchema(Schema):
    """A task owed to a user."""

    id = fields.Integer()
    case_id = fields.Integer()
    meeting_id = fields.Integer(allow_none=True)
    escalation_id = fields.Integer(allow_none=True)
    assignee_id = fields.Integer()
    kind = fields.String()
    due_at = fields.AwareDateTime()
    created_at = fields.AwareDateTime()
    done_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)


class LadderStepDumpSchema(Schema):
    """One entry of the missed-meeting history."""

    kind = fields.String()
    at = fields.AwareDateTime()
    missed_count = fields.Integer()
    meeting_id = fields.Integer(allow_none=True)
    escalation_id = fields.Integer(allow_none=True)
    task_id = fields.Integer(allow_none=True)
    by_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)


class EscalationDumpSchema(Schema):
    """An escalation and what became of it."""

    id = fields.Integer()
    case_id = fields.Integer()
    status = fields.String()
    opened_at = fields.AwareDateTime()
    missed_count = fields.Integer()
    decision_due_at = fields.AwareDateTime()
    referrer_id = fields.Integer(allow_none=True)
    decision = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    exit_reason = fields.String(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    decided_by_id = fields.Integer(allow_none=True)
    withdrawn_at = fields.AwareDateTime(allow_none=True)
    withdraw_reason = fields.String(allow_none=True)


class CaseLadderDumpSchema(Schema):
    """A case's missed count, its escalations (newest first) and the history of the ladder."""

    case_id = fields.Integer()
    case_state = fields.String()
    missed_count = fields.Integer()
    missed_threshold = fields.Integer()
    counting_mode = fields.String()
    escalated = fields.Boolean()
    escalations = fields.List(fields.Nested(EscalationDumpSchema))
    history = fields.List(fields.Nested(LadderStepDumpSchema))
    open_tasks = fields.List(fields.Nested(TaskDumpSchema))


class GroupDumpSchema(Schema):
    """A group activity with its sessions and current participants."""

    id = fields.Integer()
    programme_id = fields.Integer()
    name = fields.String()
    preset = fields.String()
    capacity = fields.Integer()
    weekdays = fields.List(fields.Integer())
    start_time = fields.Time()
    minutes = fields.Integer()
    first_date = fields.Date()
    weeks = fields.Integer()
    location = fields.String(allow_none=True)
    leader_id = fields.Integer()
    case_ids = fields.Function(lambda g: [e.case_id for e in g.current_enrolments])
    sessions = fields.List(
        fields.Nested(MeetingDumpSchema(only=("id", "starts_at", "ends_at", "status")))
    )

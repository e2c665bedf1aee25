"""Marshmallow schemas: the report as the API returns it, imports, and self-ratings."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from workflows.statistics import PROGRESSION_QUESTIONS, RATING_MAX, RATING_MIN

_COUNT = "A count; null when suppressed (the column is then listed in `suppressed`)"
_SUPPRESSED = (
    "The count columns (kvinna, man, annat, total) hidden as small cells (1-4) when the report "
    "was asked for with suppress=1; their values are null. Empty when nothing is hidden."
)


def _count() -> fields.Integer:
    return fields.Integer(allow_none=True, metadata={"description": _COUNT})


def _suppressed() -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(("kvinna", "man", "annat", "total"))),
        metadata={"description": _SUPPRESSED},
    )


class CountsSchema(Schema):
    """A count per gender and in total: a number, or null when suppressed (see `suppressed`)."""

    kvinna = _count()
    man = _count()
    annat = _count()
    total = _count()
    suppressed = _suppressed()


class PercentSchema(Schema):
    """Percentages with one decimal (null when hidden or undefined)."""

    kvinna = fields.Float(allow_none=True)
    man = fields.Float(allow_none=True)
    annat = fields.Float(allow_none=True)
    total = fields.Float(allow_none=True)


class ReportRowSchema(Schema):
    """One row of a report."""

    code = fields.String(allow_none=True)
    label = fields.String()
    kvinna = _count()
    man = _count()
    annat = _count()
    total = _count()
    suppressed = _suppressed()
    percent = fields.Nested(PercentSchema)
    denominator = fields.Nested(
        CountsSchema,
        metadata={"description": "The row's own denominator, when it is not the report's"},
    )
    target_percent = fields.Float(
        metadata={"description": "Report `targets`: the programme's target, percent"}
    )
    met = fields.Boolean(
        metadata={"description": "Report `targets`: the outcome (total) reached the target"}
    )
    programme_id = fields.Integer(metadata={"description": "Report `targets`: the programme"})
    variable = fields.String(
        metadata={"description": "Report `targets`: the SUS variable (or joint_recommendation)"}
    )
    occasion = fields.String(
        allow_none=True, metadata={"description": "Report `targets`: the occasion measured"}
    )
    codes = fields.List(
        fields.String(), metadata={"description": "Report `targets`: the codes that count"}
    )
    # By referring agency: the kind, and at level=organisation the member organisation's code.
    agency = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    # Gender balance: the month (YYYY-MM; null over the whole period), the share of women among
    # women and men (one decimal) and whether the unrounded share lies outside 40-60 %.
    month = fields.String(allow_none=True)
    share_women = fields.Float(allow_none=True)
    flagged = fields.Boolean()


class ReportFiltersSchema(Schema):
    """The filters the report was built with."""

    programme_id = fields.Integer(allow_none=True)
    date_from = fields.Date(allow_none=True)
    date_to = fields.Date(allow_none=True)
    municipality = fields.String(allow_none=True)
    population = fields.String(allow_none=True)
    occasion = fields.String()
    suppress = fields.Boolean()
    band_start = fields.Integer()
    band_end = fields.Integer()
    band_width = fields.Integer()
    level = fields.String()  # kind or organisation
    per = fields.String()  # month or period


class ReportSchema(Schema):
    """A report: GET /api/v1/statistics/{report}."""

    report = fields.String()
    title = fields.String()
    available = fields.Boolean()
    filters = fields.Nested(ReportFiltersSchema)
    unit = fields.String()
    denominator = fields.Nested(CountsSchema)
    denominator_text = fields.String()
    note = fields.String()
    rows = fields.List(fields.Nested(ReportRowSchema))
    totals = fields.Nested(
        CountsSchema,
        allow_none=True,
        metadata={
            "description": "The totals row: the sum of the rows, or what `totals_label` says "
            "(e.g. the number of referrals in the funnel); null when the rows do not add up"
        },
    )
    totals_label = fields.String(metadata={"description": "What the totals row counts"})
    summary = fields.Dict()


class ReportListItemSchema(Schema):
    """A report the caller can ask for."""

    report = fields.String()
    title = fields.String()
    group = fields.String()
    uses_occasion = fields.Boolean()


class RowErrorSchema(Schema):
    """One bad row of an import file."""

    line = fields.Integer()
    column = fields.String()
    reason = fields.String()


class ImportSummarySchema(Schema):
    """An accepted import."""

    batch_id = fields.Integer()
    participants = fields.Integer()
    registrations = fields.Integer()
    support_registrations = fields.Integer()


RatingLoadSchema = Schema.from_dict(
    {
        "rated_on": fields.Date(required=True),
        **{
            question: fields.Integer(required=True, validate=validate.Range(RATING_MIN, RATING_MAX))
            for question in PROGRESSION_QUESTIONS
        },
    },
    name="RatingLoadSchema",
)
"""A self-rating: the date and the ten scores, 1-10 each (unknown fields are refused)."""


CODE = validate.Length(max=80)


class IntakeLoadSchema(Schema):
    """The intake registration the coordinator completes: codes from the lists (offered ones)."""

    class Meta:
        unknown = RAISE

    work = fields.String(load_default=None, allow_none=True, validate=CODE)
    occupation = fields.String(load_default=None, allow_none=True, validate=CODE)
    education = fields.String(load_default=None, allow_none=True, validate=CODE)
    time_on_support = fields.String(load_default=None, allow_none=True, validate=CODE)
    support = fields.List(fields.String(validate=CODE), load_default=list)


class IntakeDumpSchema(Schema):
    """A case's SUS record at intake: who (as SUS counts them) and the intake registration."""

    case_id = fields.Integer()
    participant_id = fields.Integer()
    enrolled_on = fields.Date()
    registered_on = fields.Date(allow_none=True)
    gender = fields.String(allow_none=True)
    birth_year = fields.Integer(allow_none=True)
    home_municipality = fields.String(allow_none=True)
    referring_agency = fields.String(allow_none=True)
    work = fields.String(allow_none=True)
    occupation = fields.String(allow_none=True)
    education = fields.String(allow_none=True)
    time_on_support = fields.String(allow_none=True)
    support = fields.List(fields.String())
    complete = fields.Boolean()
    missing = fields.List(fields.String())


class RatingApiLoadSchema(Schema):
    """A self-rating as the API takes it: the day and the ten scores in question order."""

    rated_on = fields.Date(required=True)
    scores = fields.List(
        fields.Integer(strict=True, validate=validate.Range(RATING_MIN, RATING_MAX)),
        required=True,
        validate=validate.Length(equal=len(PROGRESSION_QUESTIONS)),
    )


class RatingDumpSchema(Schema):
    """A recorded self-rating: the ten scores in question order and their total."""

    id = fields.Integer()
    rated_on = fields.Date()
    scores = fields.List(fields.Integer())
    total = fields.Integer()
    recorded_at = fields.AwareDateTime()


class RatingImportSummarySchema(Schema):
    """An accepted import of self-ratings."""

    ratings = fields.Integer()
    participants = fields.Integer()

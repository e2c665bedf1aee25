"""API schemas: price lists and the cohort calculation (what the API writes)."""

from __future__ import annotations

from marshmallow import Schema, fields


class PriceEntrySchema(Schema):
    """One price: a code of a SUS variable, an actor, cost or revenue per year in kronor."""

    variable = fields.String(required=True, metadata={"description": "support, occupation, work"})
    code = fields.String(required=True)
    actor = fields.String(
        required=True, metadata={"description": "individual, kommun, region, af, fk, state"}
    )
    kind = fields.String(required=True, metadata={"description": "cost or revenue"})
    amount = fields.Integer(required=True, metadata={"description": "whole kronor per year"})
    source = fields.String(allow_none=True)


class PriceListSchema(Schema):
    """A price-list version; `used` is true once a saved calculation used it (then it is fixed)."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    year = fields.Integer(required=True)
    version = fields.Integer(required=True)
    note = fields.String(allow_none=True)
    based_on_id = fields.Integer(allow_none=True)
    used = fields.Boolean(required=True)
    created_at = fields.AwareDateTime(required=True)


class PriceListDetailSchema(PriceListSchema):
    """A price-list version with its entries."""

    entries = fields.List(fields.Nested(PriceEntrySchema), required=True)


class PriceListRefSchema(Schema):
    """Which price-list version a calculation used."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    year = fields.Integer(required=True)
    version = fields.Integer(required=True)


class ActorFiguresSchema(Schema):
    """The key figures of one actor, of the public actors together ('public') or of society
    ('society'): per participant, and for the cohort (cohort_*), in whole kronor."""

    actor = fields.String(required=True)
    label = fields.String(required=True)
    benefit = fields.Integer(required=True, metadata={"description": "B per participant and year"})
    cost = fields.Integer(required=True, metadata={"description": "C per participant"})
    net_1_year = fields.Integer(required=True)
    net_horizon = fields.Integer(required=True)
    payback_months = fields.Integer(
        allow_none=True,
        metadata={"description": "ceil(12·C/B); null: no payback (B ≤ 0 or beyond the horizon)"},
    )
    cohort_benefit = fields.Integer(required=True)
    cohort_cost = fields.Integer(required=True)
    cohort_net_1_year = fields.Integer(required=True)
    cohort_net_horizon = fields.Integer(required=True)
    before = fields.Integer(
        required=True, metadata={"description": "net annual position before (revenue − cost)"}
    )
    after = fields.Integer(required=True)


class CalculationSchema(Schema):
    """The §13 calculation of a cohort (a programme and a period of exit)."""

    programme_id = fields.Integer(required=True)
    programme = fields.String(required=True)
    exited_from = fields.String(required=True)
    exited_to = fields.String(required=True)
    price_list = fields.Nested(PriceListRefSchema, required=True)
    horizon_years = fields.Integer(required=True)
    participants = fields.Integer(required=True, metadata={"description": "what it rests on"})
    used_exit_data = fields.Integer(
        required=True, metadata={"description": "participants without a 12-month follow-up"}
    )
    left_out = fields.Integer(
        required=True, metadata={"description": "exited but without intake or exit data"}
    )
    cost_per_participant = fields.Integer(required=True)
    cohort_cost = fields.Integer(required=True)
    income_change = fields.Integer(
        required=True, metadata={"description": "change in the individual's disposable income"}
    )
    rows = fields.List(fields.Nested(ActorFiguresSchema), required=True)

"""GET /api/v1/organisations and /api/v1/programmes."""

from __future__ import annotations

from flask import jsonify
from marshmallow import Schema, fields
from sqlalchemy import func, select

from coordination.api import bp
from coordination.api.registry import endpoint, page_args
from coordination.extensions import db
from coordination.organisations.models import OrganisationUnit
from coordination.programmes.models import Programme
from coordination.programmes.schemas import ProgrammeSchema


class OrganisationUnitSchema(Schema):
    """An organisation unit and its agency kind."""

    id = fields.Integer()
    name = fields.String()
    agency_kind = fields.String()
    municipality = fields.String(allow_none=True)


def page_of(query, *order_by, options: tuple = ()) -> tuple[list, int]:
    """Return the rows of the requested page of a select in the given order (loaded with
    `options`) and the count."""
    page, per_page = page_args()
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.options(*options).order_by(*order_by).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(rows), total or 0


def paginated(query, schema, order_by):
    """Return {"items", "total"} for one page of a select."""
    rows, total = page_of(query, order_by)
    return jsonify({"items": schema(many=True).dump(rows), "total": total})


@endpoint(
    bp,
    "GET",
    "/organisations",
    "Organisation units and their agency kind",
    response=OrganisationUnitSchema,
    many=True,
)
def organisations():
    """List organisation units."""
    return paginated(select(OrganisationUnit), OrganisationUnitSchema, OrganisationUnit.name)


@endpoint(
    bp,
    "GET",
    "/programmes",
    "Programmes with eligibility and capacity",
    response=ProgrammeSchema,
    many=True,
)
def programmes():
    """List programmes."""
    return paginated(select(Programme), ProgrammeSchema, Programme.name)

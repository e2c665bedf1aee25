"""Socio-economic endpoints (DOMAIN.md §13): the price lists and a cohort's calculation."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from coordination.api import bp
from coordination.api.catalogue import page_of
from coordination.api.registry import endpoint
from coordination.audit.operations import log_access
from coordination.core.permissions import get_visible
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.socioeconomics import operations as ops
from coordination.socioeconomics import permissions as perms
from coordination.socioeconomics import queries
from coordination.socioeconomics.models import PriceList
from coordination.socioeconomics.schemas import (
    CalculationSchema,
    PriceListDetailSchema,
    PriceListSchema,
)


def _dump(price_list: PriceList, schema) -> dict:
    data = schema().dump(price_list)
    data["used"] = ops.is_used(price_list)
    return data


@endpoint(
    bp,
    "GET",
    "/price-lists",
    "The socio-economic price lists (DOMAIN.md §13), every version, newest year first",
    response=PriceListSchema,
    many=True,
    roles=perms.PRICE_LIST_ROLES,
)
def list_price_lists():
    """List the price-list versions."""
    rows, total = page_of(
        select(PriceList), PriceList.year.desc(), PriceList.name, PriceList.version.desc()
    )
    return jsonify({"items": [_dump(p, PriceListSchema) for p in rows], "total": total})


@endpoint(
    bp,
    "GET",
    "/price-lists/<int:price_list_id>",
    "One price-list version with its prices (per SUS code and actor, cost or revenue per year "
    "in whole kronor, with the source)",
    response=PriceListDetailSchema,
    roles=perms.PRICE_LIST_ROLES,
)
def get_price_list(price_list_id: int):
    """Read one price-list version."""
    found = get_visible(PriceList, price_list_id, lambda user, row: True)
    log_access("price_list", found.id, action="read")
    data = _dump(found, PriceListDetailSchema)
    db.session.commit()
    return jsonify(data)


@endpoint(
    bp,
    "GET",
    "/socio-economics/<int:programme_id>",
    "The §13 calculation for a cohort (?exited_from=&exited_to=&price_list_id=&horizon_years=, "
    "default 5): per actor, for the public actors together ('public') and for society, B, C, "
    "net at 1 year and at the horizon, payback months (null = no payback), per participant and "
    "for the cohort in whole kronor; participants counted and how many used exit data",
    response=CalculationSchema,
    roles=perms.VIEW_ROLES,
    query={
        "exited_from": {"type": "string", "format": "date"},
        "exited_to": {"type": "string", "format": "date"},
        "price_list_id": {"type": "integer", "minimum": 1},
        "horizon_years": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5},
    },
)
def socio_economics(programme_id: int):
    """Calculate a cohort (422 with every problem at once)."""
    programme = get_visible(Programme, programme_id, lambda user, row: True)
    report = queries.run_cohort(request.args, programme=programme)
    log_access("socio_economics", programme.id, action="read")
    data = CalculationSchema().dump(report.as_json())
    db.session.commit()
    return jsonify(data)

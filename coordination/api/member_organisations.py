"""GET and POST /api/v1/member-organisations: the förbund's member organisations (DOMAIN.md §12)."""

from __future__ import annotations

from flask import jsonify

from coordination.api import bp
from coordination.api.catalogue import page_of
from coordination.api.registry import endpoint, json_body
from coordination.audit.operations import log_access
from coordination.extensions import db
from coordination.organisations import members
from coordination.organisations.models import MemberOrganisation
from coordination.organisations.schemas import (
    MemberOrganisationLoadSchema,
    MemberOrganisationSchema,
)
from workflows.organisation import Role


@endpoint(
    bp,
    "GET",
    "/member-organisations",
    "The förbund's member organisations with their code and agency kind",
    response=MemberOrganisationSchema,
    many=True,
)
def list_member_organisations():
    """List the member organisations by kind, then name."""
    rows, total = page_of(members.ordered(), MemberOrganisation.id)
    return jsonify({"items": MemberOrganisationSchema(many=True).dump(rows), "total": total})


@endpoint(
    bp,
    "POST",
    "/member-organisations",
    "Register a member organisation {code, name, kind}; the code and kind never change after",
    body=MemberOrganisationLoadSchema,
    response=MemberOrganisationSchema,
    roles=(Role.ADMIN,),
    status=201,
)
def create_member_organisation():
    """Register a member organisation (422 with every problem at once)."""
    data = MemberOrganisationLoadSchema().load(json_body())
    organisation = members.save_member_organisation(None, **data)
    log_access("member_organisation", organisation.id, action="create")
    db.session.commit()
    return jsonify(MemberOrganisationSchema().dump(organisation)), 201

"""The referral endpoints of the API."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy.orm import selectinload

from coordination.api import bp
from coordination.api.catalogue import page_of
from coordination.api.registry import endpoint, json_body
from coordination.audit.operations import log_access
from coordination.core.errors import ValidationFailed
from coordination.core.parsing import is_digits
from coordination.core.permissions import get_visible, require
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.referrals import operations as ops
from coordination.referrals import permissions as perms
from coordination.referrals.models import Referral
from coordination.referrals.schemas import (
    CompletionRequestSchema,
    ReferralCreateSchema,
    ReferralDraftSchema,
    ReferralDumpSchema,
    WithdrawSchema,
)
from workflows.organisation import Role
from workflows.referral import ReferralState

STAFF = (Role.REFERRER, Role.TEAM_LEAD, Role.CONFERENCE_MEMBER, Role.COORDINATOR)
MASKED = ("identity_number", "first_name", "last_name", "phone", "email", "address")


def dump(referral: Referral) -> dict:
    """Return the referral as JSON, with a protected identity masked for the caller."""
    data = ReferralDumpSchema().dump(referral)
    if not perms.can_see_identity(current_user, referral):
        for name in MASKED:
            data[name] = None
        data["protected_identity"] = True
    return data


def load_visible(referral_id: int, *, lock: bool = False, read: bool = False) -> Referral:
    """Load a referral the caller may see, else 404."""
    return get_visible(
        Referral,
        referral_id,
        perms.can_view,
        lock=lock,
        read="referral" if read else None,
        person=lambda referral: referral.person_id,
    )


@endpoint(
    bp,
    "POST",
    "/referrals",
    "Create a referral (a draft, or submitted with submit=true)",
    body=ReferralCreateSchema,
    response=ReferralDumpSchema,
    roles=(Role.REFERRER,),
    status=201,
)
def create_referral():
    """Create a draft; with submit=true also submit it (the draft is kept if that fails)."""
    data = ReferralCreateSchema().load(json_body())
    programme = db.session.get(Programme, data.pop("programme_id"))
    units = current_user.units_with(Role.REFERRER)
    unit_id = data.pop("referring_unit_id", None)
    unit = next((u for u in units if u.id == unit_id), units[0] if unit_id is None else None)
    errors = {}
    if programme is None or not programme.active:
        errors["programme_id"] = ["No active programme with this id."]
    if unit is None:
        errors["referring_unit_id"] = ["You are not a referrer in this unit."]
    if errors:
        raise ValidationFailed("The referral could not be created.", errors=errors)
    submit_now = data.pop("submit")
    referral = ops.create_draft(programme=programme, by=current_user, unit=unit, data=data)
    log_access("referral", referral.id, action="create")
    db.session.commit()
    if submit_now:
        referral = ops.get_referral(referral.id, lock=True)
        ops.submit(referral, by=current_user)
        log_access("referral", referral.id, action="submit", person_id=referral.person_id)
        db.session.commit()
    return jsonify(dump(referral)), 201


@endpoint(
    bp,
    "GET",
    "/referrals",
    "Referrals visible to the caller (filter state, programme_id)",
    response=ReferralDumpSchema,
    many=True,
    roles=STAFF,
)
def list_referrals():
    """List the referrals the caller may see."""
    query = perms.visible_query(current_user)
    errors = {}
    state = request.args.get("state")
    if state:
        if state not in {s.value for s in ReferralState}:
            errors["state"] = ["Unknown state."]
        query = query.where(Referral.state == state)
    programme_id = request.args.get("programme_id")
    if programme_id:
        if not is_digits(programme_id):
            errors["programme_id"] = ["Must be an integer."]
        else:
            query = query.where(Referral.programme_id == int(programme_id))
    if errors:
        raise ValidationFailed("Invalid filter.", errors=errors)
    rows, total = page_of(query, Referral.id, options=(selectinload(Referral.history),))
    items = [dump(referral) for referral in rows]
    for referral in rows:
        log_access("referral", referral.id, action="list", person_id=referral.person_id)
    db.session.commit()
    return jsonify({"items": items, "total": total})


@endpoint(
    bp,
    "GET",
    "/referrals/<int:referral_id>",
    "Read one referral",
    response=ReferralDumpSchema,
    roles=STAFF,
)
def get_referral(referral_id: int):
    """Read a referral."""
    referral = load_visible(referral_id, read=True)
    data = dump(referral)  # before the commit, which would expire what was loaded
    db.session.commit()
    return jsonify(data)


@endpoint(
    bp,
    "PATCH",
    "/referrals/<int:referral_id>",
    "Change a draft or a referral under completion",
    body=ReferralDraftSchema,
    response=ReferralDumpSchema,
    roles=(Role.REFERRER,),
)
def update_referral(referral_id: int):
    """Save changes to an editable referral."""
    referral = load_visible(referral_id, lock=True)
    require(perms.can_edit(current_user, referral))
    data = ReferralDraftSchema().load(json_body())
    data.pop("programme_id", None)
    data.pop("referring_unit_id", None)
    ops.update_draft(referral, by=current_user, data=data)
    log_access("referral", referral.id, action="update", person_id=referral.person_id)
    db.session.commit()
    return jsonify(dump(referral))


@endpoint(
    bp,
    "POST",
    "/referrals/<int:referral_id>/submit",
    "Submit a referral",
    response=ReferralDumpSchema,
    roles=(Role.REFERRER,),
)
def submit_referral(referral_id: int):
    """Submit a draft or a completed referral."""
    referral = load_visible(referral_id, lock=True)
    require(perms.can_edit(current_user, referral))
    ops.submit(referral, by=current_user)
    log_access("referral", referral.id, action="submit", person_id=referral.person_id)
    db.session.commit()
    return jsonify(dump(referral))


@endpoint(
    bp,
    "POST",
    "/referrals/<int:referral_id>/withdraw",
    "Withdraw a referral",
    body=WithdrawSchema,
    response=ReferralDumpSchema,
    roles=(Role.REFERRER,),
)
def withdraw_referral(referral_id: int):
    """Withdraw a referral before the decision."""
    referral = load_visible(referral_id, lock=True)
    require(perms.can_withdraw(current_user, referral))
    data = WithdrawSchema().load(json_body())
    ops.withdraw(referral, by=current_user, reason=data["reason"])
    log_access("referral", referral.id, action="withdraw", person_id=referral.person_id)
    db.session.commit()
    return jsonify(dump(referral))


@endpoint(
    bp,
    "POST",
    "/referrals/<int:referral_id>/request-completion",
    "Ask the referrer for more information",
    body=CompletionRequestSchema,
    response=ReferralDumpSchema,
    roles=(Role.TEAM_LEAD,),
)
def request_completion(referral_id: int):
    """Send a referral back for completion."""
    referral = load_visible(referral_id, lock=True)
    require(perms.can_request_completion(current_user, referral))
    data = CompletionRequestSchema().load(json_body())
    ops.request_completion(referral, by=current_user, **data)
    log_access("referral", referral.id, action="update", person_id=referral.person_id)
    db.session.commit()
    return jsonify(dump(referral))

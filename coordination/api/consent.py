"""Consent endpoints: record for a referral's person, list, withdraw."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from coordination.api import bp
from coordination.api.registry import endpoint, json_body
from coordination.audit.operations import log_access
from coordination.consent import operations as ops
from coordination.consent.models import Consent
from coordination.consent.schemas import ConsentDumpSchema, ConsentLoadSchema, ConsentWithdrawSchema
from coordination.core.i18n import local_today
from coordination.core.permissions import get_visible
from coordination.extensions import db
from coordination.referrals.models import Referral
from coordination.referrals.permissions import can_manage_consent, can_manage_for_referral
from workflows.organisation import Role

MANAGERS = (Role.REFERRER, Role.TEAM_LEAD)


def _referral(referral_id: int) -> Referral:
    return get_visible(Referral, referral_id, can_manage_for_referral)


@endpoint(
    bp,
    "GET",
    "/referrals/<int:referral_id>/consents",
    "The person's consents",
    response=ConsentDumpSchema,
    many=True,
    roles=MANAGERS,
)
def list_consents(referral_id: int):
    """List the consents of the referral's person."""
    referral = _referral(referral_id)
    consents = ops.consents_of(referral.person_id)
    log_access("consent", referral.id, action="read", person_id=referral.person_id)
    db.session.commit()
    return jsonify({"items": ConsentDumpSchema(many=True).dump(consents), "total": len(consents)})


@endpoint(
    bp,
    "POST",
    "/referrals/<int:referral_id>/consent",
    "Record a consent for the person",
    body=ConsentLoadSchema,
    response=ConsentDumpSchema,
    roles=MANAGERS,
    status=201,
)
def record_consent(referral_id: int):
    """Record a new consent."""
    referral = _referral(referral_id)
    data = ConsentLoadSchema().load(json_body())
    consent = ops.record_consent(
        person_id=referral.person_id,
        referral_id=referral.id,
        data=data,
        by=current_user,
        today=local_today(),
    )
    log_access("consent", consent.id, action="create", person_id=referral.person_id)
    db.session.commit()
    return jsonify(ConsentDumpSchema().dump(consent)), 201


@endpoint(
    bp,
    "POST",
    "/consents/<int:consent_id>/withdraw",
    "Withdraw a consent (at once)",
    body=ConsentWithdrawSchema,
    response=ConsentDumpSchema,
    roles=MANAGERS,
)
def withdraw_consent(consent_id: int):
    """Withdraw a consent."""
    consent = get_visible(Consent, consent_id, can_manage_consent)
    data = ConsentWithdrawSchema().load(json_body())
    ops.withdraw_consent(consent, by=current_user, note=data["note"])
    log_access("consent", consent.id, action="update", person_id=consent.person_id)
    db.session.commit()
    return jsonify(ConsentDumpSchema().dump(consent))

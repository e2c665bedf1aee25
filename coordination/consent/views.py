"""Consent pages: the person's consents seen from a referral, recording and withdrawing."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordination.audit.operations import log_access
from coordination.consent import operations as ops
from coordination.consent.models import INFO_KINDS, Consent
from coordination.consent.schemas import ConsentLoadSchema, ConsentWithdrawSchema
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import local_today
from coordination.core.pages import render_read
from coordination.core.parsing import load_form
from coordination.core.permissions import access, get_visible
from coordination.extensions import db
from coordination.referrals.models import Referral
from coordination.referrals.permissions import can_manage_consent, can_manage_for_referral
from workflows.organisation import MEMBER_AGENCIES, Role

bp = Blueprint("consent", __name__, url_prefix="/consent")


def _referral(referral_id: int) -> Referral:
    return get_visible(Referral, referral_id, can_manage_for_referral)


@bp.route("/referral/<int:referral_id>", methods=["GET", "POST"])
@access(Role.REFERRER, Role.TEAM_LEAD)
def for_referral(referral_id: int):
    """Show the person's consents and record a new one."""
    referral = _referral(referral_id)
    errors: dict = {}
    if request.method == "POST":
        try:
            data = load_form(ConsentLoadSchema(), request.form)
            ops.record_consent(
                person_id=referral.person_id,
                referral_id=referral.id,
                data=data,
                by=current_user,
                today=local_today(),
            )
            log_access("consent", referral.id, action="create", person_id=referral.person_id)
            db.session.commit()
            flash(_("Samtycket är registrerat."), "success")
            return redirect(url_for(".for_referral", referral_id=referral.id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    log_access("consent", referral.id, action="read", person_id=referral.person_id)
    db.session.commit()
    return render_template(
        "consent/index.html",
        referral=referral,
        consents=ops.consents_of(referral.person_id),
        errors=errors,
        form=request.form,
        agencies=list(MEMBER_AGENCIES),
        info_kinds=INFO_KINDS,
        today=local_today(),
    ), (422 if errors else 200)


@bp.route("/<int:consent_id>/withdraw", methods=["GET", "POST"])
@access(Role.REFERRER, Role.TEAM_LEAD)
def withdraw(consent_id: int):
    """Withdraw a consent after a confirmation page that asks why; it stops covering anything at
    once. GET only shows the page."""
    consent = get_visible(Consent, consent_id, can_manage_consent)
    referral = db.session.get(Referral, consent.referral_id)
    back = url_for(".for_referral", referral_id=referral.id)
    return withdrawal_page(consent, action=url_for(".withdraw", consent_id=consent.id), back=back)


def withdrawal_page(
    consent: Consent, *, action: str, back: str, done: Callable[[], str] | None = None
):
    """The confirmation page of a withdrawal (GET), and the withdrawal with its required reason
    (POST): then to `done()`, else back. The referral's and the case's consent lists use it."""
    errors: dict = {}
    if request.method == "POST":
        try:
            data = load_form(ConsentWithdrawSchema(), request.form, ops.withdrawal_reason_errors)
            ops.withdraw_consent(consent, by=current_user, reason_required=True, **data)
            log_access("consent", consent.id, action="update", person_id=consent.person_id)
            db.session.commit()
            flash(_("Samtycket är återkallat. Det gäller inte längre."), "success")
            return redirect(done() if done else back)
        except ValidationFailed as exc:
            db.session.rollback()
            consent = db.session.get(Consent, consent.id)
            errors = exc.errors
    return render_read(
        "consent/confirm_withdraw.html",
        ("consent", consent.id, consent.person_id),
        422 if errors else 200,
        consent=consent,
        action=action,
        back=back,
        errors=errors,
        form=request.form,
    )

"""Access-log review for auditors: by person, by user, random samples with sign-off, extracts."""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from coordination.audit import chain, review
from coordination.audit.extract import build_extract
from coordination.audit.models import AuditSample
from coordination.audit.operations import log_access
from coordination.auth.models import User
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import local_today
from coordination.core.permissions import access
from coordination.documents import render_pdf
from coordination.extensions import db
from coordination.people.models import Person
from workflows.organisation import Role
from workflows.personnummer import IdentityNumberError, parse_identity_number

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _date(name: str, default: date) -> date | None:
    raw = request.form.get(name) or request.args.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


@bp.route("/", methods=["GET", "POST"])
@access(Role.AUDITOR)
def index():
    """The review start page: find a person, pick a user, draw or open a sample."""
    errors: dict = {}
    if request.method == "POST":
        raw = request.form.get("identity_number", "")
        try:
            number = parse_identity_number(raw, local_today()).number
            person = db.session.scalar(select(Person).where(Person.identity_number == number))
            if person is None:
                errors["identity_number"] = [_("Det finns inga uppgifter om någon med det numret.")]
            else:
                return redirect(url_for(".person", person_id=person.id))
        except IdentityNumberError:
            message = _("Skriv ett giltigt personnummer eller samordningsnummer.")
            errors["identity_number"] = [message]
    users = list(db.session.scalars(select(User).order_by(User.name)))
    samples = list(db.session.scalars(select(AuditSample).order_by(AuditSample.id.desc())))
    intact, bad_id, checked = chain.verify(db.session)
    return render_template(
        "audit/index.html",
        errors=errors,
        users=users,
        samples=samples,
        intact=intact,
        bad_id=bad_id,
        checked=checked,
        form=request.form,
        today=local_today(),
    ), (422 if errors else 200)


@bp.get("/person/<int:person_id>")
@access(Role.AUDITOR)
def person(person_id: int):
    """Who has looked at this person's data."""
    subject = db.session.get(Person, person_id) or abort(404)
    entries = review.entries_for_person(subject.id)
    log_access("access_log", subject.id, action="read", person_id=subject.id)
    db.session.commit()
    return render_template("audit/entries.html", subject=subject, user=None, entries=entries)


@bp.get("/user/<int:user_id>")
@access(Role.AUDITOR)
def by_user(user_id: int):
    """What one user has accessed."""
    user = db.session.get(User, user_id) or abort(404)
    entries = review.entries_for_user(user.id)
    log_access("access_log", f"user:{user.id}", action="read")
    db.session.commit()
    return render_template("audit/entries.html", subject=None, user=user, entries=entries)


@bp.post("/samples")
@access(Role.AUDITOR)
def new_sample():
    """Draw a random sample for the periodic review."""
    today = local_today()
    start = _date("period_from", today.replace(day=1))
    end = _date("period_to", today)
    try:
        if start is None or end is None:
            raise ValidationFailed(
                _("Ange perioden som ÅÅÅÅ-MM-DD."),
                errors={"period_from": [_("Ange perioden som ÅÅÅÅ-MM-DD.")]},
            )
        sample = review.draw_sample(
            start=start, end=end, size=request.form.get("size", 20, type=int), by=current_user
        )
    except ValidationFailed as exc:
        db.session.rollback()
        flash(" ".join(m for msgs in exc.errors.values() for m in msgs), "error")
        return redirect(url_for(".index"))
    log_access("audit_sample", sample.id, action="create")
    db.session.commit()
    return redirect(url_for(".sample", sample_id=sample.id))


@bp.route("/samples/<int:sample_id>", methods=["GET", "POST"])
@access(Role.AUDITOR)
def sample(sample_id: int):
    """Review the sampled rows and sign off with a finding."""
    chosen = db.session.get(AuditSample, sample_id) or abort(404)
    errors: dict = {}
    if request.method == "POST":
        try:
            review.sign_off(chosen, by=current_user, finding=request.form.get("finding", ""))
            log_access("audit_sample", chosen.id, action="update")
            db.session.commit()
            flash(_("Granskningen är signerad."), "success")
            return redirect(url_for(".sample", sample_id=chosen.id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    break_glass = review.break_glass_count(chosen.period_from, chosen.period_to)
    return render_template(
        "audit/sample.html", sample=chosen, errors=errors, break_glass=break_glass
    ), (422 if errors else 200)


@bp.get("/person/<int:person_id>/extract.<fmt>")
@access(Role.AUDITOR)
def extract(person_id: int, fmt: str):
    """The register extract for a person, as JSON or PDF (logged as an export)."""
    subject = db.session.get(Person, person_id) or abort(404)
    if fmt not in ("json", "pdf"):
        abort(404)
    data = build_extract(subject.id)
    log_access("register_extract", subject.id, action="export", person_id=subject.id)
    db.session.commit()
    filename = f"registerutdrag-{subject.id}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, indent=2)
        return Response(body, mimetype="application/json", headers=headers)
    html = render_template("audit/extract_pdf.html", data=data, today=local_today())
    return Response(render_pdf(html), mimetype="application/pdf", headers=headers)


BREAK_GLASS_TARGETS = {
    "referral": ("referrals.detail", "referral_id"),
    "case": ("cases.detail", "case_id"),
}


@bp.route("/break-glass", methods=["GET", "POST"])
@access(Role.TEAM_LEAD)
def break_glass_page():
    """Open an object you may not normally see, stating why; flagged in the log."""
    from coordination.audit import break_glass

    errors: dict = {}
    if request.method == "POST":
        kind = request.form.get("object_type", "")
        number = request.form.get("object_id", type=int)
        try:
            if number is None:
                raise ValidationFailed(
                    _("Ange numret."),
                    errors={"object_id": [_("Ange numret på remissen eller ärendet.")]},
                )
            break_glass.grant(current_user, kind, number, request.form.get("reason", ""))
            db.session.commit()
            endpoint, arg = BREAK_GLASS_TARGETS[kind]
            return redirect(url_for(endpoint, **{arg: number}))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template("audit/break_glass.html", errors=errors, form=request.form), (
        422 if errors else 200
    )

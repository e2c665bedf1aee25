"""Access-log review for auditors (by person, by user, samples with sign-off, the chain's
checkpoints, role grants) and register extracts for the registrar, from recorded requests."""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coordination.audit import chain, extract, jobs, labels, review
from coordination.audit.models import AuditSample, AuditSampleEntry, ExtractRequest
from coordination.audit.operations import log_access
from coordination.auth.models import User
from coordination.core.db import get_row
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import local_today
from coordination.core.pages import render_committed
from coordination.core.permissions import access
from coordination.documents import render_pdf
from coordination.extensions import db
from coordination.organisations import grants
from coordination.organisations.models import OrganisationUnit
from coordination.people.models import Person
from workflows.organisation import Role
from workflows.personnummer import IdentityNumberError, parse_identity_number

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _date(name: str, default: date | None) -> date | None:
    raw = request.form.get(name) or request.args.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _names(entries) -> dict:
    """The names of the users and units on a page of log rows (two statements), and the words
    for the rows' codes: what the entries table shows instead of ids and codes."""
    rows = list(entries)
    user_ids = {e.user_id for e in rows if e.user_id}
    unit_ids = {e.unit_id for e in rows if e.unit_id}
    users = (
        dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
        if user_ids
        else {}
    )
    units = (
        dict(
            db.session.execute(
                select(OrganisationUnit.id, OrganisationUnit.name).where(
                    OrganisationUnit.id.in_(unit_ids)
                )
            ).all()
        )
        if unit_ids
        else {}
    )
    return {
        "user_names": users,
        "unit_names": units,
        "action_label": labels.action_label,
        "object_label": labels.object_label,
    }


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
    checkpoint = chain.latest_checkpoint(db.session)
    return render_template(
        "audit/index.html",
        errors=errors,
        users=users,
        samples=samples,
        checkpoint=checkpoint,
        unverified=chain.unverified_rows(db.session, checkpoint),
        unchained=chain.unchained_rows(db.session),
        grants=grants.recent(),
        form=request.form,
        today=local_today(),
    ), (422 if errors else 200)


@bp.post("/chain")
@access(Role.AUDITOR)
def verify_chain():
    """Verify the rows written since the last checkpoint, a bounded step per request."""
    checkpoint = jobs.verify_step(
        triggered_by="auditor", limit=jobs.REQUEST_BATCH, user_id=current_user.id
    )
    if checkpoint is None:
        db.session.rollback()
        flash(_("En kontroll av loggkedjan pågår redan. Försök igen om en stund."), "warning")
        return redirect(url_for(".index"))
    log_access("access_log_chain", checkpoint.id, action="verify")
    db.session.commit()
    if not checkpoint.intact:
        flash(_("Loggkedjan är bruten vid rad %(id)s.", id=checkpoint.broken_at_id), "error")
    elif chain.unverified_rows(db.session, checkpoint):
        flash(
            _(
                "%(n)s rader kontrollerade och hela. Fler rader väntar: kontrollera igen för "
                "att fortsätta.",
                n=checkpoint.rows_checked,
            ),
            "success",
        )
    else:
        flash(_("%(n)s rader kontrollerade och hela.", n=checkpoint.rows_checked), "success")
    return redirect(url_for(".index"))


@bp.get("/person/<int:person_id>")
@access(Role.AUDITOR)
def person(person_id: int):
    """Who has looked at this person's data."""
    subject = db.session.get(Person, person_id) or abort(404)
    entries = review.person_entries_page(subject.id)
    log_access("access_log", subject.id, action="read", person_id=subject.id)
    return render_committed(
        "audit/entries.html", subject=subject, user=None, entries=entries, **_names(entries)
    )


@bp.get("/user/<int:user_id>")
@access(Role.AUDITOR)
def by_user(user_id: int):
    """What one user has accessed."""
    user = db.session.get(User, user_id) or abort(404)
    entries = review.entries_for_user(user.id)
    log_access("access_log", f"user:{user.id}", action="read")
    return render_committed(
        "audit/entries.html", subject=None, user=user, entries=entries, **_names(entries)
    )


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
    chosen = db.session.get(
        AuditSample,
        sample_id,
        options=[selectinload(AuditSample.entries).selectinload(AuditSampleEntry.entry)],
    ) or abort(404)
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
        "audit/sample.html",
        sample=chosen,
        errors=errors,
        break_glass=break_glass,
        **_names(e.entry for e in chosen.entries),
    ), (422 if errors else 200)


@bp.route("/extracts", methods=["GET", "POST"])
@access(Role.REGISTRAR)
def extract_requests():
    """Record a request for a register extract, and list the requests."""
    errors: dict = {}
    if request.method == "POST":
        person_id, problem = _person_for_request()
        try:
            item = extract.record_request(
                person_id=person_id,
                requester=request.form.get("requester", ""),
                received_on=_date("received_on", None),
                identity_check=request.form.get("identity_check", ""),
                identity_checked_by=_registrar(request.form.get("identity_checked_by", type=int)),
                by=current_user,
                today=local_today(),
            )
            log_access(
                "extract_request",
                item.id,
                action="create",
                person_id=item.person_id,
            )
            db.session.commit()
            flash(_("Begäran är registrerad. Nu kan du ta fram utdraget."), "success")
            return redirect(url_for(".extract_request", request_id=item.id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors | ({"identity_number": [problem]} if problem else {})
    requests = list(
        db.session.scalars(select(ExtractRequest).order_by(ExtractRequest.id.desc()).limit(200))
    )
    return render_template(
        "audit/extract_requests.html",
        requests=requests,
        registrars=_registrars(),
        errors=errors,
        form=request.form or {"identity_checked_by": str(current_user.id)},
        today=local_today(),
    ), (422 if errors else 200)


def _person_for_request() -> tuple[int | None, str | None]:
    """The person the request is about, found by personnummer (never by a guessable id)."""
    raw = request.form.get("identity_number", "")
    try:
        number = parse_identity_number(raw, local_today()).number
    except IdentityNumberError:
        return None, _("Skriv ett giltigt personnummer eller samordningsnummer.")
    person_id = db.session.scalar(select(Person.id).where(Person.identity_number == number))
    if person_id is None:
        return None, _("Det finns inga uppgifter om någon med det numret.")
    return person_id, None


def _registrars() -> list[User]:
    return [
        u
        for u in db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
        if Role.REGISTRAR.value in u.roles
    ]


def _registrar(user_id: int | None) -> User | None:
    return next((u for u in _registrars() if u.id == user_id), None)


@bp.get("/extracts/<int:request_id>")
@access(Role.REGISTRAR)
def extract_request(request_id: int):
    """One recorded request, with the links that produce its extract."""
    chosen = db.session.get(ExtractRequest, request_id) or abort(404)
    return render_template("audit/extract_request.html", item=chosen)


@bp.get("/extracts/<int:request_id>/extract.<fmt>")
@access(Role.REGISTRAR)
def extract_file(request_id: int, fmt: str):
    """The register extract of a recorded request, as JSON or PDF (logged as an export)."""
    chosen = get_row(ExtractRequest, request_id, lock=True)
    if fmt not in ("json", "pdf"):
        abort(404)
    data = extract.produce(chosen, by=current_user)
    db.session.commit()
    filename = f"registerutdrag-{chosen.person_id}.{fmt}"
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

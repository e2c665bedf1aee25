"""Referral pages: my referrals, the form (save a draft or submit), the referral, transitions."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from coordination.audit.operations import log_access
from coordination.codes.operations import choices
from coordination.core.db import search_text
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.pages import render_committed, render_read
from coordination.core.paging import keyset_page
from coordination.core.parsing import load_form, read_form
from coordination.core.permissions import access, get_visible, require
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.referrals import attachments as files
from coordination.referrals import operations as ops
from coordination.referrals import permissions as perms
from coordination.referrals import queries
from coordination.referrals.forms import referral_to_form
from coordination.referrals.models import Attachment, Referral
from coordination.referrals.schemas import (
    CompletionRequestSchema,
    ReferralDraftSchema,
    WithdrawSchema,
)
from workflows.organisation import MEMBER_AGENCIES, Role
from workflows.referral import ReferralState

bp = Blueprint("referrals", __name__, url_prefix="/referrals")

STAFF = (Role.REFERRER, Role.TEAM_LEAD, Role.CONFERENCE_MEMBER, Role.COORDINATOR)


def load_visible(referral_id: int, *, lock: bool = False, read: bool = False) -> Referral:
    """Load a referral the current user may see, or answer 404 (and log the refusal)."""
    return get_visible(
        Referral,
        referral_id,
        perms.can_view,
        glass=("referral", referral_id),
        lock=lock,
        read="referral" if read else None,
        person=lambda referral: referral.person_id,
    )


SAVED_SEARCH = "referral_search"


@bp.post("/")
@access(*STAFF)
def search():
    """Keep the referral list's search (posted: a name never rides in a link), then list."""
    session[SAVED_SEARCH] = search_text(request.form.get("q"))
    state = request.form.get("state") or None
    valid = state in {s.value for s in ReferralState}
    return redirect(url_for(".index", state=state) if valid else url_for(".index"))


@bp.get("/")
@access(*STAFF)
def index():
    """List the referrals the user may see, newest change first, a page at a time, by state;
    the search last posted (kept in the session, never in a link) narrows the list until reset."""
    if request.args.get("reset"):
        session.pop(SAVED_SEARCH, None)
        return redirect(url_for(".index"))
    state = request.args.get("state") or None
    if state not in {s.value for s in ReferralState}:
        state = None
    query = perms.visible_query(current_user)
    if state is not None:
        query = query.where(Referral.state == state)
    searched = search_text(
        session.get(SAVED_SEARCH) if isinstance(session.get(SAVED_SEARCH), str) else ""
    )
    if searched:
        query = query.where(perms.search_condition(current_user, searched))
    page = keyset_page(
        query,
        [Referral.updated_at],
        Referral.id,
        descending=True,
        options=(joinedload(Referral.programme),),
    )
    for referral in page.rows:
        log_access("referral", referral.id, action="list", person_id=referral.person_id)
    return render_committed(
        "referrals/index.html",
        page=page,
        state=state,
        searched=searched,
        states=list(ReferralState),
        can_create=perms.can_create(current_user),
        can_see_identity=lambda r: perms.can_see_identity(current_user, r),
    )


def _form_context(referral, form, errors, message=None):
    programmes = list(
        db.session.scalars(
            select(Programme).where(Programme.active.is_(True)).order_by(Programme.name)
        )
    )
    return dict(
        referral=referral,
        form=form,
        errors=errors,
        message=message,
        programmes=programmes,
        units=current_user.units_with(Role.REFERRER),
        agencies=list(MEMBER_AGENCIES),
        reasons=choices("referral_reason"),
        supports=choices("support"),
        occupations=choices("occupation"),
        educations=choices("education"),
        times=choices("time_on_support"),
        genders=choices("gender"),
        municipalities=_municipality_choices(form),
    )


def _municipality_choices(form) -> list[tuple[str, str]]:
    """The municipality list; a value saved before the list existed is offered as it reads."""
    options = choices("municipality")
    current = ((form.get("home_municipality") if form else "") or "").strip()
    if current and current not in {code for code, _label in options}:
        options.append((current, current))
    return options


# Chosen when the draft is created; the schema reads them, the view checks them.
PLACEMENT = ("programme_id", "referring_unit_id")


def _read_form() -> tuple[dict, dict, dict]:
    """Read the form with the API's draft schema: the draft's fields, the placement, the errors."""
    data, errors = read_form(ReferralDraftSchema(), request.form)
    placement = {name: data.pop(name, None) for name in PLACEMENT}
    return data, placement, errors


def _placed(placement: dict) -> tuple[Programme | None, object | None, dict]:
    """Return the new referral's programme and referring unit, and what is missing of them."""
    programme = db.session.get(Programme, placement["programme_id"] or 0)
    units = current_user.units_with(Role.REFERRER)
    unit = next(
        (u for u in units if u.id == placement["referring_unit_id"]),
        units[0] if len(units) == 1 else None,
    )
    missing = {}
    if programme is None or not programme.active:
        missing["programme_id"] = [_("Välj insats.")]
    if unit is None:
        missing["referring_unit_id"] = [_("Välj vilken enhet du skickar remissen från.")]
    return programme, unit, missing


def _save_from_form(referral: Referral | None) -> tuple[Referral | None, dict]:
    """Save what can be saved of the form; return the referral and the type errors."""
    data, placement, type_errors = _read_form()
    if referral is None:
        programme, unit, missing = _placed(placement)
        if missing:
            return None, {**type_errors, **missing}
        assert programme is not None and unit is not None
        referral = ops.create_draft(programme=programme, by=current_user, unit=unit, data=data)
    else:
        for name in PLACEMENT:  # not on the form of a saved referral
            type_errors.pop(name, None)
        ops.ensure_not_stale(referral, request.form.get("version", type=int))
        ops.update_draft(referral, by=current_user, data=data)
    return referral, type_errors


def _all_errors_without_draft(errors: dict) -> dict:
    """Check every submission rule on what was typed, even though no draft could be saved."""
    data, placement, _errors = _read_form()
    probe = Referral(**{k: v for k, v in data.items() if k in ops.DRAFT_FIELDS})
    probe.programme = db.session.get(Programme, placement["programme_id"] or 0)
    db.session.expunge(probe) if probe in db.session else None
    combined = dict(ops.submission_errors(probe, ops.local_today()))
    for field, messages in errors.items():
        combined[field] = messages
    return combined


# A draft is kept of a refused submission only when it names someone (it can be found again).
NAMING_FIELDS = ("identity_number", "first_name", "last_name")


def _unsendable_new_referral():
    """Refuse a new referral sent at once without naming anyone, before anything is saved: the
    errors are shown and no nameless draft is left behind. A form that names the person is
    saved as a draft with its errors, as before."""
    if any(request.form.get(name, "").strip() for name in NAMING_FIELDS):
        return None
    _data, placement, type_errors = _read_form()
    _programme, _unit, missing = _placed(placement)
    errors = {**_all_errors_without_draft(type_errors), **missing}
    db.session.rollback()
    if not errors:
        return None
    message = _("Remissen är inte skickad och inget är sparat. Rätta felen nedan.")
    return render_template(
        "referrals/form.html", **_form_context(None, request.form, errors, message)
    ), 422


def _handle_form(referral: Referral | None):
    action = request.form.get("action", "save")
    if referral is None and action == "submit":
        refused = _unsendable_new_referral()
        if refused is not None:
            return refused
    referral, type_errors = _save_from_form(referral)
    if referral is None:
        if action == "submit":
            type_errors = _all_errors_without_draft(type_errors)
        db.session.rollback()
        message = _("Remissen kunde inte sparas. Rätta felen nedan.")
        return render_template(
            "referrals/form.html", **_form_context(None, request.form, type_errors, message)
        ), 422
    log_access("referral", referral.id, action="update", person_id=referral.person_id)
    db.session.commit()
    if type_errors:
        message = _("Utkastet är sparat, men några fält har fel. Rätta dem nedan.")
        form = request.form.copy()
        form["version"] = str(referral.version)  # the save above moved the version on
        return render_template(
            "referrals/form.html", **_form_context(referral, form, type_errors, message)
        ), 422
    if action != "submit":
        flash(_("Utkastet är sparat."), "success")
        return redirect(url_for(".detail", referral_id=referral.id))
    try:
        ops.submit(referral, by=current_user)
        log_access("referral", referral.id, action="submit", person_id=referral.person_id)
        db.session.commit()
    except (ValidationFailed, Conflict) as exc:
        db.session.rollback()
        referral = db.session.get(Referral, referral.id)
        form = referral_to_form(referral)
        return render_read(
            "referrals/form.html",
            ("referral", referral.id, referral.person_id),
            exc.status,
            **_form_context(referral, form, exc.errors, exc.message),
        )
    flash(_("Remissen är skickad till remissgruppen."), "success")
    return redirect(url_for(".detail", referral_id=referral.id))


@bp.route("/new", methods=["GET", "POST"])
@access(Role.REFERRER)
def new():
    """Write a new referral; it is kept as a draft until submitted."""
    if request.method == "POST":
        return _handle_form(None)
    form = request.args.copy()
    context = _form_context(None, form, {})
    if len(context["programmes"]) == 1 and "programme_id" not in form:
        form["programme_id"] = str(context["programmes"][0].id)  # the only one: chosen already
    return render_template("referrals/form.html", **context)


@bp.route("/<int:referral_id>/edit", methods=["GET", "POST"])
@access(Role.REFERRER)
def edit(referral_id: int):
    """Continue a draft or complete a referral that was sent back."""
    referral = load_visible(referral_id)
    require(perms.can_edit(current_user, referral))
    if request.method == "POST":
        return _handle_form(referral)
    log_access("referral", referral.id, action="read", person_id=referral.person_id)
    db.session.commit()
    return render_template(
        "referrals/form.html", **_form_context(referral, referral_to_form(referral), {})
    )


@bp.get("/<int:referral_id>")
@access(*STAFF)
def detail(referral_id: int):
    """Show one referral with its history, attachments and what the user may do next."""
    referral = queries.load_details(load_visible(referral_id, read=True))
    return render_committed(
        "referrals/detail.html",
        referral=referral,
        can_edit=perms.can_edit(current_user, referral),
        can_withdraw=perms.can_withdraw(current_user, referral),
        can_request_completion=perms.can_request_completion(current_user, referral),
        show_identity=perms.can_see_identity(current_user, referral),
        can_manage_consent=perms.can_manage_for_referral(current_user, referral),
        errors={},
    )


@bp.post("/<int:referral_id>/submit")
@access(Role.REFERRER)
def submit(referral_id: int):
    """Submit a saved draft."""
    referral = load_visible(referral_id, lock=True)
    require(perms.can_edit(current_user, referral))
    try:
        ops.submit(referral, by=current_user)
    except (ValidationFailed, Conflict) as exc:
        db.session.rollback()
        referral = db.session.get(Referral, referral_id)
        return render_read(
            "referrals/form.html",
            ("referral", referral.id, referral.person_id),
            exc.status,
            **_form_context(referral, referral_to_form(referral), exc.errors, exc.message),
        )
    log_access("referral", referral.id, action="submit", person_id=referral.person_id)
    db.session.commit()
    flash(_("Remissen är skickad till remissgruppen."), "success")
    return redirect(url_for(".detail", referral_id=referral.id))


@bp.route("/<int:referral_id>/withdraw", methods=["GET", "POST"])
@access(Role.REFERRER)
def withdraw(referral_id: int):
    """Withdraw a referral before the conference decides."""
    referral = load_visible(referral_id, lock=request.method == "POST")
    require(perms.can_withdraw(current_user, referral))
    errors: dict = {}
    if request.method == "POST":
        try:
            data = load_form(WithdrawSchema(), request.form)
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            ops.withdraw(referral, by=current_user, **data)
            log_access("referral", referral.id, action="withdraw", person_id=referral.person_id)
            db.session.commit()
            flash(_("Remissen är återtagen."), "success")
            return redirect(url_for(".detail", referral_id=referral.id))
    return render_template(
        "referrals/withdraw.html", referral=referral, errors=errors, form=request.form
    ), (422 if errors else 200)


@bp.route("/<int:referral_id>/request-completion", methods=["GET", "POST"])
@access(Role.TEAM_LEAD)
def request_completion(referral_id: int):
    """Ask the referrer for more information, with a deadline."""
    referral = load_visible(referral_id, lock=request.method == "POST")
    require(perms.can_request_completion(current_user, referral))
    errors: dict = {}
    if request.method == "POST":
        try:
            data = load_form(CompletionRequestSchema(), request.form)
            ops.request_completion(referral, by=current_user, **data)
            log_access("referral", referral.id, action="update", person_id=referral.person_id)
            db.session.commit()
            flash(_("Remittenten har ombetts att komplettera remissen."), "success")
            return redirect(url_for(".detail", referral_id=referral.id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template(
        "referrals/request_completion.html", referral=referral, errors=errors, form=request.form
    ), (422 if errors else 200)


@bp.post("/<int:referral_id>/attachments")
@access(Role.REFERRER)
def upload(referral_id: int):
    """Attach a file to a referral that is still editable."""
    referral = load_visible(referral_id)
    require(perms.can_edit(current_user, referral))
    upload_file = request.files.get("file")
    try:
        files.store(
            referral,
            filename=upload_file.filename if upload_file else "",
            content=upload_file.read() if upload_file else b"",
            by=current_user,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return render_read(
            "referrals/detail.html",
            ("referral", referral.id, referral.person_id),
            422,
            referral=referral,
            can_edit=True,
            can_withdraw=perms.can_withdraw(current_user, referral),
            can_request_completion=False,
            show_identity=perms.can_see_identity(current_user, referral),
            errors=exc.errors,
        )
    log_access("attachment", referral.id, action="create", person_id=referral.person_id)
    db.session.commit()
    flash(_("Filen är bifogad."), "success")
    return redirect(url_for(".detail", referral_id=referral.id))


@bp.get("/<int:referral_id>/attachments/<int:attachment_id>")
@access(*STAFF)
def download(referral_id: int, attachment_id: int):
    """Download an attachment (logged as an export)."""
    referral = load_visible(referral_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.referral_id != referral.id:
        abort(404)
    log_access("attachment", attachment.id, action="export", person_id=referral.person_id)
    db.session.commit()
    return send_file(
        files.path_of(attachment),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
    )

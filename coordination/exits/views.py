"""Exit pages: the overview, the exit form, the return referral, packets and follow-ups."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from coordination.action_plans import operations as plan_ops
from coordination.audit.operations import log_access
from coordination.cases.models import Case, CoordinatorAssignment
from coordination.codes.operations import choices
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import label, local_today
from coordination.core.pages import render_committed, render_read
from coordination.core.paging import Page, keyset_page
from coordination.core.parsing import form_input, is_digits, load_checked, load_form
from coordination.core.permissions import access, require
from coordination.exits import documents, queries
from coordination.exits import operations as ops
from coordination.exits import packets as packet_ops
from coordination.exits import permissions as perms
from coordination.exits import return_referrals as return_referral_ops
from coordination.exits.models import FollowUp, Packet, ReturnReferral
from coordination.exits.permissions import (
    load_case,
    load_follow_up,
    load_packet,
    load_return_referral,
)
from coordination.exits.schemas import (
    ExitLoadSchema,
    FollowUpLoadSchema,
    OutcomesLoadSchema,
    ReturnReferralUpdateSchema,
)
from coordination.extensions import db
from coordination.meetings.models import Escalation
from workflows.action_plan import GoalStatus
from workflows.case import CaseState
from workflows.organisation import MEMBER_AGENCIES, Role
from workflows.return_referral import (
    RecommendationStatus,
    ReturnReferralAction,
    next_state,
)

bp = Blueprint("exits", __name__)

STAFF = (Role.REFERRER, Role.COORDINATOR, Role.TEAM_LEAD)
MANAGERS = (Role.COORDINATOR, Role.TEAM_LEAD)
EXITABLE = (
    CaseState.ENROLLED.value,
    CaseState.ACTIVE.value,
    CaseState.PAUSED.value,
    CaseState.EXITING.value,
)


def _pdf_response(pdf: bytes, filename: str):
    response = current_app.response_class(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --- loading ----------------------------------------------------------------------------------


# --- the overview -----------------------------------------------------------------------------


def _cases_to_exit() -> Page:
    query = select(Case).where(Case.state.in_(EXITABLE))
    if not perms.is_team_lead(current_user):
        query = query.where(
            Case.id.in_(
                select(CoordinatorAssignment.case_id).where(
                    CoordinatorAssignment.coordinator_id == current_user.id,
                    CoordinatorAssignment.active.is_(True),
                )
            )
        )
    elif not current_user.has_any_role([Role.COORDINATOR]):
        query = query.where(Case.state == CaseState.EXITING.value)
    return keyset_page(
        query,
        [],
        Case.id,
        name="cases",
        options=[selectinload(Case.person), selectinload(Case.assignments)],
    )


def _packets_for_me() -> Page:
    return keyset_page(
        perms.readable_packets_query(current_user, local_today()),
        [Packet.delivered_at],
        Packet.id,
        descending=True,
        name="packets",
        options=[
            selectinload(Packet.person),
            selectinload(Packet.unit),
            selectinload(Packet.case).selectinload(Case.assignments),
        ],
    )


def _open_follow_ups() -> Page:
    query = select(FollowUp).where(FollowUp.registered_at.is_(None))
    if not perms.is_team_lead(current_user):
        query = query.where(FollowUp.assignee_id == current_user.id)
    return keyset_page(
        query,
        [FollowUp.due_on],
        FollowUp.id,
        name="follow_ups",
        options=[selectinload(FollowUp.assignee)],
    )


@bp.get("/exits/")
@access(*STAFF)
def index():
    """What the user has to do at the end of the path: exits, packets, follow-ups, a page of
    each; only the rows shown are logged."""
    cases = _cases_to_exit() if current_user.has_any_role(MANAGERS) else None
    packets = _packets_for_me()
    follow_ups = _open_follow_ups() if current_user.has_any_role(MANAGERS) else None
    documents = (
        {
            d.case_id: d
            for d in db.session.scalars(
                select(ReturnReferral).where(
                    ReturnReferral.case_id.in_([c.id for c in cases or []])
                )
            )
        }
        if cases
        else {}
    )
    rows = [
        {
            "case": case,
            "person": perms.person_label(current_user, case.person, case),
            "document": documents.get(case.id),
        }
        for case in cases or []
    ]
    for case in cases or []:
        log_access("case", case.id, action="list", person_id=case.person_id)
    for packet in packets:
        log_access("packet", packet.id, action="list", person_id=packet.person_id)
    return render_committed(
        "exits/index.html",
        rows=rows,
        cases=cases,
        packets=packets,
        packet_rows=[
            (
                p,
                perms.person_label(current_user, p.person, p.case),
                perms.can_acknowledge(current_user, p),
            )
            for p in packets
        ],
        follow_ups=follow_ups or [],
        follow_up_page=follow_ups,
        gone={f.id for f in follow_ups or [] if f.assignee_id is None or not f.assignee.active},
        today=local_today(),
    )


# --- the exit ---------------------------------------------------------------------------------


def _exit_form_context(case: Case, form, errors, message=None) -> dict:
    return dict(
        case=case,
        person=perms.person_label(current_user, case.person, case),
        registration=queries.exit_registration_of(case.id),
        form=form,
        errors=errors,
        message=message,
        reasons=choices("exit_reason"),
        supports=choices("support"),
        occupations=choices("occupation"),
        works=choices("work"),
        goals=_plan_goals(case),
        goal_statuses=[(s.value, label("goal_status", s.value)) for s in GoalStatus],
    )


def _plan_goals(case: Case) -> list:
    """The goals of the newest plan version, whose status the exit records."""
    version = plan_ops.latest_version(case.id)
    return list(version.goals) if version is not None else []


def _discharged(case: Case) -> bool:
    """Tell whether the case was discharged after missed meetings."""
    return bool(
        db.session.scalar(
            select(Escalation.id).where(
                Escalation.case_id == case.id, Escalation.decision == "discharge"
            )
        )
    )


def _exit_defaults(case: Case) -> dict:
    registration = queries.exit_registration_of(case.id)
    goals = {f"goals.{i}.status": g.status or "" for i, g in enumerate(_plan_goals(case))}
    if registration is not None:
        return goals | {
            "exit_reason": registration.exit_reason,
            "support_at_exit": list(registration.support_at_exit),
            "occupation_at_exit": registration.occupation_at_exit,
            "work_at_exit": registration.work_at_exit,
            "exited_on": registration.exited_on.isoformat(),
        }
    defaults = goals | {"exited_on": local_today().isoformat()}
    if _discharged(case):
        defaults["exit_reason"] = "avbrutit_uteblivit"
    return defaults


@bp.route("/cases/<int:case_id>/exit", methods=["GET", "POST"])
@access(*MANAGERS)
def register_exit(case_id: int):
    """Register the exit: the reason, support, occupation and work at exit, and the date."""
    case = load_case(case_id)
    if request.method == "GET":
        log_access("case", case.id, action="read", person_id=case.person_id)
        db.session.commit()
        return render_template(
            "exits/exit_form.html", **_exit_form_context(case, _exit_defaults(case), {})
        )
    form = request.form.copy()
    try:
        data = load_form(
            ExitLoadSchema(),
            request.form,
            lambda d: ops.exit_errors(case, d, local_today()),
            filled_by={"goals": ("goal_id",)},
            message=_("Avslutet kunde inte registreras. Rätta felen nedan."),
        )
        ops.register_exit(case, data=data, by=current_user)
    except ValidationFailed as exc:
        db.session.rollback()
        case = db.session.get(Case, case_id)
        return render_read(
            "exits/exit_form.html",
            ("case", case.id, case.person_id),
            422,
            **_exit_form_context(case, form, exc.errors, exc.message),
        )
    log_access("case", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    document = queries.return_referral_of(case.id)
    flash(
        _("Avslutet är registrerat. Återremissen är påbörjad: komplettera och underteckna den."),
        "success",
    )
    return redirect(url_for(".return_referral", return_referral_id=document.id))


# --- the return referral ----------------------------------------------------------------------


def _return_referral_page(document: ReturnReferral, errors=None, form=None, status=200):
    """The return referral's page, its read logged (also after a refused change)."""
    context = documents.return_referral_context(current_user, document)
    flat = [message for messages in (errors or {}).values() for message in messages]
    return render_read(
        "exits/return_referral.html",
        ("return_referral", document.id, document.case.person_id),
        status,
        errors={"_general": flat} if flat else {},
        form=form or {},
        can_edit=perms.can_edit_return_referral(current_user, document),
        can_finalise=perms.can_finalise(current_user, document),
        finalise_errors=return_referral_ops.finalise_errors(document)
        if perms.can_finalise(current_user, document)
        else {},
        **context,
    )


@bp.get("/return-referrals/<int:return_referral_id>")
@access(*STAFF)
def return_referral(return_referral_id: int):
    """The return referral: the draft while the coordinator completes it, then the document."""
    document = load_return_referral(return_referral_id)
    return _return_referral_page(document)


def _edit_form(document: ReturnReferral) -> dict:
    form = dict(queries.sections_of(document))
    for item in queries.recommendations_of(document):
        key = f"recommendation_{item['agency']}"
        form[key] = (form.get(key, "") + "\n\n" + item["text"]).strip()
    form["version"] = str(document.version)
    return form


def _edit_data() -> dict:
    """Load the return referral's form with the API's schema (a box per agency where the API has
    a list of recommendations); errors about a recommendation name its agency's box."""
    raw = form_input(ReturnReferralUpdateSchema(), request.form)
    raw["recommendations"] = [
        {"agency": agency.value, "text": request.form.get(f"recommendation_{agency.value}", "")}
        for agency in MEMBER_AGENCIES
        if request.form.get(f"recommendation_{agency.value}", "").strip()
    ]
    try:
        return load_checked(ReturnReferralUpdateSchema(), raw, lambda d: {})
    except ValidationFailed as exc:
        errors = {}
        for key, messages in exc.errors.items():
            parts = key.split(".")
            if parts[0] == "recommendations" and len(parts) > 1 and is_digits(parts[1]):
                key = f"recommendation_{raw['recommendations'][int(parts[1])]['agency']}"
            errors.setdefault(key, []).extend(messages)
        exc.errors = errors
        raise


@bp.route("/return-referrals/<int:return_referral_id>/edit", methods=["GET", "POST"])
@access(*MANAGERS)
def edit_return_referral(return_referral_id: int):
    """Complete the drafted return referral: the sections and the recommendations."""
    document = load_return_referral(return_referral_id, lock=request.method == "POST")
    require(perms.can_exit(current_user, document.case))
    next_state(document.state, ReturnReferralAction.EDIT)  # a signed document: 409
    person_id = document.case.person_id
    if request.method == "GET":
        log_access("return_referral", document.id, action="read", person_id=person_id)
        db.session.commit()
        return render_template(
            "exits/edit.html", document=document, form=_edit_form(document), errors={}
        )
    try:
        data = _edit_data()
        return_referral_ops.ensure_not_stale(document, data.pop("version", None))
        return_referral_ops.update_draft(document, data=data, by=current_user)
    except (ValidationFailed, Conflict) as exc:
        db.session.rollback()
        document = db.session.get(ReturnReferral, return_referral_id)
        return render_read(
            "exits/edit.html",
            ("return_referral", document.id, person_id),
            exc.status,
            document=document,
            form=request.form,
            errors=exc.errors or {"_general": [exc.message]},
        )
    log_access("return_referral", document.id, action="update", person_id=person_id)
    db.session.commit()
    flash(_("Återremissen är sparad."), "success")
    return redirect(url_for(".return_referral", return_referral_id=document.id))


@bp.post("/return-referrals/<int:return_referral_id>/finalise")
@access(Role.COORDINATOR)
def finalise_return_referral(return_referral_id: int):
    """Sign the return referral: it is locked, the case is closed and the referrer gets it."""
    document = load_return_referral(return_referral_id, lock=True)
    require(perms.can_finalise(current_user, document))
    if request.form.get("confirm") != "on":
        db.session.rollback()
        document = db.session.get(ReturnReferral, return_referral_id)
        return _return_referral_page(
            document,
            errors={"confirm": [_("Bekräfta att du har läst igenom återremissen.")]},
            status=422,
        )
    try:
        return_referral_ops.finalise(document, by=current_user)
    except ValidationFailed as exc:
        db.session.rollback()
        document = db.session.get(ReturnReferral, return_referral_id)
        return _return_referral_page(document, errors=exc.errors, status=422)
    log_access("return_referral", document.id, action="update", person_id=document.case.person_id)
    db.session.commit()
    flash(_("Återremissen är undertecknad och skickad till remittenten."), "success")
    return redirect(url_for(".return_referral", return_referral_id=document.id))


@bp.get("/return-referrals/<int:return_referral_id>.pdf")
@access(*STAFF)
def return_referral_pdf(return_referral_id: int):
    """The return referral as an accessible PDF (logged as a print)."""
    document = load_return_referral(return_referral_id)
    pdf = documents.pdf_of(documents.return_referral_context(current_user, document))
    log_access("return_referral", document.id, action="print", person_id=document.case.person_id)
    db.session.commit()
    return _pdf_response(pdf, f"aterremiss-{document.id}.pdf")


# --- packets ----------------------------------------------------------------------------------


def _packet_page(packet: Packet, errors=None, form=None, status=200):
    """The packet's page, its read logged (also after a refused change)."""
    context = documents.packet_context(current_user, packet)
    return render_read(
        "exits/packet.html",
        ("packet", packet.id, packet.person_id),
        status,
        errors=errors or {},
        form=form or {},
        reminders=documents.reminders_of(packet),
        can_acknowledge=perms.can_acknowledge(current_user, packet),
        can_record_outcomes=perms.can_record_outcomes(current_user, packet),
        statuses=[(s.value, label("recommendation_status", s.value)) for s in RecommendationStatus],
        **context,
    )


@bp.get("/packets/<int:packet_id>")
@access(*STAFF)
def packet(packet_id: int):
    """A packet to the referrer: the document, its acknowledgement and the reminders."""
    found = load_packet(packet_id)
    return _packet_page(found)


@bp.get("/packets/<int:packet_id>.pdf")
@access(*STAFF)
def packet_pdf(packet_id: int):
    """The packet's document as an accessible PDF (logged as a print)."""
    found = load_packet(packet_id)
    pdf = documents.pdf_of(documents.packet_context(current_user, found))
    log_access("packet", found.id, action="print", person_id=found.person_id)
    db.session.commit()
    name = "aterremiss" if found.kind == "return_referral" else "gemensam-rekommendation"
    return _pdf_response(pdf, f"{name}-{found.id}.pdf")


@bp.post("/packets/<int:packet_id>/acknowledge")
@access(*STAFF)
def acknowledge(packet_id: int):
    """Acknowledge receipt of a packet; the reminders stop."""
    found = load_packet(packet_id, lock=True)
    require(perms.can_acknowledge(current_user, found))
    packet_ops.acknowledge(found, by=current_user)
    log_access("packet", found.id, action="update", person_id=found.person_id)
    db.session.commit()
    flash(_("Du har kvitterat att du har tagit emot paketet."), "success")
    return redirect(url_for(".packet", packet_id=found.id))


def _outcome_rows(found: Packet) -> MultiDict:
    """The form's boxes per recommendation (`outcome_<n>`, `note_<n>`) as the schema's rows."""
    rows = MultiDict()
    for i, item in enumerate(found.recommendations):
        number = item["number"]
        rows.add(f"outcomes.{i}.number", str(number))
        rows.add(f"outcomes.{i}.status", request.form.get(f"outcome_{number}", ""))
        rows.add(f"outcomes.{i}.note", request.form.get(f"note_{number}", ""))
    return rows


@bp.post("/packets/<int:packet_id>/outcomes")
@access(*STAFF)
def record_outcomes(packet_id: int):
    """Record what became of each recommendation: a status and a note."""
    found = load_packet(packet_id, lock=True)
    require(perms.can_record_outcomes(current_user, found))
    try:
        data = load_form(
            OutcomesLoadSchema(), _outcome_rows(found), filled_by={"outcomes": ("status", "note")}
        )
        packet_ops.record_outcomes(found, outcomes=data["outcomes"], by=current_user)
    except ValidationFailed as exc:
        db.session.rollback()
        found = db.session.get(Packet, packet_id)
        return _packet_page(found, errors=exc.errors, form=request.form, status=422)
    log_access("packet", found.id, action="update", person_id=found.person_id)
    db.session.commit()
    flash(_("Uppföljningen av rekommendationerna är sparad."), "success")
    return redirect(url_for(".packet", packet_id=found.id))


# --- follow-ups -------------------------------------------------------------------------------


def _follow_up_context(follow_up: FollowUp, form, errors, message=None) -> dict:
    return dict(
        follow_up=follow_up,
        person=perms.person_label(current_user, follow_up.case.person, follow_up.case),
        registration=queries.follow_up_registration(follow_up),
        form=form,
        errors=errors,
        message=message,
        supports=choices("support"),
        occupations=choices("occupation"),
        works=choices("work"),
        today=local_today(),
    )


@bp.route("/follow-ups/<int:follow_up_id>", methods=["GET", "POST"])
@access(*MANAGERS)
def follow_up(follow_up_id: int):
    """Register means of support, occupation and work 6 or 12 months after the exit."""
    found = load_follow_up(follow_up_id)
    person_id = found.case.person_id
    if request.method == "GET":
        registration = queries.follow_up_registration(found)
        form = (
            {
                "support": registration.support_codes,
                "occupation": registration.occupation,
                "work": registration.work,
            }
            if registration
            else {}
        )
        log_access("follow_up", found.id, action="read", person_id=person_id)
        db.session.commit()
        return render_template("exits/follow_up.html", **_follow_up_context(found, form, {}))
    try:
        data = load_form(FollowUpLoadSchema(), request.form)
        ops.register_follow_up(found, data=data, by=current_user)
    except (ValidationFailed, Conflict) as exc:
        db.session.rollback()
        found = db.session.get(FollowUp, follow_up_id)
        return render_read(
            "exits/follow_up.html",
            ("follow_up", found.id, person_id),
            exc.status,
            **_follow_up_context(found, request.form, exc.errors, exc.message),
        )
    log_access("follow_up", found.id, action="update", person_id=person_id)
    db.session.commit()
    flash(_("Uppföljningen är registrerad."), "success")
    return redirect(url_for(".index"))

"""Action plan pages: the plan, drawing it up, sign-off, versions side by side, the PDF."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from coordination.action_plans import goals
from coordination.action_plans import operations as ops
from coordination.action_plans import permissions as perms
from coordination.action_plans.models import PlanAction
from coordination.action_plans.schemas import (
    ActionStatusLoadSchema,
    GoalReviewLoadSchema,
    PlanLoadSchema,
    SignOffLoadSchema,
)
from coordination.audit.operations import log_access
from coordination.auth.models import User
from coordination.cases import permissions as case_perms
from coordination.cases.models import Case
from coordination.cases.views import load_visible
from coordination.core.errors import Conflict, Forbidden, ValidationFailed
from coordination.core.i18n import label, local_today
from coordination.core.pages import render_read
from coordination.core.parsing import form_input, is_digits, load_form
from coordination.core.permissions import access, require, require_visible
from coordination.documents import render_pdf
from coordination.extensions import db
from coordination.organisations.models import Membership, OrganisationUnit
from workflows.action_plan import (
    PARTICIPANT,
    ActionStatus,
    GoalStatus,
    SignOffMethod,
    compare_actions,
    compare_fields,
)
from workflows.organisation import MEMBER_AGENCIES, Role

bp = Blueprint("action_plans", __name__, url_prefix="/cases")

STAFF = (Role.REFERRER, Role.CONFERENCE_MEMBER, Role.COORDINATOR, Role.TEAM_LEAD)
MANAGERS = (Role.COORDINATOR, Role.TEAM_LEAD)
BLANK_ROWS = 2
GOAL_FIELDS = ("text", "target_on")
ACTION_FIELDS = ("ref", "what", "agency", "contact_id", "start_on", "due_on", "status")


def _person_label(case: Case) -> str:
    person = case.person
    if case_perms.can_see_identity(current_user, case):
        return f"{person.first_name} {person.last_name}".strip()
    return person.code


def _contacts() -> list[tuple[int, str]]:
    """Return the staff of the member agencies who can be an action's contact."""
    rows = db.session.execute(
        select(User.id, User.name, OrganisationUnit.agency_kind)
        .join(Membership, Membership.user_id == User.id)
        .join(OrganisationUnit, OrganisationUnit.id == Membership.unit_id)
        .where(
            User.active.is_(True),
            OrganisationUnit.agency_kind.in_([a.value for a in MEMBER_AGENCIES]),
        )
        .order_by(User.name)
    )

    seen: dict[int, str] = {}
    for user_id, name, agency in rows:
        if user_id not in seen:
            seen[user_id] = f"{name} ({label('agency', agency)})"
    return list(seen.items())


def _users(ids) -> dict[int, User]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _version_users(*versions) -> dict[int, User]:
    ids = set()
    for version in versions:
        if version is None:
            continue
        ids |= {a.contact_id for a in version.actions}
        ids |= {g.status_by_id for g in version.goals}
        ids |= {s.signed_by_id for s in version.sign_offs}
        ids |= {version.coordinator_id}
    return _users(ids)


# --- the plan -----------------------------------------------------------------------------------


def _plan_context(case: Case, *, errors: dict | None = None) -> dict:
    latest = ops.latest_version(case.id)
    in_force = ops.signed_version(case.id)
    versions = ops.versions_of(case.id)
    return dict(
        case=case,
        person_label=_person_label(case),
        version=latest,
        in_force=in_force,
        versions=versions,
        users=_version_users(latest, in_force),
        required=sorted(ops.required_of(latest), key=lambda p: (p != PARTICIPANT, p))
        if latest
        else [],
        missing=ops.missing_of(latest) if latest else [],
        may_sign=perms.parties_user_may_sign(current_user, case, latest),
        can_edit=perms.can_edit(current_user, case),
        can_review_goals=perms.can_edit(current_user, case)
        and latest is not None
        and bool(latest.goals)
        and case.state in [s.value for s in ops.PLAN_STATES],
        goal_statuses=[s.value for s in GoalStatus],
        can_print=perms.can_print(current_user, case) and latest is not None,
        may_update=lambda action: ops.may_update_action(current_user, case, action),
        methods=[m.value for m in SignOffMethod],
        statuses=[s.value for s in ActionStatus],
        party_label=ops.party_label,
        errors=errors or {},
        form=request.form,
    )


@bp.get("/<int:case_id>/plan")
@access(*STAFF)
def plan(case_id: int):
    """The plan: the newest version, who has signed, and what the user may do."""
    case = load_visible(case_id, read="action_plan")
    db.session.commit()
    return render_template("action_plans/plan.html", **_plan_context(case))


def _plan_error(case: Case, errors: dict, status: int = 422):
    db.session.rollback()
    case = db.session.get(Case, case.id)
    return render_read(
        "action_plans/plan.html",
        ("action_plan", case.id, case.person_id),
        status,
        **_plan_context(case, errors=errors),
    )


# --- drawing it up ------------------------------------------------------------------------------


# An action row counts when one of these is filled in (a new row has a status chosen already).
PLAN_ROWS = {"actions": ("what", "agency", "contact_id", "start_on", "due_on")}


def _as_form(data: dict) -> dict:
    """Return the flat form values of a plan input (so a re-rendered form keeps what was typed)."""
    values = {k: v or "" for k, v in data.items() if k not in ("goals", "actions")}
    for i, goal in enumerate(data.get("goals") or []):
        for name in GOAL_FIELDS:
            values[f"goals.{i}.{name}"] = goal.get(name) or ""
    for i, action in enumerate(data.get("actions") or []):
        for name in ACTION_FIELDS:
            value = action.get(name)
            values[f"actions.{i}.{name}"] = "" if value is None else value
    values["goal_rows"] = len(data.get("goals") or []) + BLANK_ROWS
    values["action_rows"] = len(data.get("actions") or []) + BLANK_ROWS
    return values


def _version_form(case: Case) -> dict:
    version = ops.latest_version(case.id)
    if version is None:
        return _as_form({"goals": [], "actions": []})
    return _as_form(
        {
            "own_goal": version.own_goal,
            "long_term_goal": version.long_term_goal,
            "overall_agency": version.overall_agency,
            "review_on": version.review_on.isoformat() if version.review_on else "",
            "planned_exit_on": (
                version.planned_exit_on.isoformat() if version.planned_exit_on else ""
            ),
            "exit_steps": version.exit_steps,
            "goals": [
                {"text": g.text, "target_on": g.target_on.isoformat() if g.target_on else ""}
                for g in version.goals
            ],
            "actions": [
                {
                    "ref": a.ref,
                    "what": a.what,
                    "agency": a.agency,
                    "contact_id": a.contact_id,
                    "start_on": a.start_on.isoformat() if a.start_on else "",
                    "due_on": a.due_on.isoformat() if a.due_on else "",
                    "status": a.status,
                }
                for a in version.actions
            ],
        }
    )


def _named_rows(errors: dict) -> dict:
    """Prefix a goal's or an action's messages with its row ("Insats 2: …"), so the links of the
    error summary differ where two rows have the same problem."""
    named = {}
    for key, messages in errors.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] in ("goals", "actions") and is_digits(parts[1]):
            n = int(parts[1]) + 1
            row = _("Delmål %(n)s", n=n) if parts[0] == "goals" else _("Insats %(n)s", n=n)
            messages = [f"{row}: {message}" for message in messages]
        named[key] = messages
    return named


def _edit_page(case: Case, form: dict, errors: dict, status: int = 200):
    latest = ops.latest_version(case.id)
    return render_template(
        "action_plans/edit.html",
        case=case,
        person_label=_person_label(case),
        version=latest,
        form=form,
        errors=errors,
        agencies=[a.value for a in MEMBER_AGENCIES],
        contacts=_contacts(),
        statuses=[s.value for s in ActionStatus],
        creates_new_version=latest is not None and latest.state != "draft",
    ), status


@bp.route("/<int:case_id>/plan/edit", methods=["GET", "POST"])
@access(*MANAGERS)
def edit(case_id: int):
    """Draw up or change the plan (after a sign-off, a change makes a new version)."""
    case = load_visible(case_id, lock=request.method == "POST")
    require(perms.can_edit(current_user, case))
    if request.method == "GET":
        log_access("action_plan", case.id, action="read", person_id=case.person_id)
        db.session.commit()
        return _edit_page(case, _version_form(case), {})
    raw = form_input(PlanLoadSchema(), request.form, filled_by=PLAN_ROWS)  # kept on re-render
    try:
        data = load_form(
            PlanLoadSchema(),
            request.form,
            lambda d: ops.plan_errors(case, d, local_today()),
            filled_by=PLAN_ROWS,
        )
        result = ops.save_plan(case, data, by=current_user)
    except (ValidationFailed, Conflict) as exc:
        db.session.rollback()
        errors = exc.errors or {"_general": [exc.message]}
        case = db.session.get(Case, case_id)
        log_access("action_plan", case.id, action="read", person_id=case.person_id)
        db.session.commit()
        return _edit_page(case, _as_form(raw), _named_rows(errors), exc.status)
    log_access("action_plan", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    messages = {
        "created": _("Handlingsplanen är sparad som version 1."),
        "updated": _("Handlingsplanen är sparad."),
        "new_version": _(
            "Ändringen är sparad som version %(n)s. Alla parter behöver godkänna den.",
            n=result.version.number,
        ),
        "statuses": _("Insatsernas status är sparad."),
        "unchanged": _("Inget är ändrat."),
    }
    flash(messages[result.outcome], "success")
    return redirect(url_for(".plan", case_id=case.id))


# --- sign-off and progress ----------------------------------------------------------------------


@bp.post("/<int:case_id>/plan/sign-off")
@access(*STAFF)
def sign_off(case_id: int):
    """Record a sign-off: the participant's (by the coordinator, with how) or an agency's."""
    case = load_visible(case_id, lock=True)
    try:
        data = load_form(SignOffLoadSchema(), request.form)
        entry = ops.sign_off(case, by=current_user, **data)
    except (ValidationFailed, Conflict, Forbidden) as exc:
        return _plan_error(case, exc.errors or {"_general": [exc.message]}, exc.status)
    log_access("action_plan", case.id, action="sign_off", person_id=case.person_id)
    db.session.commit()
    flash(
        _("Godkännandet för %(party)s är registrerat.", party=ops.party_label(entry.party)),
        "success",
    )
    return redirect(url_for(".plan", case_id=case.id))


@bp.post("/<int:case_id>/plan/actions/<int:action_id>/status")
@access(*STAFF)
def action_status(case_id: int, action_id: int):
    """Record how far one action has come."""
    case = load_visible(case_id, lock=True)
    action = db.session.get(PlanAction, action_id)
    require_visible(action is not None and action.version.case_id == case.id)
    require(ops.may_update_action(current_user, case, action))
    try:
        data = load_form(ActionStatusLoadSchema(), request.form)
        ops.set_action_status(action, data["status"], by=current_user)
    except ValidationFailed as exc:
        # The error belongs to this action's row (its field is status-<id>).
        return _plan_error(
            case, {f"status-{action_id}" if k == "status" else k: v for k, v in exc.errors.items()}
        )
    except Conflict as exc:
        return _plan_error(case, {"_general": [exc.message]}, exc.status)
    log_access("action_plan", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    flash(_("Insatsens status är sparad."), "success")
    return redirect(url_for(".plan", case_id=case.id))


@bp.post("/<int:case_id>/plan/goals")
@access(*MANAGERS)
def review_goals(case_id: int):
    """Record at a plan review how far each goal of the newest version was reached."""
    case = load_visible(case_id, lock=True)
    require(perms.can_edit(current_user, case))
    try:
        data = load_form(GoalReviewLoadSchema(), request.form, filled_by={"goals": ("goal_id",)})
        changed = goals.record_goal_statuses(case, data["goals"], by=current_user)
    except (ValidationFailed, Conflict) as exc:
        return _plan_error(case, exc.errors or {"_general": [exc.message]}, exc.status)
    log_access("action_plan", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    if changed:
        flash(_("Delmålens status är sparad."), "success")
    else:
        flash(_("Inget är ändrat."), "success")
    return redirect(url_for(".plan", case_id=case.id))


# --- versions -----------------------------------------------------------------------------------


@bp.get("/<int:case_id>/plan/versions/<int:number>")
@access(*STAFF)
def version(case_id: int, number: int):
    """One version of the plan as it was, with its sign-offs."""
    case = load_visible(case_id, read="action_plan")
    shown = ops.get_version(case.id, number)
    db.session.commit()
    return render_template(
        "action_plans/version.html",
        case=case,
        person_label=_person_label(case),
        version=shown,
        versions=ops.versions_of(case.id),
        users=_version_users(shown),
        party_label=ops.party_label,
        required=sorted(ops.required_of(shown), key=lambda p: (p != PARTICIPANT, p)),
    )


@bp.get("/<int:case_id>/plan/compare")
@access(*STAFF)
def compare(case_id: int):
    """Two versions side by side, with what changed marked."""
    case = load_visible(case_id, read="action_plan")
    versions = ops.versions_of(case.id)
    require_visible(len(versions) > 0)
    numbers = [v.number for v in versions]
    right_n = request.args.get("b", type=int) or numbers[-1]
    left_n = request.args.get("a", type=int) or (numbers[-2] if len(numbers) > 1 else numbers[-1])
    left = ops.get_version(case.id, left_n)
    right = ops.get_version(case.id, right_n)
    db.session.commit()
    return render_template(
        "action_plans/compare.html",
        case=case,
        person_label=_person_label(case),
        left=left,
        right=right,
        numbers=numbers,
        changed=compare_fields(left.content(), right.content()),
        actions=compare_actions(left.content(), right.content()),
        users=_version_users(left, right),
        party_label=ops.party_label,
    )


@bp.get("/<int:case_id>/plan.pdf")
@access(*MANAGERS)
def pdf(case_id: int):
    """The plan as an accessible PDF in plain Swedish for the participant (logged as a print)."""
    case = load_visible(case_id)
    require(perms.can_print(current_user, case))
    number = request.args.get("version", type=int)
    if number is not None:
        shown = ops.get_version(case.id, number)
    else:
        shown = ops.signed_version(case.id) or ops.latest_version(case.id)
    require_visible(shown is not None)
    log_access("action_plan", case.id, action="print", person_id=case.person_id)
    db.session.commit()
    with force_locale("sv"):  # the participant's document is in plain Swedish, whoever prints
        html = render_template(
            "action_plans/plan_pdf.html",
            case=case,
            person_label=_person_label(case),
            version=shown,
            users=_version_users(shown),
            party_label=ops.party_label,
            today=local_today(),
        )
    headers = {
        "Content-Disposition": f'inline; filename="handlingsplan-{case.id}-v{shown.number}.pdf"'
    }
    return Response(render_pdf(html), mimetype="application/pdf", headers=headers)

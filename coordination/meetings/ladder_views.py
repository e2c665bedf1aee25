"""Pages of what the missed-meeting ladder leaves: a task and marking it done, an escalation and
the decision on it. Registered on the meetings blueprint (views.bp), so the endpoints are
meetings.task, meetings.task_done, meetings.escalation and meetings.decide.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordination.audit.operations import log_access
from coordination.core.errors import ValidationFailed
from coordination.core.pages import render_read
from coordination.core.parsing import load_form
from coordination.core.permissions import access, get_visible, require
from coordination.extensions import db
from coordination.meetings import ladder, queries
from coordination.meetings import permissions as perms
from coordination.meetings.models import Escalation, Task
from coordination.meetings.schemas import EscalationDecisionSchema
from coordination.meetings.views import STAFF, bp, case_glass
from coordination.referrals.models import Referral

# --- tasks -----------------------------------------------------------------------------------


def _load_task(task_id: int) -> Task:
    return get_visible(
        Task,
        task_id,
        lambda user, task: task.assignee_id == user.id or perms.connected(user, task.case),
        kind="task",
        glass=case_glass,
    )


@bp.get("/tasks/<int:task_id>")
@access(*STAFF)
def task(task_id: int):
    """One task: what to do, by when, and marking it done."""
    item = _load_task(task_id)
    log_access("case", item.case_id, action="read", person_id=item.case.person_id)
    db.session.commit()
    return render_template(
        "meetings/task.html",
        task=item,
        participant=perms.participant_label(current_user, item.case),
        can_complete=item.is_open and item.assignee_id == current_user.id,
    )


@bp.post("/tasks/<int:task_id>/done")
@access(*STAFF)
def task_done(task_id: int):
    """Mark a task done."""
    item = _load_task(task_id)
    require(item.assignee_id == current_user.id)
    ladder.complete_task(item, by=current_user)
    log_access("case", item.case_id, action="update", person_id=item.case.person_id)
    db.session.commit()
    flash(_("Uppgiften är klar."), "success")
    return redirect(url_for(".case_meetings", case_id=item.case_id))


# --- escalations -----------------------------------------------------------------------------


def _load_escalation(escalation_id: int) -> Escalation:
    return get_visible(
        Escalation,
        escalation_id,
        lambda user, escalation: perms.connected(user, escalation.case),
        glass=case_glass,
    )


def _escalation_page(escalation: Escalation, errors: dict, form, status: int = 200):
    """The escalation's page, the read of its case logged (also after a refused decision)."""
    case = escalation.case
    missed = [
        m
        for m in queries.meetings_of(case.id)
        if (a := m.attendance_of(case.id)) is not None and a.status == "missed" and not m.cancelled
    ]
    return render_read(
        "meetings/escalation.html",
        ("case", case.id, case.person_id),
        status,
        escalation=escalation,
        case=case,
        participant=perms.participant_label(current_user, case),
        missed=missed,
        referral=db.session.get(Referral, case.referral_id),
        can_decide=escalation.status == "open" and perms.can_decide(current_user, case),
        errors=errors,
        form=form,
    )


@bp.get("/escalations/<int:escalation_id>")
@access(*STAFF)
def escalation(escalation_id: int):
    """The escalation: why, by when, and the decision (continue or discharge)."""
    item = _load_escalation(escalation_id)
    return _escalation_page(item, {}, {})


def _discharge_page(escalation: Escalation, errors: dict, form, status: int = 200):
    """The confirmation before a discharge: what will happen, why (required), one primary action
    and a way back. Nothing is recorded until it is confirmed with a reason."""
    case = escalation.case
    return render_read(
        "meetings/confirm_discharge.html",
        ("case", case.id, case.person_id),
        status,
        escalation=escalation,
        case=case,
        participant=perms.participant_label(current_user, case),
        can_decide=escalation.status == "open" and perms.can_decide(current_user, case),
        errors=errors,
        form=form,
    )


def _discharge_reason(data: dict) -> dict[str, list[str]]:
    if data.get("decision") == "discharge" and not (data.get("comment") or "").strip():
        return {"comment": [_("Skriv varför insatsen avslutas.")]}
    return {}


@bp.get("/escalations/<int:escalation_id>/discharge")
@access(*STAFF)
def discharge(escalation_id: int):
    """Confirm a discharge (shows the page only; the decision is recorded by POST)."""
    item = _load_escalation(escalation_id)
    require(perms.can_decide(current_user, item.case))
    return _discharge_page(item, {}, {})


@bp.post("/escalations/<int:escalation_id>/decision")
@access(*STAFF)
def decide(escalation_id: int):
    """Record the decision on the escalation; a discharge first goes to its confirmation page."""
    item = _load_escalation(escalation_id)
    require(perms.can_decide(current_user, item.case))
    form = request.form
    confirmed = form.get("confirm") == "yes"
    try:
        if form.get("decision") == "discharge" and not confirmed:
            load_form(EscalationDecisionSchema(), form)  # a form that cannot be read says so
            return _discharge_page(item, {}, form)
        rules = _discharge_reason if confirmed else None
        data = load_form(EscalationDecisionSchema(), form, rules)
        if rules is not None and (errors := rules(data)):
            raise ValidationFailed(errors["comment"][0], errors=errors)
        ladder.decide_escalation(item.case, by=current_user, **data)
    except ValidationFailed as exc:
        db.session.rollback()
        item = db.session.get(Escalation, escalation_id)
        page = _discharge_page if confirmed else _escalation_page
        return page(item, exc.errors, form, 422)
    log_access("case", item.case_id, action="update", person_id=item.case.person_id)
    db.session.commit()
    flash(_("Beslutet är registrerat."), "success")
    return redirect(url_for(".case_meetings", case_id=item.case_id))

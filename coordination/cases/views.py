"""Case pages: the waiting queue for the team lead, and enrolment from it when a place frees."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from coordination.audit.operations import log_access
from coordination.auth.models import User
from coordination.cases import operations as ops
from coordination.cases.models import Case
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.permissions import access, require_visible
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.referrals import permissions as referral_perms
from workflows.case import CaseState, is_prioritised
from workflows.organisation import Role
from workflows.personnummer import age_on
from workflows.programme import PriorityRule

bp = Blueprint("cases", __name__, url_prefix="/cases")


def _queues() -> list[dict]:
    programmes = db.session.scalars(
        select(Programme).where(Programme.active.is_(True)).order_by(Programme.name)
    )
    queues = []
    for programme in programmes:
        waiting = ops.queue(programme.id)
        rows = []
        for place, case in enumerate(waiting, start=1):
            referral = case.referral
            birth = case.person.birth_date
            on = referral.referral_date or case.created_at.date()
            rows.append(
                {
                    "place": place,
                    "case": case,
                    "referral": referral,
                    "age": age_on(birth, on),
                    "prioritised": programme.priority_rule
                    == PriorityRule.AGE_25_45_CHILDREN_FIRST.value
                    and is_prioritised(_entry(case, birth, on)),
                    "show_identity": referral_perms.can_see_identity(current_user, referral),
                }
            )
        occupied = ops.occupied_places(programme.id)
        queues.append(
            {
                "programme": programme,
                "rows": rows,
                "occupied": occupied,
                "free": max(programme.capacity - occupied, 0),
            }
        )
    return queues


def _entry(case: Case, birth, on):
    from workflows.case import QueueEntry

    return QueueEntry(
        case_id=case.id,
        birth_date=birth,
        referral_date=on,
        children_in_household=case.referral.children_in_household,
        queued_at=case.queued_at or case.created_at,
    )


@bp.get("/queue")
@access(Role.TEAM_LEAD)
def queue():
    """The waiting queue of each programme, in the order of its priority rule."""
    queues = _queues()
    for entry in queues:
        for row in entry["rows"]:
            log_access("case", row["case"].id, action="list", person_id=row["case"].person_id)
    db.session.commit()
    return render_template(
        "cases/queue.html", queues=queues, coordinators=ops.coordinators(), errors={}
    )


@bp.post("/<int:case_id>/enrol")
@access(Role.TEAM_LEAD)
def enrol(case_id: int):
    """Give the first person in the queue a free place, with a coordinator."""
    case = db.session.get(Case, case_id)
    require_visible(case is not None and case.state == CaseState.WAITING.value)
    case = db.session.scalar(
        select(Case)
        .where(Case.id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    coordinator_id = request.form.get("coordinator_id", type=int)
    coordinator = db.session.get(User, coordinator_id) if coordinator_id else None
    try:
        ops.enrol_from_queue(case, coordinator=coordinator, by=current_user)
    except (ValidationFailed, Conflict) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".queue"))
    log_access("case", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    flash(_("Deltagande %(id)s är inskrivet.", id=case.id), "success")
    return redirect(url_for(".queue"))

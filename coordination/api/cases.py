"""The case endpoints of the API: caseload, one case, coordinator, pause and resume, consent."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from coordination.api import bp
from coordination.api.registry import endpoint, json_body, page_args
from coordination.audit.operations import log_access
from coordination.auth.models import User
from coordination.cases import caseload as reads
from coordination.cases import operations as ops
from coordination.cases import permissions as perms
from coordination.cases.models import Case
from coordination.cases.schemas import (
    AssignCoordinatorSchema,
    AssignmentDumpSchema,
    CaseDumpSchema,
    PauseSchema,
    ResumeSchema,
)
from coordination.consent import operations as consent_ops
from coordination.consent.schemas import ConsentDumpSchema, ConsentLoadSchema
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import local_today
from coordination.core.parsing import is_digits, load_checked
from coordination.core.permissions import get_visible, require
from coordination.extensions import db
from coordination.organisations.calendar import working_calendar
from workflows.case import CaseState
from workflows.organisation import Role

STAFF = (Role.REFERRER, Role.CONFERENCE_MEMBER, Role.COORDINATOR, Role.TEAM_LEAD)
MANAGERS = (Role.COORDINATOR, Role.TEAM_LEAD)


def dump_row(row: reads.CaseRow) -> dict:
    """Return one case as JSON for the caller (a protected name is replaced by its code)."""
    case = row.case
    return CaseDumpSchema().dump(
        {
            "id": case.id,
            "programme_id": case.programme_id,
            "referral_id": case.referral_id,
            "state": case.state,
            "paused_from": case.paused_from,
            "pause_reason": case.pause_reason,
            "expected_return_on": case.expected_return_on,
            "complexity_weight": case.complexity_weight,
            "enrolled_on": case.enrolled_on,
            "days_in_programme": row.days,
            "person": {
                "code": case.person.code,
                "name": row.person_label if row.show_identity else None,
                "protected_identity": case.person.protected_identity,
            },
            "coordinator": (
                {"id": row.coordinator.id, "name": row.coordinator.name}
                if row.coordinator
                else None
            ),
            "coordinator_changes": case.coordinator_changes,
            "next_meeting_at": row.next_meeting_at,
            "missed_meeting_count": row.missed_count,
            "escalated": row.escalated,
            "open_tasks": row.open_tasks,
            "plan": {
                "version": row.plan_version,
                "state": row.plan_state,
                "in_force_version": row.in_force_version,
                "review_on": row.review_on,
                "open_actions": row.open_actions,
            },
            "warnings": [w.value for w in row.warnings],
        }
    )


def load_visible(case_id: int, *, lock: bool = False, read: str | None = None) -> Case:
    """Load a case the caller may see, else 404 (`read`: log the read of the case or its plan)."""
    return get_visible(
        Case,
        case_id,
        perms.can_view,
        kind="case",
        lock=lock,
        read=read,
        person=lambda case: case.person_id,
    )


def _dump(case: Case) -> dict:
    row = reads.rows_for([case.id], current_user, today=local_today(), calendar=working_calendar())
    return dump_row(row[0])


@endpoint(
    bp,
    "GET",
    "/cases",
    "Cases visible to the caller (filter state, programme_id, coordinator_id)",
    response=CaseDumpSchema,
    many=True,
    roles=STAFF,
)
def list_cases():
    """List the cases the caller may see, by case number."""
    errors = {}
    where = []
    state = request.args.get("state")
    if state:
        if state not in {s.value for s in CaseState}:
            errors["state"] = ["Unknown state."]
        where.append(Case.state == state)
    for name, column in (("programme_id", Case.programme_id),):
        value = request.args.get(name)
        if value:
            if not is_digits(value):
                errors[name] = ["Must be an integer."]
            else:
                where.append(column == int(value))
    coordinator = request.args.get("coordinator_id")
    if coordinator and not is_digits(coordinator):
        errors["coordinator_id"] = ["Must be an integer."]
    try:
        page, per_page = page_args()
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed("Invalid filter.", errors=errors)
    visible = perms.visible_case_ids(current_user)
    if visible is not None:
        where.append(Case.id.in_(sorted(visible)))
    if visible == set():
        # Nothing to read. An empty IN under the förbund policy is planned as a parallel scan of
        # every case (8 ms at 200k for the count) before it finds that nothing can match.
        rows, total = [], 0
    else:
        rows, total = reads.listed(
            current_user,
            where=where,
            coordinator_id=int(coordinator) if coordinator else None,
            page=page,
            per_page=per_page,
            today=local_today(),
            calendar=working_calendar(),
        )
    for row in rows:
        log_access("case", row.case.id, action="list", person_id=row.case.person_id)
    items = [dump_row(r) for r in rows]
    db.session.commit()
    return jsonify({"items": items, "total": total})


@endpoint(
    bp,
    "GET",
    "/cases/<int:case_id>",
    "Read one case: state, coordinator, missed-meeting count and escalation",
    response=CaseDumpSchema,
    roles=STAFF,
)
def get_case(case_id: int):
    """Read a case."""
    case = load_visible(case_id, read="case")
    db.session.commit()
    return jsonify(_dump(case))


@endpoint(
    bp,
    "POST",
    "/cases/<int:case_id>/coordinator",
    "Assign or reassign the coordinator (a change or going above capacity needs a reason)",
    body=AssignCoordinatorSchema,
    response=AssignmentDumpSchema,
    roles=(Role.TEAM_LEAD,),
)
def assign_coordinator(case_id: int):
    """Assign or reassign the case's coordinator."""
    case = load_visible(case_id, lock=True)
    require(perms.can_assign(current_user, case))
    data = AssignCoordinatorSchema().load(json_body())
    coordinator = db.session.get(User, data["coordinator_id"]) if data["coordinator_id"] else None
    assignment = ops.assign_coordinator(
        case,
        coordinator,
        reason=data["reason"],
        over_capacity_reason=data["over_capacity_reason"],
        by=current_user,
    )
    log_access("case", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    return jsonify(AssignmentDumpSchema().dump(assignment))


@endpoint(
    bp,
    "POST",
    "/cases/<int:case_id>/pause",
    "Pause a case with a reason and the expected return",
    body=PauseSchema,
    response=CaseDumpSchema,
    roles=MANAGERS,
)
def pause_case(case_id: int):
    """Pause a case."""
    case = load_visible(case_id, lock=True)
    require(perms.can_manage(current_user, case))
    data = load_checked(PauseSchema(), json_body(), lambda d: ops.pause_errors(d, local_today()))
    ops.pause(case, by=current_user, **data)
    log_access("case", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    return jsonify(_dump(case))


@endpoint(
    bp,
    "POST",
    "/cases/<int:case_id>/resume",
    "Resume a paused case",
    body=ResumeSchema,
    response=CaseDumpSchema,
    roles=MANAGERS,
)
def resume_case(case_id: int):
    """Resume a paused case."""
    case = load_visible(case_id, lock=True)
    require(perms.can_manage(current_user, case))
    data = ResumeSchema().load(json_body())
    ops.resume(case, by=current_user, note=data["note"])
    log_access("case", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    return jsonify(_dump(case))


@endpoint(
    bp,
    "GET",
    "/cases/<int:case_id>/consents",
    "The participant's consents",
    response=ConsentDumpSchema,
    many=True,
    roles=MANAGERS,
)
def case_consents(case_id: int):
    """List the participant's consents."""
    case = load_visible(case_id)
    require(perms.can_manage(current_user, case))
    consents = consent_ops.consents_of(case.person_id)
    log_access("consent", case.id, action="read", person_id=case.person_id)
    db.session.commit()
    return jsonify({"items": ConsentDumpSchema(many=True).dump(consents), "total": len(consents)})


@endpoint(
    bp,
    "POST",
    "/cases/<int:case_id>/consent",
    "Record a consent for the case's participant",
    body=ConsentLoadSchema,
    response=ConsentDumpSchema,
    roles=MANAGERS,
    status=201,
)
def record_case_consent(case_id: int):
    """Record a new consent for the participant."""
    case = load_visible(case_id)
    require(perms.can_manage(current_user, case))
    data = ConsentLoadSchema().load(json_body())
    consent = consent_ops.record_consent(
        person_id=case.person_id,
        referral_id=case.referral_id,
        data=data,
        by=current_user,
        today=local_today(),
    )
    log_access("consent", consent.id, action="create", person_id=case.person_id)
    db.session.commit()
    return jsonify(ConsentDumpSchema().dump(consent)), 201

"""The intake registration (SUS) of a case in the API: read it and complete it.

The same permissions and access log as the page (statistics.intake_views): whoever may see the
case reads it, its coordinator and the team leads complete it.
"""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from coordination.api import bp
from coordination.api.cases import MANAGERS, STAFF, load_visible
from coordination.api.registry import endpoint, json_body
from coordination.audit.operations import log_access
from coordination.cases import permissions as case_perms
from coordination.core.errors import NotFound
from coordination.core.parsing import load_checked
from coordination.core.permissions import require
from coordination.extensions import db
from coordination.statistics import intake as ops
from coordination.statistics.schemas import IntakeDumpSchema, IntakeLoadSchema


@endpoint(
    bp,
    "GET",
    "/cases/<int:case_id>/intake",
    "Read the case's intake registration (SUS) and whether it is complete",
    response=IntakeDumpSchema,
    roles=STAFF,
)
def get_intake(case_id: int):
    """Read a case's SUS record at intake (404 while the case waits for a place)."""
    case = load_visible(case_id)
    data = ops.intake_of(case)
    if data["participant_id"] is None:
        raise NotFound(_("Deltagandet har ingen inskrivning ännu."))
    log_access("sus_participant", data["participant_id"], action="read", person_id=case.person_id)
    db.session.commit()
    return jsonify(IntakeDumpSchema().dump(data))


@endpoint(
    bp,
    "PUT",
    "/cases/<int:case_id>/intake",
    "Complete or correct the intake registration: work, occupation, education, time on "
    "support and means of support, from the code lists (offered codes only)",
    body=IntakeLoadSchema,
    response=IntakeDumpSchema,
    roles=MANAGERS,
    responses={"409": "The case is not enrolled yet (it waits for a place)"},
)
def put_intake(case_id: int):
    """Complete a case's intake registration (every field; every error at once)."""
    case = load_visible(case_id, lock=True)
    require(case_perms.can_manage(current_user, case))
    data = load_checked(IntakeLoadSchema(), json_body(), ops.intake_errors)
    ops.register_intake(case, data=data, by=current_user)
    found = ops.intake_of(case)
    log_access(
        "sus_participant", found["participant_id"], action="update", person_id=case.person_id
    )
    db.session.commit()
    return jsonify(IntakeDumpSchema().dump(found))

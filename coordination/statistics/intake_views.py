"""The intake registration (SUS) of a case: its section on the case page and its form.

The pages sit on the cases blueprint (/cases/<id>/intake, like the exit form on the exits one),
with the case page's permissions: whoever may see the case reads the intake; its coordinator and
the team leads complete it.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordination.audit.operations import log_access
from coordination.cases import permissions as case_perms
from coordination.cases.models import Case
from coordination.cases.views import MANAGERS, STAFF, load_visible
from coordination.cases.views import bp as cases_bp
from coordination.codes.operations import choices, code_label, code_labels
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import label
from coordination.core.pages import render_read
from coordination.core.parsing import load_form
from coordination.core.permissions import access, require
from coordination.extensions import db
from coordination.statistics import intake as ops
from coordination.statistics.reports.sus import VARIABLE_TITLES
from coordination.statistics.schemas import IntakeLoadSchema

# Each intake variable's code list (they share their names).
LISTS = {name: name for name in ops.INTAKE_FIELDS}


def _values(data: dict) -> list[tuple[str, str, str]]:
    """Return (field, title, value in words) for each intake variable ('' when not given)."""
    wanted = [("support", c) for c in data["support"]]
    wanted += [(LISTS[name], data[name]) for name in ops.INTAKE_FIELDS if name != "support"]
    labels = code_labels(wanted)
    rows = []
    for name in ops.INTAKE_FIELDS:
        if name == "support":
            text = ", ".join(labels[("support", c)] for c in data["support"] if c)
        else:
            text = labels.get((LISTS[name], data[name] or ""), "")
        rows.append((name, str(VARIABLE_TITLES[name]), text))
    return rows


def _missing_text(data: dict) -> str:
    return ", ".join(str(VARIABLE_TITLES[name]).lower() for name in data["missing"])


def _person_rows(data: dict) -> list[tuple[str, str]]:
    """Who the person is as SUS counts them, taken from the referral at enrolment."""
    return [
        (_("Kön"), code_label("gender", data["gender"])),
        (_("Födelseår"), str(data["birth_year"] or "")),
        (_("Hemkommun"), data["home_municipality"] or ""),
        (
            _("Remitterande myndighet"),
            label("agency", data["referring_agency"]) if data["referring_agency"] else "",
        ),
    ]


def case_section(case: Case) -> dict:
    """Return what templates/statistics/_case_intake.html shows on the case page."""
    if case is None or not (current_user and current_user.is_authenticated):
        return {"visible": False}
    if case.enrolled_on is None or not case_perms.can_view(current_user, case):
        return {"visible": False}
    data = ops.intake_of(case)
    return {
        "visible": True,
        "data": data,
        "rows": _values(data),
        "missing": _missing_text(data),
        "can_edit": case_perms.can_manage(current_user, case),
    }


@cases_bp.app_context_processor
def _intake_globals():
    return {"case_intake_section": case_section}


def _form_defaults(data: dict) -> dict:
    return {name: data[name] for name in ops.INTAKE_FIELDS}


def _context(case: Case, data: dict, form, errors: dict, message: str | None = None) -> dict:
    return dict(
        case=case,
        data=data,
        rows=_values(data),
        person_rows=_person_rows(data),
        missing=_missing_text(data),
        can_edit=case.enrolled_on is not None and case_perms.can_manage(current_user, case),
        form=form,
        errors=errors,
        message=message,
        works=choices("work"),
        occupations=choices("occupation"),
        educations=choices("education"),
        times=choices("time_on_support"),
        supports=choices("support"),
    )


def _read(case: Case, data: dict) -> tuple[str, int, int | None]:
    """What the page's read names in the access log: the SUS record, else the case."""
    if data["participant_id"] is not None:
        return ("sus_participant", data["participant_id"], case.person_id)
    return ("case", case.id, case.person_id)


@cases_bp.get("/<int:case_id>/intake")
@access(*STAFF)
def intake(case_id: int):
    """The intake registration (SUS) of a case: read it, or complete it as its coordinator."""
    case = load_visible(case_id)
    data = ops.intake_of(case)
    return render_read(
        "statistics/intake.html",
        _read(case, data),
        **_context(case, data, _form_defaults(data), {}),
    )


@cases_bp.post("/<int:case_id>/intake")
@access(*MANAGERS)
def register_intake(case_id: int):
    """Complete or correct the intake registration: work, occupation, education, support."""
    case = load_visible(case_id, lock=True)
    require(case_perms.can_manage(current_user, case))
    try:
        data = load_form(
            IntakeLoadSchema(),
            request.form,
            ops.intake_errors,
            message=_("Inskrivningen kunde inte sparas. Rätta felen nedan."),
        )
        ops.register_intake(case, data=data, by=current_user)
    except (ValidationFailed, Conflict) as exc:
        form = request.form.copy()
        db.session.rollback()
        case = db.session.get(Case, case_id)
        found = ops.intake_of(case)
        return render_read(
            "statistics/intake.html",
            _read(case, found),
            exc.status,
            **_context(case, found, form, exc.errors or {"_general": [exc.message]}, exc.message),
        )
    participant_id = ops.intake_of(case)["participant_id"]
    log_access("sus_participant", participant_id, action="update", person_id=case.person_id)
    db.session.commit()
    flash(_("Inskrivningen (SUS) är sparad."), "success")
    return redirect(url_for("cases.detail", case_id=case.id) + "#heading-intake")

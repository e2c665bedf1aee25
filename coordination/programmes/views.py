"""Programme pages: the list for staff, the settings form for admins."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError as SchemaError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from coordination.codes.operations import all_codes, code_label, label_of
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import label, translate_schema_messages
from coordination.core.permissions import access
from coordination.extensions import db
from coordination.programmes.models import Programme, ProgrammeTarget
from coordination.programmes.operations import (
    add_target,
    remove_target,
    save_programme,
    update_target,
)
from coordination.programmes.schemas import ProgrammeSchema
from workflows.organisation import Role
from workflows.programme import TargetVariable, target_occasions

bp = Blueprint("programmes", __name__, url_prefix="/programmes")

BOOLEANS = ("active", "quorum_all_named_agencies", "group_sessions_count")


def form_input(form: MultiDict) -> dict:
    """Read the settings form into the schema's input (empty numbers become missing)."""
    fields = ProgrammeSchema().load_fields
    data: dict = {}
    for name in fields:
        if name in BOOLEANS:
            data[name] = form.get(name) in ("on", "1", "true")
        elif name in form:
            value = form.get(name, "").strip()
            if value != "" or name == "name":
                data[name] = value
            elif name in ("max_duration_days", "conference_first_date"):
                data[name] = None
    return data


def _messages(exc: SchemaError) -> dict:
    messages = translate_schema_messages(exc.messages)
    for name in ("max_age", "priority_age_high"):
        if name in exc.messages and any("lowest age" in m for m in exc.messages[name]):
            messages[name] = [_("Den lägsta åldern får inte vara högre än den högsta.")]
    return messages


@bp.get("/")
@access(
    Role.ADMIN,
    Role.TEAM_LEAD,
    Role.REFERRER,
    Role.CONFERENCE_MEMBER,
    Role.COORDINATOR,
    Role.ANALYST,
)
def index():
    """List the programmes."""
    programmes = list(db.session.scalars(select(Programme).order_by(Programme.name)))
    return render_template(
        "programmes/index.html",
        programmes=programmes,
        can_manage=current_user.has_any_role([Role.ADMIN]),
    )


@bp.route("/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def new():
    """Create a programme with the default settings of ../shared/DOMAIN.md."""
    return _form(None)


@bp.route("/<int:programme_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def edit(programme_id: int):
    """Change a programme's settings."""
    programme = db.session.get(Programme, programme_id) or abort(404)
    return _form(programme)


def _form(programme: Programme | None):
    errors: dict = {}
    if request.method == "POST":
        try:
            data = ProgrammeSchema().load(form_input(request.form))
            save_programme(programme, data)
            db.session.commit()
            flash(_("Insatsen är sparad."), "success")
            return redirect(url_for(".index"))
        except SchemaError as exc:
            db.session.rollback()
            errors = _messages(exc)
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
        form = request.form
    else:
        source = (
            ProgrammeSchema().dump(programme)
            if programme
            else ProgrammeSchema().load({"name": "x"})
        )
        if programme is None:
            source["name"] = ""
        form = MultiDict(
            {
                k: ("on" if v is True else "" if v in (False, None) else str(v))
                for k, v in source.items()
            }
        )
    return render_template("programmes/form.html", programme=programme, form=form, errors=errors), (
        422 if errors else 200
    )


# --- outcome targets (../shared/DOMAIN.md §12, "Programme targets") -----------------------------


def _programme_or_404(programme_id: int) -> Programme:
    return db.session.get(Programme, programme_id) or abort(404)


def _target_or_404(programme: Programme, target_id: int) -> ProgrammeTarget:
    target = db.session.get(ProgrammeTarget, target_id)
    if target is None or target.programme_id != programme.id:
        abort(404)
    return target


def _variable_options() -> list[tuple[str, str]]:
    return [(v.value, label("target_variable", v.value)) for v in TargetVariable]


def _target_input(form: MultiDict) -> dict:
    return {
        "name": form.get("name", ""),
        "variable": form.get("variable", ""),
        "occasion": form.get("occasion", ""),
        "codes": form.getlist("codes"),
        "target_percent": form.get("target_percent", ""),
    }


@bp.get("/<int:programme_id>/targets")
@access(Role.ADMIN)
def targets(programme_id: int):
    """List a programme's outcome targets, with the way to add one."""
    programme = _programme_or_404(programme_id)
    rows = db.session.scalars(
        select(ProgrammeTarget)
        .where(ProgrammeTarget.programme_id == programme.id)
        .order_by(ProgrammeTarget.id)
    ).all()
    return render_template(
        "programmes/targets.html",
        programme=programme,
        targets=rows,
        variable_options=_variable_options(),
        code_label=code_label,
    )


def _target_form(programme: Programme, target: ProgrammeTarget | None):
    errors: dict = {}
    if request.method == "POST":
        form: MultiDict = request.form
        try:
            data = _target_input(form)
            if target is None:
                add_target(programme, data)
            else:
                update_target(target, data)
            db.session.commit()
            flash(_("Målet är sparat."), "success")
            return redirect(url_for(".targets", programme_id=programme.id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    elif target is not None:
        form = MultiDict(
            [
                ("name", target.name),
                ("variable", target.variable),
                ("occasion", target.occasion or ""),
                ("target_percent", str(target.target_percent)),
                *(("codes", code) for code in target.codes),
            ]
        )
    else:
        form = MultiDict({"variable": request.args.get("variable", "")})
    variable = form.get("variable", "")
    if variable not in {v.value for v in TargetVariable}:
        if variable and not errors:
            errors = {"variable": [_("Välj en variabel i listan.")]}
        variable = ""
    code_options = (
        [(c.code, label_of(c)) for c in all_codes(variable)]
        if variable and variable != TargetVariable.JOINT_RECOMMENDATION
        else []
    )
    occasion_options = [(o, label("occasion", o)) for o in target_occasions(variable)]
    return render_template(
        "programmes/target_form.html",
        programme=programme,
        target=target,
        form=form,
        errors=errors,
        variable=variable,
        variable_options=_variable_options(),
        code_options=code_options,
        occasion_options=occasion_options,
    ), (422 if errors else 200)


@bp.route("/<int:programme_id>/targets/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def new_target(programme_id: int):
    """Add an outcome target: a variable, an occasion, the codes that count, the percentage."""
    return _target_form(_programme_or_404(programme_id), None)


@bp.route("/<int:programme_id>/targets/<int:target_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def edit_target(programme_id: int, target_id: int):
    """Change an outcome target."""
    programme = _programme_or_404(programme_id)
    return _target_form(programme, _target_or_404(programme, target_id))


@bp.post("/<int:programme_id>/targets/<int:target_id>/delete")
@access(Role.ADMIN)
def delete_target(programme_id: int, target_id: int):
    """Remove an outcome target."""
    programme = _programme_or_404(programme_id)
    remove_target(_target_or_404(programme, target_id))
    db.session.commit()
    flash(_("Målet är borttaget."), "success")
    return redirect(url_for(".targets", programme_id=programme.id))

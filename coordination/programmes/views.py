"""Programme pages: the list for staff, the settings form for admins."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError as SchemaError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from coordination.core.errors import ValidationFailed
from coordination.core.i18n import translate_schema_messages
from coordination.core.permissions import access
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.programmes.operations import save_programme
from coordination.programmes.schemas import ProgrammeSchema
from workflows.organisation import Role

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

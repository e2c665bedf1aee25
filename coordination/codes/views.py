"""Code-list pages for admins: see each list, add codes (historical too), edit, load a file."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from coordination.audit.operations import log_access
from coordination.codes import operations as ops
from coordination.codes.models import Code
from coordination.core.errors import ValidationFailed
from coordination.core.permissions import access
from coordination.extensions import db
from workflows.organisation import Role

bp = Blueprint("codes", __name__, url_prefix="/admin/codes")
bp.add_app_template_global(ops.code_label, "code_label")  # every page may name a code

MAX_FILE = 2 * 1024 * 1024


def _list_or_404(list_name: str) -> str:
    if list_name not in ops.list_names():
        abort(404)
    return list_name


@bp.route("/", methods=["GET", "POST"])
@access(Role.ADMIN)
def index():
    """The code lists, and loading codes from a CSV or YAML file."""
    errors: dict = {}
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            errors = {"file": [_("Välj en CSV- eller YAML-fil.")]}
        else:
            try:
                counts = ops.load_code_file(upload.filename, upload.read(MAX_FILE))
                log_access("code_list", upload.filename[:80], action="import")
                db.session.commit()
                flash(
                    _(
                        "Filen är inläst: %(added)s nya koder, %(updated)s ändrade.",
                        added=counts["added"],
                        updated=counts["updated"],
                    ),
                    "success",
                )
                return redirect(url_for(".index"))
            except ValidationFailed as exc:
                db.session.rollback()
                errors = exc.errors
    lists = [(name, ops.list_title(name), len(ops.all_codes(name))) for name in ops.list_names()]
    return render_template("codes/index.html", lists=lists, errors=errors), (422 if errors else 200)


@bp.route("/<list_name>", methods=["GET", "POST"])
@access(Role.ADMIN)
def code_list(list_name: str):
    """One list in its order, with a form to add a code."""
    list_name = _list_or_404(list_name)
    errors: dict = {}
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        try:
            entry = ops.add_code(
                list_name,
                code=(request.form.get("code") or "").strip(),
                label_sv=request.form.get("label_sv") or "",
                label_en=request.form.get("label_en") or "",
                historical=request.form.get("historical") == "on",
                after=request.form.get("after") or None,
            )
            log_access("code", entry.id, action="create")
            db.session.commit()
            flash(_("Koden %(code)s är tillagd.", code=entry.code), "success")
            return redirect(url_for(".code_list", list_name=list_name))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    codes = ops.all_codes(list_name)
    return render_template(
        "codes/list.html",
        list_name=list_name,
        title=ops.list_title(list_name),
        codes=codes,
        after_options=[(c.code, f"{c.label_sv} ({c.code})") for c in codes],
        form=form,
        errors=errors,
    ), (422 if errors else 200)


def _code(list_name: str, code_id: int) -> Code:
    entry = db.session.scalar(select(Code).where(Code.id == code_id, Code.list_name == list_name))
    if entry is None:
        abort(404)
    return entry


@bp.route("/<list_name>/<int:code_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def edit(list_name: str, code_id: int):
    """Change a code's labels or mark it historical; the code itself cannot change."""
    entry = _code(_list_or_404(list_name), code_id)
    errors: dict = {}
    if request.method == "POST":
        try:
            ops.update_code(
                entry,
                label_sv=request.form.get("label_sv") or "",
                label_en=request.form.get("label_en") or "",
                historical=request.form.get("historical") == "on",
            )
            log_access("code", entry.id, action="update")
            db.session.commit()
            flash(_("Koden %(code)s är sparad.", code=entry.code), "success")
            return redirect(url_for(".code_list", list_name=list_name))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
        form = request.form
    else:
        form = {
            "label_sv": entry.label_sv,
            "label_en": entry.label_en,
            "historical": "on" if entry.historical else "",
        }
    return render_template(
        "codes/edit.html",
        entry=entry,
        title=ops.list_title(list_name),
        form=form,
        errors=errors,
    ), (422 if errors else 200)


@bp.post("/<list_name>/<int:code_id>/move")
@access(Role.ADMIN)
def move(list_name: str, code_id: int):
    """Move a code one step up or down in the list."""
    entry = _code(_list_or_404(list_name), code_id)
    ops.move_code(entry, "up" if request.form.get("direction") == "up" else "down")
    log_access("code", entry.id, action="update")
    db.session.commit()
    return redirect(url_for(".code_list", list_name=list_name) + f"#code-{entry.id}")

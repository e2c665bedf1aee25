"""The import page of historical self-ratings, beside the participant import (statistics_bp)."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from coordination.core.permissions import access
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.statistics import permissions as perms
from coordination.statistics import rating_import
from coordination.statistics.importing import ImportRejected
from coordination.statistics.views import MAX_UPLOAD, bp


@bp.route("/import/ratings", methods=["GET", "POST"])
@access(*perms.IMPORT_ROLES)
def import_ratings_page():
    """Import historical self-ratings from a CSV file; nothing is kept if a row is bad."""
    programmes = list(db.session.scalars(select(Programme).order_by(Programme.name)))
    context = {
        "programme_options": [(str(p.id), p.name) for p in programmes],
        "columns": rating_import.RATING_COLUMNS,
        "row_errors": [],
        "errors": {},
        "form": request.form,
        "summary": None,
    }
    if request.method == "GET":
        return render_template("statistics/import_ratings.html", **context)
    upload = request.files.get("file")
    programme_id = request.form.get("programme_id", type=int)
    errors = {}
    if upload is None or not upload.filename:
        errors["file"] = [_("Välj en CSV-fil.")]
    if programme_id and db.session.get(Programme, programme_id) is None:
        errors["programme_id"] = [_("Välj en insats i listan.")]
    content = b""
    if not errors:
        content = upload.read(MAX_UPLOAD + 1) if upload else b""
        if len(content) > MAX_UPLOAD:
            errors["file"] = [_("Filen är för stor.")]
    if errors:
        return render_template(
            "statistics/import_ratings.html", **context | {"errors": errors}
        ), 422
    try:
        summary = rating_import.import_ratings(
            content, by=current_user, programme_id=programme_id or None
        )
    except ImportRejected as exc:
        db.session.rollback()
        return render_template(
            "statistics/import_ratings.html",
            **context | {"row_errors": exc.row_errors, "errors": {"file": [exc.message]}},
        ), 422
    rating_import.log_import(summary)
    db.session.commit()
    return render_template("statistics/import_ratings.html", **context | {"summary": summary})

"""Statistics endpoints: GET /api/v1/statistics/{report} and the participant import."""

from __future__ import annotations

from flask import abort, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from coordination.api import bp
from coordination.api.registry import endpoint
from coordination.audit.operations import log_access
from coordination.core.errors import ValidationFailed
from coordination.core.parsing import is_digits
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.statistics import importing, reports
from coordination.statistics import permissions as perms
from coordination.statistics.models import SusRegistration, SusSupport
from coordination.statistics.reports.base import parse_filters
from coordination.statistics.schemas import (
    ImportSummarySchema,
    ReportListItemSchema,
    ReportSchema,
)
from workflows.organisation import Role

MAX_UPLOAD = 50 * 1024 * 1024


@endpoint(
    bp,
    "GET",
    "/statistics",
    "The reports that GET /statistics/{report} answers",
    response=ReportListItemSchema,
    many=True,
    roles=perms.REPORT_ROLES,
)
def list_reports():
    """List the reports."""
    items = [
        {
            "report": d.name,
            "title": str(d.title),
            "group": str(d.group),
            "uses_occasion": d.uses_occasion,
        }
        for d in reports.REPORTS.values()
    ]
    return jsonify({"items": items, "total": len(items)})


@endpoint(
    bp,
    "GET",
    "/statistics/<report_name>",
    "A report as JSON (filters: programme_id, date_from, date_to, municipality, population, "
    "occasion, suppress, band_start, band_end, band_width; referring_agency and gender_balance: "
    "level=kind|organisation; gender_balance: per=month|period). Counts are integers; with "
    "suppress=1 a count of 1-4 is null and its column is listed in the object's `suppressed`. "
    "Among the reports: `attendance` (attendance and escalations) and `targets` (each programme "
    "target against its outcome, with numerator, denominator and `met`)",
    response=ReportSchema,
    roles=perms.REPORT_ROLES,
)
def get_report(report_name: str):
    """Build one report; counts per gender with a total, percentages with one decimal."""
    if report_name not in reports.REPORTS:
        abort(404)
    filters = parse_filters(request.args)
    result = reports.run(report_name, filters)
    return jsonify(result.as_json())


@endpoint(
    bp,
    "POST",
    "/imports/participants",
    "Import participant records: a CSV file (multipart field 'file', or a text/csv body) with "
    "the columns of DOMAIN.md §12; all rows or none (422 lists row_errors: line, column, reason)",
    response=ImportSummarySchema,
    roles=(Role.ADMIN,),
    status=201,
)
def import_participants():
    """Import historical participant records, all or nothing."""
    upload = request.files.get("file")
    if upload is not None:
        filename, content = upload.filename or "upload.csv", upload.read(MAX_UPLOAD + 1)
    else:
        filename, content = "upload.csv", request.get_data(cache=False)
    errors = {}
    if not content:
        errors["file"] = [_("Skicka en CSV-fil.")]
    elif len(content) > MAX_UPLOAD:
        errors["file"] = [_("Filen är för stor.")]
    programme_id = request.args.get("programme_id") or request.form.get("programme_id")
    if programme_id and (
        not is_digits(programme_id) or db.session.get(Programme, int(programme_id)) is None
    ):
        errors["programme_id"] = [_("Det finns ingen insats med det id:t.")]
    if errors:
        raise ValidationFailed(_("Filen kunde inte tas emot."), errors=errors)
    batch = importing.import_participants(
        filename, content, by=current_user, programme_id=int(programme_id) if programme_id else None
    )
    log_access("sus_import", batch.id, action="import")
    db.session.commit()
    registrations = db.session.scalar(
        select(func.count())
        .select_from(SusRegistration)
        .where(SusRegistration.participant.has(import_batch_id=batch.id))
    )
    supports = db.session.scalar(
        select(func.count())
        .select_from(SusSupport)
        .join(SusRegistration)
        .where(SusRegistration.participant.has(import_batch_id=batch.id))
    )
    return jsonify(
        ImportSummarySchema().dump(
            {
                "batch_id": batch.id,
                "participants": batch.participant_count,
                "registrations": registrations,
                "support_registrations": supports,
            }
        )
    ), 201

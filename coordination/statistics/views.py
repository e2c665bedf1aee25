"""Statistics pages: reports with chart and exports, the import, participants' self-ratings.

Also the conference overview (the referral funnel of a period), which keeps its place among the
conference pages: /conferences/overview on the conferences blueprint (conferences.overview).
"""

from __future__ import annotations

from datetime import date

import click
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError as SchemaError
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from coordination.audit.operations import log_access
from coordination.codes.operations import codes_among, label_of
from coordination.conferences.views import bp as conferences_bp
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import local_today, translate_schema_messages
from coordination.core.pages import render_committed, render_read
from coordination.core.paging import keyset_page
from coordination.core.permissions import access, get_visible, require
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.statistics import charts, exports, importing, queries, reports
from coordination.statistics import operations as ops
from coordination.statistics import permissions as perms
from coordination.statistics.models import ImportBatch, SusParticipant
from coordination.statistics.reports.base import parse_filters
from coordination.statistics.reports.referrals import period_funnel
from coordination.statistics.schemas import RatingLoadSchema
from workflows.organisation import Role
from workflows.statistics import PROGRESSION_QUESTIONS, Occasion, Population, percent

bp = Blueprint("statistics", __name__, url_prefix="/statistics")

REPORT_ROLES = perms.REPORT_ROLES
MAX_UPLOAD = 50 * 1024 * 1024


@bp.cli.command("ratings-due")
@click.option("--date", "day", default=None, help="The day to check (default: today).")
def ratings_due(day: str | None):
    """Record ProgressionRatingDue for every participant whose self-rating is due (daily)."""
    today = date.fromisoformat(day) if day else local_today()
    announced = ops.record_due_ratings(today)
    db.session.commit()
    click.echo(f"{len(announced)} self-ratings due on {today.isoformat()}.")


@bp.get("/")
@access(Role.ANALYST, Role.TEAM_LEAD, Role.ADMIN, Role.COORDINATOR)
def index():
    """The statistics start page: reports by group, import and participants by role."""
    groups: dict[str, list] = {}
    for definition in reports.REPORTS.values():
        groups.setdefault(str(definition.group), []).append(definition)
    return render_template(
        "statistics/index.html",
        groups=groups,
        can_view_reports=perms.can_view_reports(current_user),
        can_import=perms.can_import(current_user),
        can_view_participants=current_user.has_any_role(perms.PARTICIPANT_ROLES),
    )


def _definition(name: str) -> reports.Definition:
    definition = reports.REPORTS.get(name)
    if definition is None:
        abort(404)
    return definition


def _form_options() -> dict:
    programmes = list(db.session.scalars(select(Programme).order_by(Programme.name)))
    municipalities = queries.home_municipalities()
    # Labelled as the code list reads (historical codes included), a free text as it reads: one
    # read of the codes named, not one per municipality nor the whole list.
    named = {code.code: label_of(code) for code in codes_among("municipality", municipalities)}
    return {
        "programme_options": [(str(p.id), p.name) for p in programmes],
        "municipality_options": [(m, named.get(m, m)) for m in municipalities],
        "population_options": [(p.value, p.value) for p in Population],
        "occasion_options": [(o.value, o.value) for o in Occasion],
        "level_options": [
            ("kind", _("Myndighet")),
            ("organisation", _("Medlemsorganisation")),
        ],
        "per_options": [("month", _("Per månad")), ("period", _("Hela perioden"))],
    }


@bp.get("/reports/<name>")
@access(*REPORT_ROLES)
def report_page(name: str):
    """Show one report: filters, the table, the chart beside it and the export links."""
    definition = _definition(name)
    try:
        filters = parse_filters(request.args)
    except ValidationFailed as exc:
        return render_template(
            "statistics/report.html",
            definition=definition,
            result=None,
            form=request.args,
            errors=exc.errors,
            **_form_options(),
        ), 422
    result = reports.run(name, filters)
    return render_template(
        "statistics/report.html",
        definition=definition,
        result=result,
        form=request.args,
        errors={},
        query=filters.query_args(),
        share=percent,
        **_form_options(),
    )


@bp.get("/reports/<name>/chart.svg")
@access(*REPORT_ROLES)
def report_chart(name: str):
    """The report's chart as an SVG image (no script; the table holds the same figures)."""
    _definition(name)
    filters = parse_filters(request.args)
    svg = charts.report_chart(reports.run(name, filters))
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = charts.CHART_CSP
    return response


@bp.get("/reports/<name>/export.<fmt>")
@access(*REPORT_ROLES)
def report_export(name: str, fmt: str):
    """Download the report as CSV or XLSX (logged as an export; no person is involved)."""
    _definition(name)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    filters = parse_filters(request.args)
    result = reports.run(name, filters)
    log_access("statistics", name, action="export")
    db.session.commit()
    stamp = local_today().isoformat()
    if fmt == "csv":
        body, mimetype = exports.to_csv(result), "text/csv; charset=utf-8"
    else:
        body = exports.to_xlsx(result)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{fmt}"'
    return response


@bp.route("/import", methods=["GET", "POST"])
@access(Role.ADMIN)
def import_page():
    """Import historical participant records from a CSV file; nothing is kept if a row is bad."""
    programmes = list(db.session.scalars(select(Programme).order_by(Programme.name)))
    context = {
        "programme_options": [(str(p.id), p.name) for p in programmes],
        "columns": importing.IMPORT_COLUMNS,
        "row_errors": [],
        "errors": {},
        "form": request.form,
        "batches": list(
            db.session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(10))
        ),
    }
    if request.method == "GET":
        return render_template("statistics/import.html", **context)
    upload = request.files.get("file")
    programme_id = request.form.get("programme_id", type=int)
    errors = {}
    if upload is None or not upload.filename:
        errors["file"] = [_("Välj en CSV-fil.")]
    if programme_id and db.session.get(Programme, programme_id) is None:
        errors["programme_id"] = [_("Välj en insats i listan.")]
    if errors:
        return render_template("statistics/import.html", **context | {"errors": errors}), 422
    content = upload.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        errors["file"] = [_("Filen är för stor.")]
        return render_template("statistics/import.html", **context | {"errors": errors}), 422
    try:
        batch = importing.import_participants(
            upload.filename, content, by=current_user, programme_id=programme_id or None
        )
    except importing.ImportRejected as exc:
        db.session.rollback()
        return render_template(
            "statistics/import.html",
            **context
            | {
                "row_errors": exc.row_errors,
                "errors": {"file": [exc.message]},
            },
        ), 422
    log_access("sus_import", batch.id, action="import")
    db.session.commit()
    flash(
        _(
            "%(count)s deltagare importerades från %(file)s.",
            count=batch.participant_count,
            file=batch.filename,
        ),
        "success",
    )
    return redirect(url_for(".import_page"))


@bp.get("/participants")
@access(*perms.PARTICIPANT_ROLES)
def participants():
    """Find a participant's SUS record by reference (no names are kept here)."""
    ref = (request.args.get("ref") or "").strip()
    found = None
    if ref:
        found = keyset_page(
            perms.visible_participants(current_user).where(
                func.lower(SusParticipant.participant_ref) == ref.lower()
            ),
            [],
            SusParticipant.id,
            options=[
                selectinload(SusParticipant.programme),
                selectinload(SusParticipant.ratings),
            ],
        )
        persons = perms.persons_by_case(found)
        for participant in found:
            log_access(
                "sus_participant",
                participant.id,
                action="list",
                person_id=persons.get(participant.case_id),
            )
    return render_committed(
        "statistics/participants.html", ref=ref, found=found, due_on=queries.rating_due_on
    )


def _participant(participant_id: int) -> SusParticipant:
    return get_visible(
        SusParticipant, participant_id, perms.can_view_participant, person=perms.person_of
    )


def _detail(participant: SusParticipant, form, errors, status=200):
    """The participant's page, its read logged with the person (also after a refused rating)."""
    return render_read(
        "statistics/participant.html",
        ("sus_participant", participant.id, perms.person_of(participant)),
        status,
        participant=participant,
        questions=PROGRESSION_QUESTIONS,
        occasions=[o.value for o in Occasion],
        due_on=queries.rating_due_on(participant),
        can_record=perms.can_record_rating(current_user, participant),
        form=form,
        errors=errors,
    )


@bp.get("/participants/<int:participant_id>")
@access(*perms.PARTICIPANT_ROLES)
def participant(participant_id: int):
    """A participant's SUS registrations and self-ratings, with the radar chart."""
    found = _participant(participant_id)
    return _detail(found, {"rated_on": local_today().isoformat()}, {})


@bp.post("/participants/<int:participant_id>/ratings")
@access(*perms.PARTICIPANT_ROLES)
def add_rating(participant_id: int):
    """Record a self-rating (ten questions, 1-10)."""
    found = _participant(participant_id)
    require(perms.can_record_rating(current_user, found))
    raw = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    try:
        data = RatingLoadSchema().load(raw)
        ops.record_rating(found, rated_on=data.pop("rated_on"), scores=data, by=current_user)
    except SchemaError as exc:
        db.session.rollback()
        return _detail(found, request.form, translate_schema_messages(exc.messages), 422)
    except ValidationFailed as exc:
        db.session.rollback()
        return _detail(found, request.form, exc.errors, 422)
    log_access("sus_participant", found.id, action="update", person_id=perms.person_of(found))
    db.session.commit()
    flash(_("Skattningen är sparad."), "success")
    return redirect(url_for(".participant", participant_id=found.id))


@bp.get("/participants/<int:participant_id>/radar.svg")
@access(*perms.PARTICIPANT_ROLES)
def radar(participant_id: int):
    """The participant's self-ratings as a radar chart, one polygon per occasion."""
    found = _participant(participant_id)
    log_access("sus_participant", found.id, action="read", person_id=perms.person_of(found))
    db.session.commit()
    response = Response(
        charts.radar_chart(found.participant_ref, found.ratings), mimetype="image/svg+xml"
    )
    response.headers["Content-Security-Policy"] = charts.CHART_CSP
    return response


# --- the conference overview: the referral funnel of a period --------------------------------


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _active_programmes() -> list[Programme]:
    return list(
        db.session.scalars(
            select(Programme).where(Programme.active.is_(True)).order_by(Programme.name)
        )
    )


@conferences_bp.get("/overview")
@access(Role.TEAM_LEAD)
def overview():
    """The referral funnel for a period: received, decided, admitted, recommended, withdrawn."""
    today = local_today()
    errors: dict = {}
    start = _parse_day(request.args.get("from")) if request.args.get("from") else None
    end = _parse_day(request.args.get("to")) if request.args.get("to") else None
    if request.args.get("from") and start is None:
        errors["from"] = [_("Ange ett datum som ÅÅÅÅ-MM-DD.")]
    if request.args.get("to") and end is None:
        errors["to"] = [_("Ange ett datum som ÅÅÅÅ-MM-DD.")]
    start = start or date(today.year, 1, 1)
    end = end or today
    if not errors and end < start:
        errors["to"] = [_("Slutdatum kan inte ligga före startdatum.")]
    programme_id = request.args.get("programme_id", type=int)
    figures = None
    if not errors:
        figures = period_funnel(start, end, programme_id=programme_id)
    return render_template(
        "statistics/funnel.html",
        figures=figures,
        errors=errors,
        form={
            "from": request.args.get("from", start.isoformat()),
            "to": request.args.get("to", end.isoformat()),
            "programme_id": str(programme_id or ""),
        },
        programmes=_active_programmes(),
        start=start,
        end=end,
    ), (422 if errors else 200)

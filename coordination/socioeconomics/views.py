"""Socio-economic pages: the cohort calculation with its charts, exports and board report, the
saved calculations and their comparison. Price lists and costs are in price_views."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from coordination.audit.operations import log_access
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import local_today
from coordination.core.parsing import is_digits
from coordination.core.permissions import access, get_visible
from coordination.documents import render_pdf
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.socioeconomics import charts, exports, labels, queries
from coordination.socioeconomics import operations as ops
from coordination.socioeconomics import permissions as perms
from coordination.socioeconomics.models import PriceList, SavedCalculation
from coordination.statistics.charts import CHART_CSP
from workflows.socioeconomics import DEFAULT_HORIZON

bp = Blueprint("socioeconomics", __name__, url_prefix="/statistics/socio-economics")
# Saved figures keep actor keys; their names follow the reader's language.
bp.add_app_template_global(labels.actor, "socio_actor")


@bp.app_template_filter("kr")
def _kronor(value) -> str:
    """Format whole kronor with the user's digit grouping ('–' when missing)."""
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0")


COHORT_ARGS = ("programme_id", "exited_from", "exited_to", "price_list_id", "horizon_years")


@bp.get("/")
@access(*perms.PRICE_LIST_ROLES)
def index():
    """The socio-economic start page: the cohort calculation, comparisons, price lists, costs."""
    return render_template(
        "socioeconomics/index.html",
        can_view=perms.can_view(current_user),
        can_edit=perms.can_edit(current_user),
    )


def _form_options() -> dict:
    programmes = db.session.scalars(select(Programme).order_by(Programme.name))
    return {
        "programme_options": [(str(p.id), p.name) for p in programmes],
        "price_list_options": [(str(p.id), p.title) for p in queries.price_lists()],
    }


def _cohort_args() -> dict:
    return {k: request.args.get(k, "") for k in COHORT_ARGS}


@bp.get("/cohort")
@access(*perms.VIEW_ROLES)
def cohort():
    """A cohort's calculation: choose programme, exit period, price list and horizon."""
    args = _cohort_args()
    context = {"form": args, "errors": {}, "report": None, **_form_options()}
    if not any(args[k] for k in ("programme_id", "exited_from", "exited_to")):
        context["form"] = args | {"horizon_years": args["horizon_years"] or DEFAULT_HORIZON}
        return render_template("socioeconomics/cohort.html", **context)
    try:
        report = queries.run_cohort(args)
    except ValidationFailed as exc:
        return render_template(
            "socioeconomics/cohort.html", **context | {"errors": exc.errors}
        ), 422
    log_access("socio_economics", report.programme.id, action="read")
    html = render_template(
        "socioeconomics/cohort.html",
        **context | {"report": report, "rows": report.rows(), "query": _query(report)},
    )
    db.session.commit()
    return html


def _query(report) -> dict:
    return {
        "programme_id": report.programme.id,
        "exited_from": report.exited_from.isoformat(),
        "exited_to": report.exited_to.isoformat(),
        "price_list_id": report.price_list.id,
        "horizon_years": report.horizon,
    }


@bp.get("/cohort/<kind>.svg")
@access(*perms.VIEW_ROLES)
def cohort_chart(kind: str):
    """The cohort's payback or before/after chart as SVG."""
    draw = {"payback": charts.payback_chart, "resources": charts.resources_chart}.get(kind)
    if draw is None:
        abort(404)
    report = queries.run_cohort(_cohort_args())
    response = Response(draw(report), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = CHART_CSP
    return response


@bp.get("/cohort/export.<fmt>")
@access(*perms.VIEW_ROLES)
def cohort_export(fmt: str):
    """Download the calculation as CSV or XLSX (logged as an export of aggregates)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    report = queries.run_cohort(_cohort_args())
    log_access("socio_economics", report.programme.id, action="export")
    db.session.commit()
    if fmt == "csv":
        body, mimetype = exports.to_csv(report), "text/csv; charset=utf-8"
    else:
        body = exports.to_xlsx(report)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    stamp = local_today().isoformat()
    response.headers["Content-Disposition"] = (
        f'attachment; filename="samhallsekonomi-{report.programme.id}-{stamp}.{fmt}"'
    )
    return response


@bp.get("/cohort/report.pdf")
@access(*perms.VIEW_ROLES)
def cohort_pdf():
    """The board report as an accessible PDF: method, assumptions, figures and price list."""
    report = queries.run_cohort(_cohort_args())
    log_access("socio_economics", report.programme.id, action="print")
    html = render_template(
        "socioeconomics/report_pdf.html",
        report=report,
        rows=report.rows(),
        today=local_today(),
        labels=labels,
    )
    db.session.commit()
    headers = {
        "Content-Disposition": f'inline; filename="samhallsekonomi-{report.programme.id}.pdf"'
    }
    return Response(render_pdf(html), mimetype="application/pdf", headers=headers)


@bp.post("/cohort/save")
@access(*perms.VIEW_ROLES)
def save_cohort():
    """Keep the calculation (its figures and the price list it used) for comparisons."""
    args = {k: request.form.get(k, "") for k in COHORT_ARGS}
    chosen = args["price_list_id"].strip()
    if is_digits(chosen):
        # Lock the version before its prices are read: an edit in flight finishes first.
        db.session.scalar(select(PriceList).where(PriceList.id == int(chosen)).with_for_update())
    try:
        report = queries.run_cohort(args)
    except ValidationFailed as exc:
        db.session.rollback()
        context = {"form": args, "errors": exc.errors, "report": None, **_form_options()}
        return render_template("socioeconomics/cohort.html", **context), 422
    saved = ops.save_calculation(report, by=current_user)
    log_access("socio_calculation", saved.id, action="create")
    db.session.commit()
    flash(_("Beräkningen är sparad."), "success")
    return redirect(url_for(".compare", first=saved.id))


def _saved_options() -> list[tuple[str, str]]:
    return [
        (
            str(c.id),
            _(
                "%(programme)s, utskrivna %(start)s–%(end)s, %(list)s (nr %(id)s)",
                programme=c.programme.name,
                start=c.exited_from.isoformat(),
                end=c.exited_to.isoformat(),
                list=c.figures["price_list"]["name"]
                + f" {c.figures['price_list']['year']} v{c.figures['price_list']['version']}",
                id=c.id,
            ),
        )
        for c in queries.saved_calculations()
    ]


def _saved(raw: str | None, errors: dict, field: str) -> SavedCalculation | None:
    text = (raw or "").strip()
    found = db.session.get(SavedCalculation, int(text)) if is_digits(text) else None
    if found is None:
        errors[field] = [_("Välj en sparad beräkning i listan.")]
    return found


@bp.get("/compare")
@access(*perms.VIEW_ROLES)
def compare():
    """Two saved calculations side by side; refused when their price lists differ, unless the
    user ticks "compare anyway"."""
    form = {k: request.args.get(k, "") for k in ("first", "second", "anyway")}
    errors: dict = {}
    pair = None
    if form["first"] and form["second"]:
        first = _saved(form["first"], errors, "first")
        second = _saved(form["second"], errors, "second")
        if first and second:
            if first.price_list_id != second.price_list_id and not form["anyway"]:
                errors["anyway"] = [
                    _(
                        "Beräkningarna använder olika prislistor (%(first)s och %(second)s) och "
                        "kan inte jämföras rakt av. Kryssa i Jämför ändå om du vill se dem sida "
                        "vid sida.",
                        first=first.price_list.title,
                        second=second.price_list.title,
                    )
                ]
            else:
                pair = (first, second)
                for saved in pair:
                    log_access("socio_calculation", saved.id, action="read")
    elif form["second"] and not form["first"]:
        errors["first"] = [_("Välj en sparad beräkning i listan.")]
    html = render_template(
        "socioeconomics/compare.html",
        form=form,
        errors=errors,
        pair=pair,
        saved_options=_saved_options(),
        differ=bool(pair and pair[0].price_list_id != pair[1].price_list_id),
    )
    db.session.commit()
    return html, (422 if errors else 200)


@bp.get("/calculations/<int:calculation_id>")
@access(*perms.VIEW_ROLES)
def calculation(calculation_id: int):
    """One saved calculation as it was saved."""
    saved = get_visible(SavedCalculation, calculation_id, lambda user, row: True)
    log_access("socio_calculation", saved.id, action="read")
    html = render_template("socioeconomics/calculation.html", saved=saved)
    db.session.commit()
    return html


from coordination.socioeconomics import price_views  # noqa: E402,F401  (its routes on bp)

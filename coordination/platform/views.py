"""The installation's own pages: the förbund (platform administrator) and the statistics across
förbund (national analyst). Nothing here shows a participant, a case or a person."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordination.audit.operations import log_access
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import local_today
from coordination.core.parsing import is_digits
from coordination.core.permissions import platform_access, require, rule_for
from coordination.core.spreadsheet import table_csv
from coordination.extensions import db
from coordination.platform import national, queries
from coordination.tenancy.admin import create_forbund_with_admin
from coordination.tenancy.context import current_id, use

bp = Blueprint("platform", __name__, url_prefix="/platform")

PLATFORM_ADMIN = "platform_admin"
NATIONAL_ANALYST = "national_analyst"
FIRST_YEAR = 2000
FORM_FIELDS = ("name", "slug", "admin_name", "admin_email")
# What an account with a platform role opens besides the platform pages: its own account (the
# start page sends it on to its platform page).
ACCOUNT_ENDPOINTS = frozenset(
    {"home.index", "auth.logout", "auth.account", "auth.change_password", "auth.revoke_api_token"}
)


def install(app) -> None:
    """Refuse an account with a platform role every page of a förbund (403), also those any
    signed-in user may open (the inbox, the choice of förbund): it works in no förbund and sees
    no case content. Runs after the access rules (core.permissions), so sign-in comes first."""

    @app.before_request
    def _platform_accounts_stay_on_platform_pages():
        if request.endpoint is None or request.blueprint == bp.name:
            return None
        if not current_user.is_authenticated or not getattr(current_user, "platform_role", None):
            return None
        if current_id() is not None or request.endpoint in ACCOUNT_ENDPOINTS:
            return None  # (in a förbund, should the account ever hold a role there: its rules)
        rule = rule_for(app, request.endpoint)
        if rule is not None and rule.public:
            return None
        require(False)
        return None


@bp.get("/forbund")
@platform_access(PLATFORM_ADMIN)
def forbund_index():
    """List the förbund of the installation with how many people hold roles in each."""
    return render_template("platform/forbund.html", lines=queries.forbund_overview())


@bp.route("/forbund/new", methods=["GET", "POST"])
@platform_access(PLATFORM_ADMIN)
def new_forbund():
    """Create a förbund and its first administrator, who is sent a link to choose a password."""
    errors: dict = {}
    if request.method == "POST":
        try:
            created = create_forbund_with_admin(
                slug=request.form.get("slug", ""),
                name=request.form.get("name", ""),
                admin_email=request.form.get("admin_email", ""),
                admin_name=request.form.get("admin_name", ""),
            )
            log_access("forbund", created.forbund.id, action="create", role=PLATFORM_ADMIN)
            db.session.flush()  # the installation's row, before the commit within the förbund
            with use(created.forbund.id):  # the activation message is the new förbund's
                db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            if created.new_account:
                flash(
                    _(
                        "Förbundet %(name)s är skapat. Administratören får ett e-postmeddelande "
                        "med en länk för att välja sitt lösenord.",
                        name=created.forbund.name,
                    ),
                    "success",
                )
            else:
                flash(
                    _(
                        "Förbundet %(name)s är skapat. Kontot fanns redan och har nu rollen "
                        "administratör i förbundet.",
                        name=created.forbund.name,
                    ),
                    "success",
                )
            return redirect(url_for(".forbund_index"))
    form = {name: request.form.get(name, "") for name in FORM_FIELDS}
    return render_template("platform/forbund_form.html", form=form, errors=errors), (
        422 if errors else 200
    )


def _year() -> tuple[int | None, dict]:
    """Return the year asked for (this year by default) or the errors."""
    raw = (request.args.get("year") or "").strip()
    this_year = local_today().year
    if not raw:
        return this_year, {}
    if not is_digits(raw) or not FIRST_YEAR <= int(raw) <= this_year:
        message = _("Ange ett år från %(low)s till %(high)s.", low=FIRST_YEAR, high=this_year)
        return None, {"year": [message]}
    return int(raw), {}


@bp.get("/statistics")
@platform_access(NATIONAL_ANALYST)
def statistics():
    """Show a year's figures per förbund and for the whole country, small counts hidden."""
    year, errors = _year()
    table = None if year is None else national.national_table(year, _("Alla förbund"))
    form = {"year": request.args.get("year") or (year or "")}
    return render_template(
        "platform/statistics.html",
        table=table,
        measures=national.MEASURES,
        form=form,
        errors=errors,
        complement=national.COMPLEMENT,
    ), (422 if errors else 200)


@bp.get("/statistics.csv")
@platform_access(NATIONAL_ANALYST)
def statistics_csv():
    """Download the same table as CSV (logged as an export; no person is involved)."""
    year, errors = _year()
    if year is None:
        return redirect(url_for(".statistics", year=request.args.get("year", "")))
    table = national.national_table(year, _("Alla förbund"))
    log_access("statistics", "national", action="export", role=NATIONAL_ANALYST)
    db.session.commit()
    preamble = [
        [_("Statistik för alla förbund %(year)s", year=year)],
        [_("Antal under 5 visas som %(mark)s.", mark="<5")],
        [
            _(
                "%(mark)s: dold så att ett litet antal inte kan räknas fram ur summorna.",
                mark=national.COMPLEMENT,
            )
        ],
    ]
    header = [_("Förbund"), *(str(title) for title in national.MEASURES.values())]
    rows = [
        [line.name, *(line.shown[m] for m in national.MEASURES)]
        for line in [*table.lines, table.total]
    ]
    response = Response(table_csv(preamble, header, rows), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="statistik-alla-forbund-{year}.csv"'
    )
    return response

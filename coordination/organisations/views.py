"""Admin pages of the organisation: the förbund's own days off."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from coordination.audit.operations import log_access
from coordination.core.errors import ValidationFailed
from coordination.core.permissions import access
from coordination.extensions import db
from coordination.organisations import calendar
from coordination.referrals.operations import local_today
from workflows.organisation import Role

bp = Blueprint("organisations", __name__, url_prefix="/admin")


def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


@bp.route("/days-off", methods=["GET", "POST"])
@access(Role.ADMIN)
def days_off():
    """List the förbund's coming days off and add one."""
    errors: dict = {}
    if request.method == "POST":
        try:
            entry = calendar.add_day_off(
                _parse_date(request.form.get("date", "")), request.form.get("name", "")
            )
            log_access("day_off", entry.id, action="create")
            db.session.commit()
            flash(_("Den lediga dagen är tillagd."), "success")
            return redirect(url_for(".days_off"))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    shown_all = request.args.get("visa") == "alla"
    return render_template(
        "organisations/days_off.html",
        days=calendar.days_off(None if shown_all else local_today()),
        shown_all=shown_all,
        errors=errors,
        form=request.form,
    ), (422 if errors else 200)


@bp.post("/days-off/<int:day_off_id>/delete")
@access(Role.ADMIN)
def delete_day_off(day_off_id: int):
    """Remove one of the förbund's days off."""
    calendar.remove_day_off(day_off_id)
    log_access("day_off", day_off_id, action="delete")
    db.session.commit()
    flash(_("Den lediga dagen är borttagen."), "success")
    return redirect(url_for(".days_off"))

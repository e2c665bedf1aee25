"""Admin pages of the organisation: its units, the förbund's own days off, role grants, the
letterhead on its documents."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordination.audit.operations import log_access
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import label, local_today
from coordination.core.permissions import access
from coordination.extensions import db
from coordination.organisations import calendar, grants, letterhead, members, units
from coordination.organisations.models import MemberOrganisation, OrganisationUnit
from workflows.organisation import AgencyKind, Role

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


def _unit_form_values() -> dict:
    return {
        "name": request.form.get("name"),
        "agency_kind": request.form.get("agency_kind"),
        "municipality": request.form.get("municipality"),
        "member_organisation_id": request.form.get("member_organisation_id"),
    }


def _agency_options() -> list[tuple[str, str]]:
    return [(k.value, label("agency", k.value)) for k in AgencyKind]


def _member_options() -> list[tuple[str, str]]:
    return [
        (str(m.id), f"{m.name} ({label('agency', m.kind)})")
        for m in members.all_member_organisations()
    ]


@bp.route("/units", methods=["GET", "POST"])
@access(Role.ADMIN)
def units_index():
    """List the organisation units and add one."""
    errors: dict = {}
    if request.method == "POST":
        try:
            unit = units.save_unit(None, **_unit_form_values())
            log_access("organisation_unit", unit.id, action="create")
            db.session.commit()
            flash(_("Enheten %(name)s är tillagd.", name=unit.name), "success")
            return redirect(url_for(".units_index"))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template(
        "organisations/units.html",
        rows=units.units_with_member_counts(),
        agencies=_agency_options(),
        member_options=_member_options(),
        errors=errors,
        form=request.form,
    ), (422 if errors else 200)


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def edit_unit(unit_id: int):
    """Rename a unit, change its municipality, or take it out of use (or back into use)."""
    unit = db.session.get(OrganisationUnit, unit_id) or abort(404)
    errors: dict = {}
    form: dict = {
        "name": unit.name,
        "agency_kind": unit.agency_kind,
        "municipality": unit.municipality or "",
        "active": "on" if unit.active else "",
        "member_organisation_id": str(unit.member_organisation_id or ""),
    }
    if request.method == "POST":
        form = request.form
        try:
            units.save_unit(unit, **_unit_form_values(), active=request.form.get("active") == "on")
            log_access("organisation_unit", unit.id, action="update")
            db.session.commit()
            flash(_("Enheten %(name)s är sparad.", name=unit.name), "success")
            return redirect(url_for(".units_index"))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template(
        "organisations/unit.html",
        unit=unit,
        agencies=_agency_options(),
        member_options=_member_options(),
        errors=errors,
        form=form,
    ), (422 if errors else 200)


@bp.get("/grants")
@access(Role.ADMIN)
def grants_index():
    """The role grants waiting for a second administrator."""
    return render_template(
        "organisations/grants.html", waiting=grants.pending(), me=current_user.id
    )


@bp.post("/grants/<int:grant_id>")
@access(Role.ADMIN)
def decide_grant(grant_id: int):
    """Approve or reject a waiting grant (never one's own, never one to oneself)."""
    decision = request.form.get("decision")
    if decision not in ("approve", "reject"):
        abort(400)
    if decision == "approve":
        grant = grants.approve(grant_id, by=current_user)
        message = _(
            "%(role)s för %(name)s är godkänd och gäller nu.",
            role=label("role", grant.role),
            name=grant.user.name,
        )
    else:
        grant = grants.reject(grant_id, by=current_user)
        message = _(
            "%(role)s för %(name)s är avslagen.",
            role=label("role", grant.role),
            name=grant.user.name,
        )
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".grants_index"))


# --- the förbund's member organisations (../shared/DOMAIN.md §12) -----------------------------


def _member_kind_options() -> list[tuple[str, str]]:
    return [(kind, label("agency", kind)) for kind in members.KINDS]


@bp.route("/member-organisations", methods=["GET", "POST"])
@access(Role.ADMIN)
def member_organisations():
    """List the förbund's member organisations and register one."""
    errors: dict = {}
    if request.method == "POST":
        try:
            organisation = members.save_member_organisation(
                None,
                code=request.form.get("code"),
                name=request.form.get("name"),
                kind=request.form.get("kind"),
            )
            log_access("member_organisation", organisation.id, action="create")
            db.session.commit()
            flash(_("%(name)s är tillagd.", name=organisation.name), "success")
            return redirect(url_for(".member_organisations"))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template(
        "organisations/member_organisations.html",
        rows=members.all_member_organisations(),
        kinds=_member_kind_options(),
        errors=errors,
        form=request.form,
    ), (422 if errors else 200)


@bp.route("/member-organisations/<int:member_organisation_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def edit_member_organisation(member_organisation_id: int):
    """Correct a member organisation's name (its code and kind never change)."""
    organisation = db.session.get(MemberOrganisation, member_organisation_id) or abort(404)
    errors: dict = {}
    form: dict = {"name": organisation.name}
    if request.method == "POST":
        form = request.form
        try:
            members.save_member_organisation(
                organisation, code=None, name=request.form.get("name"), kind=None
            )
            log_access("member_organisation", organisation.id, action="update")
            db.session.commit()
            flash(_("%(name)s är sparad.", name=organisation.name), "success")
            return redirect(url_for(".member_organisations"))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template(
        "organisations/member_organisation.html",
        organisation=organisation,
        errors=errors,
        form=form,
    ), (422 if errors else 200)


@bp.route("/letterhead", methods=["GET", "POST"])
@access(Role.ADMIN)
def letterhead_edit():
    """The förbund's name and contact details, printed at the top of every document."""
    errors: dict = {}
    if request.method == "POST":
        try:
            saved = letterhead.save_letterhead(
                **{k: request.form.get(k) for k in letterhead.LIMITS}
            )
            log_access("letterhead", saved.id, action="update")
            db.session.commit()
            flash(_("Brevhuvudet är sparat. Det syns på nya utskrifter."), "success")
            return redirect(url_for(".letterhead_edit"))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    current = letterhead.sender()
    form = (
        request.form
        if errors
        else {
            "name": current.name,
            "address": current.address,
            "phone": current.phone,
            "email": current.email,
            "website": current.website,
        }
    )
    return render_template(
        "organisations/letterhead.html", form=form, errors=errors, saved=letterhead.stored()
    ), (422 if errors else 200)

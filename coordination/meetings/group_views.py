"""Group activity pages: the list, setting one up, one group with its participants and enrolment,
and its sessions as a calendar file. Registered on the meetings blueprint (views.bp), so the
endpoints are meetings.groups, meetings.new_group, meetings.group, meetings.enrol and
meetings.group_calendar.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordination.audit.operations import log_access
from coordination.cases.models import Case
from coordination.core.db import utcnow
from coordination.core.errors import DomainError, ValidationFailed
from coordination.core.parsing import load_form, read_form, refuse_unreadable, with_unreadable
from coordination.core.permissions import access, get_visible, require
from coordination.extensions import db
from coordination.meetings import groups as group_ops
from coordination.meetings import ical, queries
from coordination.meetings import permissions as perms
from coordination.meetings.schemas import EnrolSchema, GroupFormSchema
from coordination.meetings.views import bp
from workflows.meeting import GROUP_PRESETS
from workflows.organisation import Role

GROUP_ROLES = (Role.TEAM_LEAD, Role.COORDINATOR)


@bp.get("/groups/")
@access(*GROUP_ROLES)
def groups():
    """The group activities the user may see, newest first, a page at a time."""
    return render_template(
        "meetings/groups.html",
        groups=queries.groups_page(current_user),
        can_manage=perms.can_manage_groups(current_user),
        now=utcnow(),
    )


@bp.route("/groups/new", methods=["GET", "POST"])
@access(*GROUP_ROLES)
def new_group():
    """Set up a group activity; its sessions are generated from the schedule."""
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        read, unreadable = read_form(GroupFormSchema(), form)
        try:
            data = group_ops.GroupInput(**{**read, "preset": read.get("preset") or "other"})
            group = group_ops.create_group(data, by=current_user)
            refuse_unreadable(unreadable)
            log_access("group", group.id, action="create")
            db.session.commit()
            flash(_("Gruppen är skapad med %(n)s tillfällen.", n=len(group.sessions)), "success")
            return redirect(url_for(".group", group_id=group.id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = with_unreadable(exc.errors, unreadable)
    else:
        preset = GROUP_PRESETS["halsogrupp"]
        form = {
            "preset": "halsogrupp",
            "leader_id": str(current_user.id),
            "capacity": str(preset.capacity),
            "weeks": str(preset.weeks),
            "weekdays": [str(d) for d in preset.weekdays],
            "start_time": preset.start.strftime("%H:%M"),
            "minutes": str(preset.minutes),
        }
    return render_template(
        "meetings/group_form.html",
        form=form,
        errors=errors,
        programmes=queries.active_programmes(),
        leaders=queries.group_leaders(),
        presets=GROUP_PRESETS,
    ), (422 if errors else 200)


@bp.get("/groups/<int:group_id>")
@access(*GROUP_ROLES)
def group(group_id: int):
    """A group activity: its sessions, its participants and room left, enrolment."""
    item = perms.load_group(group_id, read=True)
    for enrolment in item.current_enrolments:
        log_access("case", enrolment.case_id, action="list", person_id=enrolment.case.person_id)
    db.session.commit()
    return render_template(
        "meetings/group.html",
        group=item,
        participants=[
            (e, perms.participant_label(current_user, e.case)) for e in item.current_enrolments
        ],
        enrollable=[
            (c, perms.participant_label(current_user, c))
            for c in queries.enrollable_cases(item)
            if perms.can_enrol(current_user, item, c)
        ],
        now=utcnow(),
        errors={},
    )


@bp.post("/groups/<int:group_id>/enrol")
@access(*GROUP_ROLES)
def enrol(group_id: int):
    """Enrol a case in the group while it has room."""
    item = perms.load_group(group_id)
    case_id = load_form(EnrolSchema(), request.form)["case_id"]
    case = get_visible(Case, case_id, perms.can_view_case, kind="case")
    require(perms.can_enrol(current_user, item, case))
    try:
        group_ops.enrol(item, case, by=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".group", group_id=group_id))
    log_access("case", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    flash(_("Deltagandet är inskrivet i gruppen."), "success")
    return redirect(url_for(".group", group_id=group_id))


@bp.get("/groups/<int:group_id>/sessions.ics")
@access(*GROUP_ROLES)
def group_calendar(group_id: int):
    """Download every session of the group as one calendar file."""
    item = perms.load_group(group_id)
    data = ical.calendar_of([m for m in item.sessions if not m.cancelled])
    log_access("group", item.id, action="export")
    db.session.commit()
    return Response(
        data,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="grupp-{item.id}.ics"'},
    )

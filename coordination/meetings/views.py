"""Meeting pages: the overview, a case's meetings and ladder, booking, one meeting with its
invitation and attendance, and the meeting section of the case page. The same blueprint carries
the pages of tasks and escalations (ladder_views) and of group activities (group_views).
Each view: load, authorize, operate, commit, respond.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordination.audit.operations import log_access
from coordination.cases.models import Case
from coordination.core.db import utcnow
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import STOCKHOLM, label
from coordination.core.pages import render_committed
from coordination.core.parsing import is_digits, load_form, read_form
from coordination.core.permissions import access, get_visible, require
from coordination.extensions import db
from coordination.meetings import ical, ladder, queries
from coordination.meetings import operations as ops
from coordination.meetings import permissions as perms
from coordination.meetings.models import Meeting
from coordination.meetings.schemas import CancelSchema, MeetingFormSchema
from workflows.meeting import CASE_KINDS, AttendanceStatus, MeetingKind
from workflows.organisation import Role

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

STAFF = (Role.REFERRER, Role.TEAM_LEAD, Role.CONFERENCE_MEMBER, Role.COORDINATOR)


# --- helpers (group_views and ladder_views use them too) -------------------------------------


def _local(value: datetime | None) -> datetime | None:
    return value.astimezone(STOCKHOLM) if value else None


def _combine(day: date | None, at: time | None) -> datetime | None:
    """A local day and wall-clock time as an aware UTC datetime."""
    if day is None or at is None:
        return None
    return datetime.combine(day, at, tzinfo=STOCKHOLM).astimezone(UTC)


def case_glass(row) -> tuple[str, int] | None:
    """Return the case a row belongs to, for break-the-glass access."""
    return ("case", row.case_id) if row.case_id else None


def load_meeting(meeting_id: int) -> Meeting:
    """Load a meeting the current user may see, or answer 404."""
    return get_visible(Meeting, meeting_id, perms.can_view, glass=case_glass)


def _staff_choices() -> list[tuple[str, str]]:
    return [
        (str(user.id), f"{user.name} ({label('agency', queries.agency_of(user))})")
        for user in queries.active_staff()
    ]


def _person_id(meeting: Meeting) -> int | None:
    return meeting.case.person_id if meeting.case is not None else None


def _log_meeting(meeting: Meeting, action: str = "read") -> None:
    if meeting.case is not None:
        log_access("meeting", meeting.id, action=action, person_id=meeting.case.person_id)
    else:
        log_access("meeting", meeting.id, action=action)
        for enrolment in meeting.group.current_enrolments:
            log_access("case", enrolment.case_id, action=action, person_id=enrolment.case.person_id)


def _meeting_form_data(form, kind: str | None) -> tuple[ops.MeetingInput, dict]:
    """Read the booking form (MeetingFormSchema) into the operation's input, with its errors."""
    read, errors = read_form(MeetingFormSchema(), form)
    data = ops.MeetingInput(
        kind=kind,
        starts_at=_combine(read.get("day"), read.get("start")),
        ends_at=_combine(read.get("day"), read.get("end")),
        location=read.get("location"),
        attendee_ids=read.get("attendee_ids", []),
    )
    return data, errors


FORM_FIELDS = {"starts_at": "start", "ends_at": "end"}


def _form_errors(parsed: dict, found: dict) -> dict:
    """Merge the form's own errors with the operation's, named by the form's fields."""
    merged = dict(parsed)
    for name, messages in found.items():
        field = FORM_FIELDS.get(name, name)
        if field not in merged and not (field == "start" and "day" in merged):
            merged[field] = messages
    return merged


# --- the overview ----------------------------------------------------------------------------


@bp.get("/")
@access(*STAFF)
def index():
    """The user's coming meetings, open tasks, invitations to confirm and open escalations."""
    page = queries.upcoming_meetings_page(current_user.id, utcnow())
    page.rows = perms.viewable(current_user, page.rows)
    to_confirm = [
        m
        for m in page.rows
        if m.kind == MeetingKind.SAMSIP.value
        and (a := perms.attendee_row(current_user, m)) is not None
        and a.confirmed_at is None
    ]
    tasks = queries.open_tasks_page(assignee_id=current_user.id)
    escalations = queries.open_escalations_page(
        current_user.id, every_case=perms.is_team_lead(current_user)
    )
    for meeting in page.rows:
        _log_meeting(meeting, "list")
    return render_committed(
        "meetings/index.html",
        meetings=page,
        to_confirm=to_confirm,
        tasks=tasks,
        escalations=escalations,
        can_manage_groups=perms.can_manage_groups(current_user),
    )


# --- a case's meetings -----------------------------------------------------------------------


@bp.get("/cases/<int:case_id>")
@access(*STAFF)
def case_meetings(case_id: int):
    """A case's meetings and attendance, the missed count, escalations, tasks and history."""
    case = perms.load_case(case_id, read=True)
    now = utcnow()
    meetings = queries.meetings_of(case.id)
    summary = queries.case_meeting_summary([case.id], now).get(case.id, {})
    db.session.commit()
    return render_template(
        "meetings/case.html",
        case=case,
        participant=perms.participant_label(current_user, case),
        upcoming=[m for m in meetings if m.ends_at > now],
        earlier=[m for m in meetings if m.ends_at <= now][::-1],
        summary=summary,
        escalations=queries.escalations_of(case.id),
        history=queries.ladder_history(case.id),
        tasks=queries.open_tasks(case_id=case.id),
        can_book=perms.can_book(current_user, case),
        can_call_samsip=perms.can_book(current_user, case, MeetingKind.SAMSIP.value),
        can_decide=perms.can_decide(current_user, case),
        counting_mode=case.programme.counting_mode,
        group_sessions_count=case.programme.group_sessions_count,
    )


@bp.route("/cases/<int:case_id>/new", methods=["GET", "POST"])
@access(*STAFF)
def book(case_id: int):
    """Book a meeting: kind, day and time, place, and attendees from any agency."""
    case = perms.load_case(case_id)
    require(perms.can_book(current_user, case, MeetingKind.SAMSIP.value))
    kinds = [k.value for k in CASE_KINDS if perms.can_book(current_user, case, k.value)]
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        kind = form.get("kind") or None
        require(kind is None or perms.can_book(current_user, case, kind))
        data, parsed = _meeting_form_data(form, kind)
        try:
            meeting = ops.book_meeting(case, data, by=current_user)
            _log_meeting(meeting, "create")
            db.session.commit()
            flash(_("Mötet är bokat och kallelsen skickas till de inbjudna."), "success")
            return redirect(url_for(".detail", meeting_id=meeting.id))
        except ValidationFailed as exc:
            db.session.rollback()
            case = db.session.get(Case, case_id)
            errors = _form_errors(parsed, exc.errors)
    else:
        form = {"kind": kinds[0] if len(kinds) == 1 else "", "start": "10:00", "end": "11:00"}
    return render_template(
        "meetings/form.html",
        case=case,
        meeting=None,
        form=form,
        errors=errors,
        kinds=kinds,
        staff=_staff_choices(),
    ), (422 if errors else 200)


# --- one meeting -----------------------------------------------------------------------------


def _detail_context(meeting: Meeting, errors: dict | None = None, form=None) -> dict:
    case = meeting.case
    participants = []
    if case is not None:
        participants = [case]
    elif meeting.group is not None:
        participants = [e.case for e in meeting.group.current_enrolments]
    attendee = perms.attendee_row(current_user, meeting)
    return {
        "meeting": meeting,
        "case": case,
        "participants": [
            {
                "case": c,
                "label": perms.participant_label(current_user, c),
                "attendance": meeting.attendance_of(c.id),
            }
            for c in participants
        ],
        "started": utcnow() >= meeting.starts_at,
        "can_change": perms.can_change(current_user, meeting)
        and not meeting.cancelled
        and not any(a.status in ("attended", "missed") for a in meeting.attendance),
        "can_record": perms.can_record_attendance(current_user, meeting) and not meeting.cancelled,
        "can_confirm": attendee is not None
        and attendee.confirmed_at is None
        and not meeting.cancelled,
        "attendee": attendee,
        "reminders": queries.participant_reminders(meeting.id),
        "statuses": [s.value for s in AttendanceStatus],
        "errors": errors or {},
        "form": form or {},
    }


@bp.get("/<int:meeting_id>")
@access(*STAFF)
def detail(meeting_id: int):
    """One meeting: time, place, invitees and confirmations, attendance, what to do next."""
    meeting = load_meeting(meeting_id)
    _log_meeting(meeting)
    db.session.commit()
    return render_template("meetings/detail.html", **_detail_context(meeting))


@bp.get("/<int:meeting_id>/invitation.ics")
@access(*STAFF)
def invitation_file(meeting_id: int):
    """Download the meeting's iCalendar invitation."""
    meeting = load_meeting(meeting_id)
    method, data = ical.invitation(meeting)
    _log_meeting(meeting, "export")
    db.session.commit()
    return Response(
        data,
        mimetype="text/calendar",
        headers={
            "Content-Type": f"text/calendar; charset=utf-8; method={method}",
            "Content-Disposition": f'attachment; filename="{ical.filename(meeting)}"',
        },
    )


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@access(*STAFF)
def edit(meeting_id: int):
    """Change a meeting's time, place or invitees; everyone gets the updated invitation."""
    meeting = load_meeting(meeting_id)
    require(perms.can_change(current_user, meeting))
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        meeting = ops.get_meeting(meeting_id, lock=True)
        data, parsed = _meeting_form_data(form, meeting.kind)
        try:
            ops.change_meeting(meeting, data, by=current_user)
            _log_meeting(meeting, "update")
            db.session.commit()
            flash(_("Mötet är ändrat och den uppdaterade kallelsen skickas."), "success")
            return redirect(url_for(".detail", meeting_id=meeting.id))
        except ValidationFailed as exc:
            db.session.rollback()
            meeting = db.session.get(Meeting, meeting_id)
            errors = _form_errors(parsed, exc.errors)
    else:
        local_start, local_end = _local(meeting.starts_at), _local(meeting.ends_at)
        form = {
            "day": local_start.date().isoformat(),
            "start": local_start.strftime("%H:%M"),
            "end": local_end.strftime("%H:%M"),
            "location": meeting.location or "",
            "attendee_ids": [
                str(a.user_id) for a in meeting.attendees if a.user_id != meeting.organiser_id
            ],
        }
    return render_template(
        "meetings/form.html",
        case=meeting.case,
        meeting=meeting,
        form=form,
        errors=errors,
        kinds=[meeting.kind],
        staff=_staff_choices(),
    ), (422 if errors else 200)


@bp.route("/<int:meeting_id>/cancel", methods=["GET", "POST"])
@access(*STAFF)
def cancel(meeting_id: int):
    """Cancel a meeting after a confirmation page that asks why; the invitees get the
    cancellation for their calendars. GET only shows the page."""
    meeting = load_meeting(meeting_id)
    require(perms.can_change(current_user, meeting))
    errors: dict = {}
    if request.method == "POST":
        meeting = ops.get_meeting(meeting_id, lock=True)
        try:
            data = load_form(CancelSchema(), request.form, names={"reason": "cancel_reason"})
            ops.cancel_meeting(
                meeting, reason=data["reason"], by=current_user, reason_required=True
            )
            _log_meeting(meeting, "update")
            db.session.commit()
            flash(_("Mötet är inställt. De inbjudna får besked."), "success")
            return redirect(url_for(".detail", meeting_id=meeting.id))
        except ValidationFailed as exc:
            db.session.rollback()
            meeting = load_meeting(meeting_id)
            errors = exc.errors
    _log_meeting(meeting)
    db.session.commit()
    return render_template(
        "meetings/confirm_cancel.html",
        meeting=meeting,
        errors=errors,
        form=request.form,
    ), (422 if errors else 200)


@bp.post("/<int:meeting_id>/confirm")
@access(*STAFF)
def confirm(meeting_id: int):
    """Confirm that you will take part."""
    meeting = load_meeting(meeting_id)
    require(perms.attendee_row(current_user, meeting) is not None)
    ops.confirm(meeting, current_user)
    log_access("meeting", meeting.id, action="update", person_id=_person_id(meeting))
    db.session.commit()
    flash(_("Du har bekräftat att du kommer."), "success")
    return redirect(url_for(".detail", meeting_id=meeting.id))


@bp.post("/<int:meeting_id>/attendance")
@access(*STAFF)
def attendance(meeting_id: int):
    """Register (or correct) the attendance: one participant, or each of a group session's."""
    meeting = load_meeting(meeting_id)
    require(perms.can_record_attendance(current_user, meeting))
    form = request.form
    try:
        if meeting.case_id is not None:
            result = ladder.record_attendance(
                meeting,
                status=form.get("status") or "",
                reason=form.get("reason"),
                by=current_user,
            )
            results = [result]
        else:
            statuses = {
                int(key.removeprefix("status_")): value
                for key, value in form.items()
                if key.startswith("status_") and is_digits(key[7:]) and value
            }
            results = ladder.record_bulk_attendance(meeting, statuses, by=current_user)
    except ValidationFailed as exc:
        db.session.rollback()
        meeting = db.session.get(Meeting, meeting_id)
        _log_meeting(meeting)
        return render_committed(
            "meetings/detail.html", 422, **_detail_context(meeting, exc.errors, form)
        )
    for result in results:
        log_access(
            "attendance",
            result.attendance.id,
            action="update",
            person_id=db.session.get(Case, result.attendance.case_id).person_id,
        )
    db.session.commit()
    flash(_("Närvaron är registrerad."), "success")
    for result in results:
        for action in result.actions:
            flash(_ladder_message(action.value), "warning")
    return redirect(url_for(".detail", meeting_id=meeting.id))


def _ladder_message(action: str) -> str:
    return {
        "first_miss_task": _(
            "Första uteblivna mötet: koordinatorn har fått en uppgift att kontakta "
            "deltagaren och erbjuda hembesök i dag."
        ),
        "repeated_miss_task": _(
            "Deltagaren har uteblivit igen: koordinatorn har fått en uppgift "
            "och samordnaren ett besked."
        ),
        "open_escalation": _(
            "Gränsen för uteblivna möten är nådd: ärendet är eskalerat till "
            "den remitterande myndigheten för beslut."
        ),
        "withdraw_escalation": _(
            "Efter rättelsen är antalet uteblivna möten under gränsen: eskaleringen är återkallad."
        ),
    }[action]


# --- the section on the case page ------------------------------------------------------------


def case_section(case: Case) -> dict:
    """Return what templates/meetings/_case_section.html shows on the case page."""
    if case is None or not (current_user and current_user.is_authenticated):
        return {"visible": False}
    if not perms.can_view_case(current_user, case):
        return {"visible": False}
    summary = queries.case_meeting_summary([case.id]).get(case.id, {})
    escalation = queries.open_escalation(case.id)
    return {
        "visible": True,
        "summary": summary,
        "escalation": escalation,
        "can_book": perms.can_book(current_user, case, MeetingKind.SAMSIP.value),
    }


@bp.app_context_processor
def _meeting_globals():
    return {"case_meeting_section": case_section}

"""Meeting pages: a case's meetings and ladder, booking, one meeting with its attendance, tasks,
escalations and group activities. Each view: load, authorize, operate, commit, respond.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from coordination.audit.operations import log_access
from coordination.auth.models import User
from coordination.cases.models import Case, CoordinatorAssignment
from coordination.core.db import utcnow
from coordination.core.errors import DomainError, ValidationFailed
from coordination.core.i18n import STOCKHOLM, label
from coordination.core.parsing import is_digits, load_form
from coordination.core.permissions import access, get_visible, require, require_visible
from coordination.core.reminders import PARTICIPANT_REMINDER, Reminder
from coordination.extensions import db
from coordination.meetings import ical
from coordination.meetings import operations as ops
from coordination.meetings import permissions as perms
from coordination.meetings.models import (
    Escalation,
    GroupActivity,
    Meeting,
    MeetingAttendee,
    Task,
)
from coordination.meetings.schemas import CancelSchema, EscalationDecisionSchema
from coordination.meetings.summary import case_meeting_summary
from coordination.programmes.models import Programme
from coordination.referrals.models import Referral
from workflows.meeting import CASE_KINDS, GROUP_PRESETS, AttendanceStatus, MeetingKind
from workflows.organisation import Role

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

STAFF = (Role.REFERRER, Role.TEAM_LEAD, Role.CONFERENCE_MEMBER, Role.COORDINATOR)
GROUP_ROLES = (Role.TEAM_LEAD, Role.COORDINATOR)


# --- helpers ---------------------------------------------------------------------------------


def _now() -> datetime:
    return utcnow()


def _local(value: datetime | None) -> datetime | None:
    return value.astimezone(STOCKHOLM) if value else None


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip()) if value else None
    except ValueError:
        return None


def _parse_time(value: str | None) -> time | None:
    try:
        return datetime.strptime((value or "").strip(), "%H:%M").time() if value else None
    except ValueError:
        return None


def _combine(day: date | None, at: time | None) -> datetime | None:
    """A local day and wall-clock time as an aware UTC datetime."""
    if day is None or at is None:
        return None
    return datetime.combine(day, at, tzinfo=STOCKHOLM).astimezone(UTC)


def _form_times(form, errors: dict) -> tuple[datetime | None, datetime | None]:
    day = _parse_date(form.get("day"))
    start, end = _parse_time(form.get("start")), _parse_time(form.get("end"))
    if day is None:
        errors["day"] = [_("Ange datum som ÅÅÅÅ-MM-DD.")]
    if start is None:
        errors["start"] = [_("Ange tid som TT:MM.")]
    if end is None:
        errors["end"] = [_("Ange tid som TT:MM.")]
    return _combine(day, start), _combine(day, end)


def _int_list(values) -> list[int]:
    return [int(v) for v in values if is_digits(v)]


def _case_glass(row) -> tuple[str, int] | None:
    return ("case", row.case_id) if row.case_id else None


def load_meeting(meeting_id: int) -> Meeting:
    """Load a meeting the current user may see, or answer 404."""
    return get_visible(Meeting, meeting_id, perms.can_view, glass=_case_glass)


def _staff_choices() -> list[tuple[str, str]]:
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    choices = []
    for user in users:
        if not user.has_any_role(ops.STAFF_ROLES):
            continue
        agency = ops.agency_of(user)
        choices.append((str(user.id), f"{user.name} ({label('agency', agency)})"))
    return choices


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
    errors: dict = {}
    starts_at, ends_at = _form_times(form, errors)
    data = ops.MeetingInput(
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        location=form.get("location"),
        attendee_ids=_int_list(form.getlist("attendee_ids")),
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
    now = _now()
    mine = (
        select(Meeting)
        .outerjoin(MeetingAttendee, MeetingAttendee.meeting_id == Meeting.id)
        .where(
            or_(
                MeetingAttendee.user_id == current_user.id, Meeting.organiser_id == current_user.id
            ),
            Meeting.ends_at > now,
            Meeting.status == "booked",
        )
        .distinct()
        .order_by(Meeting.starts_at)
        .limit(100)
    )
    meetings = list(db.session.scalars(mine))
    to_confirm = [
        m
        for m in meetings
        if m.kind == MeetingKind.SAMSIP.value
        and (a := perms.attendee_row(current_user, m)) is not None
        and a.confirmed_at is None
    ]
    tasks = ops.open_tasks(assignee_id=current_user.id)
    escalations = _visible_open_escalations()
    for meeting in meetings:
        _log_meeting(meeting, "list")
    db.session.commit()
    return render_template(
        "meetings/index.html",
        meetings=meetings,
        to_confirm=to_confirm,
        tasks=tasks,
        escalations=escalations,
        can_manage_groups=perms.can_manage_groups(current_user),
    )


def _visible_open_escalations() -> list[Escalation]:
    query = select(Escalation).where(Escalation.status == "open")
    if not perms.is_team_lead(current_user):
        coordinated = select(CoordinatorAssignment.case_id).where(
            CoordinatorAssignment.coordinator_id == current_user.id,
            CoordinatorAssignment.active.is_(True),
        )
        query = query.where(
            or_(Escalation.referrer_id == current_user.id, Escalation.case_id.in_(coordinated))
        )
    return list(db.session.scalars(query.order_by(Escalation.decision_due_at)))


# --- a case's meetings -----------------------------------------------------------------------


@bp.get("/cases/<int:case_id>")
@access(*STAFF)
def case_meetings(case_id: int):
    """A case's meetings and attendance, the missed count, escalations, tasks and history."""
    case = perms.load_case(case_id, read=True)
    now = _now()
    meetings = ops.meetings_of(case.id)
    summary = case_meeting_summary([case.id], now).get(case.id, {})
    db.session.commit()
    return render_template(
        "meetings/case.html",
        case=case,
        participant=perms.participant_label(current_user, case),
        upcoming=[m for m in meetings if m.ends_at > now],
        earlier=[m for m in meetings if m.ends_at <= now][::-1],
        summary=summary,
        escalations=ops.escalations_of(case.id),
        history=ops.ladder_history(case.id),
        tasks=ops.open_tasks(case_id=case.id),
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
    now = _now()
    case = meeting.case
    participants = []
    if case is not None:
        participants = [case]
    elif meeting.group is not None:
        participants = [e.case for e in meeting.group.current_enrolments]
    attendee = perms.attendee_row(current_user, meeting)
    reminders = list(
        db.session.scalars(
            select(Reminder)
            .where(
                Reminder.kind == PARTICIPANT_REMINDER,
                Reminder.subject_type == "meeting",
                Reminder.subject_id == meeting.id,
            )
            .order_by(Reminder.id)
        )
    )
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
        "started": now >= meeting.starts_at,
        "can_change": perms.can_change(current_user, meeting)
        and not meeting.cancelled
        and not any(a.status in ("attended", "missed") for a in meeting.attendance),
        "can_record": perms.can_record_attendance(current_user, meeting) and not meeting.cancelled,
        "can_confirm": attendee is not None
        and attendee.confirmed_at is None
        and not meeting.cancelled,
        "attendee": attendee,
        "reminders": reminders,
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


@bp.post("/<int:meeting_id>/cancel")
@access(*STAFF)
def cancel(meeting_id: int):
    """Cancel a meeting; the invitees get the cancellation for their calendars."""
    meeting = load_meeting(meeting_id)
    require(perms.can_change(current_user, meeting))
    meeting = ops.get_meeting(meeting_id, lock=True)
    data = load_form(CancelSchema(), request.form, names={"reason": "cancel_reason"})
    ops.cancel_meeting(meeting, reason=data["reason"], by=current_user)
    _log_meeting(meeting, "update")
    db.session.commit()
    flash(_("Mötet är inställt. De inbjudna får besked."), "success")
    return redirect(url_for(".detail", meeting_id=meeting.id))


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
            result = ops.record_attendance(
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
            results = ops.record_bulk_attendance(meeting, statuses, by=current_user)
    except ValidationFailed as exc:
        db.session.rollback()
        meeting = db.session.get(Meeting, meeting_id)
        context = _detail_context(meeting, exc.errors, form)
        return render_template("meetings/detail.html", **context), 422
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


# --- tasks -----------------------------------------------------------------------------------


def _load_task(task_id: int) -> Task:
    return get_visible(
        Task,
        task_id,
        lambda user, task: task.assignee_id == user.id or perms.connected(user, task.case),
        glass=_case_glass,
    )


@bp.get("/tasks/<int:task_id>")
@access(*STAFF)
def task(task_id: int):
    """One task: what to do, by when, and marking it done."""
    item = _load_task(task_id)
    log_access("case", item.case_id, action="read", person_id=item.case.person_id)
    db.session.commit()
    return render_template(
        "meetings/task.html",
        task=item,
        participant=perms.participant_label(current_user, item.case),
        can_complete=item.is_open and item.assignee_id == current_user.id,
    )


@bp.post("/tasks/<int:task_id>/done")
@access(*STAFF)
def task_done(task_id: int):
    """Mark a task done."""
    item = _load_task(task_id)
    require(item.assignee_id == current_user.id)
    ops.complete_task(item, by=current_user)
    log_access("case", item.case_id, action="update", person_id=item.case.person_id)
    db.session.commit()
    flash(_("Uppgiften är klar."), "success")
    return redirect(url_for(".case_meetings", case_id=item.case_id))


# --- escalations -----------------------------------------------------------------------------


def _load_escalation(escalation_id: int) -> Escalation:
    return get_visible(
        Escalation,
        escalation_id,
        lambda user, escalation: perms.can_decide(user, escalation.case),
        glass=_case_glass,
    )


def _escalation_page(escalation: Escalation, errors: dict, form) -> str:
    case = escalation.case
    missed = [
        m
        for m in ops.meetings_of(case.id)
        if (a := m.attendance_of(case.id)) is not None and a.status == "missed" and not m.cancelled
    ]
    return render_template(
        "meetings/escalation.html",
        escalation=escalation,
        case=case,
        participant=perms.participant_label(current_user, case),
        missed=missed,
        referral=db.session.get(Referral, case.referral_id),
        can_decide=escalation.status == "open" and perms.can_decide(current_user, case),
        errors=errors,
        form=form,
    )


@bp.get("/escalations/<int:escalation_id>")
@access(*STAFF)
def escalation(escalation_id: int):
    """The escalation: why, by when, and the decision (continue or discharge)."""
    item = _load_escalation(escalation_id)
    log_access("case", item.case_id, action="read", person_id=item.case.person_id)
    db.session.commit()
    return _escalation_page(item, {}, {})


@bp.post("/escalations/<int:escalation_id>/decision")
@access(*STAFF)
def decide(escalation_id: int):
    """Record the decision on the escalation."""
    item = _load_escalation(escalation_id)
    require(perms.can_decide(current_user, item.case))
    form = request.form
    try:
        data = load_form(EscalationDecisionSchema(), form)
        ops.decide_escalation(item.case, by=current_user, **data)
    except ValidationFailed as exc:
        db.session.rollback()
        item = db.session.get(Escalation, escalation_id)
        return _escalation_page(item, exc.errors, form), 422
    log_access("case", item.case_id, action="update", person_id=item.case.person_id)
    db.session.commit()
    flash(_("Beslutet är registrerat."), "success")
    return redirect(url_for(".case_meetings", case_id=item.case_id))


# --- groups ----------------------------------------------------------------------------------


@bp.get("/groups/")
@access(*GROUP_ROLES)
def groups():
    """The group activities, newest first."""
    items = list(
        db.session.scalars(select(GroupActivity).order_by(GroupActivity.first_date.desc()))
    )
    visible = [g for g in items if perms.can_view_group(current_user, g)]
    return render_template(
        "meetings/groups.html",
        groups=visible,
        can_manage=perms.can_manage_groups(current_user),
        now=_now(),
    )


def _programmes() -> list[Programme]:
    return list(
        db.session.scalars(
            select(Programme).where(Programme.active.is_(True)).order_by(Programme.name)
        )
    )


def _leaders() -> list[User]:
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [u for u in users if u.has_any_role([Role.COORDINATOR, Role.TEAM_LEAD])]


@bp.route("/groups/new", methods=["GET", "POST"])
@access(*GROUP_ROLES)
def new_group():
    """Set up a group activity; its sessions are generated from the schedule."""
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        try:
            data = ops.GroupInput(
                programme_id=form.get("programme_id", type=int),
                name=form.get("name", ""),
                preset=form.get("preset") or "other",
                capacity=form.get("capacity", type=int),
                weekdays=_int_list(form.getlist("weekdays")),
                start_time=_parse_time(form.get("start_time")),
                minutes=form.get("minutes", type=int),
                first_date=_parse_date(form.get("first_date")),
                weeks=form.get("weeks", type=int),
                location=form.get("location"),
                leader_id=form.get("leader_id", type=int),
            )
            group = ops.create_group(data, by=current_user)
            log_access("group", group.id, action="create")
            db.session.commit()
            flash(_("Gruppen är skapad med %(n)s tillfällen.", n=len(group.sessions)), "success")
            return redirect(url_for(".group", group_id=group.id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
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
        programmes=_programmes(),
        leaders=_leaders(),
        presets=GROUP_PRESETS,
    ), (422 if errors else 200)


def _enrollable(group: GroupActivity) -> list[Case]:
    current = {e.case_id for e in group.current_enrolments}
    cases = db.session.scalars(
        select(Case)
        .where(
            Case.programme_id == group.programme_id,
            Case.state.in_(sorted(ops.MEETING_STATES)),
        )
        .order_by(Case.id)
    )
    return [c for c in cases if c.id not in current and perms.can_enrol(current_user, group, c)]


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
        enrollable=[(c, perms.participant_label(current_user, c)) for c in _enrollable(item)],
        now=_now(),
        errors={},
    )


@bp.post("/groups/<int:group_id>/enrol")
@access(*GROUP_ROLES)
def enrol(group_id: int):
    """Enrol a case in the group while it has room."""
    item = perms.load_group(group_id)
    case = db.session.get(Case, request.form.get("case_id", type=int) or 0)
    require_visible(case is not None and perms.can_view_case(current_user, case))
    require(perms.can_enrol(current_user, item, case))
    try:
        ops.enrol(item, case, by=current_user)
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


# --- the section on the case page ------------------------------------------------------------


def case_section(case: Case) -> dict:
    """Return what templates/meetings/_case_section.html shows on the case page."""
    if case is None or not (current_user and current_user.is_authenticated):
        return {"visible": False}
    if not perms.can_view_case(current_user, case):
        return {"visible": False}
    summary = case_meeting_summary([case.id]).get(case.id, {})
    escalation = ops.open_escalation(case.id)
    return {
        "visible": True,
        "summary": summary,
        "escalation": escalation,
        "can_book": perms.can_book(current_user, case, MeetingKind.SAMSIP.value),
    }


@bp.app_context_processor
def _meeting_globals():
    return {"case_meeting_section": case_section}

"""Group activities: setting one up with its generated sessions, and enrolling cases while it has
room (the group row is locked while its enrolments are counted, so two enrolments at once cannot
both take the last place)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time

from flask_babel import gettext as _

from coordination.auth.models import User
from coordination.cases.models import Case
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import get_row, utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import label
from coordination.extensions import db
from coordination.meetings.events import GroupEnrolled, GroupScheduled, MeetingBooked
from coordination.meetings.models import GroupActivity, GroupEnrolment, Meeting, MeetingAttendee
from coordination.meetings.operations import schedule_participant_reminder
from coordination.meetings.queries import GROUP_LEADER_ROLES, MEETING_STATES
from coordination.organisations.calendar import working_calendar
from coordination.programmes.models import Programme
from workflows.meeting import GROUP_PRESETS, MeetingKind, MeetingStatus, Session, group_sessions
from workflows.organisation import AgencyKind


@dataclass
class GroupInput:
    """What a new group activity says; a preset fills what is left out."""

    programme_id: int | None = None
    name: str = ""
    preset: str = "halsogrupp"
    capacity: int | None = None
    weekdays: list[int] = field(default_factory=list)
    start_time: time | None = None
    minutes: int | None = None
    first_date: date | None = None
    weeks: int | None = None
    location: str | None = None
    leader_id: int | None = None


def get_group(group_id: int, *, lock: bool = False) -> GroupActivity:
    """Load a group activity, locking its row when its enrolments are about to change."""
    return get_row(GroupActivity, group_id, lock=lock, missing=_("Gruppen finns inte."))


# --- setting up a group ----------------------------------------------------------------------


def _with_preset(data: GroupInput) -> GroupInput:
    """Fill what the form left out from the preset ("other" has none); trim the texts."""
    preset = GROUP_PRESETS.get(data.preset)
    return replace(
        data,
        name=(data.name or "").strip(),
        capacity=data.capacity or (preset.capacity if preset else None),
        weeks=data.weeks or (preset.weeks if preset else None),
        weekdays=sorted(set(data.weekdays or (preset.weekdays if preset else ()))),
        start_time=data.start_time or (preset.start if preset else None),
        minutes=data.minutes or (preset.minutes if preset else None),
        location=(data.location or "").strip() or None,
    )


def _group_errors(
    data: GroupInput, programme: Programme | None, leader: User | None
) -> dict[str, list[str]]:
    """Return every problem of a completed group input, by field."""
    errors: dict[str, list[str]] = {}
    if data.preset not in (*GROUP_PRESETS, "other"):
        errors["preset"] = [_("Välj vilket slags grupp det är.")]
    if programme is None or not programme.active:
        errors["programme_id"] = [_("Välj en aktiv insats.")]
    if not data.name:
        errors["name"] = [_("Ge gruppen ett namn, till exempel ”Hälsogrupp våren”.")]
    elif len(data.name) > 200:
        errors["name"] = [_("Skriv högst 200 tecken.")]
    if not data.capacity or data.capacity < 1:
        errors["capacity"] = [_("Ange hur många deltagare gruppen tar emot.")]
    if not data.weeks or not 1 <= data.weeks <= 52:
        errors["weeks"] = [_("Ange antal veckor, 1–52.")]
    if not data.weekdays or not set(data.weekdays) <= set(range(5)):
        errors["weekdays"] = [_("Välj minst en veckodag, måndag–fredag.")]
    if data.start_time is None:
        errors["start_time"] = [_("Ange tid som TT:MM.")]
    if not data.minutes or not 15 <= data.minutes <= 8 * 60:
        errors["minutes"] = [_("Ange hur länge ett tillfälle varar, 15–480 minuter.")]
    if data.first_date is None:
        errors["first_date"] = [_("Ange första dagen som ÅÅÅÅ-MM-DD.")]
    if leader is None or not leader.active or not leader.has_any_role(GROUP_LEADER_ROLES):
        errors["leader_id"] = [_("Välj en koordinator som leder gruppen.")]
    if data.location and len(data.location) > 300:
        errors["location"] = [_("Skriv högst 300 tecken.")]
    return errors


def _add_sessions(
    group: GroupActivity, sessions: list[Session], leader_id: int, now: datetime
) -> None:
    """Book the group's sessions, each with its leader invited."""
    for session in sessions:
        meeting = Meeting(
            uid=f"{uuid.uuid4()}@samordning",
            group_id=group.id,
            kind=MeetingKind.GROUP_SESSION.value,
            status=MeetingStatus.BOOKED.value,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            location=group.location,
            organiser_id=leader_id,
            created_at=now,
            updated_at=now,
        )
        meeting.attendees.append(
            MeetingAttendee(user_id=leader_id, agency_kind=AgencyKind.FORBUND.value, invited_at=now)
        )
        group.sessions.append(meeting)
    db.session.flush()
    for meeting in group.sessions:
        events.record(
            db.session,
            MeetingBooked(
                meeting_id=meeting.id,
                case_id=None,
                group_id=group.id,
                kind=meeting.kind,
                organiser_id=leader_id,
                attendee_ids=(leader_id,),
                occurred_at=now,
            ),
        )


def create_group(data: GroupInput, *, by: Actor, now: datetime | None = None) -> GroupActivity:
    """Create a group activity and generate its sessions from the schedule."""
    now = now or utcnow()
    data = _with_preset(data)
    programme = db.session.get(Programme, data.programme_id) if data.programme_id else None
    leader = db.session.get(User, data.leader_id) if data.leader_id else None
    errors = _group_errors(data, programme, leader)
    if errors:
        raise ValidationFailed(_("Gruppen kunde inte skapas. Rätta felen nedan."), errors=errors)
    # What _group_errors has just made sure of:
    assert programme is not None and leader is not None and data.first_date is not None
    assert data.weeks and data.start_time is not None and data.minutes and data.capacity
    sessions = group_sessions(
        data.first_date,
        data.weeks,
        data.weekdays,
        data.start_time,
        data.minutes,
        working_calendar(),
    )
    if not sessions:
        raise ValidationFailed(
            _("Schemat ger inga tillfällen."),
            errors={"first_date": [_("Schemat ger inga tillfällen. Välj andra dagar.")]},
        )
    group = GroupActivity(
        programme_id=programme.id,
        name=data.name,
        preset=data.preset,
        capacity=data.capacity,
        weekdays=data.weekdays,
        start_time=data.start_time,
        minutes=data.minutes,
        first_date=data.first_date,
        weeks=data.weeks,
        location=data.location,
        leader_id=leader.id,
        created_by_id=getattr(by, "id", None),
        created_at=now,
    )
    db.session.add(group)
    db.session.flush()
    _add_sessions(group, sessions, leader.id, now)
    events.record(
        db.session,
        GroupScheduled(
            group_id=group.id, leader_id=leader.id, sessions=len(group.sessions), occurred_at=now
        ),
    )
    return group


# --- enrolment -------------------------------------------------------------------------------


def enrol(
    group: GroupActivity, case: Case, *, by: Actor, now: datetime | None = None
) -> GroupEnrolment:
    """Enrol a case in a group while it has room (the group row is locked while counting)."""
    now = now or utcnow()
    group = get_group(group.id, lock=True)
    if case.state not in MEETING_STATES:
        raise Conflict(
            _(
                "Bara inskrivna deltagare kan delta i en grupp. Deltagandet har status %(state)s.",
                state=label("state", case.state),
            )
        )
    if case.programme_id != group.programme_id:
        raise ValidationFailed(
            _("Deltagandet hör till en annan insats än gruppen."),
            errors={"case_id": [_("Deltagandet hör till en annan insats än gruppen.")]},
        )
    current = group.current_enrolments
    if any(e.case_id == case.id for e in current):
        raise Conflict(_("Deltagandet är redan med i gruppen."))
    if len(current) >= group.capacity:
        raise Conflict(_("Gruppen är full (%(capacity)s deltagare).", capacity=group.capacity))
    enrolment = GroupEnrolment(
        group_id=group.id, case_id=case.id, enrolled_at=now, enrolled_by_id=getattr(by, "id", None)
    )
    group.enrolments.append(enrolment)
    group.version += 1
    db.session.flush()
    for meeting in group.sessions:
        if not meeting.cancelled:
            schedule_participant_reminder(meeting, case.id, now)
    events.record(db.session, GroupEnrolled(group_id=group.id, case_id=case.id, occurred_at=now))
    return enrolment

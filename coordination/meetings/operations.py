"""Booking, changing, cancelling and confirming meetings, and the reminders owed to participants.

Every change or cancellation raises the meeting's iCalendar SEQUENCE under the same UID. Attendance
and the missed-meeting ladder are in `ladder`, group activities in `groups`, reads in `queries`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _

from coordination.auth.models import User
from coordination.cases.models import Case
from coordination.consent.operations import covering
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import get_row, utcnow
from coordination.core.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from coordination.core.i18n import label, local_today
from coordination.core.reminders import cancel_participant_reminders as cancel_reminder_rows
from coordination.core.reminders import owe_participant_reminder
from coordination.extensions import db
from coordination.meetings.events import (
    MeetingBooked,
    MeetingCancelled,
    MeetingChanged,
    MeetingConfirmed,
)
from coordination.meetings.models import Meeting, MeetingAttendee
from coordination.meetings.queries import (
    MEETING_STATES,
    MEMBER_AGENCY_CODES,
    STAFF_ROLES,
    agency_of,
    participant_case_ids,
)
from workflows.case import CaseState
from workflows.meeting import CASE_KINDS, MeetingKind, MeetingStatus, participant_reminder_at

BOOKABLE_STATES = MEETING_STATES | {CaseState.EXITING.value}
MAX_MEETING_HOURS = 12
MAX_ATTENDEES = 30


def get_meeting(meeting_id: int, *, lock: bool = False) -> Meeting:
    """Load a meeting, locking its row when it is about to change."""
    return get_row(Meeting, meeting_id, lock=lock, missing=_("Mötet finns inte."))


# --- booking ---------------------------------------------------------------------------------


@dataclass
class MeetingInput:
    """What a booking or a change says."""

    kind: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    location: str | None = None
    attendee_ids: list[int] = field(default_factory=list)


def _attendees(
    case: Case | None, ids: list[int], errors: dict[str, list[str]], now: datetime
) -> list[User]:
    unique = list(dict.fromkeys(ids or []))
    if len(unique) > MAX_ATTENDEES:
        errors["attendee_ids"] = [_("Bjud in högst %(n)s personer.", n=MAX_ATTENDEES)]
        return []
    users: list[User] = []
    for user_id in unique:
        user = db.session.get(User, user_id)
        if user is None or not user.active or not user.has_any_role(STAFF_ROLES):
            errors.setdefault("attendee_ids", []).append(
                _("Deltagare %(id)s är inte en aktiv medarbetare.", id=user_id)
            )
            continue
        agency = agency_of(user)
        if case is not None and agency in MEMBER_AGENCY_CODES:
            # Nothing about the person crosses to an agency their consent does not cover.
            if covering(case.person_id, [agency], local_today(now)) is None:
                errors.setdefault("attendee_ids", []).append(
                    _(
                        "Samtycket omfattar inte %(agency)s, så %(name)s kan inte bjudas in.",
                        agency=label("agency", agency),
                        name=user.name,
                    )
                )
                continue
        users.append(user)
    return users


def _times(data: MeetingInput, errors: dict[str, list[str]]) -> None:
    if data.starts_at is None:
        errors["starts_at"] = [_("Ange när mötet börjar.")]
    if data.ends_at is None:
        errors["ends_at"] = [_("Ange när mötet slutar.")]
    if data.starts_at is not None and data.ends_at is not None:
        if data.ends_at <= data.starts_at:
            errors["ends_at"] = [_("Mötet måste sluta efter att det har börjat.")]
        elif data.ends_at - data.starts_at > timedelta(hours=MAX_MEETING_HOURS):
            errors["ends_at"] = [_("Ett möte kan vara högst %(h)s timmar.", h=MAX_MEETING_HOURS)]


def _location(kind: str | None, location: str | None, errors: dict[str, list[str]]) -> str | None:
    location = (location or "").strip() or None
    if kind == MeetingKind.HOME_VISIT.value and location:
        errors["location"] = [
            _(
                "Skriv ingen plats för ett hembesök: adressen finns hos koordinatorn "
                "och får inte stå i kallelsen."
            )
        ]
    elif location and len(location) > 300:
        errors["location"] = [_("Skriv högst 300 tecken.")]
    return location


def book_meeting(
    case: Case, data: MeetingInput, *, by: Actor, now: datetime | None = None
) -> Meeting:
    """Book a meeting of a case with attendees from any agency; every problem at once."""
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    if data.kind not in {k.value for k in CASE_KINDS}:
        errors["kind"] = [_("Välj vilket slags möte det är.")]
    _times(data, errors)
    location = _location(data.kind, data.location, errors)
    attendees = _attendees(case, data.attendee_ids, errors, now)
    if case.state not in BOOKABLE_STATES:
        errors["case"] = [
            _(
                "Möten bokas för inskrivna deltagare. Deltagandet har status %(state)s.",
                state=label("state", case.state),
            )
        ]
    if errors:
        raise ValidationFailed(_("Mötet kunde inte bokas. Rätta felen nedan."), errors=errors)
    meeting = Meeting(
        uid=f"{uuid.uuid4()}@samordning",
        case_id=case.id,
        kind=data.kind,
        status=MeetingStatus.BOOKED.value,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        location=location,
        organiser_id=getattr(by, "id", None),
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    db.session.add(meeting)
    organiser = [by] if by is not None and by.id not in {u.id for u in attendees} else []
    for user in organiser + attendees:
        meeting.attendees.append(
            MeetingAttendee(
                user_id=user.id,
                agency_kind=agency_of(user),
                invited_at=now,
                confirmed_at=now if by is not None and user.id == by.id else None,
            )
        )
    db.session.flush()
    schedule_participant_reminder(meeting, case.id, now)
    events.record(
        db.session,
        MeetingBooked(
            meeting_id=meeting.id,
            case_id=case.id,
            group_id=None,
            kind=meeting.kind,
            organiser_id=meeting.organiser_id,
            attendee_ids=tuple(a.user_id for a in meeting.attendees),
            occurred_at=now,
        ),
    )
    return meeting


def _refuse_if_held(meeting: Meeting, message: str) -> None:
    held = [a for a in meeting.attendance if a.status in ("attended", "missed")]
    if held:
        raise Conflict(message)


def change_meeting(
    meeting: Meeting, data: MeetingInput, *, by: Actor, now: datetime | None = None
) -> Meeting:
    """Change the time, place or attendees; the invitation goes out again with a higher SEQUENCE."""
    now = now or utcnow()
    if meeting.cancelled:
        raise IllegalTransition(_("Mötet är inställt och kan inte ändras."))
    _refuse_if_held(meeting, _("Närvaron är redan registrerad: mötet har hållits."))
    errors: dict[str, list[str]] = {}
    _times(data, errors)
    location = _location(meeting.kind, data.location, errors)
    keep = {a.user_id for a in meeting.attendees}
    wanted_ids = list(dict.fromkeys(data.attendee_ids or []))
    new_users = _attendees(meeting.case, [i for i in wanted_ids if i not in keep], errors, now)
    if errors:
        raise ValidationFailed(_("Mötet kunde inte ändras. Rätta felen nedan."), errors=errors)
    assert data.starts_at is not None and data.ends_at is not None  # _times, above
    organiser_id = meeting.organiser_id
    wanted = set(wanted_ids) | ({organiser_id} if organiser_id else set())
    removed = [a for a in meeting.attendees if a.user_id not in wanted]
    time_changed = (data.starts_at, data.ends_at) != (meeting.starts_at, meeting.ends_at)
    if not (time_changed or location != meeting.location or removed or new_users):
        return meeting
    for attendee in removed:
        meeting.attendees.remove(attendee)
    for user in new_users:
        meeting.attendees.append(
            MeetingAttendee(user_id=user.id, agency_kind=agency_of(user), invited_at=now)
        )
    meeting.starts_at, meeting.ends_at, meeting.location = data.starts_at, data.ends_at, location
    meeting.sequence += 1
    meeting.updated_at = now
    if time_changed:
        for attendee in meeting.attendees:
            if attendee.user_id != getattr(by, "id", None):
                attendee.confirmed_at = None  # a new time needs a new confirmation
        cancel_participant_reminders(meeting)
        for case_id in participant_case_ids(meeting):
            schedule_participant_reminder(meeting, case_id, now)
    db.session.flush()
    events.record(
        db.session,
        MeetingChanged(
            meeting_id=meeting.id,
            case_id=meeting.case_id,
            group_id=meeting.group_id,
            sequence=meeting.sequence,
            time_changed=time_changed,
            attendee_ids=tuple(a.user_id for a in meeting.attendees),
            removed_user_ids=tuple(a.user_id for a in removed),
            occurred_at=now,
        ),
    )
    return meeting


def cancel_meeting(
    meeting: Meeting,
    *,
    reason: str = "",
    by: Actor,
    now: datetime | None = None,
    reason_required: bool = False,
) -> Meeting:
    """Cancel a meeting; the invitees get a CANCEL with the same UID and a higher SEQUENCE.
    The page's confirmation requires the reason (`reason_required`); the API may leave it out."""
    now = now or utcnow()
    if meeting.cancelled:
        raise IllegalTransition(_("Mötet är redan inställt."))
    _refuse_if_held(meeting, _("Närvaron är redan registrerad: mötet har hållits."))
    if reason_required and not (reason or "").strip():
        message = _("Skriv varför mötet ställs in.")
        raise ValidationFailed(message, errors={"cancel_reason": [message]})
    meeting.status = MeetingStatus.CANCELLED.value
    meeting.cancelled_at = now
    meeting.cancelled_by_id = getattr(by, "id", None)
    meeting.cancel_reason = (reason or "").strip() or None
    meeting.sequence += 1
    meeting.updated_at = now
    cancel_participant_reminders(meeting)
    db.session.flush()
    events.record(
        db.session,
        MeetingCancelled(
            meeting_id=meeting.id,
            case_id=meeting.case_id,
            group_id=meeting.group_id,
            sequence=meeting.sequence,
            attendee_ids=tuple(a.user_id for a in meeting.attendees),
            occurred_at=now,
        ),
    )
    return meeting


def confirm(meeting: Meeting, user: Actor, *, now: datetime | None = None) -> MeetingAttendee:
    """Confirm that an invitee will take part (SamSIP invitees must); twice changes nothing."""
    now = now or utcnow()
    attendee = next((a for a in meeting.attendees if a.user_id == user.id), None)
    if attendee is None:
        raise NotFound(_("Du är inte inbjuden till mötet."))
    if meeting.cancelled:
        raise IllegalTransition(_("Mötet är inställt."))
    if attendee.confirmed_at is None:
        attendee.confirmed_at = now
        db.session.flush()
        events.record(
            db.session,
            MeetingConfirmed(
                meeting_id=meeting.id, attendee_id=attendee.id, user_id=user.id, occurred_at=now
            ),
        )
    return attendee


# --- participant reminders -------------------------------------------------------------------


def schedule_participant_reminder(meeting: Meeting, case_id: int, now: datetime) -> None:
    """Owe the participant a reminder before the meeting (none for a past or cancelled one)."""
    due = participant_reminder_at(meeting.starts_at)
    if due <= now or meeting.cancelled:
        return
    owe_participant_reminder(
        db.session,
        meeting_id=meeting.id,
        case_id=case_id,
        sequence=meeting.sequence,
        due_at=due,
        now=now,
    )


def cancel_participant_reminders(meeting: Meeting, case_id: int | None = None) -> None:
    """Cancel the reminders owed before the meeting (one participant's, or everyone's)."""
    cancel_reminder_rows(db.session, meeting.id, case_id)

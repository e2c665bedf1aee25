"""iCalendar (RFC 5545) invitations: Europe/Stockholm local times with their VTIMEZONE.

One UID per meeting for its whole life; each change raises SEQUENCE, and a cancellation is sent as
METHOD:CANCEL with STATUS:CANCELLED. Nothing about the participant is written: the summary names
the kind of meeting and the case number, a home visit has no location, the description is a link.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event, Timezone, vCalAddress, vText

from coordination.core.db import utcnow
from coordination.core.i18n import label
from coordination.meetings.models import Meeting
from workflows.meeting import MeetingKind

TZID = "Europe/Stockholm"
PRODID = "-//Samordningsforbundet//Samordning moten//SV"


def _base_url() -> str:
    return current_app.config["COORD"]["BASE_URL"].rstrip("/")


def summary(meeting: Meeting) -> str:
    """Return the event's title: the kind and the case or group, never the participant."""
    kind = label("meeting_kind", meeting.kind)
    if meeting.group is not None:
        return _("%(kind)s: %(group)s", kind=kind, group=meeting.group.name)
    return _("%(kind)s, deltagande %(id)s", kind=kind, id=meeting.case_id)


def _address(user, role: str | None = None, confirmed: bool | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{user.email}")
    address.params["CN"] = vText(user.name)
    if role:
        address.params["ROLE"] = vText(role)
    if confirmed is not None:
        address.params["PARTSTAT"] = vText("ACCEPTED" if confirmed else "NEEDS-ACTION")
        address.params["RSVP"] = vText("TRUE")
    return address


def _event(meeting: Meeting, tz: ZoneInfo, now: datetime, cancelled: bool) -> Event:
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now)
    event.add("created", meeting.created_at)
    event.add("last-modified", meeting.updated_at)
    event.add("dtstart", meeting.starts_at.astimezone(tz))
    event.add("dtend", meeting.ends_at.astimezone(tz))
    event.add("summary", summary(meeting))
    if meeting.location and meeting.kind != MeetingKind.HOME_VISIT.value:
        event.add("location", meeting.location)
    link = f"{_base_url()}/meetings/{meeting.id}"
    event.add("description", _("Mötet i Samordning: %(link)s", link=link))
    event.add("url", link)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if meeting.organiser is not None:
        event.add("organizer", _address(meeting.organiser))
    for attendee in meeting.attendees:
        event.add(
            "attendee",
            _address(attendee.user, "REQ-PARTICIPANT", attendee.confirmed_at is not None),
            encode=0,
        )
    return event


def calendar_of(
    meetings: Iterable[Meeting], *, method: str = "PUBLISH", now: datetime | None = None
) -> bytes:
    """Return a VCALENDAR with one VEVENT per meeting and the Stockholm VTIMEZONE."""
    meetings = list(meetings)
    now = now or utcnow()
    tz = ZoneInfo(TZID)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if meetings:
        first = min(m.starts_at for m in meetings).astimezone(tz).year
        last = max(m.ends_at for m in meetings).astimezone(tz).year
        calendar.add_component(
            Timezone.from_tzinfo(
                tz, tzid=TZID, first_date=date(first, 1, 1), last_date=date(last + 1, 1, 1)
            )
        )
    for meeting in meetings:
        cancelled = method == "CANCEL" or meeting.cancelled
        calendar.add_component(_event(meeting, tz, now, cancelled))
    return calendar.to_ical()


def invitation(
    meeting: Meeting, *, cancel: bool = False, now: datetime | None = None
) -> tuple[str, bytes]:
    """Return (method, .ics bytes) of a meeting's invitation: REQUEST, or CANCEL when cancelled."""
    method = "CANCEL" if cancel or meeting.cancelled else "REQUEST"
    return method, calendar_of([meeting], method=method, now=now)


def filename(meeting: Meeting) -> str:
    """Return the invitation's file name (ids only)."""
    return f"mote-{meeting.id}.ics"

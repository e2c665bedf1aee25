"""The calendar file (.ics) attached to a meeting invitation email, built when it is sent."""

from __future__ import annotations

from flask_babel import force_locale

from coordination.extensions import db
from coordination.meetings.ical import filename, invitation
from coordination.meetings.models import Meeting
from notifications.models import Notification

INVITATION_TEMPLATES = ("meeting_invitation", "meeting_changed", "meeting_cancelled")


def attachments(notification: Notification) -> list[tuple[str, bytes, str]]:
    """Return (file name, .ics bytes, METHOD) to attach to an invitation email, else nothing.

    The file carries the meeting as it is now, with its current SEQUENCE; the CANCEL of a
    cancelled meeting, or for an invitee who was taken off it.
    """
    if notification.template not in INVITATION_TEMPLATES:
        return []
    params = notification.params or {}
    meeting = db.session.get(Meeting, params.get("meeting_id"))
    if meeting is None:
        return []
    with force_locale(notification.locale or "sv"):
        method, data = invitation(meeting, cancel=params.get("method") == "CANCEL")
    return [(filename(meeting), data, method)]

"""The only place that changes a conference itself: scheduling, members, attendance, closing.

The agenda (cut-offs, publishing, sending back) changes in conferences.agenda and the decision in
conferences.decisions; together they move referrals through PUT_ON_AGENDA, REMOVE_FROM_AGENDA and
DECIDE (with their history rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from coordination.auth.models import User
from coordination.conferences.agenda import release_pending
from coordination.conferences.events import (
    ConferenceAttendanceRecorded,
    ConferenceCancelled,
    ConferenceClosed,
    ConferenceScheduled,
)
from coordination.conferences.models import (
    Conference,
    ConferenceMember,
)
from coordination.conferences.queries import (
    AGENCIES,
    default_members,
    member_candidates,
    working_calendar,
)
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import get_row, utcnow
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import STOCKHOLM, label, local_today
from coordination.extensions import db
from coordination.programmes.models import Programme
from workflows.calendar import WorkingCalendar
from workflows.conference import (
    ConferenceAction,
    ConferenceState,
    MemberRole,
    agenda_cutoff_at,
    cadence_dates,
    meeting_day,
    next_state,
    prepare_due_at,
    starts_at,
)
from workflows.organisation import AgencyKind, Role

DEFAULT_START = time(9, 0)
REASON_MAX = 2000


def _member_errors(members: Mapping[str, User | None], chair: User | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for agency, user in members.items():
        if user is None:
            continue
        if agency not in AGENCIES:
            errors.setdefault("members", []).append(_("Välj bara bland de fyra huvudmännen."))
        elif user not in member_candidates(agency):
            errors[f"member_{agency}"] = [
                _(
                    "%(name)s är inte ledamot i remissgruppen för %(agency)s.",
                    name=user.name,
                    agency=label("agency", agency),
                )
            ]
    if chair is not None and not chair.has_any_role([Role.TEAM_LEAD]):
        errors["chair_id"] = [_("Ordföranden ska vara samordnare (teamledare).")]
    return errors


def _set_members(
    conference: Conference, members: Mapping[str, User | None], chair: User | None
) -> None:
    present = {m.user_id: m.present for m in conference.members}
    conference.members.clear()
    db.session.flush()
    for agency in AGENCIES:
        user = members.get(agency)
        if user is not None:
            conference.members.append(
                ConferenceMember(
                    user_id=user.id,
                    agency=agency,
                    role=MemberRole.MEMBER.value,
                    present=present.get(user.id),
                )
            )
    if chair is not None and chair.id not in {m.user_id for m in conference.members}:
        conference.members.append(
            ConferenceMember(
                user_id=chair.id,
                agency=AgencyKind.FORBUND.value,
                role=MemberRole.CHAIR.value,
                present=present.get(chair.id),
            )
        )


def _timing(conference: Conference, programme: Programme, calendar: WorkingCalendar) -> None:
    conference.agenda_cutoff_at = agenda_cutoff_at(
        conference.held_on, programme.agenda_cutoff_working_days, calendar
    )
    conference.prepare_due_at = prepare_due_at(
        conference.held_on, programme.prepare_reminder_working_days, calendar
    )


def create_conference(
    *,
    programme: Programme | None,
    held_on: date | None,
    at: time | None = DEFAULT_START,
    place: str | None = None,
    video_link: str | None = None,
    members: Mapping[str, User | None] | None = None,
    chair: User | None = None,
    by: Actor | None,
    origin: str = "manual",
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
) -> Conference:
    """Schedule a conference; a manual one needs a future working day and a place or video link."""
    now = now or utcnow()
    calendar = calendar or working_calendar()
    place, video_link = (place or "").strip() or None, (video_link or "").strip() or None
    errors: dict[str, list[str]] = {}
    if programme is None or not programme.active:
        errors["programme_id"] = [_("Välj en aktiv insats.")]
    if held_on is None:
        errors["held_on"] = [_("Ange datum som ÅÅÅÅ-MM-DD.")]
    elif held_on <= local_today(now):
        errors["held_on"] = [_("Mötet ska ligga efter i dag.")]
    elif not calendar.is_working_day(held_on):
        errors["held_on"] = [_("Välj en arbetsdag. Dagen är en helgdag eller ledig dag.")]
    if at is None:
        errors["at"] = [_("Ange tid som TT:MM.")]
    if origin == "manual" and not place and not video_link:
        errors["place"] = [_("Ange plats eller länk till videomötet.")]
    if video_link and not video_link.startswith("https://"):
        errors["video_link"] = [_("Länken till videomötet ska börja med https://.")]
    errors.update(_member_errors(members or {}, chair))
    if errors:
        raise ValidationFailed(_("Mötet kunde inte sparas. Rätta felen nedan."), errors=errors)
    assert programme is not None and held_on is not None and at is not None  # refused above
    conference = Conference(
        programme_id=programme.id,
        state=ConferenceState.PLANNED.value,
        origin=origin,
        held_on=held_on,
        starts_at=starts_at(held_on, at, calendar),
        place=place,
        video_link=video_link,
        created_by_id=getattr(by, "id", None),
        created_at=now,
    )
    _timing(conference, programme, calendar)
    db.session.add(conference)
    _set_members(conference, members or {}, chair)
    db.session.flush()
    events.record(
        db.session,
        ConferenceScheduled(
            conference_id=conference.id,
            programme_id=programme.id,
            member_ids=tuple(m.user_id for m in conference.members),
            occurred_at=now,
        ),
    )
    return conference


def update_conference(
    conference: Conference,
    *,
    place: str | None,
    video_link: str | None,
    members: Mapping[str, User | None],
    chair: User | None,
    by: Actor,
) -> Conference:
    """Change the place, video link and members of a conference that has not been held."""
    next_state(conference.state, ConferenceAction.EDIT)
    place, video_link = (place or "").strip() or None, (video_link or "").strip() or None
    errors = _member_errors(members, chair)
    if conference.state == ConferenceState.PUBLISHED.value and not place and not video_link:
        errors["place"] = [_("Ange plats eller länk till videomötet.")]
    if video_link and not video_link.startswith("https://"):
        errors["video_link"] = [_("Länken till videomötet ska börja med https://.")]
    if errors:
        raise ValidationFailed(_("Mötet kunde inte sparas. Rätta felen nedan."), errors=errors)
    conference.place, conference.video_link = place, video_link
    _set_members(conference, members, chair)
    conference.version += 1
    db.session.flush()
    return conference


def schedule_ahead(
    programme: Programme,
    now: datetime,
    weeks: int = 8,
    calendar: WorkingCalendar | None = None,
) -> list[Conference]:
    """Create the programme's conferences by its cadence for the coming weeks; skip existing days.

    A cadence day that is a holiday moves to the next working day. The first run without a
    first-conference date fixes it (the next cadence weekday), so the rhythm stays stable.
    """
    calendar = calendar or working_calendar()
    programme = get_row(Programme, programme.id, lock=True)
    if not programme.active:
        return []
    today = local_today(now)
    if programme.conference_first_date is None:
        programme.conference_first_date = today + timedelta(
            days=(programme.conference_weekday - today.weekday()) % 7 or 7
        )
    taken = set(
        db.session.scalars(
            select(Conference.held_on).where(
                Conference.programme_id == programme.id,
                (Conference.origin == "cadence")
                | (Conference.state != ConferenceState.CANCELLED.value),
            )
        )
    )
    latest = db.session.scalar(
        select(Conference)
        .where(Conference.programme_id == programme.id, Conference.place.is_not(None))
        .order_by(Conference.held_on.desc())
        .limit(1)
    )
    members, chair = default_members(programme)
    created = []
    for cadence_day in cadence_dates(
        programme.conference_first_date,
        programme.conference_weekday,
        programme.conference_interval_weeks,
        today + timedelta(days=1),
        today + timedelta(weeks=weeks),
    ):
        day = meeting_day(cadence_day, calendar)
        if day in taken:
            continue
        conference = create_conference(
            programme=programme,
            held_on=day,
            at=latest.starts_at.astimezone(STOCKHOLM).time() if latest else DEFAULT_START,
            place=latest.place if latest else None,
            video_link=latest.video_link if latest else None,
            members=members,
            chair=chair,
            by=None,
            origin="cadence",
            now=now,
            calendar=calendar,
        )
        taken.add(day)
        created.append(conference)
    return created


def _reason(reason: str | None, message: str) -> str:
    """The reason an irreversible action was taken, required (every error at once)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(message, errors={"reason": [message]})
    if len(reason) > REASON_MAX:
        too_long = _("Skriv högst %(max)s tecken.", max=REASON_MAX)
        raise ValidationFailed(too_long, errors={"reason": [too_long]})
    return reason


def cancel(
    conference: Conference, *, by: Actor, reason: str, now: datetime | None = None
) -> Conference:
    """Cancel a conference, with the reason; referrals waiting on its agenda go back to wait for
    the next one (their history says why)."""
    now = now or utcnow()
    target = next_state(conference.state, ConferenceAction.CANCEL).value
    reason = _reason(reason, _("Skriv varför mötet ställs in."))
    conference.state = target
    conference.cancelled_at = now
    conference.cancel_reason = reason
    release_pending(conference, by, _("Mötet ställdes in: %(reason)s", reason=reason))
    conference.version += 1
    db.session.flush()
    events.record(db.session, ConferenceCancelled(conference_id=conference.id, occurred_at=now))
    return conference


def close(
    conference: Conference, *, by: Actor, reason: str, now: datetime | None = None
) -> Conference:
    """Close a held conference, with the reason; undecided referrals go back to wait for the
    next one."""
    now = now or utcnow()
    target = next_state(conference.state, ConferenceAction.CLOSE).value
    reason = _reason(
        reason, _("Skriv varför mötet avslutas, till exempel att alla remisser är behandlade.")
    )
    conference.state = target
    conference.closed_at = now
    conference.close_reason = reason
    release_pending(conference, by, _("Inte behandlad på mötet; tas upp på nästa möte."))
    conference.version += 1
    db.session.flush()
    events.record(db.session, ConferenceClosed(conference_id=conference.id, occurred_at=now))
    return conference


def record_attendance(
    conference: Conference, *, present_user_ids: Iterable[int | str], by: Actor
) -> Conference:
    """Record which members are present."""
    next_state(conference.state, ConferenceAction.RECORD_ATTENDANCE)
    present = {int(i) for i in present_user_ids}
    unknown = present - {m.user_id for m in conference.members}
    if unknown:
        raise ValidationFailed(
            _("Bara mötets ledamöter kan vara närvarande."),
            errors={"present_user_ids": [_("Bara mötets ledamöter kan vara närvarande.")]},
        )
    for member in conference.members:
        member.present = member.user_id in present
    conference.version += 1
    db.session.flush()
    events.record(
        db.session,
        ConferenceAttendanceRecorded(
            conference_id=conference.id,
            present_member_ids=tuple(sorted(present)),
            occurred_at=utcnow(),
        ),
    )
    return conference

"""Reads of conferences: the working calendar, members and chairs to choose from, agenda items."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from coordination.auth.models import User
from coordination.auth.queries import team_leads
from coordination.cases.models import Case
from coordination.conferences.models import (
    AgendaItem,
    Conference,
)
from coordination.core.db import get_row
from coordination.extensions import db
from coordination.organisations.calendar import working_calendar as calendar_with_days_off
from coordination.programmes.models import Programme
from workflows.calendar import WorkingCalendar
from workflows.conference import (
    AgendaStatus,
    ConferenceState,
    MemberRole,
)
from workflows.organisation import MEMBER_AGENCIES, Role

AGENCIES = tuple(a.value for a in MEMBER_AGENCIES)


def working_calendar() -> WorkingCalendar:
    """Return the förbund's working calendar (Swedish holidays and its own days off)."""
    return calendar_with_days_off(db.session)


def get_conference(conference_id: int, *, lock: bool = False) -> Conference:
    """Load a conference, locking its row when it is about to change."""
    return get_row(Conference, conference_id, lock=lock, missing=_("Mötet finns inte."))


def member_candidates(agency: str) -> list[User]:
    """Return the active users who may represent an agency kind (conference members there)."""
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [
        u
        for u in users
        if any(
            m.role == Role.CONFERENCE_MEMBER.value and m.unit.agency_kind == agency
            for m in u.memberships
        )
    ]


def chair_candidates() -> list[User]:
    """Return the active team leads, who chair the conference."""
    return team_leads(by_name=True)


def default_members(programme: Programme) -> tuple[dict[str, User], User | None]:
    """Return the members of the programme's latest conference, else one candidate per agency."""
    latest = db.session.scalar(
        select(Conference)
        .where(
            Conference.programme_id == programme.id,
            Conference.state != ConferenceState.CANCELLED.value,
        )
        .order_by(Conference.held_on.desc(), Conference.id.desc())
        .limit(1)
    )
    members: dict[str, User] = {}
    chair = None
    if latest is not None:
        for member in latest.members:
            if member.role == MemberRole.CHAIR.value:
                chair = member.user
            else:
                members[member.agency] = member.user
    for agency in AGENCIES:
        if agency not in members:
            candidates = member_candidates(agency)
            if candidates:
                members[agency] = candidates[0]
    if chair is None:
        leads = chair_candidates()
        chair = leads[0] if leads else None
    return members, chair


def pending_item(conference: Conference, referral_id: int) -> AgendaItem | None:
    """Return the referral's agenda item waiting for a decision at this conference."""
    return next(
        (
            i
            for i in conference.agenda
            if i.referral_id == referral_id and i.status == AgendaStatus.PENDING.value
        ),
        None,
    )


def case_for(referral_id: int) -> Case | None:
    """Return the case opened for a referral, if any."""
    return db.session.scalar(select(Case).where(Case.referral_id == referral_id))

"""Who may see and run a conference, and which referrals its members may read (../shared/DOMAIN.md
§10)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from coordination.conferences.models import AgendaItem, Conference, ConferenceMember
from coordination.consent.models import Consent
from coordination.core.i18n import local_today
from coordination.extensions import db
from workflows.conference import AGENDA_VISIBLE_STATES, AgendaStatus, MemberRole
from workflows.organisation import Role

# A member reads a referral while it waits on, or was just decided at, their published conference.
_READABLE_ITEMS = (AgendaStatus.PENDING.value, AgendaStatus.DECIDED.value)


def is_team_lead(user) -> bool:
    """The team lead chairs conferences and manages their agendas."""
    return user.has_any_role([Role.TEAM_LEAD])


def membership(user, conference: Conference) -> ConferenceMember | None:
    """Return the user's membership of the conference, if any."""
    return next((m for m in conference.members if m.user_id == user.id), None)


def is_agency_member(user, conference: Conference) -> bool:
    """Tell whether the user represents an agency at the conference (not only chairs it)."""
    member = membership(user, conference)
    return member is not None and member.role == MemberRole.MEMBER.value


def can_view(user, conference: Conference) -> bool:
    """Team leads see every conference; members see the conferences they belong to."""
    return is_team_lead(user) or membership(user, conference) is not None


def can_see_agenda(user, conference: Conference) -> bool:
    """Members see the agenda once it is published; the team lead always."""
    if is_team_lead(user):
        return True
    return membership(user, conference) is not None and conference.state in {
        s.value for s in AGENDA_VISIBLE_STATES
    } | {"closed"}


def can_manage(user, conference: Conference) -> bool:
    """The team lead schedules, edits, publishes and builds the agenda."""
    return is_team_lead(user)


def can_chair(user, conference: Conference) -> bool:
    """The team lead chairs: records attendance and the decisions (the chair or a deputy)."""
    return is_team_lead(user)


def visible_query(user):
    """Return a select of the conferences the user may see."""
    query = select(Conference)
    if is_team_lead(user):
        return query
    return query.where(
        Conference.id.in_(
            select(ConferenceMember.conference_id).where(ConferenceMember.user_id == user.id)
        )
    )


def _covered(rows, on: date) -> set[int]:
    """Return the referral ids of the (referral id, agency) rows that a consent given with the
    referral covers on the date: the consents of every row read in one statement."""
    consents: dict[int, list[Consent]] = {}
    referral_ids = {referral_id for referral_id, _agency in rows}
    if referral_ids:
        for consent in db.session.scalars(
            select(Consent).where(Consent.referral_id.in_(referral_ids))
        ):
            consents.setdefault(consent.referral_id, []).append(consent)
    return {
        referral_id
        for referral_id, agency in rows
        if any(c.covers([agency], on) for c in consents.get(referral_id, []))
    }


def _member_rows(user, referral_id: int | None = None):
    query = (
        select(AgendaItem.referral_id, ConferenceMember.agency)
        .join(Conference, Conference.id == AgendaItem.conference_id)
        .join(ConferenceMember, ConferenceMember.conference_id == Conference.id)
        .where(
            ConferenceMember.user_id == user.id,
            ConferenceMember.role == MemberRole.MEMBER.value,
            Conference.state.in_([s.value for s in AGENDA_VISIBLE_STATES]),
            AgendaItem.status.in_(_READABLE_ITEMS),
        )
    )
    if referral_id is not None:
        query = query.where(AgendaItem.referral_id == referral_id)
    return db.session.execute(query).all()


def member_may_view_referral(user, referral) -> bool:
    """A member reads a referral on a published agenda of theirs, if consent covers their agency."""
    if not user.has_any_role([Role.CONFERENCE_MEMBER]):
        return False
    return referral.id in _covered(_member_rows(user, referral.id), local_today())


def member_visible_referral_ids(user) -> list[int]:
    """Return the ids of the referrals the user may read as a conference member."""
    if not user.has_any_role([Role.CONFERENCE_MEMBER]):
        return []
    return sorted(_covered(_member_rows(user), local_today()))

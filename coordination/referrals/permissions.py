"""Who may see and change a referral (../shared/DOMAIN.md §3, §10)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import and_, or_, select

from coordination.core.db import name_matches, number_in, search_text
from coordination.extensions import db
from coordination.referrals.models import Referral
from workflows.organisation import Role
from workflows.referral import EDITABLE_STATES, ReferralState

_CLOSED = {ReferralState.DECIDED.value, ReferralState.WITHDRAWN.value}

# Conference members read the referrals on their published agendas. The conferences package sits
# above this one and hands in its two checks when the app is created; until then members read none.
_MEMBER_ACCESS: dict[str, Callable] = {}


def let_conference_members_read(
    may_view: Callable[[object, Referral], bool], visible_ids: Callable[[object], list[int]]
) -> None:
    """Take the conferences package's checks: may this member read this referral, and which."""
    _MEMBER_ACCESS.update(may_view=may_view, visible_ids=visible_ids)


def can_create(user) -> bool:
    """A referrer in some unit may write referrals."""
    return user.has_any_role([Role.REFERRER])


def can_view(user, referral: Referral) -> bool:
    """The referrer sees their own; a team lead every submitted one; members their agenda's."""
    return _may_view(user, referral, lambda: _conference_member_may_view(user, referral))


def viewable_ids(user, referrals: Iterable[Referral]) -> set[int]:
    """Return the ids of the referrals the user may see (can_view of each), the conference
    members' check asked once for them all."""
    member_ids: set[int] | None = None

    def on_members_agenda(referral: Referral) -> bool:
        nonlocal member_ids
        if member_ids is None:
            visible_ids = _MEMBER_ACCESS.get("visible_ids")
            member_ids = set(visible_ids(user)) if visible_ids is not None else set()
        return referral.id in member_ids

    return {r.id for r in referrals if _may_view(user, r, lambda r=r: on_members_agenda(r))}


def _may_view(user, referral: Referral, member_may_view: Callable[[], bool]) -> bool:
    if referral.referrer_id == user.id:
        return True
    if referral.state == ReferralState.DRAFT.value:
        return False
    return user.has_any_role([Role.TEAM_LEAD]) or member_may_view()


def _conference_member_may_view(user, referral: Referral) -> bool:
    """Conference members read it while on their published agenda, within the consent."""
    may_view = _MEMBER_ACCESS.get("may_view")
    return may_view is not None and may_view(user, referral)


def can_edit(user, referral: Referral) -> bool:
    """Only the referrer edits, and only a draft or a referral sent back for completion."""
    return referral.referrer_id == user.id and referral.state in {s.value for s in EDITABLE_STATES}


def can_withdraw(user, referral: Referral) -> bool:
    """The referrer may withdraw until the decision."""
    return referral.referrer_id == user.id and referral.state not in _CLOSED


def can_request_completion(user, referral: Referral) -> bool:
    """A team lead may send a submitted referral back for more information."""
    return user.has_any_role([Role.TEAM_LEAD]) and referral.state in (
        ReferralState.SUBMITTED.value,
        ReferralState.ON_AGENDA.value,
    )


def can_manage_for_referral(user, referral: Referral) -> bool:
    """The referrer and the team lead manage consent while the person is at the referral stage."""
    if not can_view(user, referral) or referral.person_id is None:
        return False
    return referral.referrer_id == user.id or user.has_any_role([Role.TEAM_LEAD])


def can_manage_consent(user, consent) -> bool:
    """Whoever manages consent for the consent's referral may withdraw that consent."""
    referral = db.session.get(Referral, consent.referral_id) if consent.referral_id else None
    return referral is not None and can_manage_for_referral(user, referral)


def can_see_identity(user, referral: Referral) -> bool:
    """Tell whether the caller may see the person's name (protected identity is masked)."""
    if not referral.protected_identity:
        return True
    return referral.referrer_id == user.id and referral.state in {s.value for s in EDITABLE_STATES}


def search_condition(user, text: str):
    """The referrals a search finds, in SQL: by number, or by every word in the person's name
    where the user may see it (`can_see_identity`: a protected name only for its referrer while
    the referral is editable)."""
    text = search_text(text)
    number = number_in(text)
    sees_name = or_(
        Referral.protected_identity.is_(False),
        and_(
            Referral.referrer_id == user.id,
            Referral.state.in_(sorted(s.value for s in EDITABLE_STATES)),
        ),
    )
    named = and_(sees_name, name_matches(Referral.first_name, Referral.last_name, text))
    return or_(Referral.id == number, named) if number is not None else named


def visible_query(user):
    """Return a select of the referrals the user may see."""
    query = select(Referral)
    conditions = [Referral.referrer_id == user.id]
    if user.has_any_role([Role.TEAM_LEAD]):
        conditions.append(Referral.state != ReferralState.DRAFT.value)
    if user.has_any_role([Role.CONFERENCE_MEMBER]) and "visible_ids" in _MEMBER_ACCESS:
        conditions.append(Referral.id.in_(_MEMBER_ACCESS["visible_ids"](user)))
    return query.where(or_(*conditions))

"""Who may record and withdraw a person's consent."""

from __future__ import annotations

from coordination.referrals import permissions as referral_perms
from workflows.organisation import Role


def can_manage_for_referral(user, referral) -> bool:
    """The referrer and the team lead manage consent while the person is at the referral stage."""
    if not referral_perms.can_view(user, referral) or referral.person_id is None:
        return False
    return referral.referrer_id == user.id or user.has_any_role([Role.TEAM_LEAD])

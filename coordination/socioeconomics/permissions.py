"""Who sees the socio-economic figures and who keeps the price lists and programme costs."""

from __future__ import annotations

from workflows.organisation import Role

# The figures are aggregated statistics: the statistics report roles see them.
VIEW_ROLES = (Role.ANALYST, Role.TEAM_LEAD)
# Analysts keep the price lists (their sources are evaluation material); admins may too.
EDIT_ROLES = (Role.ANALYST, Role.ADMIN)
PRICE_LIST_ROLES = (Role.ANALYST, Role.TEAM_LEAD, Role.ADMIN)


def can_view(user) -> bool:
    """Analysts and team leads see cohort calculations."""
    return bool(user and user.is_authenticated and user.has_any_role(VIEW_ROLES))


def can_edit(user) -> bool:
    """Analysts and admins edit price lists and programme costs."""
    return bool(user and user.is_authenticated and user.has_any_role(EDIT_ROLES))

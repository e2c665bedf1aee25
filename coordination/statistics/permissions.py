"""Who may see statistics, import history and handle participants' self-ratings."""

from __future__ import annotations

from workflows.organisation import Role

REPORT_ROLES = (Role.ANALYST, Role.TEAM_LEAD)
IMPORT_ROLES = (Role.ADMIN,)
PARTICIPANT_ROLES = (Role.TEAM_LEAD, Role.COORDINATOR)


def can_view_reports(user) -> bool:
    """Analysts and team leads see aggregated statistics."""
    return bool(user and user.is_authenticated and user.has_any_role(REPORT_ROLES))


def can_import(user) -> bool:
    """Admins import historical participant records."""
    return bool(user and user.is_authenticated and user.has_any_role(IMPORT_ROLES))


def can_view_participant(user, participant) -> bool:
    """Team leads and coordinators see a participant's SUS record and self-ratings.

    Analysts never see a single participant: their role is aggregated statistics only.
    """
    return bool(
        user and user.is_authenticated and participant and user.has_any_role(PARTICIPANT_ROLES)
    )


def can_record_rating(user, participant) -> bool:
    """Who may record a self-rating: the same staff, while the participant is in the programme."""
    return can_view_participant(user, participant) and participant.exited_on is None

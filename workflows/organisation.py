"""Agency kinds and roles (../shared/DOMAIN.md §1 and §3)."""

from __future__ import annotations

from enum import StrEnum


class AgencyKind(StrEnum):
    """The four kinds of member agency, plus the förbund itself."""

    KOMMUN = "kommun"
    AF = "af"
    FK = "fk"
    REGION = "region"
    FORBUND = "forbund"


MEMBER_AGENCIES: tuple[AgencyKind, ...] = (
    AgencyKind.KOMMUN,
    AgencyKind.AF,
    AgencyKind.FK,
    AgencyKind.REGION,
)


class Role(StrEnum):
    """What a user may do in one organisation unit."""

    REFERRER = "referrer"
    CONFERENCE_MEMBER = "conference_member"
    COORDINATOR = "coordinator"
    TEAM_LEAD = "team_lead"
    ADMIN = "admin"
    ANALYST = "analyst"
    AUDITOR = "auditor"

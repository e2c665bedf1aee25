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
    REGISTRAR = "registrar"


# Roles whose permission checks (coordination/*/permissions.py) open other people's case content:
# a team lead sees every case and referral, a coordinator their caseload and the participants'
# statistics records, a conference member the referrals on their agenda. (A referrer sees only
# what they wrote; an analyst only aggregates; an admin no case content.)
CASE_CONTENT_ROLES: frozenset[Role] = frozenset(
    {Role.TEAM_LEAD, Role.COORDINATOR, Role.CONFERENCE_MEMBER}
)

# Roles that read the access log or produce register extracts.
LOG_REVIEW_ROLES: frozenset[Role] = frozenset({Role.AUDITOR, Role.REGISTRAR})

# A grant of one of these needs a second administrator's approval (separation of duties). The
# admin role itself is among them, or one admin could make a second account to approve with.
SECOND_APPROVAL_ROLES: frozenset[Role] = CASE_CONTENT_ROLES | LOG_REVIEW_ROLES | {Role.ADMIN}

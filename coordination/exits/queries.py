"""Reads of exits: registrations, return referrals, packets, follow-ups and who is reminded."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from coordination.auth.models import User
from coordination.auth.queries import team_leads
from coordination.core.db import DbSession, get_row
from coordination.exits.models import (
    ExitRegistration,
    FollowUp,
    Packet,
    ReturnReferral,
)
from coordination.extensions import db
from coordination.statistics.models import SusRegistration
from coordination.statistics.queries import participant_for_case
from workflows.organisation import MEMBER_AGENCIES, AgencyKind
from workflows.return_referral import (
    TEXT_SECTIONS,
)

AGENCY_CODES = [a.value for a in MEMBER_AGENCIES]


def exit_registration_of(case_id: int) -> ExitRegistration | None:
    """Return the case's exit registration, if made."""
    return db.session.scalar(select(ExitRegistration).where(ExitRegistration.case_id == case_id))


def return_referral_of(case_id: int) -> ReturnReferral | None:
    """Return the case's return referral, if drafted."""
    return db.session.scalar(select(ReturnReferral).where(ReturnReferral.case_id == case_id))


def get_return_referral(return_referral_id: int, *, lock: bool = False) -> ReturnReferral:
    """Load a return referral, locking its row when it is about to change."""
    return get_row(
        ReturnReferral, return_referral_id, lock=lock, missing=_("Återremissen finns inte.")
    )


def get_packet(packet_id: int, *, lock: bool = False) -> Packet:
    """Load a packet, locking its row when it is about to change."""
    return get_row(Packet, packet_id, lock=lock, missing=_("Paketet finns inte."))


def packet_for_decision(decision_id: int, session: DbSession | None = None) -> Packet | None:
    """Return the joint-recommendation packet of a conference decision, if delivered."""
    session = session or db.session
    return session.scalar(select(Packet).where(Packet.decision_id == decision_id))


def escalation_recipients(unit_id: int, session: DbSession | None = None) -> list[User]:
    """Return the referrer's team leads: those of the referring unit, else the förbund's."""
    session = session or db.session
    leads = team_leads(session, unit_ids=[unit_id])
    return leads or team_leads(session, agency_kind=AgencyKind.FORBUND.value)


def forbund_team_leads(session: DbSession | None = None) -> list[User]:
    """Return the förbund's active team leads."""
    return team_leads(session, agency_kind=AgencyKind.FORBUND.value)


def follow_up_recipients(follow_up: FollowUp, session: DbSession | None = None) -> list[User]:
    """Return who is reminded of a follow-up: its coordinator, or the team leads if they left."""
    session = session or db.session
    user = session.get(User, follow_up.assignee_id) if follow_up.assignee_id else None
    if user is not None and user.active:
        return [user]
    return forbund_team_leads(session) or team_leads(session)


def follow_up_registration(follow_up: FollowUp) -> SusRegistration | None:
    """Return the SUS registration made at a follow-up, if any."""
    participant = participant_for_case(follow_up.case_id)
    return participant.registration(follow_up.occasion) if participant else None


def sections_of(return_referral: ReturnReferral) -> dict:
    """Return the written sections of a return referral."""
    sections = (return_referral.content or {}).get("sections") or {}
    return {name: sections.get(name, "") for name in TEXT_SECTIONS}


def recommendations_of(return_referral: ReturnReferral) -> list[dict]:
    """Return the recommendations of a return referral, numbered."""
    return list((return_referral.content or {}).get("recommendations") or [])


def facts_of(return_referral: ReturnReferral) -> dict:
    """Return the compiled facts of a return referral."""
    return (return_referral.content or {}).get("facts") or {}

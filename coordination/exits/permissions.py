"""Who may register an exit, write and sign a return referral, and read and acknowledge packets.

The assigned coordinator and the team leads work on the exit and the draft; only the assigned
coordinator signs. A packet is read by its recipient (the referrer), the team leads, and for a
return referral the case's coordinator; the recipient's side reads it only while a valid consent
covers the recipient's agency, and reads a section of one kind of information (the health profile)
only while that consent covers the kind. The recipient or a team lead of the recipient's unit
acknowledges it and records what became of the recommendations. A protected person's name is
shown to the assigned coordinator only; everyone else sees the person's code.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import exists, or_, select

from coordination.cases.models import Case, CoordinatorAssignment
from coordination.consent.models import INFO_KINDS, Consent
from coordination.consent.operations import (
    agency_may_see,
    agency_may_see_sql,
    kinds_visible_to,
)
from coordination.core.i18n import local_today
from coordination.core.permissions import get_visible
from coordination.exits.models import FollowUp, Packet, ReturnReferral
from coordination.extensions import db
from coordination.organisations.models import Membership, OrganisationUnit
from workflows.organisation import Role
from workflows.return_referral import SECTION_KINDS, ReturnReferralState


def is_team_lead(user) -> bool:
    """Team leads see every case and every packet."""
    return user.has_any_role([Role.TEAM_LEAD])


def coordinator_id_of(case) -> int | None:
    """Return the id of the case's active coordinator, if any."""
    if case is None:
        return None
    assignment = next((a for a in case.assignments if a.active), None)
    return assignment.coordinator_id if assignment else None


def is_assigned_coordinator(user, case) -> bool:
    """Tell whether the user is the case's active coordinator."""
    return case is not None and coordinator_id_of(case) == user.id


def can_exit(user, case) -> bool:
    """The assigned coordinator or a team lead registers the exit."""
    return is_assigned_coordinator(user, case) or is_team_lead(user)


def can_view_return_referral(user, return_referral) -> bool:
    """The coordinator and team leads always; the referrer once it is delivered to them."""
    if can_exit(user, return_referral.case):
        return True
    packet = return_referral.packet
    return packet is not None and can_view_packet(user, packet)


def can_edit_return_referral(user, return_referral) -> bool:
    """The coordinator and team leads complete the draft; nobody changes it once finalised."""
    return return_referral.state == ReturnReferralState.DRAFT.value and can_exit(
        user, return_referral.case
    )


def can_finalise(user, return_referral) -> bool:
    """Only the assigned coordinator signs the return referral."""
    return return_referral.state == ReturnReferralState.DRAFT.value and is_assigned_coordinator(
        user, return_referral.case
    )


def unit_team_lead(user, unit_id: int) -> bool:
    """Tell whether the user is a team lead in the given unit (the user's memberships are loaded
    with the user)."""
    return any(m.unit_id == unit_id and m.role == Role.TEAM_LEAD.value for m in user.memberships)


def packets_answered_by(user):
    """Return the query of the packets the user answers for: theirs, or their led units'."""
    led_units = select(Membership.unit_id).where(
        Membership.user_id == user.id, Membership.role == Role.TEAM_LEAD.value
    )
    return select(Packet).where(or_(Packet.recipient_id == user.id, Packet.unit_id.in_(led_units)))


def speaks_for_recipient(user, packet) -> bool:
    """The recipient, or a team lead of the recipient's unit, answers for the packet."""
    return user.id == packet.recipient_id or unit_team_lead(user, packet.unit_id)


def is_forbund_reader(user, packet) -> bool:
    """The förbund's own staff on the packet: the team leads and the case's coordinator."""
    return is_team_lead(user) or is_assigned_coordinator(user, packet.case)


def recipient_agency(packet) -> str | None:
    """Return the agency kind of the unit the packet is addressed to."""
    unit = db.session.get(OrganisationUnit, packet.unit_id)
    return unit.agency_kind if unit else None


def can_view_packet(user, packet, known: dict[int, list[Consent]] | None = None) -> bool:
    """The team leads, the coordinator of a return referral's case, and the recipient's side
    while a valid consent covers the recipient's agency (`known`: from consents_by_person)."""
    if is_forbund_reader(user, packet):
        return True
    return speaks_for_recipient(user, packet) and agency_may_see(
        packet.person_id, recipient_agency(packet), local_today(), known=known
    )


def readable_packets_query(user, today: date):
    """The packets the user answers for and may read, as one query to page and count in SQL:
    can_view_packet's rule (a withdrawn consent hides a packet from its recipient's side)."""
    query = packets_answered_by(user)
    if is_team_lead(user):
        return query
    coordinates = exists().where(
        CoordinatorAssignment.case_id == Packet.case_id,
        CoordinatorAssignment.coordinator_id == user.id,
        CoordinatorAssignment.active.is_(True),
    )
    return query.join(OrganisationUnit, OrganisationUnit.id == Packet.unit_id).where(
        or_(coordinates, agency_may_see_sql(Packet.person_id, OrganisationUnit.agency_kind, today))
    )


def withheld_sections(user, packet) -> list[str]:
    """Return the sections of the packet's document this reader may not see: for the recipient's
    side, those whose kind of information no valid consent covering their agency covers."""
    if packet is None or is_forbund_reader(user, packet):
        return []
    visible = kinds_visible_to(packet.person_id, recipient_agency(packet), local_today())
    withheld = set(INFO_KINDS) - visible
    return [name for name, kind in SECTION_KINDS.items() if kind in withheld]


def withheld_in_return_referral(user, return_referral) -> list[str]:
    """Return the sections of a return referral this reader may not see (see withheld_sections)."""
    if can_exit(user, return_referral.case):
        return []
    return withheld_sections(user, return_referral.packet)


def can_acknowledge(user, packet) -> bool:
    """The recipient's side acknowledges receipt, once."""
    return packet.acknowledged_at is None and speaks_for_recipient(user, packet)


def can_record_outcomes(user, packet) -> bool:
    """The recipient's side records what became of each recommendation, after acknowledging."""
    return packet.acknowledged_at is not None and speaks_for_recipient(user, packet)


def can_see_identity(user, person, case=None) -> bool:
    """A protected person's name is shown only to the case's assigned coordinator."""
    if person is None:
        return False
    return not person.protected_identity or is_assigned_coordinator(user, case)


def person_label(user, person, case=None) -> str:
    """Return the person as this user may see them: the name, or the code if protected."""
    if person is None:
        return ""
    if can_see_identity(user, person, case):
        return f"{person.first_name} {person.last_name}".strip()
    return person.code


def can_handle_follow_up(user, follow_up) -> bool:
    """The assignee, the case's coordinator and the team leads register a follow-up."""
    return (
        follow_up.assignee_id == user.id
        or is_assigned_coordinator(user, follow_up.case)
        or is_team_lead(user)
    )


# --- loading what the current user may see --------------------------------------------------


def load_case(case_id: int) -> Case:
    """Load a case the user may exit, else 404."""
    return get_visible(Case, case_id, can_exit, kind="case", glass=("case", case_id))


def load_return_referral(
    return_referral_id: int, *, lock: bool = False, read: bool = False
) -> ReturnReferral:
    """Load a return referral the user may read, else 404."""
    return get_visible(
        ReturnReferral,
        return_referral_id,
        can_view_return_referral,
        glass=lambda document: ("case", document.case_id),
        lock=lock,
        read="return_referral" if read else None,
        person=lambda document: document.case.person_id,
    )


def load_packet(packet_id: int, *, lock: bool = False, read: bool = False) -> Packet:
    """Load a packet the user may read, else 404."""
    return get_visible(
        Packet,
        packet_id,
        can_view_packet,
        lock=lock,
        read="packet" if read else None,
        person=lambda packet: packet.person_id,
    )


def load_follow_up(follow_up_id: int) -> FollowUp:
    """Load a follow-up the user may register, else 404."""
    return get_visible(FollowUp, follow_up_id, can_handle_follow_up)

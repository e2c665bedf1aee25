"""The exits domain listens to the conference: a joint recommendation becomes a packet.

When the conference decides not to admit (outcome recommend), its written joint recommendation is
delivered to the referrer as a packet, in the same transaction as the decision, so that it is
acknowledged and reminded of exactly like a return referral. The app factory subscribes it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from coordination.conferences.events import ReferralDecided
from coordination.core.events import DomainEvent


def deliver_recommendations(session: Session, batch: list[DomainEvent]) -> None:
    """Turn each ReferralDecided with outcome recommend into a delivered packet."""
    for domain_event in batch:
        if not isinstance(domain_event, ReferralDecided) or domain_event.outcome != "recommend":
            continue
        from coordination.exits.packets import deliver_joint_recommendation

        deliver_joint_recommendation(session, domain_event.decision_id)

"""The only place that changes packets: delivery, acknowledgement and recommendation outcomes.

One packet mechanism serves the return referral and the joint recommendation of a referral that
was not admitted.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from coordination.conferences.models import Decision
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import DbSession, utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.exits.events import (
    PacketAcknowledged,
    PacketDelivered,
    RecommendationOutcomesRecorded,
)
from coordination.exits.facts import isoformat_or_none, referral_section
from coordination.exits.models import (
    Packet,
    RecommendationOutcome,
    ReturnReferral,
)
from coordination.exits.queries import packet_for_decision
from coordination.extensions import db
from coordination.referrals.models import Referral
from workflows.return_referral import (
    NOTE_REQUIRED,
    PacketKind,
    RecommendationStatus,
    ReturnReferralAction,
    acknowledge_packet,
    content_hash,
    next_state,
)


def deliver_return_referral(return_referral: ReturnReferral, *, now: datetime) -> Packet:
    """Deliver a finalised return referral as a packet to the referrer."""
    target = next_state(return_referral.state, ReturnReferralAction.DELIVER)
    referral = return_referral.referral
    packet = Packet(
        kind=PacketKind.RETURN_REFERRAL.value,
        return_referral_id=return_referral.id,
        referral_id=referral.id,
        case_id=return_referral.case_id,
        person_id=return_referral.case.person_id,
        recipient_id=referral.referrer_id,
        unit_id=referral.referring_unit_id,
        content={"kind": PacketKind.RETURN_REFERRAL.value, **return_referral.content},
        delivered_at=now,
    )
    packet.content_hash = content_hash(packet.content)
    db.session.add(packet)
    return_referral.state = target.value
    db.session.flush()
    _record_delivery(db.session, packet)
    return packet


def _record_delivery(session: DbSession, packet: Packet) -> None:
    events.record(
        session,
        PacketDelivered(
            packet_id=packet.id,
            kind=packet.kind,
            recipient_id=packet.recipient_id,
            unit_id=packet.unit_id,
            referral_id=packet.referral_id,
            case_id=packet.case_id,
            delivered_at=packet.delivered_at,
            occurred_at=packet.delivered_at,
        ),
    )


def joint_recommendation_content(decision: Decision, referral: Referral) -> dict:
    """Return the document of a joint recommendation: the decision as the referrer reads it."""
    return {
        "kind": PacketKind.JOINT_RECOMMENDATION.value,
        "programme": {"id": referral.programme_id, "name": referral.programme.name},
        "referral": referral_section(referral),
        "decision": {
            "id": decision.id,
            "outcome": decision.outcome,
            "decided_at": decision.decided_at.isoformat(),
            "conference_id": decision.conference_id,
            "conference_date": isoformat_or_none(decision.conference.held_on),
            "agencies": list(decision.agencies or []),
            "positions": [{"agency": p.agency, "stance": p.stance} for p in decision.positions],
        },
        "recommendations": [{"number": 1, "agency": None, "text": decision.recommendation}],
    }


def deliver_joint_recommendation(session: DbSession, decision_id: int) -> Packet | None:
    """Deliver a conference's joint recommendation (outcome recommend) as a packet, once."""
    existing = packet_for_decision(decision_id, session)
    if existing is not None:
        return existing
    decision = session.get(Decision, decision_id)
    referral = session.scalar(select(Referral).where(Referral.decision_id == decision_id))
    if decision is None or referral is None:
        return None
    content = joint_recommendation_content(decision, referral)
    packet = Packet(
        kind=PacketKind.JOINT_RECOMMENDATION.value,
        decision_id=decision.id,
        referral_id=referral.id,
        person_id=referral.person_id,
        recipient_id=referral.referrer_id,
        unit_id=referral.referring_unit_id,
        content=content,
        content_hash=content_hash(content),
        delivered_at=decision.decided_at,
    )
    session.add(packet)
    session.flush()
    _record_delivery(session, packet)
    return packet


# --- acknowledgement and outcomes -------------------------------------------------------------


def acknowledge(packet: Packet, *, by: Actor, now: datetime | None = None) -> Packet:
    """Record the referrer's acknowledgement of receipt; the reminders stop.

    The caller passes the packet locked (get_packet(..., lock=True)).
    """
    now = now or utcnow()
    acknowledge_packet(packet.acknowledged_at)
    if packet.return_referral is not None:
        packet.return_referral.state = next_state(
            packet.return_referral.state, ReturnReferralAction.ACKNOWLEDGE
        ).value
    packet.acknowledged_at = max(now, packet.delivered_at)
    packet.acknowledged_by_id = by.id
    db.session.flush()
    events.record(
        db.session,
        PacketAcknowledged(
            packet_id=packet.id,
            kind=packet.kind,
            recipient_id=packet.recipient_id,
            acknowledged_by_id=by.id,
            case_id=packet.case_id,
            referral_id=packet.referral_id,
            occurred_at=now,
        ),
    )
    return packet


def record_outcomes(
    packet: Packet, *, outcomes: list[dict], by: Actor, now: datetime | None = None
) -> list[RecommendationOutcome]:
    """Record what became of recommendations: a status and a note each (all errors at once)."""
    now = now or utcnow()
    if packet.acknowledged_at is None:
        raise Conflict(_("Kvittera att du har tagit emot paketet innan du följer upp det."))
    numbers = {r["number"] for r in packet.recommendations}
    statuses = {s.value for s in RecommendationStatus}
    errors: dict[str, list[str]] = {}
    for item in outcomes:
        number = item.get("number")
        field = f"outcome_{number}"
        if number not in numbers:
            errors.setdefault(field, []).append(
                _("Rekommendation %(n)s finns inte i paketet.", n=number)
            )
            continue
        if item.get("status") not in statuses:
            errors.setdefault(field, []).append(
                _("Rekommendation %(n)s: välj vad som blev av den.", n=number)
            )
        elif item["status"] in NOTE_REQUIRED and not str(item.get("note") or "").strip():
            errors.setdefault(field, []).append(
                _("Rekommendation %(n)s: skriv varför den inte genomförs.", n=number)
            )
    if not outcomes:
        errors["outcomes"] = [_("Ange vad som blev av minst en rekommendation.")]
    if errors:
        raise ValidationFailed(
            _("Uppföljningen av rekommendationerna kunde inte sparas. Rätta felen nedan."),
            errors=errors,
        )
    saved = []
    for item in outcomes:
        outcome = packet.outcome_of(item["number"])
        if outcome is None:
            outcome = RecommendationOutcome(packet=packet, number=item["number"])
            db.session.add(outcome)
        outcome.status = item["status"]
        outcome.note = str(item.get("note") or "").strip() or None
        outcome.recorded_by_id = by.id
        outcome.recorded_at = now
        saved.append(outcome)
    db.session.flush()
    events.record(
        db.session,
        RecommendationOutcomesRecorded(
            packet_id=packet.id,
            numbers=tuple(sorted(item["number"] for item in outcomes)),
            occurred_at=now,
        ),
    )
    return saved

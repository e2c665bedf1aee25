"""The only place that records a conference's decision on a referral (once, under a row lock).

An admitted referral's case opens through coordination.cases.operations in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from coordination.auth.models import User
from coordination.cases import operations as case_ops
from coordination.cases import queries as case_queries
from coordination.conferences.agenda import move_referral
from coordination.conferences.events import (
    ReferralDecided,
)
from coordination.conferences.models import (
    AgencyPosition,
    AgendaItem,
    Conference,
    Decision,
)
from coordination.conferences.queries import pending_item
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import STOCKHOLM, label
from coordination.extensions import db
from coordination.referrals import operations as referral_ops
from coordination.referrals.models import Referral
from workflows.conference import (
    AgendaStatus,
    ConferenceAction,
    Outcome,
    next_state,
    quorum_missing,
)
from workflows.referral import ReferralAction, ReferralState
from workflows.referral import next_state as referral_next_state


@dataclass(frozen=True)
class DecisionInput:
    """What the chair records for one referral."""

    outcome: str | None
    recommendation: str
    positions: dict[str, str]
    coordinator_id: int | None = None
    complexity_weight: int | None = None
    over_capacity_reason: str = ""


def not_started_message(conference: Conference) -> str:
    """Say that the meeting has not started and when decisions can be saved (Stockholm time)."""
    return _(
        "Mötet har inte börjat. Beslut kan sparas från mötets start %(when)s.",
        when=conference.starts_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M"),
    )


def has_started(conference: Conference, now: datetime | None = None) -> bool:
    """Tell whether the meeting has started (its date and time, Stockholm time, has come)."""
    return (now or utcnow()) >= conference.starts_at


def decision_errors(
    conference: Conference,
    referral: Referral,
    data: DecisionInput,
    now: datetime | None = None,
) -> dict[str, list[str]]:
    """Return every rule the decision violates, by field; empty when it may be recorded."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not has_started(conference, now):
        add("starts_at", not_started_message(conference))
    present = conference.present_agencies
    if not present:
        add("attendance", _("Registrera vilka ledamöter som är närvarande innan ni beslutar."))
    else:
        missing = quorum_missing(
            referral.agencies_needed or [],
            present,
            all_named_required=conference.programme.quorum_all_named_agencies,
        )
        if missing:
            add(
                "attendance",
                _(
                    "Remissgruppen är inte beslutsför: alla myndigheter som remissen gäller ska "
                    "vara företrädda. Saknas: %(names)s.",
                    names=", ".join(label("agency", a) for a in sorted(missing)),
                ),
            )
    for agency in sorted(present):
        if not (data.positions.get(agency) or "").strip():
            add(
                f"position_{agency}",
                _("Skriv ställningstagandet för %(agency)s.", agency=label("agency", agency)),
            )
    for agency in sorted(set(data.positions) - present):
        if (data.positions.get(agency) or "").strip():
            add(
                f"position_{agency}",
                _(
                    "%(agency)s är inte företrädd på mötet och kan inte ta ställning.",
                    agency=label("agency", agency),
                ),
            )
    if data.outcome not in {o.value for o in Outcome}:
        add("outcome", _("Välj beslut: skrivs in i insatsen eller gemensam rekommendation."))
    if not (data.recommendation or "").strip():
        add(
            "recommendation",
            _(
                "Skriv remissgruppens gemensamma rekommendation med råd om fortsatt planering. "
                "Den krävs vid båda besluten."
            ),
        )
    if data.outcome == Outcome.ADMIT.value:
        coordinator = db.session.get(User, data.coordinator_id) if data.coordinator_id else None
        if not case_queries.is_coordinator(coordinator):
            add("coordinator_id", _("Välj koordinator för deltagandet."))
        if data.complexity_weight not in (1, 2, 3):
            add("complexity_weight", _("Välj komplexitet 1, 2 eller 3."))
        elif (
            coordinator is not None
            and case_queries.is_coordinator(coordinator)
            and not data.over_capacity_reason.strip()
        ):
            # Checked again under the lock when the case opens; here so all errors come at once.
            problem = case_queries.capacity_problem(
                coordinator, data.complexity_weight, referral.programme_id
            )
            if problem:
                add("over_capacity_reason", problem)
    elif data.outcome == Outcome.RECOMMEND.value:
        if data.coordinator_id is not None:
            add("coordinator_id", _("Koordinator utses bara när personen skrivs in."))
        if data.complexity_weight is not None:
            add("complexity_weight", _("Komplexitet anges bara när personen skrivs in."))
    return errors


def decide(
    referral_id: int,
    *,
    conference: Conference,
    by: Actor,
    data: DecisionInput,
    now: datetime | None = None,
) -> Decision:
    """Record the conference's one decision on a referral; the loser of a race gets 409."""
    now = now or utcnow()
    # The row lock makes a second, simultaneous decision wait here and then see the first one.
    referral = referral_ops.get_referral(referral_id, lock=True)
    item = _item_to_decide(conference, referral)
    errors = decision_errors(conference, referral, data, now)
    if errors:
        raise ValidationFailed(
            _("Beslutet kunde inte sparas. Rätta felen nedan."),
            errors=errors,
            payload={"referral_id": referral.id},
        )
    decision = _record_decision(conference, referral, item, data, by, now)
    case = None
    if data.outcome == Outcome.ADMIT.value:
        coordinator = db.session.get(User, data.coordinator_id)
        # decision_errors refused an admission without a coordinator or a complexity weight.
        assert coordinator is not None and data.complexity_weight is not None
        case = case_ops.admit(
            referral,
            coordinator=coordinator,
            complexity_weight=data.complexity_weight,
            over_capacity_reason=data.over_capacity_reason.strip(),
            by=by,
            now=now,
        )
    events.record(
        db.session,
        ReferralDecided(
            referral_id=referral.id,
            decision_id=decision.id,
            conference_id=conference.id,
            programme_id=referral.programme_id,
            outcome=decision.outcome,
            referrer_id=referral.referrer_id,
            coordinator_id=decision.coordinator_id if case and case.active_assignment else None,
            case_id=case.id if case else None,
            occurred_at=now,
        ),
    )
    return decision


def _item_to_decide(conference: Conference, referral: Referral) -> AgendaItem:
    """Return the referral's waiting agenda item; refuse a decided referral or one not waiting."""
    if referral.state == ReferralState.DECIDED.value:
        earlier = db.session.get(Decision, referral.decision_id)
        assert earlier is not None  # a decided referral has its decision (CHECK constraint)
        raise Conflict(
            _(
                "Remissen är redan beslutad (%(when)s). Ditt beslut sparades inte. "
                "Ladda om sidan för att se beslutet.",
                when=earlier.decided_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M"),
            ),
            payload={"decision_id": earlier.id, "referral_id": referral.id},
        )
    next_state(conference.state, ConferenceAction.DECIDE)
    item = pending_item(conference, referral.id)
    if item is None:
        raise Conflict(
            _("Remissen väntar inte på beslut på det här mötet."),
            payload={"referral_id": referral.id, "state": referral.state},
        )
    referral_next_state(referral.state, ReferralAction.DECIDE)
    return item


def _record_decision(
    conference: Conference,
    referral: Referral,
    item: AgendaItem,
    data: DecisionInput,
    by: Actor,
    now: datetime,
) -> Decision:
    """Write the decision with each present agency's position; the referral moves to decided."""
    admit = data.outcome == Outcome.ADMIT.value
    decision = Decision(
        conference_id=conference.id,
        outcome=data.outcome,
        recommendation=data.recommendation.strip(),
        agencies=sorted(conference.present_agencies),
        coordinator_id=data.coordinator_id if admit else None,
        complexity_weight=data.complexity_weight if admit else None,
        decided_by_id=by.id,
        decided_at=now,
    )
    for agency in sorted(conference.present_agencies):
        decision.positions.append(
            AgencyPosition(agency=agency, stance=data.positions[agency].strip())
        )
    db.session.add(decision)
    db.session.flush()
    referral.decision_id = decision.id
    move_referral(referral, ReferralAction.DECIDE, by, label("outcome", data.outcome))
    item.status = AgendaStatus.DECIDED.value
    db.session.flush()
    return decision

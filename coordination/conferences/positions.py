"""The only place that records an agency's position on a referral before the conference decides.

A conference member records their own agency's position (ställningstagande) on a referral on the
published agenda, with a quick "tillstyrker" or a text of their own, and may change it until the
decision is taken. The chair's decision form starts from these positions (conferences.decisions
keeps the decided ones in AgencyPosition).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from coordination.conferences.models import AgendaItem, Conference, ConferenceMember, MemberPosition
from coordination.core.actor import Actor
from coordination.core.db import utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.extensions import db
from workflows.conference import AgendaStatus, ConferenceState, MemberRole

SUPPORT = "support"
SAVE = "save"
STANCE_MAX = 5000


def supports_text() -> str:
    """The position a quick "Tillstyrker" records (in the member's language)."""
    return _("Tillstyrker.")


def recorded_positions(item: AgendaItem | None) -> dict[str, MemberPosition]:
    """Return the positions recorded for the agenda item, by agency."""
    return {p.agency: p for p in item.positions} if item is not None else {}


def may_record(conference: Conference, item: AgendaItem | None) -> bool:
    """Positions are recorded on a published agenda while the referral waits for its decision."""
    return (
        item is not None
        and conference.state == ConferenceState.PUBLISHED.value
        and item.status == AgendaStatus.PENDING.value
    )


def stance_from(action: str, text: str) -> tuple[str, dict[str, list[str]]]:
    """Return the position to record and the errors: a quick support may carry a comment; a
    position of one's own needs its text."""
    text = (text or "").strip()
    errors: dict[str, list[str]] = {}
    if action == SUPPORT:
        stance = f"{supports_text()} {text}".strip()
    elif action == SAVE:
        stance = text
        if not text:
            errors["stance"] = [_("Skriv myndighetens ställningstagande, eller välj Tillstyrker.")]
    else:
        stance = text
        errors["stance"] = [_("Välj Tillstyrker eller Spara ställningstagandet.")]
    if len(stance) > STANCE_MAX:
        errors.setdefault("stance", []).append(_("Skriv högst %(max)s tecken.", max=STANCE_MAX))
    return stance, errors


def record_position(
    conference: Conference,
    item: AgendaItem | None,
    member: ConferenceMember,
    *,
    action: str,
    text: str,
    by: Actor,
    now: datetime | None = None,
) -> MemberPosition:
    """Record (or change) the member's own agency's position; refused once the decision is taken.

    The agency is always the member's own: nobody records another agency's position here.
    """
    if member.role != MemberRole.MEMBER.value or member.conference_id != conference.id:
        raise Conflict(_("Bara mötets ledamöter registrerar sin myndighets ställningstagande."))
    if not may_record(conference, item):
        raise Conflict(
            _(
                "Ställningstagandet kan inte ändras längre: remissen är beslutad eller väntar "
                "inte på det här mötet."
            )
        )
    assert item is not None  # may_record refused a missing item
    stance, errors = stance_from(action, text)
    if errors:
        raise ValidationFailed(
            _("Ställningstagandet kunde inte sparas. Rätta felen nedan."), errors=errors
        )
    position = recorded_positions(item).get(member.agency)
    if position is None:
        position = MemberPosition(agency=member.agency, stance=stance, recorded_by_id=by.id)
        item.positions.append(position)
    position.stance = stance
    position.recorded_by_id = by.id
    position.recorded_at = now or utcnow()
    db.session.flush()
    return position

"""The only place that changes a conference's agenda: cut-offs, adding, publishing, sending back.

A referral put on an agenda moves through PUT_ON_AGENDA; one released or sent back leaves it
(REMOVE_FROM_AGENDA, or the referral's own completion request), with a history row each.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from coordination.conferences.events import (
    AgendaCutOff,
    AgendaPublished,
    ReferralPutOnAgenda,
)
from coordination.conferences.models import (
    AgendaItem,
    Conference,
)
from coordination.conferences.queries import pending_item, working_calendar
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import DbSession, utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.events import DomainEvent
from coordination.extensions import db
from coordination.referrals import operations as referral_ops
from coordination.referrals.events import CompletionRequested, ReferralWithdrawn
from coordination.referrals.models import Referral, ReferralHistory
from workflows.calendar import WorkingCalendar
from workflows.conference import (
    AgendaStatus,
    ConferenceAction,
    ConferenceState,
    next_state,
)
from workflows.referral import ReferralAction, ReferralState
from workflows.referral import next_state as referral_next_state


def move_referral(
    referral: Referral, action: ReferralAction, by: Actor | None, note: str | None = None
) -> None:
    target = referral_next_state(referral.state, action)
    previous = referral.state
    referral.state = target.value
    referral.version += 1
    db.session.add(
        ReferralHistory(
            referral=referral,
            from_state=previous,
            to_state=target.value,
            action=action.value,
            by_id=getattr(by, "id", None),
            note=note,
        )
    )


def release_pending(conference: Conference, by: Actor | None, note: str) -> None:
    for item in conference.agenda:
        if item.status != AgendaStatus.PENDING.value:
            continue
        referral = referral_ops.get_referral(item.referral_id, lock=True)
        item.status = AgendaStatus.REMOVED.value
        move_referral(referral, ReferralAction.REMOVE_FROM_AGENDA, by, note)


def add_to_agenda(
    conference: Conference,
    referral: Referral,
    *,
    by: Actor | None,
    origin: str = "manual",
    now: datetime | None = None,
) -> AgendaItem:
    """Put a submitted referral of the conference's programme on its agenda."""
    now = now or utcnow()
    next_state(conference.state, ConferenceAction.ADD_TO_AGENDA)
    if referral.programme_id != conference.programme_id:
        raise ValidationFailed(
            _("Remissen gäller en annan insats än mötet."),
            errors={"referral_id": [_("Remissen gäller en annan insats än mötet.")]},
        )
    move_referral(
        referral,
        ReferralAction.PUT_ON_AGENDA,
        by,
        _("Mötet %(date)s.", date=conference.held_on.isoformat()),
    )
    number = (
        db.session.scalar(
            select(func.max(AgendaItem.number)).where(AgendaItem.conference_id == conference.id)
        )
        or 0
    ) + 1
    item = AgendaItem(
        conference_id=conference.id,
        referral_id=referral.id,
        number=number,
        status=AgendaStatus.PENDING.value,
        origin=origin,
        added_at=now,
        added_by_id=getattr(by, "id", None),
    )
    db.session.add(item)
    db.session.flush()
    events.record(
        db.session,
        ReferralPutOnAgenda(
            referral_id=referral.id,
            conference_id=conference.id,
            referrer_id=referral.referrer_id,
            published=conference.state == ConferenceState.PUBLISHED.value,
            occurred_at=now,
        ),
    )
    return item


def run_cutoffs(now: datetime, calendar: WorkingCalendar | None = None) -> list[AgendaItem]:
    """Put complete submitted referrals on the agenda of each conference whose cut-off has come.

    A referral joins the earliest such conference of its programme if it was submitted by the
    cut-off; one submitted later waits for the next conference. Each conference is cut off once.
    """
    due = db.session.scalars(
        select(Conference)
        .where(
            Conference.state.in_([ConferenceState.PLANNED.value, ConferenceState.PUBLISHED.value]),
            Conference.cutoff_done_at.is_(None),
            Conference.agenda_cutoff_at <= now,
            Conference.starts_at > now,
        )
        .order_by(Conference.starts_at, Conference.id)
        .with_for_update(skip_locked=True)
    ).all()
    added: list[AgendaItem] = []
    for conference in due:
        referrals = db.session.scalars(
            select(Referral)
            .where(
                Referral.programme_id == conference.programme_id,
                Referral.state == ReferralState.SUBMITTED.value,
                Referral.submitted_at <= conference.agenda_cutoff_at,
            )
            .order_by(Referral.referral_date, Referral.submitted_at, Referral.id)
            .with_for_update(skip_locked=True)
        ).all()
        items = [
            add_to_agenda(conference, referral, by=None, origin="cutoff", now=now)
            for referral in referrals
        ]
        conference.cutoff_done_at = now
        events.record(
            db.session,
            AgendaCutOff(
                conference_id=conference.id,
                referral_ids=tuple(i.referral_id for i in items),
                occurred_at=now,
            ),
        )
        added.extend(items)
    db.session.flush()
    return added


def publish(conference: Conference, *, by: Actor, now: datetime | None = None) -> Conference:
    """Publish the agenda: the members may read its referrals and are reminded to prepare."""
    now = now or utcnow()
    target = next_state(conference.state, ConferenceAction.PUBLISH)
    errors: dict[str, list[str]] = {}
    if not (conference.place or conference.video_link):
        errors["place"] = [
            _("Ange plats eller länk till videomötet innan dagordningen publiceras.")
        ]
    if conference.chair is None:
        errors["chair_id"] = [_("Välj ordförande innan dagordningen publiceras.")]
    if not conference.agency_members:
        errors["members"] = [_("Välj ledamöter innan dagordningen publiceras.")]
    if errors:
        raise ValidationFailed(_("Dagordningen kunde inte publiceras."), errors=errors)
    conference.state = target.value
    conference.published_at = now
    conference.published_by_id = getattr(by, "id", None)
    conference.version += 1
    db.session.flush()
    events.record(
        db.session,
        AgendaPublished(
            conference_id=conference.id,
            programme_id=conference.programme_id,
            member_ids=tuple(m.user_id for m in conference.members),
            referral_ids=tuple(i.referral_id for i in conference.agenda if i.status == "pending"),
            prepare_due_at=conference.prepare_due_at.astimezone(UTC),
            occurred_at=now,
        ),
    )
    return conference


def send_back(
    conference: Conference,
    referral: Referral,
    *,
    by: Actor,
    note: str,
    due_on: date | None = None,
    now: datetime | None = None,
) -> Referral:
    """Send a referral on the agenda back to the referrer for completion."""
    if pending_item(conference, referral.id) is None:
        raise Conflict(_("Remissen väntar inte på beslut på det här mötet."))
    referral_ops.request_completion(
        referral, by=by, note=note, due_on=due_on, calendar=working_calendar(), now=now
    )
    close_pending_items(db.session, referral.id, AgendaStatus.SENT_BACK)
    return referral


def close_pending_items(session: DbSession, referral_id: int, status: AgendaStatus) -> None:
    """Mark the referral's waiting agenda item with what became of it."""
    session.execute(
        update(AgendaItem)
        .where(
            AgendaItem.referral_id == referral_id,
            AgendaItem.status == AgendaStatus.PENDING.value,
        )
        .values(status=status.value)
        .execution_options(synchronize_session="fetch")
    )


def close_items_left_on_agenda(session: Session, batch: list[DomainEvent]) -> None:
    """Outbox subscriber: a referral sent back or withdrawn leaves the agenda it was waiting on.

    Installed by the app factory; this covers doing so from the referral's own page.
    """
    for domain_event in batch:
        if isinstance(domain_event, CompletionRequested):
            close_pending_items(session, domain_event.referral_id, AgendaStatus.SENT_BACK)
        elif isinstance(domain_event, ReferralWithdrawn):
            close_pending_items(session, domain_event.referral_id, AgendaStatus.WITHDRAWN)

"""The handlers of the exit rules (../shared/DOMAIN.md §9, §12); the table is rules.RULES.

A delivered packet (a return referral or a joint recommendation) owes the referrer an inbox item
at once, reminders after 3 and 7 working days and the referrer's team lead an escalation after 10,
all written as reminder rows at delivery from workflows.return_referral.reminder_schedule and
cancelled by the acknowledgement, or by a consent withdrawal after which the recipient may no
longer read the packet. An exit owes the coordinator (or the team leads, if the
coordinator has left) the follow-ups 6 and 12 months later, cancelled when registered.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import or_, select, update

from coordination.auth.models import User
from coordination.consent.events import ConsentWithdrawn
from coordination.consent.operations import agency_may_see
from coordination.core.db import DbSession
from coordination.core.i18n import STOCKHOLM
from coordination.exits import permissions as exit_perms
from coordination.exits import queries as exit_queries
from coordination.exits.events import (
    FollowUpRegistered,
    FollowUpsScheduled,
    PacketAcknowledged,
    PacketDelivered,
)
from coordination.exits.models import FollowUp, Packet
from coordination.organisations.calendar import working_calendar
from notifications.models import Notification, Reminder
from notifications.outbox import cancel_pending, notify, remind
from workflows.return_referral import (
    FOLLOW_UP_MONTHS,
    Addressee,
    FollowUpOccasion,
    follow_up_due_at,
    reminder_schedule,
)

PACKET_KINDS = ("packet_delivered", "packet_reminder", "packet_escalation")


def _packet_link(packet_id: int) -> str:
    return f"/packets/{packet_id}"


def packet_delivered(session: DbSession, event: PacketDelivered) -> None:
    """Tell the referrer a packet has come; owe reminders and the team lead's escalation."""
    now = event.occurred_at
    packet = session.get(Packet, event.packet_id)
    if packet is None:
        return
    calendar = working_calendar(session)
    delivered_at = event.delivered_at.astimezone(UTC)
    subject = ("packet", packet.id)
    link = _packet_link(packet.id)
    params = {
        "packet_id": packet.id,
        "referral_id": packet.referral_id,
        "case_id": packet.case_id,
        "delivered_on": delivered_at.astimezone(calendar.tz).date().isoformat(),
    }
    key = f"PacketDelivered:packet:{packet.id}"
    recipient = session.get(User, packet.recipient_id)
    if recipient is not None:
        notify(
            session,
            now,
            recipient=recipient,
            kind="packet_delivered",
            template=f"{packet.kind}_delivered",
            key=key,
            link=link,
            subject=subject,
            params=params,
            calendar=calendar,
        )
    leads = exit_queries.escalation_recipients(packet.unit_id, session)
    for reminder in reminder_schedule(delivered_at, calendar):
        if reminder.to is Addressee.REFERRER:
            recipients = [recipient] if recipient is not None and recipient.active else leads
            kind, template = "packet_reminder", "packet_reminder"
        else:
            recipients = leads
            kind, template = "packet_escalation", "packet_escalation"
        for user in recipients:
            remind(
                session,
                now,
                recipient_id=user.id,
                kind=kind,
                template=template,
                key=key,
                due_at=reminder.due_at,
                level=reminder.level,
                subject=subject,
                link=link,
                params={**params, "working_days": reminder.working_days},
            )


def packet_acknowledged(session: DbSession, event: PacketAcknowledged) -> None:
    """An acknowledged packet needs no more reminders; its inbox items are done."""
    _close_packet(session, event.packet_id, event.occurred_at)


def consent_withdrawn(session: DbSession, event: ConsentWithdrawn) -> None:
    """A packet its recipient may no longer read (no consent in force covers their agency) owes
    them no more reminders, nor their team lead the escalation; its inbox items are done."""
    today = event.occurred_at.astimezone(STOCKHOLM).date()
    open_packets = session.scalars(
        select(Packet).where(Packet.person_id == event.person_id, Packet.acknowledged_at.is_(None))
    )
    for packet in list(open_packets):
        if not agency_may_see(packet.person_id, exit_perms.recipient_agency(packet), today):
            _close_packet(session, packet.id, event.occurred_at)


def _close_packet(session: DbSession, packet_id: int, now) -> None:
    subject = ("packet", packet_id)
    cancel_pending(session, subject, PACKET_KINDS)
    session.execute(
        update(Notification)
        .where(
            Notification.subject_type == subject[0],
            Notification.subject_id == subject[1],
            Notification.kind.in_(PACKET_KINDS),
            Notification.channel == "inbox",
            Notification.done_at.is_(None),
        )
        .values(done_at=now)
        .execution_options(synchronize_session=False)
    )


def follow_ups_scheduled(session: DbSession, event: FollowUpsScheduled) -> None:
    """Owe the coordinator (or the team leads) a task at each follow-up's due day."""
    now = event.occurred_at
    calendar = working_calendar(session)
    for follow_up_id in event.follow_up_ids:
        follow_up = session.get(FollowUp, follow_up_id)
        if follow_up is None or follow_up.registered_at is not None:
            continue
        subject = ("follow_up", follow_up.id)
        due_at = follow_up_due_at(follow_up.due_on, calendar)
        recipients = exit_queries.follow_up_recipients(follow_up, session)
        # A corrected exit date moves the follow-up: the old reminders go, the new ones come.
        session.execute(
            update(Reminder)
            .where(
                Reminder.subject_type == subject[0],
                Reminder.subject_id == subject[1],
                Reminder.kind == "follow_up_task",
                Reminder.status == "pending",
                or_(
                    Reminder.due_at != due_at,
                    Reminder.recipient_id.not_in([u.id for u in recipients]),
                ),
            )
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )
        params = {
            "case_id": follow_up.case_id,
            "follow_up_id": follow_up.id,
            "months": FOLLOW_UP_MONTHS[FollowUpOccasion(follow_up.occasion)],
            "due_on": follow_up.due_on.isoformat(),
        }
        for user in recipients:
            remind(
                session,
                now,
                recipient_id=user.id,
                kind="follow_up_task",
                template="follow_up_due",
                key=f"FollowUp:follow_up:{follow_up.id}:{follow_up.due_on.isoformat()}",
                due_at=due_at,
                level=1,
                subject=subject,
                link=f"/follow-ups/{follow_up.id}",
                params=params,
            )


def follow_up_registered(session: DbSession, event: FollowUpRegistered) -> None:
    """A registered follow-up needs no reminder."""
    cancel_pending(session, ("follow_up", event.follow_up_id), ["follow_up_task"])

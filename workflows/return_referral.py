"""Exit, the return referral (återremiss) and its packet (../shared/DOMAIN.md §9, §12): pure rules.

A return referral is drafted at exit, completed by the coordinator, finalised (locked and signed),
delivered to the referrer as a packet and acknowledged by them. The joint recommendation of a
referral that was not admitted travels in the same kind of packet. The reminder schedule and the
follow-up dates are functions of the moments they start from and the calendar; nothing reads a
clock here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from workflows.calendar import WorkingCalendar
from workflows.errors import TransitionRefused


class ReturnReferralState(StrEnum):
    """Where a return referral is on its way to the referrer."""

    DRAFT = "draft"
    FINALISED = "finalised"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"


class ReturnReferralAction(StrEnum):
    """What can be done to a return referral."""

    EDIT = "edit"
    FINALISE = "finalise"
    DELIVER = "deliver"
    ACKNOWLEDGE = "acknowledge"


S, A = ReturnReferralState, ReturnReferralAction

TRANSITIONS: dict[tuple[ReturnReferralState, ReturnReferralAction], ReturnReferralState] = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.FINALISE): S.FINALISED,
    (S.FINALISED, A.DELIVER): S.DELIVERED,
    (S.DELIVERED, A.ACKNOWLEDGE): S.ACKNOWLEDGED,
}

# Once finalised, the document's content and signature never change.
LOCKED_STATES = frozenset({S.FINALISED, S.DELIVERED, S.ACKNOWLEDGED})


def next_state(
    state: ReturnReferralState | str, action: ReturnReferralAction | str
) -> ReturnReferralState:
    """Return the state after the action, or raise TransitionRefused."""
    key = (ReturnReferralState(state), ReturnReferralAction(action))
    if key not in TRANSITIONS:
        raise TransitionRefused("return_referral", str(state), str(action))
    return TRANSITIONS[key]


class PacketKind(StrEnum):
    """What a packet to a referrer carries."""

    RETURN_REFERRAL = "return_referral"
    JOINT_RECOMMENDATION = "joint_recommendation"


def acknowledge_packet(acknowledged_at: datetime | None) -> None:
    """Allow acknowledging a packet once; a second acknowledgement is refused."""
    if acknowledged_at is not None:
        raise TransitionRefused("packet", "acknowledged", "acknowledge")


class RecommendationStatus(StrEnum):
    """What became of one recommendation, as the referrer records it."""

    PLANNED = "planned"
    STARTED = "started"
    DONE = "done"
    NOT_DONE = "not_done"


# Saying that a recommendation will not be followed needs a reason.
NOTE_REQUIRED = frozenset({RecommendationStatus.NOT_DONE})


class Addressee(StrEnum):
    """Who a packet reminder goes to."""

    REFERRER = "referrer"
    TEAM_LEAD = "team_lead"


REMINDER_WORKING_DAYS: tuple[int, ...] = (3, 7)
ESCALATION_WORKING_DAYS = 10


@dataclass(frozen=True)
class ScheduledReminder:
    """One reminder owed while a packet is not acknowledged."""

    level: int
    working_days: int
    due_at: datetime
    to: Addressee


def reminder_schedule(
    delivered_at: datetime,
    calendar: WorkingCalendar,
    reminders: tuple[int, ...] = REMINDER_WORKING_DAYS,
    escalation: int = ESCALATION_WORKING_DAYS,
) -> list[ScheduledReminder]:
    """Return the reminders of a packet delivered at a moment, in order.

    The referrer is reminded after 3 and 7 working days without an acknowledgement, and the
    referrer's team lead is told after 10. Each falls due the given number of working days after
    the delivery, at the same local time of day (weekends, holidays and the förbund's days off
    do not count).
    """
    schedule = [
        ScheduledReminder(
            level=level,
            working_days=days,
            due_at=calendar.add_working_days(delivered_at, days),
            to=Addressee.REFERRER,
        )
        for level, days in enumerate(reminders, start=1)
    ]
    schedule.append(
        ScheduledReminder(
            level=len(reminders) + 1,
            working_days=escalation,
            due_at=calendar.add_working_days(delivered_at, escalation),
            to=Addressee.TEAM_LEAD,
        )
    )
    return schedule


class FollowUpOccasion(StrEnum):
    """The follow-ups after exit (the same codes as the SUS occasions)."""

    FOLLOW_UP_6 = "follow_up_6"
    FOLLOW_UP_12 = "follow_up_12"


FOLLOW_UP_MONTHS: dict[FollowUpOccasion, int] = {
    FollowUpOccasion.FOLLOW_UP_6: 6,
    FollowUpOccasion.FOLLOW_UP_12: 12,
}


def add_months(day: date, months: int) -> date:
    """Return the same day of the month `months` later (the month's last day if it is shorter)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = (following - date.resolution).day
    return date(year, month, min(day.day, last))


def follow_up_dates(exited_on: date) -> dict[FollowUpOccasion, date]:
    """Return the day each follow-up falls due: 6 and 12 months after the exit."""
    return {occasion: add_months(exited_on, n) for occasion, n in FOLLOW_UP_MONTHS.items()}


def follow_up_due_at(due_on: date, calendar: WorkingCalendar) -> datetime:
    """Return when a follow-up's reminder goes: the start of the working day on or after it."""
    day = calendar.working_day_on_or_after(due_on)
    return datetime.combine(day, calendar.day_start, tzinfo=calendar.tz).astimezone(UTC)


# The sections the coordinator writes; every one must be filled in before finalising.
TEXT_SECTIONS: tuple[str, ...] = (
    "purpose",
    "actions_taken",
    "results",
    "health_care_needs",
    "health_how_met",
    "participant_comments",
)

# The sections holding one kind of information under the consent (../shared/DOMAIN.md §10):
# another agency reads such a section only while its consent covers that kind.
SECTION_KINDS: dict[str, str] = {"health_care_needs": "health", "health_how_met": "health"}


def missing_sections(sections: dict, recommendations: list[dict]) -> list[str]:
    """Return the sections a return referral still lacks before it may be finalised."""
    missing = [name for name in TEXT_SECTIONS if not str(sections.get(name) or "").strip()]
    if not any(str(r.get("text") or "").strip() for r in recommendations):
        missing.append("recommendations")
    return missing


def content_hash(content: dict) -> str:
    """Return the SHA-256 of a document's content in a canonical JSON form."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

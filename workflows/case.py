"""Cases (deltagande, ../shared/DOMAIN.md §7): states, transitions, places and the waiting queue's
order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from workflows.errors import TransitionRefused
from workflows.personnummer import age_on
from workflows.programme import PriorityRule


class CaseState(StrEnum):
    """Where one person's enrolment in one programme is."""

    WAITING = "waiting"
    ENROLLED = "enrolled"
    ACTIVE = "active"
    PAUSED = "paused"
    EXITING = "exiting"
    CLOSED = "closed"


class CaseAction(StrEnum):
    """What can happen to a case."""

    ENROL = "enrol"
    ACTIVATE = "activate"
    PAUSE = "pause"
    RESUME = "resume"
    START_EXIT = "start_exit"
    CLOSE = "close"


S, A = CaseState, CaseAction

TRANSITIONS: dict[tuple[CaseState, CaseAction], CaseState] = {
    (S.WAITING, A.ENROL): S.ENROLLED,
    (S.WAITING, A.CLOSE): S.CLOSED,
    (S.ENROLLED, A.ACTIVATE): S.ACTIVE,
    (S.ENROLLED, A.PAUSE): S.PAUSED,
    (S.ENROLLED, A.START_EXIT): S.EXITING,
    (S.ACTIVE, A.PAUSE): S.PAUSED,
    (S.ACTIVE, A.START_EXIT): S.EXITING,
    (S.PAUSED, A.START_EXIT): S.EXITING,
    (S.EXITING, A.CLOSE): S.CLOSED,
}

# A paused case returns to the state it was paused from.
RESUMABLE = frozenset({S.ENROLLED, S.ACTIVE})

# States that take one of the programme's places (its capacity counts active participants).
OCCUPYING_STATES = frozenset({S.ENROLLED, S.ACTIVE, S.PAUSED, S.EXITING})
OPEN_STATES = frozenset(set(CaseState) - {S.CLOSED})


def next_state(
    state: CaseState | str,
    action: CaseAction | str,
    *,
    paused_from: CaseState | str | None = None,
) -> CaseState:
    """Return the case's state after the action, or raise TransitionRefused."""
    current, act = CaseState(state), CaseAction(action)
    if act is A.RESUME:
        if current is S.PAUSED and paused_from is not None and CaseState(paused_from) in RESUMABLE:
            return CaseState(paused_from)
        raise TransitionRefused("case", str(state), str(action))
    key = (current, act)
    if key not in TRANSITIONS:
        raise TransitionRefused("case", str(state), str(action))
    return TRANSITIONS[key]


def state_on_admission(occupied: int, capacity: int) -> CaseState:
    """Return where an admitted case starts: enrolled while there is a place, else waiting."""
    return S.ENROLLED if occupied < capacity else S.WAITING


@dataclass(frozen=True)
class QueueEntry:
    """What the priority rule needs to know about one waiting case."""

    case_id: int
    birth_date: date
    referral_date: date
    children_in_household: bool | None
    queued_at: datetime


# The default age band of the priority rule; each programme sets its own (DOMAIN.md §4).
PRIORITY_AGE_BAND = (25, 45)


def is_prioritised(entry: QueueEntry, band: tuple[int, int] = PRIORITY_AGE_BAND) -> bool:
    """Tell whether the person's age at the referral date lies in the band (inclusive) and there
    are children in the household."""
    low, high = band
    age = age_on(entry.birth_date, entry.referral_date)
    return bool(entry.children_in_household) and low <= age <= high


def queue_key(
    entry: QueueEntry, rule: PriorityRule | str, band: tuple[int, int] = PRIORITY_AGE_BAND
) -> tuple:
    """Return the sort key of a waiting case under the programme's priority rule."""
    tiebreak = (entry.referral_date, entry.queued_at, entry.case_id)
    if PriorityRule(rule) is PriorityRule.AGE_25_45_CHILDREN_FIRST:
        return (0 if is_prioritised(entry, band) else 1, *tiebreak)
    return tiebreak


def order_queue(
    entries: Iterable[QueueEntry],
    rule: PriorityRule | str,
    band: tuple[int, int] = PRIORITY_AGE_BAND,
) -> list[QueueEntry]:
    """Return the waiting cases in the order they are offered a place."""
    return sorted(entries, key=lambda e: queue_key(e, rule, band))


class PauseReason(StrEnum):
    """Why a case is paused (uppehåll)."""

    ILLNESS = "illness"
    PARENTAL_LEAVE = "parental_leave"
    OTHER = "other"

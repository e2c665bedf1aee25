"""Referral states and transitions (../shared/DOMAIN.md §5)."""

from __future__ import annotations

from enum import StrEnum

from workflows.errors import TransitionRefused


class ReferralState(StrEnum):
    """Where a referral is on its way to a decision."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    COMPLETION_REQUESTED = "completion_requested"
    ON_AGENDA = "on_agenda"
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"


class ReferralAction(StrEnum):
    """What can be done to a referral."""

    EDIT = "edit"
    SUBMIT = "submit"
    REQUEST_COMPLETION = "request_completion"
    PUT_ON_AGENDA = "put_on_agenda"
    REMOVE_FROM_AGENDA = "remove_from_agenda"
    DECIDE = "decide"
    WITHDRAW = "withdraw"


S, A = ReferralState, ReferralAction

TRANSITIONS: dict[tuple[ReferralState, ReferralAction], ReferralState] = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,
    (S.COMPLETION_REQUESTED, A.EDIT): S.COMPLETION_REQUESTED,
    (S.COMPLETION_REQUESTED, A.SUBMIT): S.SUBMITTED,
    (S.COMPLETION_REQUESTED, A.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, A.REQUEST_COMPLETION): S.COMPLETION_REQUESTED,
    (S.SUBMITTED, A.PUT_ON_AGENDA): S.ON_AGENDA,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.ON_AGENDA, A.REQUEST_COMPLETION): S.COMPLETION_REQUESTED,
    (S.ON_AGENDA, A.REMOVE_FROM_AGENDA): S.SUBMITTED,
    (S.ON_AGENDA, A.DECIDE): S.DECIDED,
    (S.ON_AGENDA, A.WITHDRAW): S.WITHDRAWN,
}

OPEN_STATES = frozenset({S.SUBMITTED, S.COMPLETION_REQUESTED, S.ON_AGENDA})
EDITABLE_STATES = frozenset({S.DRAFT, S.COMPLETION_REQUESTED})


def next_state(state: ReferralState | str, action: ReferralAction | str) -> ReferralState:
    """Return the state after the action, or raise TransitionRefused."""
    key = (ReferralState(state), ReferralAction(action))
    if key not in TRANSITIONS:
        raise TransitionRefused("referral", str(state), str(action))
    return TRANSITIONS[key]

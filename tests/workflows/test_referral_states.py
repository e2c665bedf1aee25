"""The referral transition table: every (state, action) pair, allowed or refused."""

import pytest

from workflows.errors import TransitionRefused
from workflows.referral import ReferralAction, ReferralState, next_state

S, A = ReferralState, ReferralAction

ALLOWED = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, A.REQUEST_COMPLETION): S.COMPLETION_REQUESTED,
    (S.SUBMITTED, A.PUT_ON_AGENDA): S.ON_AGENDA,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.COMPLETION_REQUESTED, A.EDIT): S.COMPLETION_REQUESTED,
    (S.COMPLETION_REQUESTED, A.SUBMIT): S.SUBMITTED,
    (S.COMPLETION_REQUESTED, A.WITHDRAW): S.WITHDRAWN,
    (S.ON_AGENDA, A.REQUEST_COMPLETION): S.COMPLETION_REQUESTED,
    (S.ON_AGENDA, A.REMOVE_FROM_AGENDA): S.SUBMITTED,
    (S.ON_AGENDA, A.DECIDE): S.DECIDED,
    (S.ON_AGENDA, A.WITHDRAW): S.WITHDRAWN,
}

PAIRS = [(s, a) for s in ReferralState for a in ReferralAction]


@pytest.mark.parametrize(("state", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_every_state_action_pair(state, action):
    if (state, action) in ALLOWED:
        assert next_state(state, action) is ALLOWED[(state, action)]
    else:
        with pytest.raises(TransitionRefused):
            next_state(state, action)


def test_decided_and_withdrawn_are_final():
    for final in (S.DECIDED, S.WITHDRAWN):
        for action in ReferralAction:
            with pytest.raises(TransitionRefused):
                next_state(final, action)

"""Referrals (remisser) from a member agency to a programme, from draft to decision.

Invariants: only a complete, eligible referral with a consent covering the named agencies can be
submitted; one open referral or case per person and programme; every transition leaves a history
row; a draft keeps whatever the referrer typed.
"""

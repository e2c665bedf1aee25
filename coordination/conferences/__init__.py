"""Referral conferences (remissgrupp): agenda, attendance, positions and the one joint decision.

Invariants: every decided referral has a written joint recommendation and the agencies that took
part (checked in the operations and by CHECK constraints); a referral is decided once (row lock,
the loser gets 409); members read a referral only while it is on a published agenda of theirs
and the consent covers their agency.
"""

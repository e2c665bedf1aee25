"""Cases: one person's enrolment in one programme, opened when the conference admits a referral.

Invariants: at most one open case per person and programme and one case per referral; every
transition leaves a history row (from, to, who, when, why); a paused case has a reason and an
expected return; at most one active coordinator assignment per case, and assigning counts the
coordinator's weighted load under a lock on their profile, so going above capacity is never
silent (it needs a reason); a case takes a place only while the programme has room.
"""

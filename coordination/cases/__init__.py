"""Cases: one person's enrolment in one programme, opened when the conference admits a referral.

Invariants: at most one open case per person and programme and one case per referral; every
transition leaves a history row (from, to, who, when, why); at most one active coordinator
assignment per case; a case takes a place only while the programme has room, otherwise it waits.
"""

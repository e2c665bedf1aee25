"""Programmes (insatser): eligibility, capacity, conference cadence, queue and escalation settings.

Invariants: every numeric setting has the default of ../shared/DOMAIN.md §4/§8 and is validated on
save; the age band is never empty and the agency minimum is between 1 and 4.
"""

"""Socio-economic follow-up (../shared/DOMAIN.md §13): price lists, programme costs, the cohort
calculation, its pages, exports and board report.

Invariants: a price-list version that a saved calculation used never changes (editing copies it
as the next version); a programme's funding shares sum to 100 %; every figure is an aggregate of a
cohort (counts and kronor), never a person, and every read is in the access log.
"""

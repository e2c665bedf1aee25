"""Cross-cutting pieces: db helpers, domain events, the reminder table, errors, i18n, access rules.

Invariants: events are dispatched only after a successful commit; every route declares an access
rule; every domain error maps to one HTTP status with a readable message.
"""

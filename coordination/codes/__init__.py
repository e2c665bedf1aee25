"""Code lists (SUS and intake variables) as data.

Invariants: a code once used is never re-mapped or deleted; historical codes are kept for reports
but not offered in new registrations.
"""

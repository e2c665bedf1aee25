"""The access log: every read and change of personal data, print, export, login and refusal.

Invariants: rows are only ever inserted, never updated or deleted; no row holds a participant's
name or personnummer, only the person's id.
"""

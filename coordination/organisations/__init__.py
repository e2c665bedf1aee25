"""Organisation units of the member agencies and the förbund, and users' roles in them.

Invariants: every unit belongs to exactly one agency kind; a role is held in a unit, never globally.
"""

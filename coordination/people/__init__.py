"""Participants (deltagare) identified by personnummer or samordningsnummer.

Invariants: one row per identity number; a protected person's name is shown only to the assigned
coordinator, and their address and phone never leave the system.
"""

"""Meetings, attendance and the missed-meeting ladder (../shared/DOMAIN.md §8).

Invariants: times are UTC in the database and Europe/Stockholm in invitations; every change or
cancellation raises the meeting's iCalendar SEQUENCE under the same UID; every attendance change
leaves a history row and recounts the ladder under the case's row lock, so a case has at most one
open escalation (also a partial unique index); no message about a meeting carries personal data.
"""

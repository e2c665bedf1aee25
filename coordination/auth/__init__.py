"""Users, login, API tokens and the admin page for users.

Invariants: passwords are stored only as argon2id hashes; a deactivated user can neither log in
nor use a token; a session idle longer than the configured timeout is ended.
"""

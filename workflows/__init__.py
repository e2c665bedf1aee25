"""Pure domain rules: states, transitions, guards, ladders and working-day arithmetic.

Imports nothing from Flask, SQLAlchemy or Celery.
"""

"""Fixtures for the meeting tests: the notification tests' sink, SMS file and captured queue."""

from tests.notifications.conftest import enqueued, settings, sink, sms_file  # noqa: F401

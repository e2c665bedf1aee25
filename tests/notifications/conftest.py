"""Fixtures for notification tests: a counting SMTP sink, the SMS file, captured enqueues."""

from __future__ import annotations

import pytest

from notifications.harness import SmtpSink


@pytest.fixture()
def settings(app, monkeypatch):
    """The app's settings, changeable per test (restored afterwards)."""

    def change(**values):
        for key, value in values.items():
            monkeypatch.setitem(app.config["COORD"], key, value)

    change(NOTIFY_QUIET_HOURS=False)
    return change


@pytest.fixture()
def sink(settings):
    """A local SMTP server the app sends to; it counts what arrives."""
    server = SmtpSink().start()
    settings(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)
    yield server
    server.stop()


@pytest.fixture()
def sms_file(settings, tmp_path):
    """The development SMS backend's file."""
    path = tmp_path / "sms.log"
    settings(SMS_BACKEND="file", SMS_FILE=str(path))
    return path


@pytest.fixture()
def enqueued(monkeypatch):
    """Capture delivery tasks instead of sending them to the broker; the ids in order."""
    from notifications.tasks import deliver_notification

    ids: list[int] = []
    monkeypatch.setattr(deliver_notification, "apply_async", lambda args, **kw: ids.append(args[0]))
    return ids

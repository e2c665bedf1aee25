"""Fixtures for the exit tests: delivery tasks captured, messages at any hour."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def enqueued(app, monkeypatch):
    """Capture delivery tasks instead of sending them to the broker; the ids in order."""
    from notifications.tasks import deliver_notification

    monkeypatch.setitem(app.config["COORD"], "NOTIFY_QUIET_HOURS", False)
    ids: list[int] = []
    monkeypatch.setattr(deliver_notification, "apply_async", lambda args, **kw: ids.append(args[0]))
    return ids

"""Typed domain events: one registry covers every type, and the event's clock is the rules' now."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import pkgutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import coordination
from coordination.core import events
from coordination.core.events import DomainEvent
from coordination.extensions import db
from coordination.organisations.calendar import working_calendar
from coordination.referrals.events import CompletionRequested, ReferralSubmitted
from notifications.models import Notification, Reminder
from notifications.rules import IGNORED, RULES
from tests.factories import make_case, make_meeting, make_referral, make_unit, make_user
from workflows.meeting import confirmation_reminders_at

ROOT = Path(__file__).resolve().parents[2]


def all_event_types() -> set[type[DomainEvent]]:
    """Import every domain's events module (and the notification layer's); return their types."""
    for info in pkgutil.iter_modules(coordination.__path__):
        name = f"coordination.{info.name}.events"
        if info.ispkg and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    importlib.import_module("notifications.events")
    found: set[type[DomainEvent]] = set()
    todo = [DomainEvent]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


@pytest.fixture(autouse=True)
def _no_broker(enqueued, settings):
    """Delivery tasks are captured; messages go out at any hour."""


# --- the registry --------------------------------------------------------------------------------


def test_every_event_type_is_handled_by_a_rule_or_deliberately_ignored():
    known = all_event_types()
    handled, ignored = set(RULES), set(IGNORED)
    assert sorted(t.__name__ for t in known - handled - ignored) == []
    assert sorted(t.__name__ for t in handled & ignored) == []
    assert sorted(t.__name__ for t in (handled | ignored) - known) == []  # names no unknown type


def test_every_event_type_is_a_frozen_dataclass_of_ids_and_codes_with_its_clock():
    names = [t.__name__ for t in all_event_types()]
    assert len(names) == len(set(names))  # the class name is a stable key
    for event_type in all_event_types():
        assert dataclasses.is_dataclass(event_type)
        assert event_type.__dataclass_params__.frozen, event_type
        assert "occurred_at" in {f.name for f in dataclasses.fields(event_type)}


def test_an_event_needs_an_aware_clock_and_serialises_to_plain_data():
    at = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)
    event = CompletionRequested(referral_id=1, referrer_id=2, due_at=at, occurred_at=at)
    assert event.as_dict() == {
        "type": "CompletionRequested",
        "occurred_at": "2031-03-04T09:30:00+00:00",
        "referral_id": 1,
        "referrer_id": 2,
        "due_at": "2031-03-04T09:30:00+00:00",
    }
    with pytest.raises(TypeError):
        ReferralSubmitted(referral_id=1, programme_id=1, referrer_id=1, occurred_at=None)
    with pytest.raises(TypeError):
        ReferralSubmitted(
            referral_id=1, programme_id=1, referrer_id=1, occurred_at=datetime(2031, 3, 4)
        )
    with pytest.raises(TypeError):
        events.record(db.session, "ReferralSubmitted")


# --- the event's clock ---------------------------------------------------------------------------


def _completion_reminders(referral_id: int) -> list[Reminder]:
    return list(
        db.session.scalars(
            select(Reminder)
            .where(Reminder.subject_type == "referral", Reminder.subject_id == referral_id)
            .order_by(Reminder.level)
        )
    )


@pytest.mark.parametrize("days_before_deadline", [30, 1])
def test_the_rules_take_now_from_the_event_not_from_the_wall_clock(days_before_deadline):
    referral = make_referral("draft")
    deadline = datetime.now(UTC).replace(microsecond=0) + timedelta(days=400)
    occurred_at = deadline - timedelta(days=days_before_deadline)
    events.record(
        db.session,
        CompletionRequested(
            referral_id=referral.id,
            referrer_id=referral.referrer_id,
            due_at=deadline,
            occurred_at=occurred_at,
        ),
    )
    db.session.commit()
    reminders = _completion_reminders(referral.id)
    # Level 1 falls two working days before the deadline: owed only while that is still ahead.
    assert [r.level for r in reminders] == ([1, 2] if days_before_deadline == 30 else [2])
    assert {r.created_at for r in reminders} == {occurred_at}
    inbox = db.session.scalar(
        select(Notification).where(
            Notification.subject_type == "referral",
            Notification.subject_id == referral.id,
            Notification.channel == "inbox",
        )
    )
    assert inbox.created_at == occurred_at and inbox.sent_at == occurred_at


@pytest.mark.parametrize("booked_days_before", [40, 12])
def test_a_frozen_clock_reaches_the_reminder_due_times(booked_days_before):
    case = make_case()
    invitee = make_user("referrer", unit=make_unit("region"))
    starts_at = datetime.now(UTC).replace(microsecond=0, second=0) + timedelta(days=120)
    booked_at = starts_at - timedelta(days=booked_days_before)  # a clock in the future
    meeting = make_meeting(
        case, kind="samsip", starts_at=starts_at, attendees=[invitee], now=booked_at
    )
    reminders = list(
        db.session.scalars(
            select(Reminder)
            .where(
                Reminder.subject_type == "meeting",
                Reminder.subject_id == meeting.id,
                Reminder.recipient_id == invitee.id,
                Reminder.kind == "meeting_confirmation_reminder",
            )
            .order_by(Reminder.level)
        )
    )
    expected = confirmation_reminders_at(booked_at, starts_at, working_calendar(db.session))
    assert [r.due_at for r in reminders] == expected
    # Two working days after the booking: it moves with the booking's clock.
    assert booked_at < expected[0] < booked_at + timedelta(days=7)


# --- subscribers are installed by the app factory, once ------------------------------------------


REGISTERING = ("listen", "listens_for", "subscribe_outbox", "subscribe_after_commit")


def _module_level_registrations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in tree.body:
        calls = []
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            calls.append(node.value)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            calls += [d for d in node.decorator_list if isinstance(d, ast.Call)]
        for call in calls:
            name = ast.unparse(call.func)
            if name.endswith(REGISTERING):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    return found


def test_importing_a_module_subscribes_nothing():
    found = []
    for folder in ("coordination", "notifications"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            found += _module_level_registrations(path)
    assert found == []


def test_creating_the_app_twice_registers_every_subscriber_once(app):
    from coordination.app import create_app

    create_app({"DATABASE_URL": "sqlite://", "TESTING": True})
    assert len(events._outbox) == len(set(events._outbox))
    assert len(events._after_commit) == len(set(events._after_commit)) == 1
    session = db.session.session_factory()
    try:
        for name in ("before_flush", "before_commit", "after_commit", "after_rollback"):
            listeners = list(getattr(session.dispatch, name))
            assert len(listeners) == len(set(listeners)), name
        assert len(list(session.dispatch.before_commit)) == 1
    finally:
        session.close()

"""The ladder through the application: attendance sequences (cancellations, corrections, resets)
→ the tasks, escalations and inbox messages each step owes, for both counting modes."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from coordination.extensions import db
from coordination.meetings import ladder, queries
from coordination.meetings import operations as ops
from coordination.meetings.models import Escalation, LadderStep, Task
from notifications.models import Notification
from tests.factories import make_case, make_meeting, make_programme, make_user

EPOCH = datetime.now(UTC).replace(microsecond=0, second=0) - timedelta(days=90)

# Each step: (action, tasks it adds, the newest escalation's status, inbox messages it adds).
# Actions: "M"/"A"/"P"/"S" a new meeting with that attendance, "2=A" a correction of the 2nd
# meeting, "continue"/"discharge" the escalation decision.
CODES = {"A": "attended", "M": "missed", "P": "cancelled_by_participant", "S": "cancelled_by_staff"}
FIRST = {("coordinator", "missed_meeting_first")}
REPEATED = {("coordinator", "missed_meeting_repeated"), ("lead", "missed_meeting_notice")}
# A new meeting is booked the day before it, on that day's clock: its invitation is owed too.
BOOKED = {("coordinator", "meeting_invitation")}


def everyone(template):
    return {("coordinator", template), ("lead", template), ("referrer", template)}


OPENED, WITHDRAWN = everyone("escalation_opened"), everyone("escalation_withdrawn")

TABLE = {
    "since_reset": [
        ("M", ["contact_after_miss"], None, FIRST),
        ("P", [], None, set()),
        ("M", ["follow_up_repeated_miss"], None, REPEATED),
        ("A", [], None, set()),
        ("M", [], "open", OPENED),
        ("M", [], "open", set()),  # a fourth miss: still one escalation
        ("6=P", [], "open", set()),  # three misses remain
        ("3=A", [], "withdrawn", WITHDRAWN),  # a correction takes it below the threshold
        ("M", [], "open", OPENED),  # back at three: a new escalation
        (
            "continue",
            ["revise_plan"],
            "decided",
            everyone("escalation_decided_continue") | {("coordinator", "revise_plan_task")},
        ),
        ("M", ["contact_after_miss"], "decided", FIRST),  # the count started again
        ("1=A", [], "decided", set()),  # before the reset: nothing changes
        ("M", ["follow_up_repeated_miss"], "decided", REPEATED),
    ],
    "consecutive": [
        ("M", ["contact_after_miss"], None, FIRST),
        ("A", [], None, set()),  # the run ends
        ("M", ["contact_after_miss"], None, FIRST),
        ("S", [], None, set()),  # cancellations neither count nor end the run
        ("M", ["follow_up_repeated_miss"], None, REPEATED),
        ("M", [], "open", OPENED),
        ("A", [], "open", set()),  # attending again does not undo the escalation
        ("5=A", [], "withdrawn", WITHDRAWN),  # a correction splits the run: 1 + 1
        ("2=M", [], "open", OPENED),  # a correction joins the runs: 4 in a row
        (
            "discharge",
            [],
            "decided",
            everyone("escalation_decided_discharge"),
        ),
    ],
}


def _roles(case, lead, referrer):
    return {
        case.active_assignment.coordinator_id: "coordinator",
        lead.id: "lead",
        referrer.id: "referrer",
    }


def _inbox_since(mark: int, roles: dict) -> set:
    rows = db.session.execute(
        select(Notification.recipient_id, Notification.template).where(
            Notification.id > mark, Notification.channel == "inbox"
        )
    )
    return {(roles[r], t) for r, t in rows if r in roles}


def _max_id(model) -> int:
    return db.session.scalar(select(func.max(model.id))) or 0


@pytest.mark.parametrize("mode", sorted(TABLE))
def test_attendance_sequence(mode, enqueued, settings):
    programme = make_programme(counting_mode=mode)
    lead = make_user("team_lead")
    referrer = make_user("referrer")
    case = make_case(programme=programme, referrer=referrer)
    coordinator = case.active_assignment.coordinator
    roles = _roles(case, lead, referrer)
    meetings = []
    clock = EPOCH
    for number, (action, tasks, escalation, inbox) in enumerate(TABLE[mode], start=1):
        clock += timedelta(days=1)
        task_mark, inbox_mark = _max_id(Task), _max_id(Notification)
        if action in ("continue", "discharge"):
            ladder.decide_escalation(
                case, decision=action, comment="Beslut i samråd.", by=referrer, now=clock
            )
        elif "=" in action:
            index, code = action.split("=")
            meeting = ops.get_meeting(meetings[int(index) - 1])
            ladder.record_attendance(
                meeting, status=CODES[code], by=coordinator, reason="Rättelse.", now=clock
            )
        else:
            meeting = make_meeting(case, starts_at=clock, now=clock - timedelta(days=1))
            meetings.append(meeting.id)
            ladder.record_attendance(
                meeting, status=CODES[action], by=coordinator, now=clock + timedelta(hours=2)
            )
            inbox = inbox | BOOKED
        db.session.commit()
        step = f"step {number} ({action})"
        added = db.session.scalars(select(Task.kind).where(Task.id > task_mark)).all()
        assert sorted(added) == sorted(tasks), step
        newest = db.session.scalar(
            select(Escalation.status)
            .where(Escalation.case_id == case.id)
            .order_by(Escalation.id.desc())
            .limit(1)
        )
        assert newest == escalation, step
        assert _inbox_since(inbox_mark, roles) == inbox, step
    open_count = db.session.scalar(
        select(func.count()).where(Escalation.case_id == case.id, Escalation.status == "open")
    )
    assert open_count == 0
    history = db.session.scalars(
        select(LadderStep.kind).where(LadderStep.case_id == case.id).order_by(LadderStep.id)
    ).all()
    assert "correction" in history and "escalation_withdrawn" in history


def test_a_corrected_miss_strikes_its_task_and_the_inbox_item_leaves_the_to_do_list(
    enqueued, settings
):
    case = make_case()
    coordinator = case.active_assignment.coordinator
    meeting = make_meeting(case, starts_at=EPOCH, now=EPOCH - timedelta(days=1))
    ladder.record_attendance(
        meeting, status="missed", by=coordinator, now=EPOCH + timedelta(hours=2)
    )
    db.session.commit()
    (task,) = queries.open_tasks(case_id=case.id)
    assert task.kind == "contact_after_miss"
    ladder.record_attendance(meeting, status="attended", by=coordinator, reason="Fel registrerat.")
    db.session.commit()
    db.session.refresh(task)
    assert task.cancelled_at is not None and queries.open_tasks(case_id=case.id) == []
    item = db.session.scalar(
        select(Notification).where(
            Notification.subject_type == "task",
            Notification.subject_id == task.id,
            Notification.channel == "inbox",
        )
    )
    assert item.done_at is not None
    summary = queries.missed_count(case)
    assert summary.current == 0


def test_the_first_miss_task_is_due_the_same_working_day(enqueued, settings):
    case = make_case()
    coordinator = case.active_assignment.coordinator
    thursday_morning = datetime(2026, 10, 15, 7, 30, tzinfo=UTC)  # 09:30 in Stockholm
    meeting = make_meeting(
        case,
        starts_at=thursday_morning - timedelta(hours=1),
        now=thursday_morning - timedelta(days=2),
    )
    ladder.record_attendance(meeting, status="missed", by=coordinator, now=thursday_morning)
    db.session.commit()
    (task,) = queries.open_tasks(case_id=case.id)
    assert task.due_at == datetime(2026, 10, 15, 15, 0, tzinfo=UTC)  # 17:00 the same day
    assert task.assignee_id == coordinator.id


def test_the_discharge_starts_the_exit_with_the_exit_reason_and_records_it(enqueued, settings):
    case = make_case()
    coordinator = case.active_assignment.coordinator
    for day in range(3):
        start = EPOCH + timedelta(days=day)
        meeting = make_meeting(case, starts_at=start, now=start - timedelta(days=1))
        ladder.record_attendance(meeting, status="missed", by=coordinator, now=start)
    db.session.commit()
    escalation = ladder.decide_escalation(case, decision="discharge", comment="", by=coordinator)
    db.session.commit()
    db.session.refresh(case)
    assert case.state == "exiting"
    assert case.history[-1].action == "start_exit"
    assert (escalation.decision, escalation.exit_reason) == ("discharge", "avbrutit_uteblivit")
    assert queries.escalations_of(case.id)[0].status == "decided"

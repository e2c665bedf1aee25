"""The joint action plan's rules: versions, sign-off, comparison, and each reminder's due time."""

from datetime import UTC, date, datetime

import pytest

from workflows.action_plan import (
    PARTICIPANT,
    ActionContent,
    ActionFacts,
    Audience,
    ChangeMode,
    GoalContent,
    PlanContent,
    PlanState,
    ReminderFacts,
    case_reminders,
    change_mode,
    compare_actions,
    compare_fields,
    default_review_on,
    required_parties,
    sign_off_problems,
    state_after_sign_off,
)
from workflows.calendar import STOCKHOLM, WorkingCalendar
from workflows.errors import TransitionRefused

CAL = WorkingCalendar()


@pytest.mark.parametrize(
    ("state", "mode"),
    [
        (PlanState.DRAFT, ChangeMode.EDIT_IN_PLACE),
        (PlanState.SIGNING, ChangeMode.NEW_VERSION),
        (PlanState.SIGNED, ChangeMode.NEW_VERSION),
        (PlanState.SUPERSEDED, None),
    ],
)
def test_a_change_after_any_sign_off_makes_a_new_version(state, mode):
    if mode is None:
        with pytest.raises(TransitionRefused):
            change_mode(state)
    else:
        assert change_mode(state) is mode


def test_the_participant_the_agency_in_charge_and_every_responsible_agency_sign():
    assert required_parties("kommun", ["af", "af", "region"]) == {
        PARTICIPANT,
        "kommun",
        "af",
        "region",
    }
    assert required_parties(None, []) == {PARTICIPANT}


@pytest.mark.parametrize(
    ("state", "signed", "expected"),
    [
        (PlanState.DRAFT, {PARTICIPANT}, PlanState.SIGNING),
        (PlanState.SIGNING, {PARTICIPANT, "af"}, PlanState.SIGNING),
        (PlanState.SIGNING, {PARTICIPANT, "af", "kommun"}, PlanState.SIGNED),
        (PlanState.SIGNED, {PARTICIPANT, "af", "kommun"}, None),
        (PlanState.SUPERSEDED, {PARTICIPANT}, None),
    ],
)
def test_the_version_is_in_force_when_the_last_required_party_signs(state, signed, expected):
    required = {PARTICIPANT, "af", "kommun"}
    if expected is None:
        with pytest.raises(TransitionRefused):
            state_after_sign_off(state, required, signed)
    else:
        assert state_after_sign_off(state, required, signed) is expected


def _action(ref="a", status="planned", what="Praktik"):
    return ActionContent(ref, what, "af", 7, date(2026, 3, 9), date(2026, 5, 1), status)


def test_an_incomplete_plan_cannot_be_signed():
    assert set(sign_off_problems(PlanContent())) == {
        "own_goal",
        "long_term_goal",
        "overall_agency",
        "review_on",
        "planned_exit_on",
        "exit_steps",
        "goals",
        "actions",
    }
    complete = PlanContent(
        "Eget mål",
        "Arbete",
        "af",
        date(2026, 6, 1),
        date(2026, 12, 1),
        "Steg",
        (GoalContent("Delmål", date(2026, 5, 1)),),
        (_action(),),
    )
    assert sign_off_problems(complete) == {}


def test_statuses_are_progress_not_a_change_of_what_was_agreed():
    before = PlanContent("Mål", actions=(_action(status="planned"),))
    after = PlanContent("Mål", actions=(_action(status="done"),))
    assert before.agreed() == after.agreed()
    assert before.statuses() != after.statuses()
    assert PlanContent("Annat mål", actions=(_action(),)).agreed() != before.agreed()


def test_two_versions_are_compared_field_by_field_and_action_by_ref():
    left = PlanContent("Mål", "Arbete", actions=(_action("a"), _action("b")))
    right = PlanContent("Mål", "Studier", actions=(_action("a", what="Ny praktik"), _action("c")))
    changed = compare_fields(left, right)
    assert changed["long_term_goal"] and not changed["own_goal"]
    assert [(c.ref, c.change) for c in compare_actions(left, right)] == [
        ("a", "changed"),
        ("c", "added"),
        ("b", "removed"),
    ]


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 3, 2), 3, date(2026, 6, 2)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
    ],
)
def test_the_default_review_date(start, months, expected):
    assert default_review_on(start, months) == expected


# --- reminders: each due time with the clock passed in -------------------------------------


def morning(d: date) -> datetime:
    return datetime.combine(d, CAL.day_start, tzinfo=STOCKHOLM).astimezone(UTC)


NOW = morning(date(2026, 3, 2))  # Monday, 08:00 in Stockholm
COORDINATOR, CONTACT = 10, 20


def facts(**overrides) -> ReminderFacts:
    base = dict(
        case_id=1,
        state="active",
        epoch=3,
        enrolled_on=date(2026, 3, 2),
        coordinator_id=COORDINATOR,
        plan_signed=True,
        review_on=date(2026, 6, 2),
        planned_exit_on=date(2026, 12, 18),
        actions=(ActionFacts(5, CONTACT, date(2026, 4, 10), "planned"),),
    )
    base.update(overrides)
    return ReminderFacts(**base)


def due(reminders, template):
    return [(r.due_at, r.audience, r.recipient_id) for r in reminders if r.template == template]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Due Friday 10 April: five working days before, over Easter, is Wednesday 1 April.
        ("plan_action_due_soon", [(morning(date(2026, 4, 1)), Audience.CONTACT, CONTACT)]),
        # ...and overdue on the first working day after it, Monday 13 April.
        ("plan_action_overdue", [(morning(date(2026, 4, 13)), Audience.CONTACT, CONTACT)]),
        # Review on Tuesday 2 June.
        ("plan_review_due", [(morning(date(2026, 6, 2)), Audience.COORDINATOR, COORDINATOR)]),
        # Exit Friday 18 December: four weeks before is Friday 20 November.
        ("planned_exit_ahead", [(morning(date(2026, 11, 20)), Audience.COORDINATOR, COORDINATOR)]),
    ],
)
def test_each_plan_reminder_falls_due_at_the_start_of_the_right_working_day(template, expected):
    assert due(case_reminders(facts(), CAL, NOW), template) == expected


def test_easter_counts_as_days_off_for_the_action_due_soon():
    # 10 April minus 5 working days: 9, 8, 7, then Easter Monday 6 and Good Friday 3 are off: 2, 1.
    reminders = case_reminders(facts(), CAL, NOW)
    when = due(reminders, "plan_action_due_soon")[0][0]
    assert when.astimezone(STOCKHOLM).date() == date(2026, 4, 1)
    assert (when.astimezone(STOCKHOLM).hour, when.astimezone(STOCKHOLM).minute) == (8, 0)


def test_an_unsigned_plan_reminds_coordinator_and_team_lead_twenty_working_days_on():
    reminders = case_reminders(facts(state="enrolled", plan_signed=False, actions=()), CAL, NOW)
    assert due(reminders, "plan_unsigned") == [
        (morning(date(2026, 3, 30)), Audience.COORDINATOR_AND_TEAM_LEAD, COORDINATOR)
    ]
    assert due(reminders, "plan_review_due") == []  # nothing in force to review yet


def test_eighty_percent_of_the_maximum_duration_reminds_coordinator_and_team_lead():
    reminders = case_reminders(facts(max_duration_days=365), CAL, NOW)
    # 80 % of 365 days is day 292: 2 March + 292 days is Friday 18 December 2026.
    ((when, audience, _recipient),) = due(reminders, "case_duration_warning")
    assert when.astimezone(STOCKHOLM).date() == date(2026, 12, 18)
    assert audience is Audience.COORDINATOR_AND_TEAM_LEAD


@pytest.mark.parametrize(
    "changes",
    [
        {"state": "paused"},
        {"state": "waiting"},
        {"state": "exiting"},
        {"coordinator_id": None},
    ],
)
def test_nothing_is_owed_while_paused_waiting_ending_or_without_a_coordinator(changes):
    assert case_reminders(facts(**changes), CAL, NOW) == []


def test_a_done_action_owes_nothing_and_past_reminders_are_not_repeated():
    done = facts(actions=(ActionFacts(5, CONTACT, date(2026, 4, 10), "done"),))
    assert due(case_reminders(done, CAL, NOW), "plan_action_due_soon") == []
    later = morning(date(2026, 4, 7))
    reminders = case_reminders(facts(), CAL, later)
    assert due(reminders, "plan_action_due_soon") == []
    assert len(due(reminders, "plan_action_overdue")) == 1


def test_the_key_changes_with_the_case_so_old_reminders_can_be_told_apart():
    first = {r.key for r in case_reminders(facts(), CAL, NOW)}
    again = {r.key for r in case_reminders(facts(), CAL, NOW)}
    moved = {r.key for r in case_reminders(facts(epoch=4), CAL, NOW)}
    assert first == again
    assert first.isdisjoint(moved)

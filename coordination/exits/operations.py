"""The exit and its follow-ups: the only place that registers them (and their SUS records).

Exit: validate against the code lists (every error at once), move the case to exiting, record
the SUS exit registration, schedule the follow-ups and draft the return referral. The return
referral itself changes in exits.return_referrals, packets in exits.packets.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from coordination.action_plans import goals as plan_goals
from coordination.action_plans import operations as plan_ops
from coordination.auth.models import User
from coordination.cases.models import Case
from coordination.cases.operations import change_state, get_case
from coordination.codes.operations import code_label, valid_codes
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import local_today
from coordination.exits.events import (
    CaseExited,
    FollowUpRegistered,
    FollowUpsScheduled,
)
from coordination.exits.models import (
    ExitRegistration,
    FollowUp,
)
from coordination.exits.permissions import coordinator_id_of
from coordination.exits.queries import exit_registration_of, return_referral_of
from coordination.exits.return_referrals import new_draft, refresh_facts
from coordination.extensions import db
from coordination.statistics import operations as stats
from coordination.statistics.intake import ensure_sus_participant
from workflows.action_plan import GoalReviewOccasion
from workflows.case import CaseAction, CaseState
from workflows.case import next_state as case_next_state
from workflows.return_referral import (
    ReturnReferralState,
    follow_up_dates,
)
from workflows.statistics import Occasion


def exit_errors(case: Case, data: dict, today: date) -> dict[str, list[str]]:
    """Return every problem with an exit registration, by field."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if data.get("exit_reason") not in valid_codes("exit_reason"):
        add("exit_reason", _("Välj avslutsanledning."))
    support = list(data.get("support_at_exit") or [])
    if not support:
        add("support_at_exit", _("Välj minst en försörjning vid avslutet."))
    elif not set(support) <= valid_codes("support"):
        add("support_at_exit", _("Välj försörjning ur listan."))
    elif len(set(support)) != len(support):
        add("support_at_exit", _("Samma försörjning är vald två gånger."))
    if data.get("occupation_at_exit") not in valid_codes("occupation"):
        add("occupation_at_exit", _("Välj sysselsättning vid avslutet."))
    if data.get("work_at_exit") not in valid_codes("work"):
        add("work_at_exit", _("Välj om personen har arbete vid avslutet."))
    if data.get("goals"):
        version = plan_ops.latest_version(case.id)
        for field, messages in plan_goals.goal_review_errors(version, data["goals"]).items():
            errors.setdefault(field, []).extend(messages)
    exited_on = data.get("exited_on")
    if exited_on is not None:
        if exited_on > today:
            add("exited_on", _("Avslutsdatumet kan inte ligga i framtiden."))
        elif case.enrolled_on is not None and exited_on < case.enrolled_on:
            add(
                "exited_on",
                _(
                    "Avslutsdatumet kan inte ligga före inskrivningen (%(date)s).",
                    date=case.enrolled_on.isoformat(),
                ),
            )
    return errors


def register_exit(
    case: Case, *, data: dict, by: Actor, now: datetime | None = None
) -> ExitRegistration:
    """Record the exit: the case moves to exiting, SUS gets the exit, the return referral a draft.

    A case that is already exiting (discharged after missed meetings) only gets its registration;
    a registration made earlier is corrected while the return referral is still a draft.
    """
    now = now or utcnow()
    today = local_today(now)
    case = get_case(case.id, lock=True)
    target = None
    if case.state != CaseState.EXITING.value:
        target = case_next_state(case.state, CaseAction.START_EXIT)
    draft = return_referral_of(case.id)
    if draft is not None and draft.state != ReturnReferralState.DRAFT.value:
        raise Conflict(_("Återremissen är redan undertecknad. Avslutet kan inte ändras."))
    errors = exit_errors(case, data, today)
    if errors:
        raise ValidationFailed(
            _("Avslutet kunde inte registreras. Rätta felen nedan."), errors=errors
        )
    exited_on = data.get("exited_on") or today
    if target is not None:
        change_state(
            case,
            CaseAction.START_EXIT,
            by=by,
            reason=_(
                "Avslut registrerat: %(reason)s.",
                reason=code_label("exit_reason", data["exit_reason"]),
            ),
            now=now,
        )
    registration = exit_registration_of(case.id)
    if registration is None:
        registration = ExitRegistration(case_id=case.id, registered_at=now)
        db.session.add(registration)
    registration.exit_reason = data["exit_reason"]
    registration.support_at_exit = list(data["support_at_exit"])
    registration.occupation_at_exit = data["occupation_at_exit"]
    registration.work_at_exit = data["work_at_exit"]
    registration.exited_on = exited_on
    registration.registered_by_id = getattr(by, "id", None)
    registration.updated_at = now
    db.session.flush()
    _record_sus_exit(case, registration)
    if data.get("goals"):
        plan_goals.record_goal_statuses(
            case, data["goals"], by=by, occasion=GoalReviewOccasion.EXIT, now=now
        )
    follow_ups = schedule_follow_ups(case, exited_on)
    if draft is None:
        draft = new_draft(case, by, now)
    else:
        refresh_facts(draft)
    db.session.flush()
    events.record(
        db.session,
        CaseExited(
            case_id=case.id,
            programme_id=case.programme_id,
            exit_registration_id=registration.id,
            return_referral_id=draft.id,
            exit_reason=registration.exit_reason,
            coordinator_id=coordinator_id_of(case),
            occurred_at=now,
        ),
    )
    events.record(
        db.session,
        FollowUpsScheduled(
            case_id=case.id, follow_up_ids=tuple(f.id for f in follow_ups), occurred_at=now
        ),
    )
    return registration


def _record_sus_exit(case: Case, registration: ExitRegistration) -> None:
    participant = ensure_sus_participant(case)
    stats.record_registration(
        participant,
        Occasion.EXIT,
        registered_on=registration.exited_on,
        work=registration.work_at_exit,
        occupation=registration.occupation_at_exit,
        support=list(registration.support_at_exit),
        exit_reason=registration.exit_reason,
    )


def schedule_follow_ups(case: Case, exited_on: date) -> list[FollowUp]:
    """Create (or move, while not registered) the follow-ups 6 and 12 months after the exit."""
    assignee_id = _active_coordinator_id(case)
    found = {
        f.occasion: f
        for f in db.session.scalars(select(FollowUp).where(FollowUp.case_id == case.id))
    }
    rows = []
    for occasion, due_on in follow_up_dates(exited_on).items():
        follow_up = found.get(occasion.value)
        if follow_up is None:
            follow_up = FollowUp(case_id=case.id, occasion=occasion.value)
            db.session.add(follow_up)
        if follow_up.registered_at is None:
            follow_up.due_on = due_on
            follow_up.assignee_id = assignee_id
        rows.append(follow_up)
    db.session.flush()
    return rows


def _active_coordinator_id(case: Case) -> int | None:
    coordinator_id = coordinator_id_of(case)
    user = db.session.get(User, coordinator_id) if coordinator_id else None
    return user.id if user is not None and user.active else None


def register_follow_up(
    follow_up: FollowUp, *, data: dict, by: Actor, now: datetime | None = None
) -> FollowUp:
    """Register means of support, occupation and work at a follow-up (from its due day on)."""
    now = now or utcnow()
    today = local_today(now)
    if today < follow_up.due_on:
        raise Conflict(
            _(
                "Uppföljningen kan registreras från och med %(date)s.",
                date=follow_up.due_on.isoformat(),
            )
        )
    errors: dict[str, list[str]] = {}
    support = list(data.get("support") or [])
    if not support:
        errors["support"] = [_("Välj minst en försörjning.")]
    elif not set(support) <= valid_codes("support") or len(set(support)) != len(support):
        errors["support"] = [_("Välj försörjning ur listan.")]
    if data.get("occupation") not in valid_codes("occupation"):
        errors["occupation"] = [_("Välj sysselsättning.")]
    if data.get("work") not in valid_codes("work"):
        errors["work"] = [_("Välj om personen har arbete.")]
    if errors:
        raise ValidationFailed(
            _("Uppföljningen kunde inte registreras. Rätta felen nedan."), errors=errors
        )
    participant = ensure_sus_participant(follow_up.case)
    stats.record_registration(
        participant,
        follow_up.occasion,
        registered_on=today,
        work=data["work"],
        occupation=data["occupation"],
        support=support,
    )
    # Who and when in one assignment: reading an expired actor's id first flushes the session,
    # and a follow-up registered by no one is refused by the database.
    follow_up.registered_by_id, follow_up.registered_at = by.id, now
    db.session.flush()
    events.record(
        db.session,
        FollowUpRegistered(
            follow_up_id=follow_up.id,
            case_id=follow_up.case_id,
            occasion=follow_up.occasion,
            occurred_at=now,
        ),
    )
    return follow_up

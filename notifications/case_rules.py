"""Rules for cases and the joint action plan (../shared/DOMAIN.md §7, §9), used by
notifications/rules.py.

The plan's reminders are recomputed from the case as it is after each case or plan event
(`workflows.action_plan.case_reminders`, the clock passed in) and reconciled with the pending
reminder rows: a reminder no longer owed is cancelled, a new one is added, one that is still owed
is left alone (its idempotency key is unchanged). Nothing is held in the broker; the beat sweep
fires the rows when they fall due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from coordination.action_plans.events import (
    PlanActionUpdated,
    PlanActivated,
    PlanSignedOff,
    PlanVersionCreated,
)
from coordination.action_plans.models import PlanVersion
from coordination.action_plans.operations import reminder_facts
from coordination.auth.models import User
from coordination.auth.queries import team_leads
from coordination.cases.events import (
    CaseEnrolled,
    CasePaused,
    CaseResumed,
    CoordinatorAssigned,
)
from coordination.cases.models import Case, CoordinatorProfile
from coordination.cases.permissions import referrer_agency
from coordination.core.db import DbSession
from coordination.exits.events import CaseClosed, CaseExited
from coordination.organisations.calendar import working_calendar
from notifications.models import Reminder
from notifications.outbox import idempotency_key, notify, preferences_of, remind
from workflows.action_plan import Audience, DueReminder, case_reminders

# The case and plan events after which the reminders the case owes are recomputed.
CaseEvent = (
    CaseEnrolled
    | CasePaused
    | CaseResumed
    | PlanSignedOff
    | PlanActivated
    | PlanActionUpdated
    | CaseExited
    | CaseClosed
)

REMINDER_KINDS = (
    "plan_action_due",
    "plan_review_due",
    "plan_unsigned",
    "planned_exit_ahead",
    "case_duration",
)


def team_leads_for(session: DbSession, coordinator_id: int | None) -> list[int]:
    """Return the team leads of the coordinator's team; every team lead when it has none."""
    team = None
    if coordinator_id is not None:
        team = session.scalar(
            select(CoordinatorProfile.team_unit_id).where(
                CoordinatorProfile.user_id == coordinator_id
            )
        )
    leads = team_leads(session, unit_ids=[team]) if team is not None else []
    return [u.id for u in leads or team_leads(session)]


def _link(case_id: int, due: DueReminder) -> str:
    return f"/cases/{case_id}" if due.kind == "case_duration" else f"/cases/{case_id}/plan"


def owed_reminders(
    session: DbSession, case_id: int, now: datetime
) -> list[tuple[int, DueReminder]]:
    """Return (recipient_id, reminder) for every reminder the case owes from now on."""
    facts = reminder_facts(case_id)
    if facts is None:
        return []
    owed = []
    leads: list[int] | None = None
    for due in case_reminders(facts, working_calendar(session), now):
        recipients = [due.recipient_id]
        if due.audience is Audience.COORDINATOR_AND_TEAM_LEAD:
            if leads is None:
                leads = team_leads_for(session, facts.coordinator_id)
            recipients += [lead for lead in leads if lead != due.recipient_id]
        owed += [(recipient, due) for recipient in recipients]
    return owed


def sync_case_reminders(session: DbSession, case_id: int, now: datetime) -> None:
    """Bring the case's pending plan reminders in line with what it owes now.

    A pending reminder that has fallen due but that the sweep has not sent yet is kept while the
    case, as it is now, still owes it (what is owed is computed from the earliest pending one's
    time on), so an event just after a due time, or during a beat outage, loses nothing.
    """
    pending = list(
        session.scalars(
            select(Reminder).where(
                Reminder.subject_type == "case",
                Reminder.subject_id == case_id,
                Reminder.kind.in_(REMINDER_KINDS),
                Reminder.status == "pending",
            )
        )
    )
    since = min([now, *(r.due_at for r in pending)]) - timedelta(seconds=1)
    owed = owed_reminders(session, case_id, since)
    wanted = {
        idempotency_key(due.key, "user", recipient, "reminder", f"L{due.level}")
        for recipient, due in owed
    }
    for reminder in pending:
        if reminder.idempotency_key not in wanted:
            reminder.status = "cancelled"
    session.flush()
    for recipient, due in owed:
        if due.due_at <= now:
            continue  # due already: kept above if it was pending, never written anew
        remind(
            session,
            now,
            recipient_id=recipient,
            kind=due.kind,
            template=due.template,
            key=due.key,
            due_at=due.due_at,
            level=due.level,
            subject=("case", case_id),
            link=_link(case_id, due),
            params=dict(due.params),
        )


def case_changed(session: DbSession, event: CaseEvent) -> None:
    """A case or its plan changed: recompute the reminders it owes."""
    sync_case_reminders(session, event.case_id, event.occurred_at)


def coordinator_assigned(session: DbSession, event: CoordinatorAssigned) -> None:
    """Tell the new coordinator (admission already told them) and move the reminders to them."""
    now = event.occurred_at
    case_id = event.case_id
    coordinator = session.get(User, event.coordinator_id)
    if coordinator is not None and event.origin != "admission":
        notify(
            session,
            now,
            recipient=coordinator,
            kind="case_assigned",
            template="coordinator_assigned",
            key=f"CoordinatorAssigned:case:{case_id}:{event.assignment_id}",
            link=f"/cases/{case_id}",
            subject=("case", case_id),
            params={"case_id": case_id},
        )
    sync_case_reminders(session, case_id, now)


def plan_version_created(session: DbSession, event: PlanVersionCreated) -> None:
    """Ask the contacts of the version's actions to have their agency sign it."""
    now = event.occurred_at
    case_id = event.case_id
    version = session.get(PlanVersion, event.plan_version_id)
    case = session.get(Case, case_id)
    if version is None or case is None:
        return
    contact_ids = {a.contact_id for a in version.actions if a.contact_id}
    action_agencies = {a.agency for a in version.actions}
    if version.overall_agency not in action_agencies and case.referral is not None:
        # The referring agency in charge without an action of its own signs through the referrer.
        if version.overall_agency == referrer_agency(case):
            contact_ids.add(case.referral.referrer_id)
    ordered_ids = sorted(contact_ids)
    contacts = [u for u in (session.get(User, i) for i in ordered_ids) if u is not None]
    preferences = preferences_of(session, ordered_ids)
    calendar = working_calendar(session)
    for contact in contacts:
        notify(
            session,
            now,
            recipient=contact,
            kind="plan_sign_off_requested",
            template="plan_sign_off_requested",
            key=f"PlanVersionCreated:plan_version:{version.id}",
            link=f"/cases/{case_id}/plan",
            subject=("case", case_id),
            params={"case_id": case_id, "version": version.number},
            calendar=calendar,
            preferences=preferences,
        )
    sync_case_reminders(session, case_id, now)

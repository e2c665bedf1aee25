"""The self-rating rules (../shared/DOMAIN.md §12); the table is rules.RULES.

A due self-rating (found by the daily duties) owes the case's coordinator, or the team leads when
the case has none, one inbox task leading to the case's ratings page; the task says only which
case and from which day, never who. Recording the rating closes the task.
"""

from __future__ import annotations

from sqlalchemy import update

from coordination.auth.models import User
from coordination.cases.models import Case
from coordination.core.db import DbSession
from coordination.organisations.calendar import working_calendar
from coordination.statistics.events import ProgressionRatingDue, ProgressionRatingRecorded
from notifications.case_rules import team_leads_for
from notifications.models import Notification
from notifications.outbox import notify, preferences_of

KIND = "rating_due"


def _recipients(session: DbSession, case: Case) -> list[User]:
    coordinator = session.get(User, case.coordinator_id) if case.coordinator_id else None
    if coordinator is not None and coordinator.active:
        return [coordinator]
    leads = [session.get(User, i) for i in team_leads_for(session, None)]
    return [u for u in leads if u is not None]


def rating_due(session: DbSession, event: ProgressionRatingDue) -> None:
    """Give the case's coordinator a task: rate with the participant (once per due date)."""
    if event.case_id is None:
        return  # a record without a live case has nobody to rate with
    case = session.get(Case, event.case_id)
    if case is None:
        return
    recipients = _recipients(session, case)
    preferences = preferences_of(session, [u.id for u in recipients])
    calendar = working_calendar(session)
    for user in recipients:
        notify(
            session,
            event.occurred_at,
            recipient=user,
            kind=KIND,
            template="rating_due",
            key=f"ProgressionRatingDue:case:{case.id}:{event.due_on.isoformat()}",
            link=f"/cases/{case.id}/ratings",
            subject=("case", case.id),
            params={"case_id": case.id, "due_on": event.due_on.isoformat()},
            calendar=calendar,
            preferences=preferences,
        )


def rating_recorded(session: DbSession, event: ProgressionRatingRecorded) -> None:
    """A recorded self-rating is the task done."""
    if event.case_id is None:
        return
    session.execute(
        update(Notification)
        .where(
            Notification.subject_type == "case",
            Notification.subject_id == event.case_id,
            Notification.kind == KIND,
            Notification.channel == "inbox",
            Notification.done_at.is_(None),
        )
        .values(done_at=event.occurred_at)
        .execution_options(synchronize_session=False)
    )

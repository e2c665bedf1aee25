"""The case's part of the register extract and of retention (gallring)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select

from coordination.audit.extract import section
from coordination.cases.models import Case, CaseHistory, CoordinatorAssignment
from coordination.extensions import db
from coordination.people.models import Person
from coordination.people.retention import last_activity, still_open
from workflows.case import CaseState


def _cases(person_id: int) -> list[dict]:
    rows = []
    for case in db.session.scalars(select(Case).where(Case.person_id == person_id)):
        rows.append(
            {
                "id": case.id,
                "programme_id": case.programme_id,
                "referral_id": case.referral_id,
                "state": case.state,
                "complexity_weight": case.complexity_weight,
                "enrolled_on": case.enrolled_on.isoformat() if case.enrolled_on else None,
                "pause_reason": case.pause_reason,
                "pause_note": case.pause_note,
                "expected_return_on": (
                    case.expected_return_on.isoformat() if case.expected_return_on else None
                ),
                "coordinators": [
                    {
                        "coordinator_id": a.coordinator_id,
                        "assigned_at": a.assigned_at.isoformat(),
                        "ended_at": a.ended_at.isoformat() if a.ended_at else None,
                        "reason": a.reason,
                        "over_capacity_reason": a.over_capacity_reason,
                    }
                    for a in case.assignments
                ],
                "history": [
                    {
                        "at": h.at.isoformat(),
                        "from": h.from_state,
                        "to": h.to_state,
                        "action": h.action,
                        "by_id": h.by_id,
                        "reason": h.reason,
                    }
                    for h in case.history
                ],
            }
        )
    return rows


def _open_case(person_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(func.count()).where(
                Case.person_id == person_id, Case.state != CaseState.CLOSED.value
            )
        )
    )


def _case_activity(person_id: int) -> datetime | None:
    times = [
        db.session.scalar(
            select(func.max(CaseHistory.at))
            .join(Case, Case.id == CaseHistory.case_id)
            .where(Case.person_id == person_id)
        ),
        db.session.scalar(
            select(
                func.max(
                    func.coalesce(CoordinatorAssignment.ended_at, CoordinatorAssignment.assigned_at)
                )
            )
            .join(Case, Case.id == CoordinatorAssignment.case_id)
            .where(Case.person_id == person_id)
        ),
    ]
    found = [t for t in times if t is not None]
    return max(found) if found else None


def _cases_go_with_their_person(session, _flush_context, _instances) -> None:
    """Delete a person's cases (history and assignments with them) when the person is erased.

    This runs in the flush that deletes the person, after every domain's eraser has removed its
    own rows that hang on the cases, whatever order the erasers were registered in.
    """
    people = [obj.id for obj in session.deleted if isinstance(obj, Person)]
    if not people:
        return
    with session.no_autoflush:
        for case in session.scalars(select(Case).where(Case.person_id.in_(people))):
            session.delete(case)


def install(session_class) -> None:
    """Delete an erased person's cases in the same flush (installing twice changes nothing)."""
    if not event.contains(session_class, "before_flush", _cases_go_with_their_person):
        event.listen(session_class, "before_flush", _cases_go_with_their_person)


def register() -> None:
    """Add the cases to the register extract and to retention."""
    section(_l("Ärenden"), _cases)
    still_open(_open_case)
    last_activity(_case_activity)

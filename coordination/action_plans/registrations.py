"""The action plan's part of the register extract and of retention (gallring)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from coordination.action_plans.models import PlanVersion
from coordination.audit.extract import section
from coordination.cases.models import Case
from coordination.extensions import db
from coordination.people.retention import eraser, last_activity


def _iso(value):
    return value.isoformat() if value is not None else None


def _plans(person_id: int) -> list[dict]:
    versions = db.session.scalars(
        select(PlanVersion)
        .join(Case, Case.id == PlanVersion.case_id)
        .where(Case.person_id == person_id)
        .order_by(PlanVersion.case_id, PlanVersion.number)
    )
    return [
        {
            "case_id": v.case_id,
            "version": v.number,
            "state": v.state,
            "own_goal": v.own_goal,
            "long_term_goal": v.long_term_goal,
            "overall_agency": v.overall_agency,
            "review_on": _iso(v.review_on),
            "planned_exit_on": _iso(v.planned_exit_on),
            "exit_steps": v.exit_steps,
            "change_note": v.change_note,
            "created_at": _iso(v.created_at),
            "goals": [{"text": g.text, "target_on": _iso(g.target_on)} for g in v.goals],
            "actions": [
                {
                    "what": a.what,
                    "agency": a.agency,
                    "contact_id": a.contact_id,
                    "start_on": _iso(a.start_on),
                    "due_on": _iso(a.due_on),
                    "status": a.status,
                }
                for a in v.actions
            ],
            "sign_offs": [
                {
                    "party": s.party,
                    "method": s.method,
                    "signed_by_id": s.signed_by_id,
                    "signed_at": _iso(s.signed_at),
                }
                for s in v.sign_offs
            ],
        }
        for v in versions
    ]


def _plan_activity(person_id: int) -> datetime | None:
    return db.session.scalar(
        select(func.max(PlanVersion.updated_at))
        .join(Case, Case.id == PlanVersion.case_id)
        .where(Case.person_id == person_id)
    )


def _erase_plans(person_id: int) -> None:
    """Delete the person's action plans (goals in their own words, actions, sign-offs)."""
    case_ids = select(Case.id).where(Case.person_id == person_id)
    for version in db.session.scalars(select(PlanVersion).where(PlanVersion.case_id.in_(case_ids))):
        db.session.delete(version)
    db.session.flush()


def register() -> None:
    """Add the action plans to the register extract and to retention."""
    section(_l("Handlingsplaner"), _plans)
    last_activity(_plan_activity)
    eraser(_erase_plans)

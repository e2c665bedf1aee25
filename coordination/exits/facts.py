"""What a return referral reports: facts compiled from the referral, plan, meetings and SUS.

Reads only. The facts are compiled into the draft and again when it is saved and signed; the first
draft of the written sections is made from them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from coordination.action_plans.models import PlanGoal, PlanVersion
from coordination.auth.models import User
from coordination.cases.models import Case
from coordination.codes.operations import code_label
from coordination.core.i18n import label
from coordination.exits.permissions import coordinator_id_of
from coordination.exits.queries import exit_registration_of
from coordination.extensions import db
from coordination.meetings.models import Attendance, Meeting
from coordination.referrals.models import Referral
from coordination.statistics.models import ProgressionRating, SusParticipant, SusRegistration
from coordination.statistics.queries import participant_for_case
from workflows.statistics import rating_change


def isoformat_or_none(value: date | datetime | None) -> str | None:
    """Return a date or time as ISO text, None for none."""
    return value.isoformat() if value is not None else None


def referral_section(referral: Referral) -> dict:
    """The referral as both packet documents show it: what was asked, by whom, from where."""
    unit = referral.referring_unit
    return {
        "id": referral.id,
        "referral_date": isoformat_or_none(referral.referral_date),
        "reason": referral.reason,
        "question_to_conference": referral.question_to_conference or "",
        "agencies_needed": list(referral.agencies_needed or []),
        "referring_unit": {
            "id": unit.id if unit else None,
            "name": unit.name if unit else "",
            "agency": unit.agency_kind if unit else None,
        },
        "referrer": {"id": referral.referrer_id, "name": referral.referrer.name},
    }


def _registration_facts(registration: SusRegistration | None) -> dict | None:
    if registration is None:
        return None
    return {
        "registered_on": isoformat_or_none(registration.registered_on),
        "support": list(registration.support_codes),
        "occupation": registration.occupation,
        "work": registration.work,
    }


def _goal_facts(goal: PlanGoal) -> dict:
    return {
        "text": goal.text,
        "target_on": isoformat_or_none(goal.target_on),
        "status": goal.status,
        "status_occasion": goal.status_occasion,
        "status_at": isoformat_or_none(goal.status_at),
        "status_by": goal.status_by.name if goal.status_by is not None else None,
    }


def progression_facts(participant: SusParticipant | None) -> dict:
    """Return the participant's first and last self-rating and the change between them.

    The change is classified only with at least two ratings (DOMAIN.md §12); with fewer it is
    None and `ratings` says how many there are.
    """
    ratings = list(participant.ratings) if participant is not None else []

    def one(rating: ProgressionRating) -> dict:
        return {"rated_on": isoformat_or_none(rating.rated_on), "total": rating.total}

    return {
        "ratings": len(ratings),
        "first": one(ratings[0]) if ratings else None,
        "last": one(ratings[-1]) if len(ratings) > 1 else None,
        "change": rating_change(ratings[0].total, ratings[-1].total) if len(ratings) > 1 else None,
    }


def plan_facts(case_id: int) -> dict:
    """Return the plan versions with their goals and actions."""
    versions = db.session.scalars(
        select(PlanVersion).where(PlanVersion.case_id == case_id).order_by(PlanVersion.number)
    )
    return {
        "versions": [
            {
                "number": v.number,
                "state": v.state,
                "signed_at": isoformat_or_none(v.signed_at),
                "own_goal": v.own_goal or "",
                "long_term_goal": v.long_term_goal or "",
                "overall_agency": v.overall_agency,
                "planned_exit_on": isoformat_or_none(v.planned_exit_on),
                "goals": [_goal_facts(g) for g in v.goals],
                "actions": [
                    {
                        "what": a.what,
                        "agency": a.agency,
                        "status": a.status,
                        "start_on": isoformat_or_none(a.start_on),
                        "due_on": isoformat_or_none(a.due_on),
                    }
                    for a in v.actions
                ],
            }
            for v in versions
        ],
    }


def meeting_facts(case_id: int) -> dict:
    """Return the case's meetings and attendance figures."""
    by_kind = dict(
        db.session.execute(
            select(Meeting.kind, func.count())
            .where(Meeting.case_id == case_id, Meeting.status != "cancelled")
            .group_by(Meeting.kind)
        ).all()
    )
    by_status = dict(
        db.session.execute(
            select(Attendance.status, func.count())
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(Attendance.case_id == case_id)
            .group_by(Attendance.status)
        ).all()
    )
    sessions = db.session.scalar(
        select(func.count())
        .select_from(Attendance)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(Attendance.case_id == case_id, Meeting.group_id.is_not(None))
    )
    if sessions:
        by_kind["group_session"] = by_kind.get("group_session", 0) + sessions
    attended = by_status.get("attended", 0)
    missed = by_status.get("missed", 0)
    rate = round(100 * attended / (attended + missed), 1) if attended + missed else None
    return {
        "total": sum(by_kind.values()),
        "by_kind": dict(sorted(by_kind.items())),
        "attended": attended,
        "missed": missed,
        "cancelled_by_participant": by_status.get("cancelled_by_participant", 0),
        "cancelled_by_staff": by_status.get("cancelled_by_staff", 0),
        "attendance_rate": rate,
    }


def compile_facts(case: Case) -> dict:
    """Return what the return referral reports from the referral, plan, meetings and SUS."""
    referral = case.referral
    registration = exit_registration_of(case.id)
    participant = participant_for_case(case.id)
    coordinator = db.session.get(User, coordinator_id_of(case)) if coordinator_id_of(case) else None
    days = (
        (registration.exited_on - case.enrolled_on).days
        if registration and case.enrolled_on
        else None
    )
    return {
        "programme": {"id": case.programme_id, "name": case.programme.name},
        "referral": referral_section(referral),
        "case": {
            "id": case.id,
            "enrolled_on": isoformat_or_none(case.enrolled_on),
            "coordinator": {"id": coordinator.id, "name": coordinator.name}
            if coordinator
            else None,
            "coordinator_changes": max(len(case.assignments) - 1, 0),
        },
        "exit": {
            "exited_on": isoformat_or_none(registration.exited_on) if registration else None,
            "exit_reason": registration.exit_reason if registration else None,
            "days_in_programme": days,
        },
        "registrations": {
            "intake": _registration_facts(participant.registration("intake"))
            if participant
            else None,
            "exit": _registration_facts(participant.registration("exit")) if participant else None,
        },
        "plan": plan_facts(case.id),
        "meetings": meeting_facts(case.id),
        "progression": progression_facts(participant),
    }


def _codes(list_name: str, codes: Iterable[str] | None) -> str:
    return ", ".join(code_label(list_name, c) for c in codes or []) or _("uppgift saknas")


def drafted_sections(facts: dict) -> dict:
    """Return the first draft of the written sections, from the compiled facts."""
    referral = facts["referral"]
    versions = facts["plan"]["versions"]
    latest = versions[-1] if versions else None
    purpose = [_("Remissens fråga: %(question)s", question=referral["question_to_conference"])]
    if referral["reason"]:
        purpose.append(
            _(
                "Orsak till remissen: %(reason)s",
                reason=code_label("referral_reason", referral["reason"]),
            )
        )
    if latest and latest["own_goal"]:
        purpose.append(_("Deltagarens eget mål: %(goal)s", goal=latest["own_goal"]))
    if latest and latest["long_term_goal"]:
        purpose.append(_("Långsiktigt mål: %(goal)s", goal=latest["long_term_goal"]))

    actions = []
    for action in latest["actions"] if latest else []:
        actions.append(
            _(
                "%(what)s (%(agency)s, %(status)s)",
                what=action["what"],
                agency=label("agency", action["agency"]),
                status=label("action_status", action["status"]),
            )
        )
    meetings = facts["meetings"]
    if meetings:
        actions.append(
            _(
                "%(total)s möten: %(attended)s genomförda, %(missed)s uteblivna, "
                "%(cancelled)s återbud.",
                total=meetings["total"],
                attended=meetings["attended"],
                missed=meetings["missed"],
                cancelled=meetings["cancelled_by_participant"],
            )
        )

    results = []
    intake = facts["registrations"]["intake"] or {}
    at_exit = facts["registrations"]["exit"] or {}
    results.append(
        _(
            "Försörjning vid inskrivning: %(intake)s. Vid avslut: %(exit)s.",
            intake=_codes("support", intake.get("support")),
            exit=_codes("support", at_exit.get("support")),
        )
    )
    results.append(
        _(
            "Sysselsättning vid inskrivning: %(intake)s. Vid avslut: %(exit)s.",
            intake=_codes("occupation", [intake["occupation"]] if intake.get("occupation") else []),
            exit=_codes("occupation", [at_exit["occupation"]] if at_exit.get("occupation") else []),
        )
    )
    if facts["exit"]["exit_reason"]:
        results.append(
            _(
                "Avslutsanledning: %(reason)s.",
                reason=code_label("exit_reason", facts["exit"]["exit_reason"]),
            )
        )
    for goal in latest["goals"] if latest else []:
        if goal.get("status"):
            results.append(
                _(
                    "Delmål: %(goal)s (%(status)s)",
                    goal=goal["text"],
                    status=label("goal_status", goal["status"]),
                )
            )
        else:
            results.append(_("Delmål: %(goal)s", goal=goal["text"]))
    return {
        "purpose": "\n".join(purpose),
        "actions_taken": "\n".join(actions),
        "results": "\n".join(results),
        "health_care_needs": "",
        "health_how_met": "",
        "participant_comments": "",
    }

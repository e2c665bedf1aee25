"""The only place that changes exits, return referrals, packets and follow-ups.

Exit: validate against the code lists (every error at once), move the case to exiting, record
the SUS exit registration, schedule the follow-ups and draft the return referral. Finalising
locks and signs the document, closes the case and delivers the packet. One packet mechanism
serves the return referral and the joint recommendation of a referral that was not admitted.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.action_plans.models import PlanVersion
from coordination.auth.models import User
from coordination.auth.queries import team_leads
from coordination.cases.models import Case
from coordination.cases.operations import change_state, get_case
from coordination.codes.operations import code_label, valid_codes
from coordination.conferences.models import Decision
from coordination.core import events
from coordination.core.db import DbSession, get_row, utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import label, local_today
from coordination.exits.events import (
    CaseClosed,
    CaseExited,
    FollowUpRegistered,
    FollowUpsScheduled,
    PacketAcknowledged,
    PacketDelivered,
    RecommendationOutcomesRecorded,
    ReturnReferralFinalised,
)
from coordination.exits.models import (
    ExitRegistration,
    FollowUp,
    Packet,
    RecommendationOutcome,
    ReturnReferral,
)
from coordination.extensions import db
from coordination.meetings.models import Attendance, Meeting
from coordination.referrals.models import Referral
from coordination.statistics import operations as stats
from workflows.case import CaseAction, CaseState
from workflows.case import next_state as case_next_state
from workflows.organisation import MEMBER_AGENCIES, AgencyKind
from workflows.return_referral import (
    NOTE_REQUIRED,
    TEXT_SECTIONS,
    PacketKind,
    RecommendationStatus,
    ReturnReferralAction,
    ReturnReferralState,
    acknowledge_packet,
    content_hash,
    follow_up_dates,
    missing_sections,
    next_state,
)
from workflows.statistics import Occasion

AGENCY_CODES = [a.value for a in MEMBER_AGENCIES]


# --- loading ----------------------------------------------------------------------------------


def exit_registration_of(case_id: int) -> ExitRegistration | None:
    """Return the case's exit registration, if made."""
    return db.session.scalar(select(ExitRegistration).where(ExitRegistration.case_id == case_id))


def return_referral_of(case_id: int) -> ReturnReferral | None:
    """Return the case's return referral, if drafted."""
    return db.session.scalar(select(ReturnReferral).where(ReturnReferral.case_id == case_id))


def get_return_referral(return_referral_id: int, *, lock: bool = False) -> ReturnReferral:
    """Load a return referral, locking its row when it is about to change."""
    return get_row(
        ReturnReferral, return_referral_id, lock=lock, missing=_("Återremissen finns inte.")
    )


def get_packet(packet_id: int, *, lock: bool = False) -> Packet:
    """Load a packet, locking its row when it is about to change."""
    return get_row(Packet, packet_id, lock=lock, missing=_("Paketet finns inte."))


def packet_for_decision(decision_id: int, session: Session | None = None) -> Packet | None:
    """Return the joint-recommendation packet of a conference decision, if delivered."""
    session = session or db.session
    return session.scalar(select(Packet).where(Packet.decision_id == decision_id))


def escalation_recipients(unit_id: int, session: DbSession | None = None) -> list[User]:
    """Return the referrer's team leads: those of the referring unit, else the förbund's."""
    session = session or db.session
    leads = team_leads(session, unit_ids=[unit_id])
    return leads or team_leads(session, agency_kind=AgencyKind.FORBUND.value)


def forbund_team_leads(session: Session | None = None) -> list[User]:
    """Return the förbund's active team leads."""
    return team_leads(session, agency_kind=AgencyKind.FORBUND.value)


# --- exit -------------------------------------------------------------------------------------


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


def register_exit(case: Case, *, data: dict, by, now: datetime | None = None) -> ExitRegistration:
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
    follow_ups = schedule_follow_ups(case, exited_on)
    if draft is None:
        draft = _new_draft(case, by, now)
    else:
        _refresh_facts(draft)
    db.session.flush()
    events.record(
        db.session,
        CaseExited(
            case_id=case.id,
            programme_id=case.programme_id,
            exit_registration_id=registration.id,
            return_referral_id=draft.id,
            exit_reason=registration.exit_reason,
            coordinator_id=_coordinator_id(case),
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


def _coordinator_id(case: Case) -> int | None:
    assignment = next((a for a in case.assignments if a.active), None)
    return assignment.coordinator_id if assignment else None


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


def ensure_sus_participant(case: Case):
    """Return the case's SUS record, made with its intake registration from the referral if new."""
    participant = stats.participant_for_case(case.id)
    referral = case.referral
    if participant is None:
        agency = referral.referring_unit.agency_kind if referral.referring_unit else None
        person = case.person
        participant = stats.enrol_participant(
            programme_id=case.programme_id,
            participant_ref=f"case-{case.id}",
            enrolled_on=case.enrolled_on or local_today(),
            gender=person.gender if person.gender in valid_codes("gender") else None,
            birth_year=person.birth_date.year if person.birth_date else None,
            home_municipality=referral.home_municipality,
            referring_agency=agency if agency in AGENCY_CODES else None,
            case_id=case.id,
        )
    if participant.registration(Occasion.INTAKE) is None:
        offered = valid_codes("support")

        def offered_code(list_name: str, value: str | None) -> str | None:
            return value if value in valid_codes(list_name) else None

        stats.record_registration(
            participant,
            Occasion.INTAKE,
            registered_on=participant.enrolled_on,
            occupation=offered_code("occupation", referral.occupation),
            education=offered_code("education", referral.education),
            time_on_support=offered_code("time_on_support", referral.time_on_support),
            support=[c for c in dict.fromkeys(referral.support_current or []) if c in offered],
        )
    return participant


# --- follow-ups -------------------------------------------------------------------------------


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
    coordinator_id = _coordinator_id(case)
    user = db.session.get(User, coordinator_id) if coordinator_id else None
    return user.id if user is not None and user.active else None


def follow_up_recipients(follow_up: FollowUp, session: DbSession | None = None) -> list[User]:
    """Return who is reminded of a follow-up: its coordinator, or the team leads if they left."""
    session = session or db.session
    user = session.get(User, follow_up.assignee_id) if follow_up.assignee_id else None
    if user is not None and user.active:
        return [user]
    return forbund_team_leads(session) or team_leads(session)


def register_follow_up(
    follow_up: FollowUp, *, data: dict, by, now: datetime | None = None
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
    follow_up.registered_at = now
    follow_up.registered_by_id = by.id
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


def follow_up_registration(follow_up: FollowUp):
    """Return the SUS registration made at a follow-up, if any."""
    participant = stats.participant_for_case(follow_up.case_id)
    return participant.registration(follow_up.occasion) if participant else None


# --- the return referral: facts, draft, editing ---------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _referral_section(referral: Referral) -> dict:
    """The referral as both packet documents show it: what was asked, by whom, from where."""
    unit = referral.referring_unit
    return {
        "id": referral.id,
        "referral_date": _iso(referral.referral_date),
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


def _registration_facts(registration) -> dict | None:
    if registration is None:
        return None
    return {
        "registered_on": _iso(registration.registered_on),
        "support": list(registration.support_codes),
        "occupation": registration.occupation,
        "work": registration.work,
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
                "signed_at": _iso(v.signed_at),
                "own_goal": v.own_goal or "",
                "long_term_goal": v.long_term_goal or "",
                "overall_agency": v.overall_agency,
                "planned_exit_on": _iso(v.planned_exit_on),
                "goals": [{"text": g.text, "target_on": _iso(g.target_on)} for g in v.goals],
                "actions": [
                    {
                        "what": a.what,
                        "agency": a.agency,
                        "status": a.status,
                        "start_on": _iso(a.start_on),
                        "due_on": _iso(a.due_on),
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
    participant = stats.participant_for_case(case.id)
    coordinator = db.session.get(User, _coordinator_id(case)) if _coordinator_id(case) else None
    days = (
        (registration.exited_on - case.enrolled_on).days
        if registration and case.enrolled_on
        else None
    )
    return {
        "programme": {"id": case.programme_id, "name": case.programme.name},
        "referral": _referral_section(referral),
        "case": {
            "id": case.id,
            "enrolled_on": _iso(case.enrolled_on),
            "coordinator": {"id": coordinator.id, "name": coordinator.name}
            if coordinator
            else None,
            "coordinator_changes": max(len(case.assignments) - 1, 0),
        },
        "exit": {
            "exited_on": _iso(registration.exited_on) if registration else None,
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
    }


def _codes(list_name: str, codes) -> str:
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
        results.append(_("Delmål: %(goal)s", goal=goal["text"]))
    return {
        "purpose": "\n".join(purpose),
        "actions_taken": "\n".join(actions),
        "results": "\n".join(results),
        "health_care_needs": "",
        "health_how_met": "",
        "participant_comments": "",
    }


def _new_draft(case: Case, by, now: datetime) -> ReturnReferral:
    facts = compile_facts(case)
    draft = ReturnReferral(
        case_id=case.id,
        referral_id=case.referral_id,
        state=ReturnReferralState.DRAFT.value,
        content={"sections": drafted_sections(facts), "recommendations": [], "facts": facts},
        created_at=now,
        updated_at=now,
        updated_by_id=getattr(by, "id", None),
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def _refresh_facts(draft: ReturnReferral) -> None:
    content = dict(draft.content or {})
    content["facts"] = compile_facts(draft.case)
    draft.content = content


def sections_of(return_referral: ReturnReferral) -> dict:
    """Return the written sections of a return referral."""
    sections = (return_referral.content or {}).get("sections") or {}
    return {name: sections.get(name, "") for name in TEXT_SECTIONS}


def recommendations_of(return_referral: ReturnReferral) -> list[dict]:
    """Return the recommendations of a return referral, numbered."""
    return list((return_referral.content or {}).get("recommendations") or [])


def facts_of(return_referral: ReturnReferral) -> dict:
    """Return the compiled facts of a return referral."""
    return (return_referral.content or {}).get("facts") or {}


def _recommendation_errors(recommendations: list[dict]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(recommendations):
        if item.get("agency") not in AGENCY_CODES:
            errors.setdefault("recommendations", []).append(
                _("Rekommendation %(n)s: välj vilken myndighet den riktar sig till.", n=index + 1)
            )
        if not str(item.get("text") or "").strip():
            errors.setdefault("recommendations", []).append(
                _("Rekommendation %(n)s: skriv rekommendationen.", n=index + 1)
            )
    return errors


def ensure_not_stale(return_referral: ReturnReferral, version: int | None) -> None:
    """Refuse a change made on an outdated copy of the draft."""
    if version is not None and version != return_referral.version:
        raise Conflict(
            _("Återremissen har ändrats av någon annan sedan du öppnade den. Ladda om sidan.")
        )


def update_draft(
    return_referral: ReturnReferral, *, data: dict, by, now: datetime | None = None
) -> ReturnReferral:
    """Save the coordinator's sections and recommendations; a finalised document is refused."""
    now = now or utcnow()
    next_state(return_referral.state, ReturnReferralAction.EDIT)
    recommendations = data.get("recommendations")
    if recommendations is not None:
        errors = _recommendation_errors(recommendations)
        if errors:
            raise ValidationFailed(
                _("Återremissen kunde inte sparas. Rätta felen nedan."), errors=errors
            )
    content = dict(return_referral.content or {})
    sections = dict(content.get("sections") or {})
    for name in TEXT_SECTIONS:
        if name in data and data[name] is not None:
            sections[name] = str(data[name]).strip()
    content["sections"] = sections
    if recommendations is not None:
        content["recommendations"] = [
            {"number": n, "agency": r["agency"], "text": str(r["text"]).strip()}
            for n, r in enumerate(recommendations, start=1)
        ]
    content["facts"] = compile_facts(return_referral.case)
    return_referral.content = content
    return_referral.version += 1
    return_referral.updated_at = now
    return_referral.updated_by_id = getattr(by, "id", None)
    db.session.flush()
    return return_referral


def finalise_errors(return_referral: ReturnReferral) -> dict[str, list[str]]:
    """Return what the return referral lacks before it may be signed, by field."""
    messages = {
        "purpose": _("Beskriv syftet med insatsen."),
        "actions_taken": _("Beskriv vilka insatser som har gjorts."),
        "results": _("Beskriv resultaten."),
        "health_care_needs": _("Beskriv fortsatta vårdbehov i hälsoprofilen."),
        "health_how_met": _("Beskriv hur vårdbehoven kan tillgodoses."),
        "participant_comments": _(
            "Skriv deltagarens egna synpunkter (eller att deltagaren inte ville lämna några)."
        ),
        "recommendations": _("Skriv minst en rekommendation till en myndighet."),
    }
    missing = missing_sections(sections_of(return_referral), recommendations_of(return_referral))
    errors = {name: [messages[name]] for name in missing}
    for field, found in _recommendation_errors(recommendations_of(return_referral)).items():
        errors.setdefault(field, []).extend(found)
    return errors


def finalise(return_referral: ReturnReferral, *, by, now: datetime | None = None) -> ReturnReferral:
    """Lock and sign the return referral, close the case and deliver the packet to the referrer.

    The caller passes the return referral locked (get_return_referral(..., lock=True)).
    """
    now = now or utcnow()
    target = next_state(return_referral.state, ReturnReferralAction.FINALISE)
    case = get_case(return_referral.case_id, lock=True)
    case_next_state(case.state, CaseAction.CLOSE)  # refused before the document is touched
    errors = finalise_errors(return_referral)
    if errors:
        raise ValidationFailed(
            _("Återremissen kan inte undertecknas ännu. Komplettera det som saknas."),
            errors=errors,
        )
    content = dict(return_referral.content or {})
    content["facts"] = compile_facts(case)
    content["signed_by"] = {"id": by.id, "name": by.name}
    content["signed_at"] = now.isoformat()
    return_referral.content = content
    return_referral.content_hash = content_hash(content)
    return_referral.signed_by_id = by.id
    return_referral.signed_at = now
    return_referral.state = target.value
    return_referral.version += 1
    return_referral.updated_at = now
    change_state(
        case,
        CaseAction.CLOSE,
        by=by,
        reason=_("Återremissen är undertecknad och skickad till remittenten."),
        now=now,
    )
    db.session.flush()
    events.record(
        db.session,
        ReturnReferralFinalised(
            return_referral_id=return_referral.id,
            case_id=case.id,
            signed_by_id=by.id,
            occurred_at=now,
        ),
    )
    events.record(
        db.session, CaseClosed(case_id=case.id, programme_id=case.programme_id, occurred_at=now)
    )
    deliver_return_referral(return_referral, now=now)
    return return_referral


def deliver_return_referral(return_referral: ReturnReferral, *, now: datetime) -> Packet:
    """Deliver a finalised return referral as a packet to the referrer."""
    target = next_state(return_referral.state, ReturnReferralAction.DELIVER)
    referral = return_referral.referral
    packet = Packet(
        kind=PacketKind.RETURN_REFERRAL.value,
        return_referral_id=return_referral.id,
        referral_id=referral.id,
        case_id=return_referral.case_id,
        person_id=return_referral.case.person_id,
        recipient_id=referral.referrer_id,
        unit_id=referral.referring_unit_id,
        content={"kind": PacketKind.RETURN_REFERRAL.value, **return_referral.content},
        delivered_at=now,
    )
    packet.content_hash = content_hash(packet.content)
    db.session.add(packet)
    return_referral.state = target.value
    db.session.flush()
    _record_delivery(db.session, packet)
    return packet


def _record_delivery(session: Session, packet: Packet) -> None:
    events.record(
        session,
        PacketDelivered(
            packet_id=packet.id,
            kind=packet.kind,
            recipient_id=packet.recipient_id,
            unit_id=packet.unit_id,
            referral_id=packet.referral_id,
            case_id=packet.case_id,
            delivered_at=packet.delivered_at,
            occurred_at=packet.delivered_at,
        ),
    )


def joint_recommendation_content(decision, referral: Referral) -> dict:
    """Return the document of a joint recommendation: the decision as the referrer reads it."""
    return {
        "kind": PacketKind.JOINT_RECOMMENDATION.value,
        "programme": {"id": referral.programme_id, "name": referral.programme.name},
        "referral": _referral_section(referral),
        "decision": {
            "id": decision.id,
            "outcome": decision.outcome,
            "decided_at": decision.decided_at.isoformat(),
            "conference_id": decision.conference_id,
            "conference_date": _iso(decision.conference.held_on),
            "agencies": list(decision.agencies or []),
            "positions": [{"agency": p.agency, "stance": p.stance} for p in decision.positions],
        },
        "recommendations": [{"number": 1, "agency": None, "text": decision.recommendation}],
    }


def deliver_joint_recommendation(session: Session, decision_id: int) -> Packet | None:
    """Deliver a conference's joint recommendation (outcome recommend) as a packet, once."""
    existing = packet_for_decision(decision_id, session)
    if existing is not None:
        return existing
    decision = session.get(Decision, decision_id)
    referral = session.scalar(select(Referral).where(Referral.decision_id == decision_id))
    if decision is None or referral is None:
        return None
    content = joint_recommendation_content(decision, referral)
    packet = Packet(
        kind=PacketKind.JOINT_RECOMMENDATION.value,
        decision_id=decision.id,
        referral_id=referral.id,
        person_id=referral.person_id,
        recipient_id=referral.referrer_id,
        unit_id=referral.referring_unit_id,
        content=content,
        content_hash=content_hash(content),
        delivered_at=decision.decided_at,
    )
    session.add(packet)
    session.flush()
    _record_delivery(session, packet)
    return packet


# --- acknowledgement and outcomes -------------------------------------------------------------


def acknowledge(packet: Packet, *, by, now: datetime | None = None) -> Packet:
    """Record the referrer's acknowledgement of receipt; the reminders stop.

    The caller passes the packet locked (get_packet(..., lock=True)).
    """
    now = now or utcnow()
    acknowledge_packet(packet.acknowledged_at)
    if packet.return_referral is not None:
        packet.return_referral.state = next_state(
            packet.return_referral.state, ReturnReferralAction.ACKNOWLEDGE
        ).value
    packet.acknowledged_at = max(now, packet.delivered_at)
    packet.acknowledged_by_id = by.id
    db.session.flush()
    events.record(
        db.session,
        PacketAcknowledged(
            packet_id=packet.id,
            kind=packet.kind,
            recipient_id=packet.recipient_id,
            acknowledged_by_id=by.id,
            case_id=packet.case_id,
            referral_id=packet.referral_id,
            occurred_at=now,
        ),
    )
    return packet


def record_outcomes(
    packet: Packet, *, outcomes: list[dict], by, now: datetime | None = None
) -> list[RecommendationOutcome]:
    """Record what became of recommendations: a status and a note each (all errors at once)."""
    now = now or utcnow()
    if packet.acknowledged_at is None:
        raise Conflict(_("Kvittera att du har tagit emot paketet innan du följer upp det."))
    numbers = {r["number"] for r in packet.recommendations}
    statuses = {s.value for s in RecommendationStatus}
    errors: dict[str, list[str]] = {}
    for item in outcomes:
        number = item.get("number")
        field = f"outcome_{number}"
        if number not in numbers:
            errors.setdefault(field, []).append(
                _("Rekommendation %(n)s finns inte i paketet.", n=number)
            )
            continue
        if item.get("status") not in statuses:
            errors.setdefault(field, []).append(
                _("Rekommendation %(n)s: välj vad som blev av den.", n=number)
            )
        elif item["status"] in NOTE_REQUIRED and not str(item.get("note") or "").strip():
            errors.setdefault(field, []).append(
                _("Rekommendation %(n)s: skriv varför den inte genomförs.", n=number)
            )
    if not outcomes:
        errors["outcomes"] = [_("Ange vad som blev av minst en rekommendation.")]
    if errors:
        raise ValidationFailed(
            _("Uppföljningen av rekommendationerna kunde inte sparas. Rätta felen nedan."),
            errors=errors,
        )
    saved = []
    for item in outcomes:
        outcome = packet.outcome_of(item["number"])
        if outcome is None:
            outcome = RecommendationOutcome(packet=packet, number=item["number"])
            db.session.add(outcome)
        outcome.status = item["status"]
        outcome.note = str(item.get("note") or "").strip() or None
        outcome.recorded_by_id = by.id
        outcome.recorded_at = now
        saved.append(outcome)
    db.session.flush()
    events.record(
        db.session,
        RecommendationOutcomesRecorded(
            packet_id=packet.id,
            numbers=tuple(sorted(item["number"] for item in outcomes)),
            occurred_at=now,
        ),
    )
    return saved

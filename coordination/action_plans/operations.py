"""The only place that changes action plans: saving a version, signing off, action progress."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from coordination.action_plans.events import (
    PlanActionUpdated,
    PlanActivated,
    PlanSignedOff,
    PlanVersionCreated,
)
from coordination.action_plans.models import (
    AGENCIES,
    PlanAction,
    PlanGoal,
    PlanSignOff,
    PlanVersion,
)
from coordination.auth.models import User
from coordination.cases import operations as case_ops
from coordination.cases.models import Case
from coordination.cases.permissions import can_manage, referrer_agency
from coordination.consent.operations import covering
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import utcnow
from coordination.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from coordination.core.i18n import label, local_today
from coordination.extensions import db
from coordination.organisations.calendar import working_calendar
from workflows.action_plan import (
    PARTICIPANT,
    ActionContent,
    ActionFacts,
    ActionStatus,
    ChangeMode,
    GoalContent,
    PlanContent,
    PlanState,
    ReminderFacts,
    SignOffMethod,
    activates_case,
    change_mode,
    default_review_on,
    required_parties,
    sign_off_problems,
    state_after_sign_off,
)
from workflows.case import CaseState

TEXT_LIMIT = 5000


def versions_of(case_id: int) -> list[PlanVersion]:
    """Return every version of the case's plan, oldest first."""
    return list(
        db.session.scalars(
            select(PlanVersion).where(PlanVersion.case_id == case_id).order_by(PlanVersion.number)
        )
    )


def latest_version(case_id: int) -> PlanVersion | None:
    """Return the newest version of the case's plan, if there is one."""
    return db.session.scalar(
        select(PlanVersion)
        .where(PlanVersion.case_id == case_id)
        .order_by(PlanVersion.number.desc())
        .limit(1)
    )


def signed_version(case_id: int) -> PlanVersion | None:
    """Return the version in force: the newest one every party has signed."""
    return db.session.scalar(
        select(PlanVersion)
        .where(PlanVersion.case_id == case_id, PlanVersion.state == PlanState.SIGNED.value)
        .order_by(PlanVersion.number.desc())
        .limit(1)
    )


def get_version(case_id: int, number: int) -> PlanVersion:
    """Return one version by its number, or NotFound."""
    version = db.session.scalar(
        select(PlanVersion).where(PlanVersion.case_id == case_id, PlanVersion.number == number)
    )
    if version is None:
        raise NotFound(_("Versionen av handlingsplanen finns inte."))
    return version


def required_of(version: PlanVersion) -> frozenset[str]:
    """Return the parties that must sign the version."""
    return required_parties(version.overall_agency, (a.agency for a in version.actions))


def missing_of(version: PlanVersion) -> list[str]:
    """Return the parties that have not yet signed the version, the participant first."""
    missing = required_of(version) - version.signed_parties
    return sorted(missing, key=lambda p: (p != PARTICIPANT, p))


# --- saving -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveResult:
    """What saving did: created, updated, new_version, statuses or unchanged."""

    version: PlanVersion
    outcome: str


PLAN_STATES = (CaseState.ENROLLED, CaseState.ACTIVE, CaseState.PAUSED)


def refuse_unless_open(case: Case) -> None:
    """The plan is drawn up, changed and signed only while the case runs (not when it waits or
    ends): a 409 otherwise."""
    if CaseState(case.state) not in PLAN_STATES:
        raise Conflict(
            _(
                "Handlingsplanen kan inte ändras när deltagandet har status %(state)s.",
                state=label("state", case.state),
            ),
            payload={"state": case.state},
        )


def _uncovered(agency: str) -> str:
    return _(
        "Inget giltigt samtycke omfattar %(agency)s. Registrera först ett samtycke som gör det.",
        agency=label("agency", agency),
    )


def plan_errors(case: Case, data: dict, today: date) -> dict[str, list[str]]:
    """Return every problem of the submitted plan, by field (goals and actions by position)."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in ("own_goal", "long_term_goal", "exit_steps", "change_note"):
        if len(data.get(name) or "") > TEXT_LIMIT:
            add(name, _("Skriv högst %(n)s tecken.", n=TEXT_LIMIT))
    overall = data.get("overall_agency")
    if overall and overall not in AGENCIES:
        add("overall_agency", _("Välj en av huvudmännen."))
    elif overall:
        # The agency in charge signs the plan, so somebody there must be able to open it: the
        # contact of one of its actions, or the referrer when it is the referring agency.
        action_agencies = {a.get("agency") for a in data.get("actions") or []}
        if overall not in action_agencies and overall != referrer_agency(case):
            add(
                "overall_agency",
                _(
                    "%(agency)s behöver minst en insats med kontaktperson i planen för att "
                    "kunna godkänna den.",
                    agency=label("agency", overall),
                ),
            )
        elif covering(case.person_id, [overall], today) is None:
            add("overall_agency", _uncovered(overall))
    start = case.enrolled_on or today
    for name in ("review_on", "planned_exit_on"):
        value = data.get(name)
        if value is not None and value <= start:
            add(name, _("Datumet måste ligga efter inskrivningen (%(date)s).", date=start))
    for i, goal in enumerate(data.get("goals") or []):
        if not (goal.get("text") or "").strip():
            add(f"goals.{i}.text", _("Skriv delmålet."))
        if goal.get("target_on") is None:
            add(f"goals.{i}.target_on", _("Ange när delmålet ska vara nått."))
    refs: set[str] = set()
    for i, action in enumerate(data.get("actions") or []):
        prefix = f"actions.{i}"
        if not (action.get("what") or "").strip():
            add(f"{prefix}.what", _("Skriv vad insatsen är."))
        agency = action.get("agency")
        if agency not in AGENCIES:
            add(f"{prefix}.agency", _("Välj vilken myndighet som ansvarar för insatsen."))
        elif covering(case.person_id, [agency], today) is None:
            add(f"{prefix}.agency", _uncovered(agency))
        contact = db.session.get(User, action["contact_id"]) if action.get("contact_id") else None
        if contact is None or not contact.active:
            add(f"{prefix}.contact_id", _("Välj kontaktperson för insatsen."))
        elif agency in AGENCIES and agency not in contact.agency_kinds:
            add(
                f"{prefix}.contact_id",
                _(
                    "Kontaktpersonen ska arbeta hos den ansvariga myndigheten (%(agency)s).",
                    agency=label("agency", agency),
                ),
            )
        if action.get("start_on") is None:
            add(f"{prefix}.start_on", _("Ange när insatsen börjar."))
        if action.get("due_on") is None:
            add(f"{prefix}.due_on", _("Ange när insatsen ska vara klar."))
        elif action.get("start_on") is not None and action["due_on"] < action["start_on"]:
            add(f"{prefix}.due_on", _("Slutdatum kan inte ligga före startdatum."))
        if action.get("status") not in {s.value for s in ActionStatus}:
            add(f"{prefix}.status", _("Välj status."))
        ref = action.get("ref")
        if ref:
            if ref in refs:
                add(f"{prefix}.ref", _("Samma insats finns två gånger."))
            refs.add(ref)
    return errors


def content_from(data: dict) -> PlanContent:
    """Build the plan content from validated input (new actions get a ref)."""
    return PlanContent(
        own_goal=(data.get("own_goal") or "").strip(),
        long_term_goal=(data.get("long_term_goal") or "").strip(),
        overall_agency=data.get("overall_agency") or None,
        review_on=data.get("review_on"),
        planned_exit_on=data.get("planned_exit_on"),
        exit_steps=(data.get("exit_steps") or "").strip(),
        goals=tuple(
            GoalContent(g["text"].strip(), g.get("target_on")) for g in data.get("goals") or []
        ),
        actions=tuple(
            ActionContent(
                ref=a.get("ref") or uuid.uuid4().hex[:12],
                what=a["what"].strip(),
                agency=a["agency"],
                contact_id=a["contact_id"],
                start_on=a.get("start_on"),
                due_on=a.get("due_on"),
                status=a.get("status") or ActionStatus.PLANNED.value,
            )
            for a in data.get("actions") or []
        ),
    )


GoalRecord = tuple[str, str, int | None, datetime]  # status, occasion, by, at


def _goal_records(version: PlanVersion | None) -> dict[str, GoalRecord]:
    """Return the recorded goal statuses of a version, by the goal's text."""
    if version is None:
        return {}
    return {
        g.text: (g.status, g.status_occasion, g.status_by_id, g.status_at)
        for g in version.goals
        if g.status is not None and g.status_occasion is not None and g.status_at is not None
    }


def _write(
    version: PlanVersion, content: PlanContent, carry: dict[str, GoalRecord] | None = None
) -> None:
    """Write the content into the version; a goal whose text is kept keeps its status."""
    carry = _goal_records(version) if carry is None else carry
    version.own_goal = content.own_goal
    version.long_term_goal = content.long_term_goal
    version.overall_agency = content.overall_agency
    version.review_on = content.review_on
    version.planned_exit_on = content.planned_exit_on
    version.exit_steps = content.exit_steps
    version.goals.clear()
    version.actions.clear()
    db.session.flush()
    for position, goal in enumerate(content.goals):
        status, occasion, by_id, at = carry.get(goal.text, (None, None, None, None))
        version.goals.append(
            PlanGoal(
                position=position,
                text=goal.text,
                target_on=goal.target_on,
                status=status,
                status_occasion=occasion,
                status_by_id=by_id,
                status_at=at,
            )
        )
    for position, action in enumerate(content.actions):
        version.actions.append(
            PlanAction(
                ref=action.ref,
                position=position,
                what=action.what,
                agency=action.agency,
                contact_id=action.contact_id,
                start_on=action.start_on,
                due_on=action.due_on,
                status=action.status,
            )
        )


def save_plan(case: Case, data: dict, *, by: Actor, now: datetime | None = None) -> SaveResult:
    """Save the plan: the first version, an edit of an unsigned draft, or a new version.

    The caller passes the case locked. A change to what the parties agreed, made after anyone
    signed, creates a new version that needs every sign-off again; action statuses alone are
    progress, not a change of the plan.
    """
    now = now or utcnow()
    today = local_today(now)
    refuse_unless_open(case)
    errors = plan_errors(case, data, today)
    latest = latest_version(case.id)
    content = content_from(data)
    if latest is not None and latest.state != PlanState.DRAFT.value:
        old = latest.content()
        if content.agreed() != old.agreed() and not (data.get("change_note") or "").strip():
            errors.setdefault("change_note", []).append(
                _("Beskriv vad som ändras. Ändringen blir en ny version som alla ska godkänna.")
            )
    if errors:
        raise ValidationFailed(_("Handlingsplanen kunde inte sparas."), errors=errors)
    if content.review_on is None:
        start = case.enrolled_on or today
        review_on = default_review_on(max(start, today), case.programme.plan_review_months)
        # A review falls on a working day of the förbund (not on one of its days off).
        review_on = working_calendar().working_day_on_or_after(review_on)
        content = replace(content, review_on=review_on)
    note = (data.get("change_note") or "").strip() or None

    if latest is None:
        version = _new_version(case, 1, content, note, by, now)
        return SaveResult(version, "created")
    mode = change_mode(latest.state)
    if mode is ChangeMode.EDIT_IN_PLACE:
        _write(latest, content)
        latest.change_note = note or latest.change_note
        latest.coordinator_id = case.coordinator_id
        latest.updated_at = now
        db.session.flush()
        # Progress recorded in the draft is progress of the plan in force too (its reminders).
        in_force = signed_version(case.id)
        if in_force is not None and in_force.id != latest.id:
            statuses = content.statuses()
            for action in in_force.actions:
                if statuses.get(action.ref, action.status) != action.status:
                    set_action_status(action, statuses[action.ref], by=by, now=now)
        return SaveResult(latest, "updated")
    old = latest.content()
    if content.agreed() == old.agreed():
        changed = [
            action
            for action in latest.actions
            if content.statuses().get(action.ref, action.status) != action.status
        ]
        for action in changed:
            set_action_status(action, content.statuses()[action.ref], by=by, now=now)
        return SaveResult(latest, "statuses" if changed else "unchanged")
    if latest.state == PlanState.SIGNING.value:
        latest.state = PlanState.SUPERSEDED.value  # its partial sign-offs no longer count
        latest.superseded_at = now
        db.session.flush()
    version = _new_version(case, latest.number + 1, content, note, by, now, previous=latest)
    return SaveResult(version, "new_version")


def _new_version(
    case: Case,
    number: int,
    content: PlanContent,
    note: str | None,
    by: Actor,
    now: datetime,
    previous: PlanVersion | None = None,
) -> PlanVersion:
    version = PlanVersion(
        case_id=case.id,
        number=number,
        state=PlanState.DRAFT.value,
        coordinator_id=case.coordinator_id,
        change_note=note,
        created_by_id=getattr(by, "id", None),
        created_at=now,
        updated_at=now,
    )
    db.session.add(version)
    _write(version, content, _goal_records(previous))
    db.session.flush()
    events.record(
        db.session,
        PlanVersionCreated(
            case_id=case.id,
            plan_version_id=version.id,
            previous_version_id=previous.id if previous else None,
            occurred_at=now,
        ),
    )
    return version


# --- sign-off ---------------------------------------------------------------------------------


def may_sign_for(user: Actor, case: Case, party: str) -> bool:
    """The coordinator records the participant's sign-off; an agency signs through its staff."""
    if party == PARTICIPANT:
        return case.coordinator_id == user.id
    return party in AGENCIES and party in user.agency_kinds


def sign_off(
    case: Case,
    *,
    party: str | None,
    by: Actor,
    method: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> PlanSignOff:
    """Record one party's sign-off of the newest version; the last one puts the plan in force."""
    now = now or utcnow()
    refuse_unless_open(case)
    version = latest_version(case.id)
    if version is None:
        raise NotFound(_("Det finns ingen handlingsplan att godkänna ännu."))
    if version.state == PlanState.SIGNED.value:
        raise Conflict(_("Version %(n)s är redan godkänd av alla parter.", n=version.number))
    problems = sign_off_problems(version.content())
    if problems:
        raise ValidationFailed(
            _("Planen är inte färdig att godkännas. Fyll i det som saknas först."),
            errors={name: [_incomplete(name)] for name in problems},
        )
    required = required_of(version)
    errors: dict[str, list[str]] = {}
    if party not in required:
        errors["party"] = [_("Välj en part som ska godkänna planen.")]
    elif party == PARTICIPANT and method not in {m.value for m in SignOffMethod}:
        errors["method"] = [_("Ange hur deltagaren godkände planen.")]
    if errors:
        raise ValidationFailed(_("Godkännandet kunde inte registreras."), errors=errors)
    assert party is not None  # it is one of the required parties
    if party in version.signed_parties:
        raise Conflict(
            _(
                "%(party)s har redan godkänt version %(n)s.",
                party=party_label(party),
                n=version.number,
            )
        )
    if not may_sign_for(by, case, party):
        raise Forbidden(_("Du kan inte godkänna planen för %(party)s.", party=party_label(party)))
    entry = PlanSignOff(
        version=version,
        party=party,
        method=method if party == PARTICIPANT else None,
        signed_by_id=by.id,
        signed_at=now,
        note=(note or "").strip() or None,
    )
    db.session.add(entry)
    db.session.flush()
    target = state_after_sign_off(version.state, required, version.signed_parties)
    version.state = target.value
    events.record(
        db.session,
        PlanSignedOff(
            case_id=case.id, plan_version_id=version.id, sign_off_id=entry.id, occurred_at=now
        ),
    )
    if target is PlanState.SIGNED:
        _put_in_force(case, version, by, now)
    db.session.flush()
    return entry


def _put_in_force(case: Case, version: PlanVersion, by: Actor, now: datetime) -> None:
    version.signed_at = now
    for older in versions_of(case.id):
        if older.id != version.id and older.state != PlanState.SUPERSEDED.value:
            older.state = PlanState.SUPERSEDED.value
            older.superseded_at = now
    db.session.flush()
    events.record(
        db.session, PlanActivated(case_id=case.id, plan_version_id=version.id, occurred_at=now)
    )
    if activates_case(case.state):
        case_ops.activate(case, by=by, version_number=version.number, now=now)


def _incomplete(name: str) -> str:
    messages = {
        "own_goal": _("Skriv deltagarens eget mål med deltagarens egna ord."),
        "long_term_goal": _("Skriv det långsiktiga målet."),
        "overall_agency": _("Ange vilken myndighet som har det samlade ansvaret."),
        "review_on": _("Ange när planen ska följas upp."),
        "planned_exit_on": _("Ange planerat datum för avslut."),
        "exit_steps": _("Beskriv stegen mot avslut."),
        "goals": _("Lägg till minst ett delmål."),
        "actions": _("Lägg till minst en insats."),
    }
    return messages[name]


def party_label(party: str) -> str:
    """Return the readable name of a signing party."""
    return _("Deltagaren") if party == PARTICIPANT else label("agency", party)


# --- progress on actions ------------------------------------------------------------------------


def may_update_action(user: Actor, case: Case, action: PlanAction) -> bool:
    """The coordinator, a team lead and the action's contact record its progress."""
    return can_manage(user, case) or action.contact_id == user.id


def set_action_status(
    action: PlanAction, status: str | None, *, by: Actor, now: datetime | None = None
) -> PlanAction:
    """Record how far an action has come (in every live version that has it)."""
    if status not in {s.value for s in ActionStatus}:
        raise ValidationFailed(
            _("Statusen kunde inte sparas."), errors={"status": [_("Välj status.")]}
        )
    version = action.version
    case = db.session.get(Case, version.case_id)
    assert case is not None  # a version belongs to its case (foreign key, deleted with it)
    refuse_unless_open(case)
    if version.state == PlanState.SUPERSEDED.value:
        raise Conflict(_("Versionen är ersatt av en senare. Ändra i den gällande planen."))
    same = db.session.scalars(
        select(PlanAction)
        .join(PlanVersion, PlanVersion.id == PlanAction.version_id)
        .where(
            PlanVersion.case_id == version.case_id,
            PlanVersion.state != PlanState.SUPERSEDED.value,
            PlanAction.ref == action.ref,
        )
    )
    for row in same:
        if row.status != status:
            row.status = status
            row.revision += 1
    db.session.flush()
    events.record(
        db.session,
        PlanActionUpdated(
            case_id=version.case_id, plan_action_id=action.id, occurred_at=now or utcnow()
        ),
    )
    return action


# --- what the reminders need --------------------------------------------------------------------


def reminder_facts(case_id: int) -> ReminderFacts | None:
    """Return the facts the case's reminders are computed from, as they are now."""
    case = db.session.get(Case, case_id)
    if case is None:
        return None
    in_force = signed_version(case_id)
    actions: tuple[ActionFacts, ...] = ()
    if in_force is not None:
        actions = tuple(
            ActionFacts(a.id, a.contact_id, a.due_on, a.status, a.revision)
            for a in in_force.actions
        )
    return ReminderFacts(
        case_id=case.id,
        state=case.state,
        epoch=case.version,
        enrolled_on=case.enrolled_on,
        coordinator_id=case.coordinator_id,
        plan_signed=in_force is not None,
        review_on=in_force.review_on if in_force else None,
        planned_exit_on=in_force.planned_exit_on if in_force else None,
        max_duration_days=case.programme.max_duration_days,
        duration_warning_percent=case.programme.duration_warning_percent,
        actions=actions,
    )

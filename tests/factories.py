"""Factories that build valid objects in a given state.

They commit, as real data is committed; the per-test outer transaction still rolls it all back.
"""

from __future__ import annotations

import itertools
import time
from datetime import date, timedelta

import pyotp

from coordination.auth.operations import create_user, issue_token
from coordination.auth.security import enrol_totp
from coordination.core.db import utcnow
from coordination.core.i18n import local_today
from coordination.extensions import db
from coordination.organisations.models import OrganisationUnit
from coordination.programmes.models import Programme
from coordination.referrals import operations as ops
from workflows.personnummer import luhn_check_digit

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def identity_number(birth: date, serial: int | None = None) -> str:
    """Return a valid personnummer for a birth date."""
    serial = next(_seq) % 1000 if serial is None else serial
    digits = birth.strftime("%y%m%d") + f"{serial:03d}"
    return f"{birth:%Y%m%d}-{serial:03d}{luhn_check_digit(digits)}"


def birth_for_age(age: int, on: date | None = None) -> date:
    """Return a birth date that makes the person exactly `age` years old on the date."""
    on = on or local_today()
    try:
        return on.replace(year=on.year - age)
    except ValueError:  # 29 February
        return on.replace(year=on.year - age, day=28)


def make_unit(agency_kind: str = "kommun", name: str | None = None) -> OrganisationUnit:
    """Create an organisation unit."""
    unit = OrganisationUnit(
        name=name or f"{agency_kind} unit {next(_seq)}", agency_kind=agency_kind
    )
    db.session.add(unit)
    db.session.commit()
    return unit


def make_user(*roles: str, unit: OrganisationUnit | None = None, email: str | None = None):
    """Create a user holding the roles in one unit (a new kommun unit by default)."""
    unit = unit or make_unit(
        "forbund" if set(roles) & {"admin", "team_lead", "coordinator"} else "kommun"
    )
    user = create_user(
        email=email or f"user{next(_seq)}@test.example",
        name=f"Test User {next(_seq)}",
        password=PASSWORD,
        memberships=[(unit, r) for r in roles or ("referrer",)],
    )
    enrol_totp(user, pyotp.random_base32())  # every role uses two-factor login
    db.session.commit()
    return user


def totp_code(user) -> str:
    """Return the code the user's authenticator app shows (a step not used before)."""
    totp = pyotp.TOTP(user.totp_secret)
    step = max(int(time.time() // totp.interval), user.totp_last_step + 1)
    return totp.generate_otp(step)


def make_programme(**settings) -> Programme:
    """Create a programme with the default settings unless given."""
    programme = Programme(name=settings.pop("name", f"Programme {next(_seq)}"), **settings)
    db.session.add(programme)
    db.session.commit()
    return programme


def referral_data(**overrides) -> dict:
    """Return the fields of a complete, eligible referral for a 30-year-old."""
    today = local_today()
    data = {
        "identity_number": identity_number(birth_for_age(30) - timedelta(days=10)),
        "first_name": "Testa",
        "last_name": "Testsson",
        "gender": "kvinna",
        "phone": "070-123 45 67",
        "email": None,
        "address": None,
        "preferred_channel": "sms",
        "interpreter_needed": False,
        "interpreter_language": None,
        "protected_identity": False,
        "home_municipality": "1281",  # Lund
        "reason": "psykiska_besvar",
        "agencies_needed": ["kommun", "af"],
        "support_current": ["forsorjningsstod"],
        "occupation": "arbetssokande_utan_sysselsattning",
        "education": "gymnasium",
        "time_on_support": "upp_till_2_ar",
        "children_in_household": False,
        "background": "Bakgrund.",
        "question_to_conference": "Inskrivning?",
        "consent_given_on": today - timedelta(days=1),
        "consent_form": "written",
        "consent_witness": None,
        "consent_valid_until": None,
        "consent_agencies": ["kommun", "af", "fk", "region"],
        "consent_info_kinds": ["health", "employment"],
    }
    data.update(overrides)
    return data


def make_referral(state: str = "draft", *, programme=None, referrer=None, **overrides):
    """Create a referral in the given state: draft, submitted, completion_requested, withdrawn."""
    programme = programme or make_programme()
    referrer = referrer or make_user("referrer")
    unit = referrer.units_with("referrer")[0]
    referral = ops.create_draft(
        programme=programme, by=referrer, unit=unit, data=referral_data(**overrides)
    )
    if state == "draft":
        db.session.commit()
        return referral
    ops.submit(referral, by=referrer)
    if state == "completion_requested":
        lead = make_user("team_lead")
        ops.request_completion(referral, by=lead, note="Mer om hälsan, tack.")
    elif state == "withdrawn":
        ops.withdraw(referral, by=referrer, reason="Fick arbete.")
    elif state != "submitted":
        raise ValueError(f"make_referral cannot build state {state!r} yet")
    db.session.commit()
    return referral


def token_headers(user) -> dict:
    """Return Authorization headers with a fresh API token for the user."""
    secret, _expires = issue_token(user, 1)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def make_inbox_item(user, **fields):
    """Create an inbox item (a delivered notification on the inbox channel) for a user."""
    from coordination.core.db import utcnow
    from notifications.models import Notification

    now = fields.pop("created_at", None) or utcnow()
    item = Notification(
        recipient_id=user.id,
        kind=fields.pop("kind", "referral_submitted"),
        channel="inbox",
        template=fields.pop("template", "referral_submitted"),
        locale=user.locale,
        params=fields.pop("params", {}),
        link=fields.pop("link", "/referrals/1"),
        idempotency_key=fields.pop("idempotency_key", f"test:{next(_seq)}:inbox"),
        status="sent",
        sent_at=now,
        not_before=now,
        created_at=now,
        **fields,
    )
    db.session.add(item)
    db.session.commit()
    return item


def make_sus_participant(*, registrations: dict | None = None, ratings=(), **fields):
    """Create a live SUS participant with registrations {occasion: values} and self-ratings."""
    from coordination.statistics import operations as stats
    from coordination.statistics.models import ProgressionRating
    from workflows.statistics import PROGRESSION_QUESTIONS

    enrolled_on = fields.pop("enrolled_on", date(2024, 1, 15))
    if fields.get("case_id") is not None:
        return _reshape_case_participant(
            enrolled_on=enrolled_on, registrations=registrations, ratings=ratings, **fields
        )
    participant = stats.enrol_participant(
        programme_id=fields.pop("programme_id", None),
        participant_ref=fields.pop("participant_ref", f"P-{next(_seq)}"),
        enrolled_on=enrolled_on,
        gender=fields.pop("gender", "kvinna"),
        birth_year=fields.pop("birth_year", 1995),
        home_municipality=fields.pop("home_municipality", "1281"),
        referring_agency=fields.pop("referring_agency", "kommun"),
        case_id=fields.pop("case_id", None),
        referring_organisation=fields.pop("referring_organisation", None),
    )
    for occasion, values in (registrations or {}).items():
        values = dict(values)
        stats.record_registration(
            participant, occasion, registered_on=values.pop("registered_on", enrolled_on), **values
        )
    for rated_on, score in ratings:
        scores = score if isinstance(score, dict) else dict.fromkeys(PROGRESSION_QUESTIONS, score)
        db.session.add(ProgressionRating(participant=participant, rated_on=rated_on, **scores))
    db.session.commit()
    return participant


def _reshape_case_participant(*, case_id, enrolled_on, registrations, ratings, **fields):
    """The SUS record a live case got at its enrolment, given the test's values (its ref,
    enrolment date, person fields), registrations and self-ratings."""
    from coordination.statistics import operations as stats
    from coordination.statistics.models import ProgressionRating
    from coordination.statistics.queries import participant_for_case
    from workflows.statistics import PROGRESSION_QUESTIONS, age_at_enrolment

    participant = participant_for_case(case_id)
    assert participant is not None, "an enrolled case has its SUS record"
    participant.enrolled_on = enrolled_on
    for name, value in fields.items():
        setattr(participant, name, value)
    if participant.birth_year:
        participant.age_at_enrolment = age_at_enrolment(participant.birth_year, enrolled_on)
    for registration in participant.registrations:
        registration.registered_on = enrolled_on
    for occasion, values in (registrations or {}).items():
        values = dict(values)
        stats.record_registration(
            participant, occasion, registered_on=values.pop("registered_on", enrolled_on), **values
        )
    for rated_on, score in ratings:
        scores = score if isinstance(score, dict) else dict.fromkeys(PROGRESSION_QUESTIONS, score)
        db.session.add(ProgressionRating(participant=participant, rated_on=rated_on, **scores))
    db.session.commit()
    return participant


# --- conferences and cases (issue 5) -----------------------------------------------------------


def make_conference(
    programme=None,
    *,
    state: str = "planned",
    held_on: date | None = None,
    agencies=("kommun", "af", "fk", "region"),
    chair=None,
    place: str | None = "Kommunhuset, sal Åsen",
    video_link: str | None = None,
    present=None,
    now=None,
    started: bool | None = None,
):
    """Create a conference: one member per agency kind and a team-lead chair.

    state: planned, published or closed. present: the agency kinds recorded as present
    ("all" for every member); attendance is only recorded on a published conference.
    started (default: published or closed): the meeting began an hour before `now`, so the chair
    may record decisions (none before the meeting starts); the day and cut-offs stay as planned.
    """
    from coordination.conferences import agenda as conf_agenda
    from coordination.conferences import operations as conf_ops
    from workflows.calendar import WorkingCalendar

    programme = programme or make_programme()
    calendar = WorkingCalendar()
    held_on = held_on or calendar.add_working_days(local_today(now), 10)
    chair = chair or make_user("team_lead")
    members = {a: make_user("conference_member", unit=make_unit(a)) for a in agencies}
    conference = conf_ops.create_conference(
        programme=programme,
        held_on=held_on,
        place=place,
        video_link=video_link,
        members=members,
        chair=chair,
        by=chair,
        now=now,
        calendar=calendar,
    )
    if started is None:
        started = state in ("published", "closed")
    if started:
        conference.starts_at = min(conference.starts_at, (now or utcnow()) - timedelta(hours=1))
    if state in ("published", "closed"):
        conf_agenda.publish(conference, by=chair, now=now)
        if present is not None:
            chosen = set(agencies) if present == "all" else set(present)
            ids = [m.user_id for m in conference.agency_members if m.agency in chosen]
            conf_ops.record_attendance(conference, present_user_ids=ids + [chair.id], by=chair)
    if state == "closed":
        conf_ops.close(conference, by=chair, reason="Alla remisser är behandlade.", now=now)
    db.session.commit()
    return conference


def decide_referral(referral, conference, *, outcome="recommend", coordinator=None, **fields):
    """Record a decision on a referral on the conference's agenda, as the chair would."""
    from coordination.conferences import decisions as conf_decisions

    if outcome == "admit" and coordinator is None:
        coordinator = make_user("coordinator")
    now = fields.pop("now", None)
    if now is not None and now < conference.starts_at:
        # A decision dated in the past: the factory's conference met then (none before it starts).
        conference.starts_at = now
    decision = conf_decisions.decide(
        referral.id,
        conference=conference,
        by=conference.chair.user,
        data=conf_decisions.DecisionInput(
            outcome=outcome,
            recommendation=fields.pop(
                "recommendation", "Samordnade insatser från kommun och Arbetsförmedlingen."
            ),
            positions=fields.pop(
                "positions", {a: "Tillstyrker." for a in conference.present_agencies}
            ),
            coordinator_id=coordinator.id if outcome == "admit" else None,
            complexity_weight=fields.pop("complexity_weight", 2) if outcome == "admit" else None,
        ),
        now=now,
    )
    db.session.commit()
    return decision


_make_referral_before_conferences = make_referral
_case_conferences: dict[int, int] = {}  # programme id -> the conference the factories admit at


def case_conference(programme=None):
    """Return a published conference (every agency present) that decides the programme's cases.

    The factories that bring a referral to a decision share one such conference per programme
    within a test, so cases still pass the real operations without a chair and four members
    each. Only a conference made here is shared, never one a test made itself; one from an
    earlier test is gone (rolled back or purged, and ids are never reused), so it is not found.
    """
    from coordination.conferences.models import Conference

    if programme is not None and programme.id in _case_conferences:
        conference = db.session.get(Conference, _case_conferences[programme.id])
        if conference is not None and conference.state == "published":
            return conference
    conference = make_conference(programme, state="published", present="all")
    _case_conferences[conference.programme_id] = conference.id
    return conference


def make_referral(state: str = "draft", *, programme=None, referrer=None, **overrides):
    """Create a referral in any state; on_agenda and decided go through a conference.

    For on_agenda and decided: conference= (default: the programme's case_conference()),
    and for decided outcome= ("recommend" or "admit") and coordinator=.
    """
    if state not in ("on_agenda", "decided"):
        return _make_referral_before_conferences(
            state, programme=programme, referrer=referrer, **overrides
        )
    from coordination.conferences import agenda as conf_agenda

    conference = overrides.pop("conference", None)
    outcome = overrides.pop("outcome", "recommend")
    coordinator = overrides.pop("coordinator", None)
    if conference is None:
        conference = case_conference(programme)
    referral = _make_referral_before_conferences(
        "submitted", programme=conference.programme, referrer=referrer, **overrides
    )
    conf_agenda.add_to_agenda(conference, referral, by=conference.chair.user)
    db.session.commit()
    if state == "decided":
        decide_referral(referral, conference, outcome=outcome, coordinator=coordinator)
    return referral


# --- meetings and the missed-meeting ladder (issue 6) ------------------------------------------


def make_case(*, programme=None, coordinator=None, referrer=None, **overrides):
    """Create an enrolled case (admitted by a conference) with its coordinator; return the Case."""
    from coordination.conferences import queries as conf_queries

    coordinator = coordinator or make_user("coordinator")
    conference = case_conference(programme)
    referral = make_referral(
        "decided",
        conference=conference,
        outcome="admit",
        coordinator=coordinator,
        referrer=referrer,
        **overrides,
    )
    return conf_queries.case_for(referral.id)


def make_meeting(
    case,
    *,
    kind="coaching",
    starts_at=None,
    minutes=60,
    by=None,
    attendees=(),
    location="Förbundets kontor, rum 2",
    now=None,
):
    """Book a meeting of a case (by its coordinator unless `by`); starts in a week by default."""
    from datetime import UTC, datetime

    from coordination.meetings import operations as meeting_ops

    starts_at = starts_at or datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    by = by or case.active_assignment.coordinator
    meeting = meeting_ops.book_meeting(
        case,
        meeting_ops.MeetingInput(
            kind=kind,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            location=None if kind == "home_visit" else location,
            attendee_ids=[u.id for u in attendees],
        ),
        by=by,
        now=now,
    )
    db.session.commit()
    return meeting


# --- cases and the joint action plan (issue 7) -------------------------------------------------


def make_agency_user(agency: str, *roles: str):
    """Create a user of a member agency (a unit of that agency kind), a referrer by default."""
    return make_user(*(roles or ("referrer",)), unit=make_unit(agency))


def admit_case(
    *,
    programme=None,
    coordinator=None,
    conference=None,
    referrer=None,
    complexity_weight: int = 2,
    **overrides,
):
    """Create a case the way a conference admits one; enrolled while the programme has room."""
    from coordination.conferences import agenda as conf_agenda
    from coordination.conferences import queries as conf_queries

    coordinator = coordinator or make_user("coordinator")
    conference = conference or case_conference(programme)
    referral = _make_referral_before_conferences(
        "submitted", programme=conference.programme, referrer=referrer, **overrides
    )
    conf_agenda.add_to_agenda(conference, referral, by=conference.chair.user)
    db.session.commit()
    decide_referral(
        referral,
        conference,
        outcome="admit",
        coordinator=coordinator,
        complexity_weight=complexity_weight,
    )
    return conf_queries.case_for(referral.id)


def plan_input(*, contact, agency: str = "af", start=None, **overrides) -> dict:
    """Return a complete plan (one goal, one action of the agency with its contact)."""
    start = start or local_today()
    data = {
        "own_goal": "Jag vill jobba i en butik och känna mig trygg på vägen dit.",
        "long_term_goal": "Arbete på halvtid inom handeln.",
        "overall_agency": agency,
        "review_on": start + timedelta(days=90),
        "planned_exit_on": start + timedelta(days=300),
        "exit_steps": "Praktik, sedan anställning med stöd.",
        "change_note": "",
        "goals": [{"text": "Klara en praktikvecka.", "target_on": start + timedelta(days=60)}],
        "actions": [
            {
                "ref": None,
                "what": "Praktik i butik, två dagar i veckan.",
                "agency": agency,
                "contact_id": contact.id,
                "start_on": start + timedelta(days=7),
                "due_on": start + timedelta(days=60),
                "status": "planned",
            }
        ],
    }
    data.update(overrides)
    return data


def make_plan(case, *, contact=None, signed: bool = False, **overrides):
    """Save a plan for the case (and, with signed=True, sign it by every party); return it."""
    from coordination.action_plans import operations as plan_ops

    contact = contact or make_agency_user("af")
    coordinator = db.session.get(type(contact), case.coordinator_id)
    result = plan_ops.save_plan(case, plan_input(contact=contact, **overrides), by=coordinator)
    db.session.commit()
    version = result.version
    if signed:
        for party in plan_ops.missing_of(version):
            if party == "participant":
                plan_ops.sign_off(case, party=party, method="in_person", by=coordinator)
            else:
                signer = contact if party in contact.agency_kinds else make_agency_user(party)
                plan_ops.sign_off(case, party=party, by=signer)
        db.session.commit()
    return version


# --- exits, return referrals and packets (issue 8) ---------------------------------------------


def make_admitted_case(
    *, coordinator=None, programme=None, referrer=None, admitted_at=None, **overrides
):
    """Create a case admitted by a conference (at `admitted_at`): enrolled, with its coordinator."""
    from coordination.conferences.queries import case_for

    coordinator = coordinator or make_user("coordinator")
    conference = case_conference(programme)
    referral = make_referral("on_agenda", conference=conference, referrer=referrer, **overrides)
    decide_referral(referral, conference, outcome="admit", coordinator=coordinator, now=admitted_at)
    return case_for(referral.id)


def exit_data(**overrides) -> dict:
    """Return a valid exit registration: studies, on study allowance, exited today."""
    data = {
        "exit_reason": "studier",
        "support_at_exit": ["studiestod"],
        "occupation_at_exit": "studier",
        "work_at_exit": "ej_subventionerat",
        "exited_on": None,
    }
    data.update(overrides)
    return data


RETURN_REFERRAL_TEXTS = {
    "purpose": "Stöd mot studier; målet var att börja på Komvux i höst.",
    "actions_taken": "Coachningssamtal varannan vecka och en studiebesöksdag på skolan.",
    "results": "Personen är antagen till Komvux och har studiestöd från CSN.",
    "health_care_needs": "Fortsatt kontakt med vårdcentralen för sömnbesvär och ångest.",
    "health_how_met": "Vårdcentralens psykolog följer upp; återbesök var tredje månad.",
    "participant_comments": "Jag är nöjd med stödet och vill fortsätta på egen hand.",
}
RETURN_REFERRAL_RECOMMENDATIONS = [
    {"agency": "af", "text": "Arbetsförmedlingen följer upp efter första terminen."},
    {"agency": "region", "text": "Vårdcentralen fortsätter behandlingen av sömnbesvären."},
]


def make_return_referral(state: str = "draft", *, case=None, now=None, **exit_overrides):
    """Create a return referral: draft, completed (draft with every section), delivered or
    acknowledged (delivered means finalised, signed and sent)."""
    from coordination.auth.models import User
    from coordination.exits import operations as exit_ops
    from coordination.exits import packets as exit_packets
    from coordination.exits import queries as exit_queries
    from coordination.exits import return_referrals as exit_return_referrals
    from coordination.exits.permissions import coordinator_id_of

    case = case or make_admitted_case()
    coordinator = db.session.get(User, coordinator_id_of(case))
    exit_ops.register_exit(case, data=exit_data(**exit_overrides), by=coordinator, now=now)
    document = exit_queries.return_referral_of(case.id)
    if state != "draft":
        exit_return_referrals.update_draft(
            document,
            data={**RETURN_REFERRAL_TEXTS, "recommendations": RETURN_REFERRAL_RECOMMENDATIONS},
            by=coordinator,
            now=now,
        )
    if state in ("delivered", "acknowledged"):
        exit_return_referrals.finalise(document, by=coordinator, now=now)
    if state == "acknowledged":
        exit_packets.acknowledge(document.packet, by=case.referral.referrer, now=now)
    elif state not in ("draft", "completed", "delivered"):
        raise ValueError(f"make_return_referral cannot build state {state!r}")
    db.session.commit()
    return document


def record_meeting(case_id: int, starts, status: str | None):
    """A coaching meeting of the case at `starts` with the participant's attendance (None: none
    yet), written directly (flushed, not committed): the figures' raw material, not the booking."""
    import uuid

    from coordination.meetings.models import Attendance, Meeting

    meeting = Meeting(
        uid=f"{uuid.uuid4()}@test",
        case_id=case_id,
        kind="coaching",
        status="booked",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
    )
    db.session.add(meeting)
    db.session.flush()
    if status is not None:
        db.session.add(Attendance(meeting_id=meeting.id, case_id=case_id, status=status))
    db.session.flush()
    return meeting

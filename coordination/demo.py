"""Demo data for `make run`: a förbund, its member agencies, a programme, users and referrals.

One referral has been admitted by a published conference (another waits on its agenda), so the
coordinator has a case with a plan that the participant has signed and Arbetsförmedlingen and the
municipality have still to sign, a completed SUS intake (so the reports count one active
participant from the first day), and a meeting next week.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from coordination.action_plans import operations as plans
from coordination.auth.operations import create_user
from coordination.codes.operations import ensure_default_codes
from coordination.conferences import agenda as conference_agenda
from coordination.conferences import decisions as conference_decisions
from coordination.conferences import operations as conferences
from coordination.conferences import queries as conference_queries
from coordination.core.db import utcnow
from coordination.extensions import db
from coordination.meetings import operations as meetings
from coordination.organisations.models import MemberOrganisation, OrganisationUnit
from coordination.programmes import operations as programme_ops
from coordination.programmes.models import Programme
from coordination.referrals import operations as ops
from coordination.socioeconomics import operations as socio
from coordination.statistics import intake
from coordination.statistics import operations as stats
from workflows.calendar import WorkingCalendar
from workflows.personnummer import luhn_check_digit

DEMO_PASSWORD = "demo-losenord-2026"


def demo_identity(birth: str, serial: str) -> str:
    """Return a valid personnummer for a birth date YYYYMMDD and a three-digit serial."""
    digit = luhn_check_digit(birth[2:] + serial)
    return f"{birth}-{serial}{digit}"


def load_demo() -> list[tuple[str, str]]:
    """Create the demo data and return (email, role) for each login."""
    ensure_default_codes()
    members = _demo_member_organisations()
    units = {
        "forbund": OrganisationUnit(name="Samordningsförbundet Södra Dalen", agency_kind="forbund"),
        "kommun": OrganisationUnit(
            name="Dalby kommun, socialtjänsten",
            agency_kind="kommun",
            municipality="Dalby",
            member_organisation=members["dalby_kommun"],
        ),
        "af": OrganisationUnit(name="Arbetsförmedlingen Dalby", agency_kind="af"),
        "fk": OrganisationUnit(name="Försäkringskassan Dalby", agency_kind="fk"),
        "region": OrganisationUnit(name="Vårdcentralen Dalby", agency_kind="region"),
    }
    db.session.add_all(units.values())
    programme = Programme(name="Steget vidare", description="Samordnad rehabilitering mot arbete.")
    db.session.add(programme)
    db.session.flush()

    users, logins = _demo_users(units)
    today = ops.local_today()
    referrals = _demo_referrals(programme, units, users, today)
    db.session.flush()
    _demo_case(programme, users, referrals["Aisha"], referrals["Bo"], today)
    _demo_targets(programme)
    _demo_socioeconomics(programme, today.year)
    _demo_history(programme, today)
    return logins


def _demo_member_organisations() -> dict[str, MemberOrganisation]:
    """The förbund's member organisations, by code (the municipality's unit belongs to one)."""
    found = {
        code: MemberOrganisation(code=code, name=name, kind=kind)
        for code, name, kind in (
            ("dalby_kommun", "Dalby kommun", "kommun"),
            ("vaxjo_kommun", "Växjö kommun", "kommun"),
            ("alvesta_kommun", "Alvesta kommun", "kommun"),
            ("af_vaxjo", "Arbetsförmedlingen Växjö", "af"),
            ("fk_vaxjo", "Försäkringskassan Växjö", "fk"),
            ("region_kronoberg", "Region Kronoberg", "region"),
        )
    }
    db.session.add_all(found.values())
    return found


DEMO_TARGETS = (
    {
        "name": "Till arbetsmarknadens förfogande vid avslut",
        "variable": "exit_reason",
        "occasion": "exit",
        "codes": ["arbete", "studier", "fullfoljd_star_till_arbetsmarknadens_forfogande"],
        "target_percent": "90",
    },
    {
        "name": "I arbete eller studier 12 månader efter avslut",
        "variable": "occupation",
        "occasion": "follow_up_12",
        "codes": ["arbete", "studier"],
        "target_percent": "35",
    },
    {
        "name": "Beslutade remisser med skriftlig gemensam rekommendation",
        "variable": "joint_recommendation",
        "target_percent": "100",
    },
)


def _demo_targets(programme: Programme) -> None:
    """The programme's outcome targets (../shared/DOMAIN.md §12, "Programme targets")."""
    for data in DEMO_TARGETS:
        programme_ops.add_target(programme, data)


# An invented price list (DOMAIN.md §13): (variable, code, actor, cost|revenue, kronor a year).
DEMO_PRICES = (
    ("support", "forsorjningsstod", "kommun", "cost", 110_000),
    ("support", "forsorjningsstod", "individual", "revenue", 110_000),
    ("support", "sjukpenning_rehabpenning", "fk", "cost", 180_000),
    ("support", "sjukpenning_rehabpenning", "individual", "revenue", 180_000),
    ("support", "aktivitetsstod", "af", "cost", 90_000),
    ("support", "aktivitetsstod", "individual", "revenue", 90_000),
    ("occupation", "sjukskriven_utan_sysselsattning", "region", "cost", 25_000),
    ("work", "ej_subventionerat", "kommun", "revenue", 54_000),
    ("work", "ej_subventionerat", "region", "revenue", 22_500),
    ("work", "ej_subventionerat", "state", "revenue", 13_500),
    ("work", "ej_subventionerat", "individual", "revenue", 250_000),
    ("work", "subventionerat", "af", "cost", 120_000),
    ("work", "subventionerat", "individual", "revenue", 200_000),
)


def _demo_socioeconomics(programme: Programme, year: int) -> None:
    """The förbund's price list for this year and last, and the programme's cost (finsam)."""
    for list_year in (year - 1, year):
        rows = [
            (
                f"rad {number}",
                {
                    "variable": variable,
                    "code": code,
                    "actor": actor,
                    "kind": kind,
                    "amount": str(amount),
                    "source": "Påhittat exempel för demon",
                },
            )
            for number, (variable, code, actor, kind, amount) in enumerate(DEMO_PRICES, 1)
        ]
        socio.create_price_list(name="Södra Dalen", year=list_year, rows=rows)
        socio.save_programme_cost(
            programme,
            {"year": str(list_year), "cost_per_participant": "60000", "source": "Budget"},
        )


def _demo_history(programme: Programme, today: date) -> None:
    """Ten participants of an earlier year, in the statistics only (as a förbund imports its
    history): on försörjningsstöd at intake, exited about 13 months ago, and at the 12-month
    follow-up four in unsubsidised work, six still on försörjningsstöd. The socio-economic cohort
    page has a cohort to compute, and the reports a year behind the live case."""
    exited_on = today - timedelta(days=400)
    enrolled_on = exited_on - timedelta(days=365)
    before = {
        "support": ["forsorjningsstod"],
        "occupation": "arbetssokande_utan_sysselsattning",
        "work": "uppgift_saknas",
    }
    for number in range(1, 11):
        working = number <= 4
        participant = stats.enrol_participant(
            programme_id=programme.id,
            participant_ref=f"H-{enrolled_on.year}-{number:02d}",
            enrolled_on=enrolled_on,
            gender="kvinna" if number % 2 else "man",
            birth_year=enrolled_on.year - 25 - 3 * number,
            home_municipality="1281",
            referring_agency="kommun" if number % 3 else "af",
        )
        stats.record_registration(participant, "intake", registered_on=enrolled_on, **before)
        stats.record_registration(
            participant,
            "exit",
            registered_on=exited_on,
            exit_reason="arbete" if working else "fortsatt_rehabilitering",
            support=["forsorjningsstod"],
        )
        after = (
            {"support": ["ingen_offentlig"], "occupation": "arbete", "work": "ej_subventionerat"}
            if working
            else {"support": ["forsorjningsstod"], "occupation": before["occupation"]}
        )
        stats.record_registration(
            participant, "follow_up_12", registered_on=exited_on + timedelta(days=365), **after
        )


def _demo_users(units: dict) -> tuple[dict, list[tuple[str, str]]]:
    """Create the demo logins: every role, in the förbund and in each member agency."""
    people = [
        ("admin@demo.example", "Ada Admin", [("forbund", "admin")]),
        ("samordnare@demo.example", "Sam Samordnare", [("forbund", "team_lead")]),
        ("koordinator@demo.example", "Kim Koordinator", [("forbund", "coordinator")]),
        ("analytiker@demo.example", "Ana Analytiker", [("forbund", "analyst")]),
        ("granskare@demo.example", "Gun Granskare", [("forbund", "auditor")]),
        ("dataskydd@demo.example", "Dana Dataskydd", [("forbund", "registrar")]),
        # A second administrator: roles that open case content need two (the other approves).
        ("admin2@demo.example", "Bo Biträdande", [("forbund", "admin")]),
        ("remittent.kommun@demo.example", "Rut Remittent", [("kommun", "referrer")]),
        ("remittent.af@demo.example", "Ali Handläggare", [("af", "referrer")]),
        ("ledamot.kommun@demo.example", "Lena Ledamot", [("kommun", "conference_member")]),
        ("ledamot.af@demo.example", "Leo Ledamot", [("af", "conference_member")]),
        ("ledamot.fk@demo.example", "Liv Ledamot", [("fk", "conference_member")]),
        ("ledamot.region@demo.example", "Lars Ledamot", [("region", "conference_member")]),
    ]
    users = {}
    logins = []
    for email, name, roles in people:
        users[email] = create_user(
            email=email,
            name=name,
            password=DEMO_PASSWORD,
            memberships=[(units[u], r) for u, r in roles],
        )
        logins.append((email, roles[0][1]))

    return users, logins


def _demo_referrals(programme: Programme, units: dict, users: dict, today) -> dict:
    """Create five referrals in different states, by the municipality's referrer."""
    referrer = users["remittent.kommun@demo.example"]
    lead = users["samordnare@demo.example"]
    base = {
        "gender": "kvinna",
        "preferred_channel": "sms",
        "phone": "070-000 00 00",
        "home_municipality": "1281",  # Lund
        "reason": "psykiska_besvar",
        "agencies_needed": ["kommun", "af", "region"],
        "support_current": ["forsorjningsstod"],
        "occupation": "arbetssokande_utan_sysselsattning",
        "education": "gymnasium",
        "time_on_support": "upp_till_3_ar",
        "children_in_household": True,
        "background": "Har haft försörjningsstöd i tre år och behöver samordnat stöd.",
        "question_to_conference": "Kan personen skrivas in i insatsen?",
        "consent_given_on": None,
        "consent_form": "written",
        "consent_agencies": ["kommun", "af", "fk", "region"],
        "consent_info_kinds": ["health", "social_services", "employment", "benefits"],
    }
    base["consent_given_on"] = today - timedelta(days=3)
    samples = [
        ("19900314", "123", "Aisha", "Demosson", "submitted"),
        ("19850722", "456", "Bo", "Exempelsson", "submitted"),
        ("19951102", "789", "Cecilia", "Provsdotter", "completion_requested"),
        ("19780530", "234", "David", "Testberg", "draft"),
        ("20000101", "345", "Emil", "Fiktivsson", "withdrawn"),
    ]
    referrals = {}
    for birth, serial, first, last, state in samples:
        data = dict(
            base, identity_number=demo_identity(birth, serial), first_name=first, last_name=last
        )
        if first in ("Bo", "David", "Emil"):
            data["gender"] = "man"
        referral = ops.create_draft(
            programme=programme, by=referrer, unit=units["kommun"], data=data
        )
        referrals[first] = referral
        if state == "draft":
            continue
        ops.submit(referral, by=referrer)
        if state == "completion_requested":
            ops.request_completion(
                referral,
                by=lead,
                note="Beskriv kontakten med vården mer utförligt.",
                calendar=WorkingCalendar(),
            )
        elif state == "withdrawn":
            ops.withdraw(referral, by=referrer, reason="Personen har fått arbete.")
    return referrals


def _demo_case(programme, users, admitted, waiting, today) -> None:
    """A published conference that admitted one referral (another on its agenda); its case.

    The meeting was held on the last working day and is still open, so the chair can record the
    waiting referral's decision (none is saved before a meeting starts). It was planned three
    weeks before; the demo's referrals were put on its agenda and published as it is seeded.
    """
    calendar = WorkingCalendar()
    planned_at = utcnow() - timedelta(days=21)
    lead = users["samordnare@demo.example"]
    coordinator = users["koordinator@demo.example"]
    members = {
        agency: users[f"ledamot.{agency}@demo.example"]
        for agency in ("kommun", "af", "fk", "region")
    }
    conference = conferences.create_conference(
        programme=programme,
        held_on=calendar.previous_working_day(today),
        place="Kommunhuset, sal Åsen",
        members=members,
        chair=lead,
        by=lead,
        now=planned_at,
        calendar=calendar,
    )
    for referral in (admitted, waiting):
        conference_agenda.add_to_agenda(conference, referral, by=lead)
    conference_agenda.publish(conference, by=lead)
    conferences.record_attendance(
        conference, present_user_ids=[m.user_id for m in conference.members], by=lead
    )
    conference_decisions.decide(
        admitted.id,
        conference=conference,
        by=lead,
        data=conference_decisions.DecisionInput(
            outcome="admit",
            recommendation="Samordnade insatser från kommunen, Arbetsförmedlingen och vården.",
            positions={agency: "Tillstyrker." for agency in members},
            coordinator_id=coordinator.id,
            complexity_weight=2,
        ),
    )
    case = conference_queries.case_for(admitted.id)
    plans.save_plan(
        case,
        {
            "own_goal": "Jag vill jobba med djur och klara mig utan försörjningsstöd.",
            "long_term_goal": "Arbete på halvtid inom djurvård.",
            "overall_agency": "kommun",
            "review_on": today + timedelta(days=90),
            "planned_exit_on": today + timedelta(days=300),
            "exit_steps": "Arbetsträning, sedan praktik och anställning med stöd.",
            "change_note": "",
            "goals": [
                {"text": "Arbetsträna tre dagar i veckan.", "target_on": today + timedelta(60)}
            ],
            "actions": [
                {
                    "ref": None,
                    "what": "Arbetsträning på ett djurhem, tre dagar i veckan.",
                    "agency": "af",
                    "contact_id": users["remittent.af@demo.example"].id,
                    "start_on": today + timedelta(days=7),
                    "due_on": today + timedelta(days=60),
                    "status": "planned",
                }
            ],
        },
        by=coordinator,
    )
    plans.sign_off(case, party="participant", method="in_person", by=coordinator)
    intake.register_intake(  # the coordinator completed the SUS intake with the participant
        case,
        data={
            "work": "uppgift_saknas",
            "occupation": "arbetssokande_utan_sysselsattning",
            "education": "gymnasium",
            "time_on_support": "upp_till_3_ar",
            "support": ["forsorjningsstod"],
        },
        by=coordinator,
    )
    starts = datetime.combine(calendar.add_working_days(today, 5), time(9), tzinfo=UTC)
    meetings.book_meeting(
        case,
        meetings.MeetingInput(
            kind="coaching",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            location="Förbundets kontor, rum 2",
            attendee_ids=[],
        ),
        by=coordinator,
    )

"""Demo data for `make run`: a förbund, its member agencies, a programme, users and referrals."""

from __future__ import annotations

from datetime import timedelta

from coordination.auth.operations import create_user
from coordination.codes.operations import ensure_default_codes
from coordination.extensions import db
from coordination.organisations.models import OrganisationUnit
from coordination.programmes.models import Programme
from coordination.referrals import operations as ops
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
    units = {
        "forbund": OrganisationUnit(name="Samordningsförbundet Södra Dalen", agency_kind="forbund"),
        "kommun": OrganisationUnit(
            name="Dalby kommun, socialtjänsten", agency_kind="kommun", municipality="Dalby"
        ),
        "af": OrganisationUnit(name="Arbetsförmedlingen Dalby", agency_kind="af"),
        "fk": OrganisationUnit(name="Försäkringskassan Dalby", agency_kind="fk"),
        "region": OrganisationUnit(name="Vårdcentralen Dalby", agency_kind="region"),
    }
    db.session.add_all(units.values())
    programme = Programme(name="Steget vidare", description="Samordnad rehabilitering mot arbete.")
    db.session.add(programme)
    db.session.flush()

    people = [
        ("admin@demo.example", "Ada Admin", [("forbund", "admin")]),
        ("samordnare@demo.example", "Sam Samordnare", [("forbund", "team_lead")]),
        ("koordinator@demo.example", "Kim Koordinator", [("forbund", "coordinator")]),
        ("analytiker@demo.example", "Ana Analytiker", [("forbund", "analyst")]),
        ("granskare@demo.example", "Gun Granskare", [("forbund", "auditor")]),
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

    referrer = users["remittent.kommun@demo.example"]
    lead = users["samordnare@demo.example"]
    base = {
        "gender": "kvinna",
        "preferred_channel": "sms",
        "phone": "070-000 00 00",
        "home_municipality": "Dalby",
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
    today = ops.local_today()
    base["consent_given_on"] = today - timedelta(days=3)
    samples = [
        ("19900314", "123", "Aisha", "Demosson", "submitted"),
        ("19850722", "456", "Bo", "Exempelsson", "submitted"),
        ("19951102", "789", "Cecilia", "Provsdotter", "completion_requested"),
        ("19780530", "234", "David", "Testberg", "draft"),
        ("20000101", "345", "Emil", "Fiktivsson", "withdrawn"),
    ]
    for birth, serial, first, last, state in samples:
        data = dict(
            base, identity_number=demo_identity(birth, serial), first_name=first, last_name=last
        )
        if first in ("Bo", "David", "Emil"):
            data["gender"] = "man"
        referral = ops.create_draft(
            programme=programme, by=referrer, unit=units["kommun"], data=data
        )
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
    db.session.flush()
    return logins

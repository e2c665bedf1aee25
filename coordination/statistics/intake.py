"""The intake registration of a live case: made at enrolment, completed by the coordinator.

A participant enters the statistics when the case is enrolled (../shared/DOMAIN.md §12, "the live
programme counts from its first day"): the SUS record and its intake registration are made from
the referral in the transaction that enrols the case (an outbox subscriber on CaseEnrolled, since
cases sit below statistics), and the coordinator completes the intake, including `work`, on the
case page. The exit and the follow-ups (exits.operations) add their registrations to the same
record through `ensure_sus_participant`, the one function that makes it.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from coordination.cases.events import CaseEnrolled
from coordination.cases.models import Case
from coordination.codes.operations import valid_codes
from coordination.core.actor import Actor
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.events import DomainEvent
from coordination.core.i18n import local_today
from coordination.organisations.members import referring_of
from coordination.statistics import operations as stats
from coordination.statistics.models import SusParticipant, SusRegistration
from coordination.statistics.queries import participant_for_case
from workflows.statistics import Occasion

# The intake variables the coordinator completes, each from its code list (support: several).
INTAKE_FIELDS: tuple[str, ...] = ("work", "occupation", "education", "time_on_support", "support")


def _offered(list_name: str, value: str | None) -> str | None:
    return value if value in valid_codes(list_name) else None


def ensure_sus_participant(case: Case) -> SusParticipant:
    """Return the case's SUS record, made with its intake registration from the referral if new."""
    participant = participant_for_case(case.id)
    referral = case.referral
    if participant is None:
        agency, organisation = referring_of(referral.referring_unit)
        person = case.person
        participant = stats.enrol_participant(
            programme_id=case.programme_id,
            participant_ref=f"case-{case.id}",
            enrolled_on=case.enrolled_on or local_today(),
            gender=_offered("gender", person.gender),
            birth_year=person.birth_date.year if person.birth_date else None,
            home_municipality=referral.home_municipality,
            referring_agency=agency if agency in stats.REFERRING_AGENCIES else None,
            referring_organisation=organisation,
            case_id=case.id,
        )
    if participant.registration(Occasion.INTAKE) is None:
        offered = valid_codes("support")
        stats.record_registration(
            participant,
            Occasion.INTAKE,
            registered_on=participant.enrolled_on,
            occupation=_offered("occupation", referral.occupation),
            education=_offered("education", referral.education),
            time_on_support=_offered("time_on_support", referral.time_on_support),
            support=[c for c in dict.fromkeys(referral.support_current or []) if c in offered],
        )
    return participant


def register_enrolments(session: Session, batch: list[DomainEvent]) -> None:
    """Give each case enrolled in the committing transaction its SUS record and intake."""
    for domain_event in batch:
        if isinstance(domain_event, CaseEnrolled):
            case = session.get(Case, domain_event.case_id)
            if case is not None and case.enrolled_on is not None:
                ensure_sus_participant(case)


def missing_of(registration: SusRegistration | None) -> list[str]:
    """Return the intake variables not yet registered (all of them without a registration)."""
    if registration is None:
        return list(INTAKE_FIELDS)
    missing = [f for f in INTAKE_FIELDS if f != "support" and not getattr(registration, f)]
    if not registration.supports:
        missing.append("support")
    return missing


def intake_errors(data: dict) -> dict[str, list[str]]:
    """Return every problem with an intake registration, by field (offered codes only)."""
    errors: dict[str, list[str]] = {}
    support = list(data.get("support") or [])
    if not support:
        errors["support"] = [_("Välj minst en försörjning.")]
    elif not set(support) <= valid_codes("support"):
        errors["support"] = [_("Välj försörjning ur listan.")]
    elif len(set(support)) != len(support):
        errors["support"] = [_("Samma försörjning är vald två gånger.")]
    messages = {
        "work": _("Välj om personen har arbete vid inskrivningen."),
        "occupation": _("Välj sysselsättning vid inskrivningen."),
        "education": _("Välj utbildning."),
        "time_on_support": _("Välj tid i offentlig försörjning."),
    }
    for name, message in messages.items():
        if data.get(name) not in valid_codes(name):
            errors[name] = [message]
    return errors


def register_intake(case: Case, *, data: dict, by: Actor) -> SusRegistration:
    """Complete (or correct) the intake registration of an enrolled case (`by`: who, for the
    caller's access log; the registration is the case's, whoever completes it)."""
    if case.enrolled_on is None:
        raise Conflict(
            _("Personen är inte inskriven ännu. Inskrivningen registreras när hen får en plats.")
        )
    errors = intake_errors(data)
    if errors:
        raise ValidationFailed(
            _("Inskrivningen kunde inte sparas. Rätta felen nedan."), errors=errors
        )
    participant = ensure_sus_participant(case)
    return stats.record_registration(
        participant,
        Occasion.INTAKE,
        registered_on=participant.enrolled_on,
        work=data["work"],
        occupation=data["occupation"],
        education=data["education"],
        time_on_support=data["time_on_support"],
        support=list(data["support"]),
    )


def intake_of(case: Case) -> dict:
    """Return a case's SUS record at intake as plain data (None values until registered)."""
    participant = participant_for_case(case.id)
    registration = participant.registration(Occasion.INTAKE) if participant else None
    return {
        "case_id": case.id,
        "participant_id": participant.id if participant else None,
        "enrolled_on": participant.enrolled_on if participant else case.enrolled_on,
        "registered_on": registration.registered_on if registration else None,
        "gender": participant.gender if participant else None,
        "birth_year": participant.birth_year if participant else None,
        "home_municipality": participant.home_municipality if participant else None,
        "referring_agency": participant.referring_agency if participant else None,
        "work": registration.work if registration else None,
        "occupation": registration.occupation if registration else None,
        "education": registration.education if registration else None,
        "time_on_support": registration.time_on_support if registration else None,
        "support": registration.support_codes if registration else [],
        "complete": registration is not None and not missing_of(registration),
        "missing": missing_of(registration),
    }

"""The only place that changes live SUS records: enrolment, registrations, self-ratings.

The import of historical records is in statistics.importing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coordination.cases.models import Case
from coordination.codes.operations import valid_codes
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import local_today
from coordination.extensions import db
from coordination.organisations import members
from coordination.statistics.events import (
    ProgressionRatingDue,
    ProgressionRatingRecorded,
    SusRegistrationRecorded,
)
from coordination.statistics.models import (
    ProgressionRating,
    SusParticipant,
    SusRegistration,
    SusSupport,
)
from coordination.statistics.queries import participant_for_case, rating_due_on
from workflows.organisation import MEMBER_AGENCIES
from workflows.statistics import (
    PROGRESSION_QUESTIONS,
    RATING_MAX,
    RATING_MIN,
    Occasion,
    age_at_enrolment,
    months_in_programme,
)

REFERRING_AGENCIES: tuple[str, ...] = tuple(str(a) for a in MEMBER_AGENCIES)
VARIABLE_LISTS = {
    "work": "work",
    "occupation": "occupation",
    "education": "education",
    "time_on_support": "time_on_support",
}


def _check_code(errors: dict, name: str, value: str | None, allowed: set[str]) -> None:
    if value and value not in allowed:
        errors.setdefault(name, []).append(_("Koden finns inte i kodlistan."))


def enrol_participant(
    *,
    programme_id: int | None,
    participant_ref: str,
    enrolled_on: date,
    gender: str | None,
    birth_year: int | None,
    home_municipality: str | None = None,
    referring_agency: str | None = None,
    case_id: int | None = None,
    referring_organisation: str | None = None,
) -> SusParticipant:
    """Create the SUS record of a live participation (one per case).

    A referring member organisation implies its kind: the two must agree.
    """
    errors: dict[str, list[str]] = {}
    _check_code(errors, "gender", gender, valid_codes("gender"))
    if referring_agency and referring_agency not in REFERRING_AGENCIES:
        errors.setdefault("referring_agency", []).append(_("Okänd myndighet."))
    if referring_organisation:
        member = members.by_code().get(referring_organisation)
        if member is None:
            errors.setdefault("referring_organisation", []).append(_("Okänd medlemsorganisation."))
        elif referring_agency and member.kind != referring_agency:
            errors.setdefault("referring_organisation", []).append(
                _("Medlemsorganisationen hör till en annan myndighet.")
            )
        else:
            referring_agency = member.kind
    if not participant_ref.strip():
        errors.setdefault("participant_ref", []).append(_("Ange en deltagarreferens."))
    if errors:
        raise ValidationFailed(_("Deltagaren kunde inte registreras."), errors=errors)
    if case_id is not None and participant_for_case(case_id) is not None:
        raise Conflict(_("Ärendet har redan en SUS-registrering."))
    participant = SusParticipant(
        programme_id=programme_id,
        participant_ref=participant_ref.strip(),
        case_id=case_id,
        source="live",
        gender=gender,
        birth_year=birth_year,
        home_municipality=home_municipality,
        referring_agency=referring_agency,
        referring_organisation=referring_organisation or None,
        enrolled_on=enrolled_on,
        age_at_enrolment=age_at_enrolment(birth_year, enrolled_on) if birth_year else None,
    )
    db.session.add(participant)
    db.session.flush()
    return participant


def record_registration(
    participant: SusParticipant,
    occasion: Occasion | str,
    *,
    registered_on: date,
    work: str | None = None,
    occupation: str | None = None,
    education: str | None = None,
    time_on_support: str | None = None,
    support: list[str] | tuple[str, ...] = (),
    exit_reason: str | None = None,
) -> SusRegistration:
    """Record the SUS variables of one occasion; at exit also the exit date and reason.

    New registrations use the codes offered today (historical codes are for imported history).
    A second registration of the same occasion replaces the first.
    """
    occasion = Occasion(occasion)
    errors: dict[str, list[str]] = {}
    values = {
        "work": work,
        "occupation": occupation,
        "education": education,
        "time_on_support": time_on_support,
    }
    for name, value in values.items():
        _check_code(errors, name, value, valid_codes(VARIABLE_LISTS[name]))
    offered = valid_codes("support")
    if any(code not in offered for code in support):
        errors.setdefault("support", []).append(_("Koden finns inte i kodlistan."))
    if len(set(support)) != len(support):
        errors.setdefault("support", []).append(_("Samma försörjning är vald två gånger."))
    if occasion is Occasion.EXIT:
        if not exit_reason:
            errors.setdefault("exit_reason", []).append(_("Ange avslutsanledning."))
        _check_code(errors, "exit_reason", exit_reason, valid_codes("exit_reason"))
        if registered_on < participant.enrolled_on:
            errors.setdefault("registered_on", []).append(
                _("Utskrivningen kan inte vara före inskrivningen.")
            )
    elif exit_reason:
        errors.setdefault("exit_reason", []).append(_("Avslutsanledning anges bara vid avslut."))
    if errors:
        raise ValidationFailed(_("Registreringen kunde inte sparas."), errors=errors)

    registration = participant.registration(occasion)
    if registration is None:
        registration = SusRegistration(participant=participant, occasion=occasion.value)
        db.session.add(registration)
    registration.registered_on = registered_on
    for name, value in values.items():
        setattr(registration, name, value)
    registration.supports = [
        SusSupport(code=code, participant_id=participant.id, occasion=occasion.value)
        for code in support
    ]
    if occasion is Occasion.EXIT:
        participant.exited_on = registered_on
        participant.exit_reason = exit_reason
        participant.months_in_programme = months_in_programme(
            participant.enrolled_on, registered_on
        )
    db.session.flush()
    events.record(
        db.session,
        SusRegistrationRecorded(
            participant_id=participant.id,
            case_id=participant.case_id,
            occasion=occasion.value,
            occurred_at=utcnow(),
        ),
    )
    return registration


# ---------------------------------------------------------------------------------------------
# Progression self-rating


def rating_date_errors(enrolled_on: date, rated_days: set[date], rated_on: date | None) -> dict:
    """Check a rating's day: not before enrolment, not in the future, one rating per day.

    Ratings may be entered after the exit too (history is often written down late).
    """
    if rated_on is None:
        return {}
    if rated_on < enrolled_on:
        return {"rated_on": [_("Skattningen kan inte vara före inskrivningen.")]}
    if rated_on > local_today():
        return {"rated_on": [_("Datumet ligger i framtiden.")]}
    if rated_on in rated_days:
        return {"rated_on": [_("Det finns redan en skattning det datumet.")]}
    return {}


def case_rating_rules(case: Case) -> Callable[[dict], dict]:
    """The day rules of a new rating of a case, for checking whatever a form or body could read
    (the case may have no SUS record yet: then its enrolment day counts)."""
    participant = participant_for_case(case.id)
    enrolled_on = participant.enrolled_on if participant else case.enrolled_on
    rated_days = {r.rated_on for r in participant.ratings} if participant else set()

    def rules(data: dict) -> dict:
        if enrolled_on is None:
            return {}
        return rating_date_errors(enrolled_on, rated_days, data.get("rated_on"))

    return rules


def record_rating(
    participant: SusParticipant, *, rated_on: date, scores: dict[str, int], by: Actor
) -> ProgressionRating:
    """Record a self-rating: ten questions, each scored 1-10, at most one per day."""
    errors: dict[str, list[str]] = {}
    for question in PROGRESSION_QUESTIONS:
        value = scores.get(question)
        if value is None:
            errors[question] = [_("Välj ett värde från 1 till 10.")]
        elif not RATING_MIN <= value <= RATING_MAX:
            errors[question] = [_("Värdet ska vara från 1 till 10.")]
    errors.update(
        rating_date_errors(
            participant.enrolled_on, {r.rated_on for r in participant.ratings}, rated_on
        )
    )
    if errors:
        raise ValidationFailed(_("Skattningen kunde inte sparas."), errors=errors)
    rating = ProgressionRating(
        participant=participant,
        rated_on=rated_on,
        recorded_by_id=getattr(by, "id", None),
        **{q: scores[q] for q in PROGRESSION_QUESTIONS},
    )
    db.session.add(rating)
    db.session.flush()
    events.record(
        db.session,
        ProgressionRatingRecorded(
            participant_id=participant.id,
            case_id=participant.case_id,
            rating_id=rating.id,
            occurred_at=utcnow(),
        ),
    )
    return rating


def record_due_ratings(today: date) -> list[int]:
    """Record ProgressionRatingDue once for each active participant whose rating is due.

    Meant to run daily (the notification layer turns the event into a task for the
    coordinator); a participant is announced once per due date, however often this runs.
    """
    announced = []
    query = select(SusParticipant).where(
        SusParticipant.source == "live",
        SusParticipant.exited_on.is_(None),
        SusParticipant.enrolled_on <= today,
    )
    query = query.options(selectinload(SusParticipant.ratings))
    for participant in db.session.scalars(query.with_for_update(skip_locked=True)):
        due = rating_due_on(participant)
        if due is None or due > today:
            continue
        if participant.rating_due_recorded_on == due:
            continue
        participant.rating_due_recorded_on = due
        events.record(
            db.session,
            ProgressionRatingDue(
                participant_id=participant.id,
                case_id=participant.case_id,
                programme_id=participant.programme_id,
                due_on=due,
                occurred_at=utcnow(),
            ),
        )
        announced.append(participant.id)
    db.session.flush()
    return announced

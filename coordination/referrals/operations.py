"""The only place that changes referrals: drafts, submission, withdrawal, completion requests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from coordination.codes.operations import valid_codes
from coordination.consent.models import Consent
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import get_row, utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import label, local_today
from coordination.extensions import db
from coordination.organisations.calendar import working_calendar
from coordination.organisations.models import OrganisationUnit
from coordination.people.models import CHANNELS, GENDERS, Person
from coordination.programmes.models import Programme
from coordination.referrals.events import CompletionRequested, ReferralSubmitted, ReferralWithdrawn
from coordination.referrals.models import Referral, ReferralHistory
from workflows.calendar import WorkingCalendar
from workflows.organisation import MEMBER_AGENCIES
from workflows.personnummer import IdentityNumber, IdentityNumberError, parse_identity_number
from workflows.referral import OPEN_STATES, ReferralAction, ReferralState, next_state

DRAFT_FIELDS = (
    "identity_number first_name last_name gender phone email address preferred_channel "
    "interpreter_needed interpreter_language protected_identity home_municipality reason "
    "agencies_needed support_current occupation education time_on_support children_in_household "
    "background question_to_conference consent_given_on consent_form consent_witness "
    "consent_valid_until consent_agencies consent_info_kinds"
).split()


def get_referral(referral_id: int, *, lock: bool = False) -> Referral:
    """Load a referral, locking its row when it is about to change."""
    return get_row(Referral, referral_id, lock=lock, missing=_("Remissen finns inte."))


def create_draft(
    *, programme: Programme, by: Actor, unit: OrganisationUnit, data: dict
) -> Referral:
    """Start a referral as a draft holding what the referrer typed."""
    referral = Referral(
        programme=programme,
        referrer_id=by.id,
        referring_unit_id=unit.id,
        state="draft",
        agencies_needed=[],
        support_current=[],
        consent_agencies=[],
        consent_info_kinds=[],
    )
    _apply(referral, data)
    db.session.add(referral)
    db.session.flush()
    _history(referral, None, "draft", "create", by)
    return referral


def update_draft(referral: Referral, *, by: Actor, data: dict) -> Referral:
    """Save changes to a referral that is still editable (draft or completion requested)."""
    next_state(referral.state, ReferralAction.EDIT)
    _apply(referral, data)
    referral.version += 1
    db.session.flush()
    return referral


def _apply(referral: Referral, data: dict) -> None:
    for name in DRAFT_FIELDS:
        if name in data:
            value = data[name]
            if isinstance(value, str):
                value = value.strip()
            setattr(referral, name, value)


Add = Callable[[str, str], None]  # records one error message for one field


def submission_errors(referral: Referral, today: date) -> dict[str, list[str]]:
    """Return every rule the referral violates, by field; empty when it may be submitted."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    _identity_errors(referral, today, add)
    _person_errors(referral, add)
    agencies = _situation_errors(referral, add)
    _consent_errors(referral, today, agencies, add)
    return errors


def _identity_errors(referral: Referral, today: date, add: Add) -> None:
    """The programme, the identity number and the person's age for the programme."""
    programme = referral.programme
    if programme is None or not programme.active:
        add("programme_id", _("Välj en insats som tar emot remisser."))

    identity: IdentityNumber | None = None
    if not referral.identity_number:
        add("identity_number", _("Ange personnummer eller samordningsnummer."))
    else:
        try:
            identity = parse_identity_number(referral.identity_number, today)
        except IdentityNumberError as exc:
            add(
                "identity_number",
                {
                    "format": _("Skriv numret som ÅÅÅÅMMDD-NNNN (12 siffror)."),
                    "date": _("Numret innehåller inget giltigt födelsedatum."),
                    "checksum": _("Kontrollsiffran stämmer inte. Kontrollera numret."),
                }[exc.code],
            )
    if identity is not None and programme is not None:
        age = identity.age_on(today)
        problem = programme.eligibility.age_problem(age)
        if problem == "too_young":
            add(
                "identity_number",
                _(
                    "Personen är %(age)s år. Insatsen tar emot personer från %(min)s år.",
                    age=age,
                    min=programme.min_age,
                ),
            )
        elif problem == "too_old":
            add(
                "identity_number",
                _(
                    "Personen är %(age)s år. Insatsen tar emot personer upp till %(max)s år.",
                    age=age,
                    max=programme.max_age,
                ),
            )


def _person_errors(referral: Referral, add: Add) -> None:
    """The name, gender and how the person wants to be contacted."""
    if not referral.first_name:
        add("first_name", _("Ange förnamn."))
    if not referral.last_name:
        add("last_name", _("Ange efternamn."))
    if referral.gender not in GENDERS:
        add("gender", _("Välj kön."))
    if referral.preferred_channel not in CHANNELS:
        add("preferred_channel", _("Välj hur personen helst vill bli kontaktad."))
    if referral.preferred_channel in ("sms", "phone") and not referral.phone:
        add("phone", _("Ange telefonnummer, eftersom personen vill bli kontaktad per telefon."))
    if referral.preferred_channel == "email" and not referral.email:
        add("email", _("Ange e-postadress, eftersom personen vill bli kontaktad per e-post."))
    if referral.email and "@" not in referral.email:
        add("email", _("E-postadressen ser inte rätt ut."))
    if referral.preferred_channel == "letter" and not referral.address:
        add("address", _("Ange adress, eftersom personen vill bli kontaktad per brev."))
    if referral.interpreter_needed and not referral.interpreter_language:
        add("interpreter_language", _("Ange vilket språk tolken ska tala."))
    if not referral.home_municipality:
        add("home_municipality", _("Ange hemkommun."))
    elif referral.home_municipality not in valid_codes("municipality"):
        add("home_municipality", _("Välj hemkommun ur listan."))


def _situation_errors(referral: Referral, add: Add) -> set[str]:
    """The reason, the agencies needed, the person's situation and the texts; the agencies."""
    programme = referral.programme
    if referral.reason not in valid_codes("referral_reason"):
        add("reason", _("Välj orsak till remissen."))
    agencies = set(referral.agencies_needed or [])
    if not agencies <= {a.value for a in MEMBER_AGENCIES}:
        add("agencies_needed", _("Välj bara bland de fyra huvudmännen."))
    if programme is not None and len(agencies) < programme.min_agencies:
        add(
            "agencies_needed",
            _(
                "Personen ska behöva stöd från minst %(min)s myndigheter. Du har valt %(n)s.",
                min=programme.min_agencies,
                n=len(agencies),
            ),
        )
    support = referral.support_current or []
    if not support:
        add("support_current", _("Välj minst en försörjning."))
    elif not set(support) <= valid_codes("support"):
        add("support_current", _("Välj försörjning ur listan."))
    if referral.occupation not in valid_codes("occupation"):
        add("occupation", _("Välj sysselsättning."))
    if referral.education not in valid_codes("education"):
        add("education", _("Välj utbildning."))
    if referral.time_on_support not in valid_codes("time_on_support"):
        add("time_on_support", _("Välj tid i offentlig försörjning."))
    if referral.children_in_household is None:
        add("children_in_household", _("Ange om det finns barn under 18 år i hushållet."))
    if not (referral.background or "").strip():
        add("background", _("Beskriv bakgrunden. En fullständig remiss går snabbare att besluta."))
    if not (referral.question_to_conference or "").strip():
        add(
            "question_to_conference",
            _("Skriv vad du vill att remissgruppen ska ta ställning till."),
        )
    return agencies


def _consent_errors(
    referral: Referral, today: date, agencies: set[str], add: Callable[[str, str], None]
) -> None:
    if referral.consent_given_on is None:
        add(
            "consent_given_on",
            _("Ange när samtycket gavs. Utan samtycke kan remissen inte skickas."),
        )
    elif referral.consent_given_on > today:
        add("consent_given_on", _("Samtycket kan inte vara givet i framtiden."))
    if referral.consent_form not in ("written", "oral"):
        add("consent_form", _("Ange om samtycket är skriftligt eller muntligt."))
    if referral.consent_form == "oral" and not referral.consent_witness:
        add("consent_witness", _("Ett muntligt samtycke ska ha ett vittne. Ange vem."))
    if referral.consent_valid_until is not None and referral.consent_valid_until < today:
        add("consent_valid_until", _("Samtycket har gått ut. Hämta in ett nytt samtycke."))
    missing = agencies - set(referral.consent_agencies or [])
    if missing:
        add(
            "consent_agencies",
            _(
                "Samtycket täcker inte alla myndigheter som ska ge stöd. Saknas: %(names)s.",
                names=", ".join(label("agency", a) for a in sorted(missing)),
            ),
        )
    if not referral.consent_info_kinds:
        add("consent_info_kinds", _("Ange vilka slags uppgifter samtycket gäller."))


def find_open_for_person(
    person_id: int, programme_id: int, exclude_id: int | None = None
) -> Referral | None:
    """Return the person's open referral in the programme, if there is one."""
    query = select(Referral).where(
        Referral.person_id == person_id,
        Referral.programme_id == programme_id,
        Referral.state.in_([s.value for s in OPEN_STATES]),
    )
    if exclude_id is not None:
        query = query.where(Referral.id != exclude_id)
    return db.session.scalar(query)


def submit(referral: Referral, *, by: Actor, now: datetime | None = None) -> Referral:
    """Submit a complete referral; raise ValidationFailed with every error, or Conflict."""
    now = now or utcnow()
    today = local_today(now)
    target = next_state(referral.state, ReferralAction.SUBMIT)
    errors = submission_errors(referral, today)
    if errors:
        raise ValidationFailed(
            _("Remissen kunde inte skickas. Rätta felen nedan; utkastet är sparat."),
            errors=errors,
            payload={"referral_id": referral.id},
        )
    identity = parse_identity_number(referral.identity_number, today)
    person = _person_for(identity, referral)
    duplicate = find_open_for_person(person.id, referral.programme_id, exclude_id=referral.id)
    if duplicate is not None:
        raise Conflict(
            _(
                "Personen har redan en öppen remiss till insatsen: remiss %(id)s (%(state)s).",
                id=duplicate.id,
                state=_state_label(duplicate.state),
            ),
            payload={"open_referral_id": duplicate.id, "referral_id": referral.id},
        )
    for hook in OPEN_CASE_CHECKS:
        hook(person.id, referral.programme_id)
    referral.person = person
    referral.identity_number = identity.formatted()
    if referral.referral_date is None:
        referral.referral_date = today
    referral.submitted_at = now
    _record_consent(referral, person, by)
    _move(referral, target, ReferralAction.SUBMIT, by)
    events.record(
        db.session,
        ReferralSubmitted(
            referral_id=referral.id,
            programme_id=referral.programme_id,
            referrer_id=referral.referrer_id,
            occurred_at=now,
        ),
    )
    return referral


# Later domains (cases) register a check that raises Conflict for an open case.
OPEN_CASE_CHECKS: list[Callable[[int, int], None]] = []


def _state_label(state: str) -> str:
    return label("state", state)


def _person_for(identity: IdentityNumber, referral: Referral) -> Person:
    person = db.session.scalar(
        select(Person).where(Person.identity_number == identity.number).with_for_update()
    )
    if person is None:
        person = Person(identity_number=identity.number, birth_date=identity.birth_date)
        db.session.add(person)
    person.coordination_number = identity.coordination
    for name in (
        "first_name last_name gender phone email address preferred_channel "
        "interpreter_needed interpreter_language protected_identity"
    ).split():
        setattr(person, name, getattr(referral, name))
    db.session.flush()
    return person


def _record_consent(referral: Referral, person: Person, by: Actor) -> Consent:
    consent = Consent(
        person_id=person.id,
        referral_id=referral.id,
        agencies=list(referral.consent_agencies),
        info_kinds=list(referral.consent_info_kinds),
        given_on=referral.consent_given_on,
        form=referral.consent_form,
        witness=referral.consent_witness if referral.consent_form == "oral" else None,
        valid_until=referral.consent_valid_until,
        recorded_by_id=by.id,
    )
    db.session.add(consent)
    return consent


def withdraw(referral: Referral, *, by: Actor, reason: str = "") -> Referral:
    """Withdraw a referral before a decision."""
    target = next_state(referral.state, ReferralAction.WITHDRAW)
    referral.withdrawn_reason = reason or None
    _move(referral, target, ReferralAction.WITHDRAW, by, note=reason or None)
    events.record(db.session, ReferralWithdrawn(referral_id=referral.id, occurred_at=utcnow()))
    return referral


def request_completion(
    referral: Referral,
    *,
    by: Actor,
    note: str,
    due_on: date | None = None,
    calendar: WorkingCalendar | None = None,
    now: datetime | None = None,
) -> Referral:
    """Send the referral back to the referrer for more information, with a deadline."""
    now = now or utcnow()
    target = next_state(referral.state, ReferralAction.REQUEST_COMPLETION)
    today = local_today(now)
    # The förbund's calendar: weekends, public holidays and its own days off.
    calendar = calendar or working_calendar()
    if due_on is None:
        due_on = calendar.add_working_days(
            today, referral.programme.completion_deadline_working_days
        )
    elif due_on <= today:
        raise ValidationFailed(
            _("Sista dag måste ligga efter i dag."),
            errors={"due_on": [_("Sista dag måste ligga efter i dag.")]},
        )
    referral.completion_note = note
    referral.completion_due_at = calendar.end_of_working_day(due_on)
    _move(referral, target, ReferralAction.REQUEST_COMPLETION, by, note=note)
    events.record(
        db.session,
        CompletionRequested(
            referral_id=referral.id,
            referrer_id=referral.referrer_id,
            due_at=referral.completion_due_at,
            occurred_at=now,
        ),
    )
    return referral


def _move(
    referral: Referral,
    target: ReferralState,
    action: ReferralAction,
    by: Actor,
    note: str | None = None,
) -> None:
    previous = referral.state
    referral.state = target.value
    referral.version += 1
    _history(referral, previous, target.value, action.value, by, note)
    db.session.flush()


def _history(
    referral: Referral,
    from_state: str | None,
    to_state: str,
    action: str,
    by: Actor,
    note: str | None = None,
) -> None:
    db.session.add(
        ReferralHistory(
            referral=referral,
            from_state=from_state,
            to_state=to_state,
            action=action,
            by_id=getattr(by, "id", None),
            note=note,
        )
    )


def ensure_not_stale(referral: Referral, version: int | None) -> None:
    """Refuse a change made on an outdated copy of the referral."""
    if version is not None and version != referral.version:
        raise Conflict(
            _("Remissen har ändrats av någon annan sedan du öppnade den. Ladda om sidan.")
        )

"""Recording and withdrawing consent, and asking whether it covers an agency."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, cast, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from coordination.consent.events import ConsentRecorded, ConsentWithdrawn
from coordination.consent.models import FORMS, INFO_KINDS, Consent
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import utcnow
from coordination.core.errors import IllegalTransition, ValidationFailed
from coordination.extensions import db
from workflows.organisation import MEMBER_AGENCIES, AgencyKind


def consents_of(person_id: int) -> list[Consent]:
    """Return every consent a person has given, newest first."""
    return list(
        db.session.scalars(
            select(Consent).where(Consent.person_id == person_id).order_by(Consent.id.desc())
        )
    )


def consents_by_person(person_ids: Iterable[int | None]) -> dict[int, list[Consent]]:
    """Return the consents of each of the people, newest first, read in one statement (what
    `covering` and `agency_may_see` take as `known` when they answer for a list of rows)."""
    ids = {i for i in person_ids if i is not None}
    found: dict[int, list[Consent]] = {i: [] for i in ids}
    if ids:
        for consent in db.session.scalars(
            select(Consent).where(Consent.person_id.in_(ids)).order_by(Consent.id.desc())
        ):
            found[consent.person_id].append(consent)  # type: ignore[index]
    return found


def covering(
    person_id: int | None,
    agencies: Iterable[str],
    on: date,
    kinds: Iterable[str] = (),
    known: dict[int, list[Consent]] | None = None,
) -> Consent | None:
    """Return a consent in force on the date that covers every agency (and kind) named, if any.

    `known` (from consents_by_person) holds the person's consents when already read.
    """
    if person_id is None:
        return None
    agencies, kinds = list(agencies), list(kinds)
    consents = known[person_id] if known is not None and person_id in known else None
    for consent in consents if consents is not None else consents_of(person_id):
        if consent.covers(agencies, on, kinds):
            return consent
    return None


def agency_may_see(
    person_id: int | None,
    agency: str | None,
    on: date,
    known: dict[int, list[Consent]] | None = None,
) -> bool:
    """Tell whether staff of an agency may see the person's information on the date.

    The förbund holds the consent, so its own staff need none; a member agency sees the person
    only while a consent in force covers it; staff of no known agency see nothing.
    """
    if agency == AgencyKind.FORBUND.value:
        return True
    return agency is not None and covering(person_id, [agency], on, known=known) is not None


def _agencies_include(agency: ColumnElement) -> ColumnElement[bool]:
    """SQL: the consent's agency list (a JSON array) holds the agency (a column or a value)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(Consent.agencies, JSONB).has_key(agency)
    element = func.json_each(Consent.agencies).table_valued("value")
    return exists(select(literal(1)).select_from(element).where(element.c.value == agency))


def agency_may_see_sql(
    person_id: ColumnElement | int | None, agency: ColumnElement, on: date
) -> ColumnElement[bool]:
    """agency_may_see as a SQL condition on columns (or values): the förbund's own staff see the
    person; a member agency while a consent in force on the date covers it. For lists filtered
    and counted in SQL, the same rule as agency_may_see."""
    in_force = exists(
        select(literal(1)).where(
            Consent.person_id == person_id,
            Consent.withdrawn_at.is_(None),
            Consent.given_on <= on,
            or_(Consent.valid_until.is_(None), Consent.valid_until >= on),
            _agencies_include(agency),
        )
    )
    return or_(agency == AgencyKind.FORBUND.value, and_(agency.is_not(None), in_force))


def kinds_visible_to(person_id: int | None, agency: str | None, on: date) -> set[str]:
    """Return the kinds of information about the person that an agency may see on the date."""
    if agency == AgencyKind.FORBUND.value:
        return set(INFO_KINDS)
    if agency is None or person_id is None:
        return set()
    return {
        kind
        for consent in consents_of(person_id)
        if consent.covers([agency], on)
        for kind in consent.info_kinds or []
        if kind in INFO_KINDS
    }


def record_consent(
    *, person_id: int, data: dict, by: Actor, today: date, referral_id: int | None = None
) -> Consent:
    """Record a new consent; every problem is reported at once."""
    errors: dict[str, list[str]] = {}
    agencies = data.get("agencies") or []
    kinds = data.get("info_kinds") or []
    if not agencies or not set(agencies) <= {a.value for a in MEMBER_AGENCIES}:
        errors["agencies"] = [_("Välj vilka myndigheter samtycket gäller.")]
    if not kinds or not set(kinds) <= set(INFO_KINDS):
        errors["info_kinds"] = [_("Ange vilka slags uppgifter samtycket gäller.")]
    given_on = data.get("given_on")
    if given_on is None:
        errors["given_on"] = [_("Ange när samtycket gavs.")]
    elif given_on > today:
        errors["given_on"] = [_("Samtycket kan inte vara givet i framtiden.")]
    if data.get("form") not in FORMS:
        errors["form"] = [_("Ange om samtycket är skriftligt eller muntligt.")]
    if data.get("form") == "oral" and not (data.get("witness") or "").strip():
        errors["witness"] = [_("Ett muntligt samtycke ska ha ett vittne. Ange vem.")]
    valid_until = data.get("valid_until")
    if valid_until is not None and given_on is not None and valid_until < given_on:
        errors["valid_until"] = [_("Giltighetstiden kan inte sluta före dagen samtycket gavs.")]
    if errors:
        raise ValidationFailed(_("Samtycket kunde inte registreras."), errors=errors)
    consent = Consent(
        person_id=person_id,
        referral_id=referral_id,
        agencies=sorted(set(agencies)),
        info_kinds=sorted(set(kinds)),
        given_on=given_on,
        form=data["form"],
        witness=(data.get("witness") or "").strip() or None,
        valid_until=valid_until,
        recorded_by_id=by.id,
    )
    db.session.add(consent)
    db.session.flush()
    events.record(
        db.session,
        ConsentRecorded(consent_id=consent.id, person_id=person_id, occurred_at=utcnow()),
    )
    return consent


def withdrawal_reason_errors(data: dict) -> dict[str, list[str]]:
    """The withdrawal page asks why (kept as the withdrawal's note); the API may leave it out."""
    if not (data.get("note") or "").strip():
        return {
            "note": [_("Skriv varför samtycket återkallas, till exempel att personen bad om det.")]
        }
    return {}


def withdraw_consent(
    consent: Consent, *, by: Actor, note: str = "", reason_required: bool = False
) -> Consent:
    """Withdraw a consent; it stops covering anything at once. The pages require the reason
    (`reason_required`), kept as the withdrawal's note."""
    if consent.withdrawn_at is not None:
        raise IllegalTransition(_("Samtycket är redan återkallat."))
    errors = withdrawal_reason_errors({"note": note}) if reason_required else {}
    if errors:
        raise ValidationFailed(errors["note"][0], errors=errors)
    # The column is nullable, but every consent is recorded for a person and erased with them.
    assert consent.person_id is not None
    consent.withdrawn_at = utcnow()
    consent.withdrawal_note = (note or "").strip() or None
    db.session.flush()
    events.record(
        db.session,
        ConsentWithdrawn(
            consent_id=consent.id, person_id=consent.person_id, occurred_at=consent.withdrawn_at
        ),
    )
    return consent

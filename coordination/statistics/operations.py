"""The only place that changes SUS records: enrolment, registrations, import, self-ratings."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import insert, select

from coordination.codes.operations import known_codes, valid_codes
from coordination.core import events
from coordination.core.db import utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import local_today
from coordination.core.parsing import is_digits
from coordination.extensions import db
from coordination.statistics.events import (
    ProgressionRatingDue,
    ProgressionRatingRecorded,
    SusParticipantsImported,
    SusRegistrationRecorded,
)
from coordination.statistics.models import (
    ImportBatch,
    ProgressionRating,
    SusParticipant,
    SusRegistration,
    SusSupport,
)
from workflows.organisation import MEMBER_AGENCIES
from workflows.statistics import (
    PROGRESSION_QUESTIONS,
    RATING_MAX,
    RATING_MIN,
    Occasion,
    age_at_enrolment,
    months_in_programme,
    next_rating_due,
)

IMPORT_COLUMNS: tuple[str, ...] = (
    "participant_ref",
    "gender",
    "birth_year",
    "home_municipality",
    "referring_agency",
    "enrolled_on",
    "exited_on",
    "exit_reason",
    "support_before",
    "support_after",
    "work_before",
    "work_after",
    "occupation_before",
    "occupation_after",
    "education",
    "time_on_support",
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
) -> SusParticipant:
    """Create the SUS record of a live participation (one per case)."""
    errors: dict[str, list[str]] = {}
    _check_code(errors, "gender", gender, valid_codes("gender"))
    if referring_agency and referring_agency not in REFERRING_AGENCIES:
        errors.setdefault("referring_agency", []).append(_("Okänd myndighet."))
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
        enrolled_on=enrolled_on,
        age_at_enrolment=age_at_enrolment(birth_year, enrolled_on) if birth_year else None,
    )
    db.session.add(participant)
    db.session.flush()
    return participant


def participant_for_case(case_id: int) -> SusParticipant | None:
    """Return the SUS record of a case, if any."""
    return db.session.scalar(select(SusParticipant).where(SusParticipant.case_id == case_id))


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
# Import of historical participant records (DOMAIN.md §12)


@dataclass
class RowError:
    """One problem in an import file: the line, the column and the reason."""

    line: int
    column: str
    reason: str

    def as_dict(self) -> dict:
        """Return the problem as JSON-able data."""
        return {"line": self.line, "column": self.column, "reason": self.reason}


class ImportRejected(ValidationFailed):
    """The file has bad rows; nothing was imported."""

    def __init__(self, row_errors: list[RowError]):
        message = _("Ingenting importerades: filen har %(count)s fel.", count=len(row_errors))
        super().__init__(
            message,
            errors={
                "file": [
                    _(
                        "Rad %(line)s, kolumn %(column)s: %(reason)s",
                        line=e.line,
                        column=e.column,
                        reason=e.reason,
                    )
                    for e in row_errors
                ]
            },
            payload={"row_errors": [e.as_dict() for e in row_errors]},
        )
        self.row_errors = row_errors


@dataclass
class ParsedRow:
    """A valid import row, ready to be written."""

    line: int
    values: dict
    support_before: list[str] = field(default_factory=list)
    support_after: list[str] = field(default_factory=list)


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class _Lists:
    """The code lists an import checks against, read once (historical codes included)."""

    def __init__(self) -> None:
        names = ("gender", "support", "work", "occupation", "education", "time_on_support")
        self.codes = {name: known_codes(name) for name in (*names, "exit_reason")}


def parse_participant_csv(content: bytes) -> tuple[list[ParsedRow], list[RowError]]:
    """Read and check an import file; return the valid rows and every problem found."""
    errors: list[RowError] = []
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowError(1, "-", _("Filen måste vara kodad som UTF-8."))]
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return [], [RowError(1, "-", _("Filen är tom."))]
    header = [h.strip() for h in header]
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    unknown = [c for c in header if c not in IMPORT_COLUMNS]
    for column in missing:
        errors.append(RowError(1, column, _("Kolumnen saknas i rubrikraden.")))
    for column in unknown:
        errors.append(RowError(1, column, _("Okänd kolumn.")))
    if errors:
        return [], errors
    lists = _Lists()
    today = local_today()
    rows: list[ParsedRow] = []
    seen_refs: dict[str, int] = {}
    line = reader.line_num
    for record in reader:
        line_start = line + 1
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            errors.append(
                RowError(
                    line_start,
                    "-",
                    _(
                        "Raden har %(found)s fält, rubrikraden %(expected)s.",
                        found=len(record),
                        expected=len(header),
                    ),
                )
            )
            continue
        raw = {name: cell.strip() for name, cell in zip(header, record, strict=True)}
        row, row_errors = _check_row(line_start, raw, lists, today, seen_refs)
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
    if not rows and not errors:
        errors.append(RowError(2, "-", _("Filen innehåller inga deltagare.")))
    return rows, errors


def _check_row(
    line: int, raw: dict, lists: _Lists, today: date, seen_refs: dict[str, int]
) -> tuple[ParsedRow | None, list[RowError]]:
    problems: list[RowError] = []

    def bad(column: str, reason: str) -> None:
        problems.append(RowError(line, column, reason))

    def code(column: str, list_name: str, *, required: bool = False) -> str | None:
        value = raw[column] or None
        if value is None:
            if required:
                bad(column, _("Värdet saknas."))
        elif value not in lists.codes[list_name]:
            bad(
                column,
                _("Koden %(code)s finns inte i kodlistan %(list)s.", code=value, list=list_name),
            )
        return value

    def codes(column: str) -> list[str]:
        values = [v.strip() for v in raw[column].split(";") if v.strip()]
        for value in values:
            if value not in lists.codes["support"]:
                bad(
                    column,
                    _(
                        "Koden %(code)s finns inte i kodlistan %(list)s.",
                        code=value,
                        list="support",
                    ),
                )
        if len(set(values)) != len(values):
            bad(column, _("Samma kod står två gånger."))
        return values

    ref = raw["participant_ref"]
    if not ref:
        bad("participant_ref", _("Värdet saknas."))
    elif len(ref) > 80:
        bad("participant_ref", _("Högst 80 tecken."))
    elif ref in seen_refs:
        bad(
            "participant_ref", _("Samma referens finns redan på rad %(line)s.", line=seen_refs[ref])
        )
    else:
        seen_refs[ref] = line
    gender = code("gender", "gender", required=True)
    birth_year = None
    if not raw["birth_year"]:
        bad("birth_year", _("Värdet saknas."))
    elif not is_digits(raw["birth_year"]) or len(raw["birth_year"]) != 4:
        bad("birth_year", _("Ange födelseåret med fyra siffror."))
    else:
        birth_year = int(raw["birth_year"])
    if len(raw["home_municipality"]) > 100:
        bad("home_municipality", _("Högst 100 tecken."))
    agency = raw["referring_agency"] or None
    if agency and agency not in REFERRING_AGENCIES:
        bad(
            "referring_agency",
            _("Ange en av %(agencies)s.", agencies=", ".join(REFERRING_AGENCIES)),
        )
    enrolled_on = exited_on = None
    if not raw["enrolled_on"]:
        bad("enrolled_on", _("Värdet saknas."))
    elif (enrolled_on := _parse_date(raw["enrolled_on"])) is None:
        bad("enrolled_on", _("Ange datumet som ÅÅÅÅ-MM-DD."))
    elif enrolled_on > today:
        bad("enrolled_on", _("Datumet ligger i framtiden."))
    if raw["exited_on"]:
        exited_on = _parse_date(raw["exited_on"])
        if exited_on is None:
            bad("exited_on", _("Ange datumet som ÅÅÅÅ-MM-DD."))
        elif exited_on > today:
            bad("exited_on", _("Datumet ligger i framtiden."))
        elif enrolled_on and exited_on < enrolled_on:
            bad("exited_on", _("Utskrivningen är före inskrivningen."))
    if birth_year and enrolled_on:
        age = age_at_enrolment(birth_year, enrolled_on)
        if not 0 <= age <= 120:
            bad("birth_year", _("Åldern vid inskrivning blir %(age)s år.", age=age))
    exit_reason = code("exit_reason", "exit_reason")
    values = {
        "work_before": code("work_before", "work"),
        "work_after": code("work_after", "work"),
        "occupation_before": code("occupation_before", "occupation"),
        "occupation_after": code("occupation_after", "occupation"),
        "education": code("education", "education"),
        "time_on_support": code("time_on_support", "time_on_support"),
    }
    support_before = codes("support_before")
    support_after = codes("support_after")
    exited = bool(raw["exited_on"])
    if exited and not exit_reason:
        bad("exit_reason", _("Ange avslutsanledning när utskrivningsdatum finns."))
    if not exited:
        for column in ("exit_reason", "support_after", "work_after", "occupation_after"):
            if raw[column]:
                bad(column, _("Uppgifter vid utskrivning kräver ett utskrivningsdatum."))
    if problems:
        return None, problems
    parsed = {
        "participant_ref": ref,
        "gender": gender,
        "birth_year": birth_year,
        "home_municipality": raw["home_municipality"] or None,
        "referring_agency": agency,
        "enrolled_on": enrolled_on,
        "exited_on": exited_on,
        "exit_reason": exit_reason,
        **values,
    }
    return ParsedRow(line, parsed, support_before, support_after), []


def import_participants(
    filename: str, content: bytes, *, by, programme_id: int | None = None
) -> ImportBatch:
    """Import historical participant records, all or nothing; raise ImportRejected on bad rows."""
    rows, errors = parse_participant_csv(content)
    if not errors:
        taken = set(
            db.session.scalars(
                select(SusParticipant.participant_ref).where(
                    SusParticipant.programme_id.is_(None)
                    if programme_id is None
                    else SusParticipant.programme_id == programme_id
                )
            )
        )
        errors = [
            RowError(
                row.line,
                "participant_ref",
                _(
                    "Deltagaren %(ref)s finns redan i statistiken.",
                    ref=row.values["participant_ref"],
                ),
            )
            for row in rows
            if row.values["participant_ref"] in taken
        ]
    if errors:
        raise ImportRejected(errors)

    batch = ImportBatch(
        filename=filename[:255],
        imported_by_id=getattr(by, "id", None),
        programme_id=programme_id,
        participant_count=len(rows),
    )
    db.session.add(batch)
    db.session.flush()
    _write_rows(batch, rows, programme_id)
    events.record(
        db.session,
        SusParticipantsImported(batch_id=batch.id, participants=len(rows), occurred_at=utcnow()),
    )
    return batch


def _write_rows(batch: ImportBatch, rows: list[ParsedRow], programme_id: int | None) -> None:
    """Insert the participants, registrations and supports in bulk (imports can be large).

    Core inserts with RETURNING in parameter order: one multi-row statement per chunk.
    """
    chunk = 5000
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        participant_ids = db.session.scalars(
            insert(SusParticipant.__table__).returning(
                SusParticipant.__table__.c.id, sort_by_parameter_order=True
            ),
            [
                {
                    "programme_id": programme_id,
                    "participant_ref": r.values["participant_ref"],
                    "source": "import",
                    "import_batch_id": batch.id,
                    "gender": r.values["gender"],
                    "birth_year": r.values["birth_year"],
                    "home_municipality": r.values["home_municipality"],
                    "referring_agency": r.values["referring_agency"],
                    "enrolled_on": r.values["enrolled_on"],
                    "exited_on": r.values["exited_on"],
                    "exit_reason": r.values["exit_reason"],
                    "age_at_enrolment": age_at_enrolment(
                        r.values["birth_year"], r.values["enrolled_on"]
                    ),
                    "months_in_programme": months_in_programme(
                        r.values["enrolled_on"], r.values["exited_on"]
                    )
                    if r.values["exited_on"]
                    else None,
                    "created_at": utcnow(),
                }
                for r in part
            ],
        ).all()
        registrations, supports_for = [], []
        for participant_id, r in zip(participant_ids, part, strict=True):
            registrations.append(
                {
                    "participant_id": participant_id,
                    "occasion": Occasion.INTAKE.value,
                    "registered_on": r.values["enrolled_on"],
                    "work": r.values["work_before"],
                    "occupation": r.values["occupation_before"],
                    "education": r.values["education"],
                    "time_on_support": r.values["time_on_support"],
                }
            )
            supports_for.append(r.support_before)
            if r.values["exited_on"]:
                registrations.append(
                    {
                        "participant_id": participant_id,
                        "occasion": Occasion.EXIT.value,
                        "registered_on": r.values["exited_on"],
                        "work": r.values["work_after"],
                        "occupation": r.values["occupation_after"],
                        "education": None,
                        "time_on_support": None,
                    }
                )
                supports_for.append(r.support_after)
        registration_ids = db.session.scalars(
            insert(SusRegistration.__table__).returning(
                SusRegistration.__table__.c.id, sort_by_parameter_order=True
            ),
            registrations,
        ).all()
        supports = [
            {
                "registration_id": registration_id,
                "code": code,
                "participant_id": registration["participant_id"],
                "occasion": registration["occasion"],
            }
            for registration_id, registration, codes in zip(
                registration_ids, registrations, supports_for, strict=True
            )
            for code in codes
        ]
        if supports:
            db.session.execute(insert(SusSupport.__table__), supports)
    db.session.flush()


# ---------------------------------------------------------------------------------------------
# Progression self-rating


def record_rating(
    participant: SusParticipant, *, rated_on: date, scores: dict[str, int], by
) -> ProgressionRating:
    """Record a self-rating: ten questions, each scored 1-10, at most one per day."""
    errors: dict[str, list[str]] = {}
    for question in PROGRESSION_QUESTIONS:
        value = scores.get(question)
        if value is None:
            errors[question] = [_("Välj ett värde från 1 till 10.")]
        elif not RATING_MIN <= value <= RATING_MAX:
            errors[question] = [_("Värdet ska vara från 1 till 10.")]
    if rated_on < participant.enrolled_on:
        errors["rated_on"] = [_("Skattningen kan inte vara före inskrivningen.")]
    elif rated_on > local_today():
        errors["rated_on"] = [_("Datumet ligger i framtiden.")]
    elif any(r.rated_on == rated_on for r in participant.ratings):
        errors["rated_on"] = [_("Det finns redan en skattning det datumet.")]
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


def rating_due_on(participant: SusParticipant) -> date | None:
    """Return when the participant's next self-rating is due (None after exit)."""
    if participant.exited_on is not None:
        return None
    last = participant.ratings[-1].rated_on if participant.ratings else None
    return next_rating_due(last, participant.enrolled_on)


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

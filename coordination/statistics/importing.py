"""The import of historical participant records (../shared/DOMAIN.md §12): check every row, then
write all.

All or nothing: a file with any bad row imports nothing and every problem is reported at once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import insert, select

from coordination.codes.operations import imported_municipality, known_codes, municipality_entries
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import utcnow
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import local_today
from coordination.core.parsing import is_digits
from coordination.extensions import db
from coordination.organisations import members
from coordination.statistics.events import (
    SusParticipantsImported,
)
from coordination.statistics.models import (
    ImportBatch,
    SusParticipant,
    SusRegistration,
    SusSupport,
)
from coordination.statistics.operations import REFERRING_AGENCIES
from workflows.statistics import (
    Occasion,
    age_at_enrolment,
    months_in_programme,
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

    def __init__(self, row_errors: list[RowError]) -> None:
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


def parse_date(text: str) -> date | None:
    """Return the ISO date the text holds, or None."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class _Lists:
    """The code lists an import checks against, read once (historical codes included)."""

    def __init__(self) -> None:
        names = ("gender", "support", "work", "occupation", "education", "time_on_support")
        self.codes = {name: known_codes(name) for name in (*names, "exit_reason")}
        self.member_kinds = {code: m.kind for code, m in members.by_code().items()}
        self.municipalities = municipality_entries()


def csv_rows(
    content: bytes, columns: Sequence[str], errors: list[RowError]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line, {column: trimmed cell}) for each non-blank row of an import file whose header
    names exactly `columns` (in any order). The file's own problems (encoding, empty, header,
    a row with the wrong number of fields) are added to `errors`; after a bad header no row is
    read."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        errors.append(RowError(1, "-", _("Filen måste vara kodad som UTF-8.")))
        return
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        errors.append(RowError(1, "-", _("Filen är tom.")))
        return
    header = [h.strip() for h in header]
    problems = [
        RowError(1, c, _("Kolumnen saknas i rubrikraden.")) for c in columns if c not in header
    ]
    problems += [RowError(1, c, _("Okänd kolumn.")) for c in header if c not in columns]
    if problems:
        errors.extend(problems)
        return
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
        yield line_start, {name: cell.strip() for name, cell in zip(header, record, strict=True)}


def parse_participant_csv(content: bytes) -> tuple[list[ParsedRow], list[RowError]]:
    """Read and check an import file; return the valid rows and every problem found."""
    errors: list[RowError] = []
    rows: list[ParsedRow] = []
    seen_refs: dict[str, int] = {}
    lists: _Lists | None = None
    today = local_today()
    for line, raw in csv_rows(content, IMPORT_COLUMNS, errors):
        lists = lists or _Lists()
        row, row_errors = _check_row(line, raw, lists, today, seen_refs)
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
    if not rows and not errors:
        errors.append(RowError(2, "-", _("Filen innehåller inga deltagare.")))
    return rows, errors


class _RowCheck:
    """The problems found in one import row, in the order they are found."""

    def __init__(self, line: int, raw: dict, lists: _Lists) -> None:
        self.line, self.raw, self.lists = line, raw, lists
        self.problems: list[RowError] = []

    def bad(self, column: str, reason: str) -> None:
        """Note a problem in a column."""
        self.problems.append(RowError(self.line, column, reason))

    def code(self, column: str, list_name: str, *, required: bool = False) -> str | None:
        """Return a column's code, noting it when missing (if required) or not in the list."""
        value = self.raw[column] or None
        if value is None:
            if required:
                self.bad(column, _("Värdet saknas."))
        elif value not in self.lists.codes[list_name]:
            self.bad(
                column,
                _("Koden %(code)s finns inte i kodlistan %(list)s.", code=value, list=list_name),
            )
        return value

    def codes(self, column: str) -> list[str]:
        """Return a column's support codes (separated by ;), noting unknown and repeated ones."""
        values = [v.strip() for v in self.raw[column].split(";") if v.strip()]
        for value in values:
            if value not in self.lists.codes["support"]:
                self.bad(
                    column,
                    _(
                        "Koden %(code)s finns inte i kodlistan %(list)s.",
                        code=value,
                        list="support",
                    ),
                )
        if len(set(values)) != len(values):
            self.bad(column, _("Samma kod står två gånger."))
        return values


def _check_ref(check: _RowCheck, seen_refs: dict[str, int]) -> str:
    ref = check.raw["participant_ref"]
    if not ref:
        check.bad("participant_ref", _("Värdet saknas."))
    elif len(ref) > 80:
        check.bad("participant_ref", _("Högst 80 tecken."))
    elif ref in seen_refs:
        check.bad(
            "participant_ref", _("Samma referens finns redan på rad %(line)s.", line=seen_refs[ref])
        )
    else:
        seen_refs[ref] = check.line
    return ref


def _check_birth_year(check: _RowCheck) -> int | None:
    """Return the birth year; none is accepted (anonymous participants in older projects)."""
    raw = check.raw["birth_year"]
    if not raw:
        return None
    if not is_digits(raw) or len(raw) != 4:
        check.bad("birth_year", _("Ange födelseåret med fyra siffror."))
    else:
        return int(raw)
    return None


def _check_dates(check: _RowCheck, today: date) -> tuple[date | None, date | None]:
    raw = check.raw
    enrolled_on = exited_on = None
    if not raw["enrolled_on"]:
        check.bad("enrolled_on", _("Värdet saknas."))
    elif (enrolled_on := parse_date(raw["enrolled_on"])) is None:
        check.bad("enrolled_on", _("Ange datumet som ÅÅÅÅ-MM-DD."))
    elif enrolled_on > today:
        check.bad("enrolled_on", _("Datumet ligger i framtiden."))
    if raw["exited_on"]:
        exited_on = parse_date(raw["exited_on"])
        if exited_on is None:
            check.bad("exited_on", _("Ange datumet som ÅÅÅÅ-MM-DD."))
        elif exited_on > today:
            check.bad("exited_on", _("Datumet ligger i framtiden."))
        elif enrolled_on and exited_on < enrolled_on:
            check.bad("exited_on", _("Utskrivningen är före inskrivningen."))
    return enrolled_on, exited_on


def _check_referring(check: _RowCheck) -> tuple[str | None, str | None]:
    """Return (kind, member organisation code): the column holds a kind code or a member
    organisation's code, which implies its kind."""
    value = check.raw["referring_agency"] or None
    if value is None or value in REFERRING_AGENCIES:
        return value, None
    kind = check.lists.member_kinds.get(value)
    if kind is None:
        check.bad(
            "referring_agency",
            _(
                "Ange en av %(agencies)s eller koden för en av förbundets medlemsorganisationer.",
                agencies=", ".join(REFERRING_AGENCIES),
            ),
        )
        return None, None
    return kind, value


def _check_exit_columns(check: _RowCheck, exit_reason: str | None) -> None:
    exited = bool(check.raw["exited_on"])
    if exited and not exit_reason:
        check.bad("exit_reason", _("Ange avslutsanledning när utskrivningsdatum finns."))
    if not exited:
        for column in ("exit_reason", "support_after", "work_after", "occupation_after"):
            if check.raw[column]:
                check.bad(column, _("Uppgifter vid utskrivning kräver ett utskrivningsdatum."))


def _check_row(
    line: int, raw: dict, lists: _Lists, today: date, seen_refs: dict[str, int]
) -> tuple[ParsedRow | None, list[RowError]]:
    check = _RowCheck(line, raw, lists)
    ref = _check_ref(check, seen_refs)
    gender = check.code("gender", "gender")  # none: counted as "Annat/ej angivet"
    birth_year = _check_birth_year(check)
    # The home municipality: a code or a name of the municipality list (codes.operations).
    home_municipality, problem = imported_municipality(
        raw["home_municipality"], lists.municipalities
    )
    if problem:
        check.bad("home_municipality", problem)
    agency, organisation = _check_referring(check)
    enrolled_on, exited_on = _check_dates(check, today)
    if birth_year and enrolled_on:
        age = age_at_enrolment(birth_year, enrolled_on)
        if not 0 <= age <= 120:
            check.bad("birth_year", _("Åldern vid inskrivning blir %(age)s år.", age=age))
    exit_reason = check.code("exit_reason", "exit_reason")
    values = {
        "work_before": check.code("work_before", "work"),
        "work_after": check.code("work_after", "work"),
        "occupation_before": check.code("occupation_before", "occupation"),
        "occupation_after": check.code("occupation_after", "occupation"),
        "education": check.code("education", "education"),
        "time_on_support": check.code("time_on_support", "time_on_support"),
    }
    support_before = check.codes("support_before")
    support_after = check.codes("support_after")
    _check_exit_columns(check, exit_reason)
    if check.problems:
        return None, check.problems
    parsed = {
        "participant_ref": ref,
        "gender": gender,
        "birth_year": birth_year,
        "home_municipality": home_municipality,
        "referring_agency": agency,
        "referring_organisation": organisation,
        "enrolled_on": enrolled_on,
        "exited_on": exited_on,
        "exit_reason": exit_reason,
        **values,
    }
    return ParsedRow(line, parsed, support_before, support_after), []


def import_participants(
    filename: str, content: bytes, *, by: Actor | None, programme_id: int | None = None
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
            [_participant_values(batch, r, programme_id) for r in part],
        ).all()
        registrations, supports_for = _registration_values(participant_ids, part)
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


def _participant_values(batch: ImportBatch, r: ParsedRow, programme_id: int | None) -> dict:
    """The participant's row as inserted."""
    return {
        "programme_id": programme_id,
        "participant_ref": r.values["participant_ref"],
        "source": "import",
        "import_batch_id": batch.id,
        "gender": r.values["gender"],
        "birth_year": r.values["birth_year"],
        "home_municipality": r.values["home_municipality"],
        "referring_agency": r.values["referring_agency"],
        "referring_organisation": r.values["referring_organisation"],
        "enrolled_on": r.values["enrolled_on"],
        "exited_on": r.values["exited_on"],
        "exit_reason": r.values["exit_reason"],
        "age_at_enrolment": age_at_enrolment(r.values["birth_year"], r.values["enrolled_on"])
        if r.values["birth_year"]
        else None,
        "months_in_programme": months_in_programme(r.values["enrolled_on"], r.values["exited_on"])
        if r.values["exited_on"]
        else None,
        "created_at": utcnow(),
    }


def _registration_values(
    participant_ids: Sequence[int], part: list[ParsedRow]
) -> tuple[list[dict], list[list[str]]]:
    """The intake (and exit) registrations as inserted, and the support codes of each."""
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
    return registrations, supports_for

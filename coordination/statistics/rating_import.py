"""The import of historical self-ratings (../shared/DOMAIN.md §12): check every row, then write all.

Columns `participant_ref, rated_on, q1 … q10`. A row's reference names a SUS participant that
already exists (imported or live, within the chosen programme if one is given); the rules are
those of a rating recorded on a page: not before enrolment, not in the future, one per day. All or
nothing: a file with any bad row imports nothing and every problem is reported at once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import insert, select

from coordination.audit.operations import log_access
from coordination.cases.models import Case
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import utcnow
from coordination.core.i18n import local_today
from coordination.core.parsing import is_digits
from coordination.extensions import db
from coordination.statistics.events import ProgressionRatingsImported
from coordination.statistics.importing import ImportRejected, RowError, csv_rows, parse_date
from coordination.statistics.models import ProgressionRating, SusParticipant
from workflows.statistics import PROGRESSION_QUESTIONS, RATING_MAX, RATING_MIN

SCORE_COLUMNS: tuple[str, ...] = tuple(f"q{n}" for n in range(1, len(PROGRESSION_QUESTIONS) + 1))
RATING_COLUMNS: tuple[str, ...] = ("participant_ref", "rated_on", *SCORE_COLUMNS)
CHUNK = 5000


@dataclass
class RatingRow:
    """A rating row whose own values are valid (the participant is matched afterwards)."""

    line: int
    ref: str
    rated_on: date
    scores: list[int]


@dataclass
class RatingImportSummary:
    """An accepted rating import: how many ratings, for how many participants (and which)."""

    ratings: int
    participants: int
    participant_ids: list[int]
    persons: dict[int, int]  # participant id -> person id, for those of a live case


def _check_row(line: int, raw: dict, today: date) -> tuple[RatingRow | None, list[RowError]]:
    problems: list[RowError] = []
    ref = raw["participant_ref"]
    if not ref:
        problems.append(RowError(line, "participant_ref", _("Värdet saknas.")))
    elif len(ref) > 80:
        problems.append(RowError(line, "participant_ref", _("Högst 80 tecken.")))
    rated_on = None
    if not raw["rated_on"]:
        problems.append(RowError(line, "rated_on", _("Värdet saknas.")))
    elif (rated_on := parse_date(raw["rated_on"])) is None:
        problems.append(RowError(line, "rated_on", _("Ange datumet som ÅÅÅÅ-MM-DD.")))
    elif rated_on > today:
        problems.append(RowError(line, "rated_on", _("Datumet ligger i framtiden.")))
    scores = []
    for column in SCORE_COLUMNS:
        value = raw[column]
        if not value:
            problems.append(RowError(line, column, _("Värdet saknas.")))
        elif not is_digits(value) or not RATING_MIN <= int(value) <= RATING_MAX:
            problems.append(RowError(line, column, _("Ange ett heltal från 1 till 10.")))
        else:
            scores.append(int(value))
    if problems or rated_on is None:
        return None, problems
    return RatingRow(line, ref, rated_on, scores), []


def parse_rating_csv(content: bytes) -> tuple[list[RatingRow], list[RowError]]:
    """Read and check a rating file on its own; return the valid rows and every problem found."""
    errors: list[RowError] = []
    today = local_today()
    rows: list[RatingRow] = []
    seen: dict[tuple[str, date], int] = {}
    for line, raw in csv_rows(content, RATING_COLUMNS, errors):
        row, problems = _check_row(line, raw, today)
        errors += problems
        if row is None:
            continue
        earlier = seen.setdefault((row.ref, row.rated_on), row.line)
        if earlier != row.line:
            errors.append(
                RowError(
                    row.line,
                    "rated_on",
                    _("Samma deltagare och datum finns redan på rad %(line)s.", line=earlier),
                )
            )
            continue
        rows.append(row)
    if not rows and not errors:
        errors.append(RowError(2, "-", _("Filen innehåller inga skattningar.")))
    return rows, errors


def _participants_by_ref(refs: list[str], programme_id: int | None) -> dict[str, list[tuple]]:
    """Return {ref: [(id, enrolled_on, person_id)]} of the participants the references name."""
    found: dict[str, list[tuple]] = defaultdict(list)
    for start in range(0, len(refs), CHUNK):
        query = (
            select(
                SusParticipant.participant_ref,
                SusParticipant.id,
                SusParticipant.enrolled_on,
                Case.person_id,
            )
            .outerjoin(Case, Case.id == SusParticipant.case_id)
            .where(SusParticipant.participant_ref.in_(refs[start : start + CHUNK]))
        )
        if programme_id is not None:
            query = query.where(SusParticipant.programme_id == programme_id)
        for ref, participant_id, enrolled_on, person_id in db.session.execute(query):
            found[ref].append((participant_id, enrolled_on, person_id))
    return found


def _days_rated(participant_ids: list[int]) -> set[tuple[int, date]]:
    """Return the (participant, day) pairs that already have a rating."""
    taken: set[tuple[int, date]] = set()
    for start in range(0, len(participant_ids), CHUNK):
        rows = db.session.execute(
            select(ProgressionRating.participant_id, ProgressionRating.rated_on).where(
                ProgressionRating.participant_id.in_(participant_ids[start : start + CHUNK])
            )
        )
        taken.update((participant_id, rated_on) for participant_id, rated_on in rows)
    return taken


def _match(rows: list[RatingRow], programme_id: int | None) -> tuple[list[tuple], list[RowError]]:
    """Match each row's reference to one participant; check enrolment and the rated days."""
    by_ref = _participants_by_ref(sorted({r.ref for r in rows}), programme_id)
    taken = _days_rated(sorted({f[0] for found in by_ref.values() for f in found}))
    matched, errors = [], []
    for row in rows:
        found = by_ref.get(row.ref, [])
        if not found:
            reason = _("Deltagaren %(ref)s finns inte i statistiken.", ref=row.ref)
            errors.append(RowError(row.line, "participant_ref", reason))
        elif len(found) > 1:
            reason = _("Referensen %(ref)s finns i flera insatser: välj insats.", ref=row.ref)
            errors.append(RowError(row.line, "participant_ref", reason))
        else:
            participant_id, enrolled_on, person_id = found[0]
            if row.rated_on < enrolled_on:
                reason = _("Skattningen kan inte vara före inskrivningen.")
                errors.append(RowError(row.line, "rated_on", reason))
            elif (participant_id, row.rated_on) in taken:
                reason = _("Det finns redan en skattning det datumet.")
                errors.append(RowError(row.line, "rated_on", reason))
            else:
                matched.append((participant_id, person_id, row))
    return matched, errors


def import_ratings(
    content: bytes, *, by: Actor | None, programme_id: int | None = None
) -> RatingImportSummary:
    """Import historical self-ratings, all or nothing; raise ImportRejected on bad rows."""
    rows, errors = parse_rating_csv(content)
    matched: list[tuple] = []
    if not errors:
        matched, errors = _match(rows, programme_id)
    if errors:
        raise ImportRejected(errors)
    now = utcnow()
    by_id = getattr(by, "id", None)
    values = [
        {
            "participant_id": participant_id,
            "rated_on": row.rated_on,
            "recorded_by_id": by_id,
            "recorded_at": now,
            **dict(zip(PROGRESSION_QUESTIONS, row.scores, strict=True)),
        }
        for participant_id, _person, row in matched
    ]
    for start in range(0, len(values), CHUNK):
        db.session.execute(insert(ProgressionRating.__table__), values[start : start + CHUNK])
    persons = {p: person for p, person, _row in matched if person is not None}
    participant_ids = sorted({p for p, _person, _row in matched})
    db.session.flush()
    events.record(
        db.session,
        ProgressionRatingsImported(
            ratings=len(values), participants=len(participant_ids), occurred_at=now
        ),
    )
    return RatingImportSummary(len(values), len(participant_ids), participant_ids, persons)


def log_import(summary: RatingImportSummary) -> None:
    """Log the import as a change of each participant's record, with the person where known."""
    for participant_id in summary.participant_ids:
        log_access(
            "sus_participant",
            participant_id,
            action="import",
            person_id=summary.persons.get(participant_id),
        )

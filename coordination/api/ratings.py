"""Self-rating endpoints (../shared/DOMAIN.md §12): a case's ratings and the import of history.

The same rules, permissions and access log as the case's ratings page and the import page.
"""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from coordination.api import bp
from coordination.api.registry import endpoint, json_body, page_args
from coordination.audit.operations import log_access
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.parsing import is_digits, load_checked
from coordination.exits.operations import ensure_sus_participant
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.statistics import operations as stats
from coordination.statistics import permissions as perms
from coordination.statistics import rating_import
from coordination.statistics.models import ProgressionRating
from coordination.statistics.queries import participant_for_case
from coordination.statistics.schemas import (
    RatingApiLoadSchema,
    RatingDumpSchema,
    RatingImportSummarySchema,
)
from workflows.organisation import Role
from workflows.statistics import PROGRESSION_QUESTIONS

RATERS = (Role.COORDINATOR, Role.TEAM_LEAD)
MAX_UPLOAD = 50 * 1024 * 1024


def _dump(rating: ProgressionRating) -> dict:
    return RatingDumpSchema().dump(
        {
            "id": rating.id,
            "rated_on": rating.rated_on,
            "scores": rating.scores,
            "total": rating.total,
            "recorded_at": rating.recorded_at,
        }
    )


@endpoint(
    bp,
    "GET",
    "/cases/<int:case_id>/ratings",
    "The case's progression self-ratings, oldest first (scores in question order, and total)",
    response=RatingDumpSchema,
    many=True,
    roles=RATERS,
)
def list_case_ratings(case_id: int):
    """List a case's self-ratings, a page at a time."""
    case = perms.load_rated_case(case_id)
    page, per_page = page_args()
    participant = participant_for_case(case.id)
    items, total = [], 0
    if participant is not None:
        where = ProgressionRating.participant_id == participant.id
        total = db.session.scalar(select(func.count()).select_from(ProgressionRating).where(where))
        ratings = db.session.scalars(
            select(ProgressionRating)
            .where(where)
            .order_by(ProgressionRating.rated_on, ProgressionRating.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        items = [_dump(r) for r in ratings]
        log_access("sus_participant", participant.id, action="read", person_id=case.person_id)
    else:
        log_access("case", case.id, action="read", person_id=case.person_id)
    db.session.commit()
    return jsonify({"items": items, "total": total})


@endpoint(
    bp,
    "POST",
    "/cases/<int:case_id>/ratings",
    "Record a self-rating made with the participant: rated_on (not before enrolment, not in "
    "the future, one a day; also after the exit) and the ten scores 1-10 in question order",
    body=RatingApiLoadSchema,
    response=RatingDumpSchema,
    roles=RATERS,
    status=201,
)
def add_case_rating(case_id: int):
    """Record a self-rating of a case."""
    case = perms.load_rated_case(case_id, lock=True)
    if case.enrolled_on is None:
        raise Conflict(_("Deltagaren är inte inskriven ännu."))
    data = load_checked(RatingApiLoadSchema(), json_body(), stats.case_rating_rules(case))
    participant = ensure_sus_participant(case)
    rating = stats.record_rating(
        participant,
        rated_on=data["rated_on"],
        scores=dict(zip(PROGRESSION_QUESTIONS, data["scores"], strict=True)),
        by=current_user,
    )
    log_access("sus_participant", participant.id, action="update", person_id=case.person_id)
    body = _dump(rating)
    db.session.commit()
    return jsonify(body), 201


@endpoint(
    bp,
    "POST",
    "/imports/ratings",
    "Import historical self-ratings: a CSV file (multipart field 'file', or a text/csv body) "
    "with the columns participant_ref, rated_on, q1 ... q10; optional programme_id narrows the "
    "references; all rows or none (422 lists row_errors: line, column, reason)",
    response=RatingImportSummarySchema,
    roles=perms.IMPORT_ROLES,
    status=201,
)
def import_ratings():
    """Import historical self-ratings, all or nothing."""
    upload = request.files.get("file")
    content = upload.read(MAX_UPLOAD + 1) if upload is not None else request.get_data(cache=False)
    errors = {}
    if not content:
        errors["file"] = [_("Skicka en CSV-fil.")]
    elif len(content) > MAX_UPLOAD:
        errors["file"] = [_("Filen är för stor.")]
    programme_id = request.args.get("programme_id") or request.form.get("programme_id")
    if programme_id and (
        not is_digits(programme_id) or db.session.get(Programme, int(programme_id)) is None
    ):
        errors["programme_id"] = [_("Det finns ingen insats med det id:t.")]
    if errors:
        raise ValidationFailed(_("Filen kunde inte tas emot."), errors=errors)
    summary = rating_import.import_ratings(
        content, by=current_user, programme_id=int(programme_id) if programme_id else None
    )
    rating_import.log_import(summary)
    db.session.commit()
    body = RatingImportSummarySchema().dump(
        {"ratings": summary.ratings, "participants": summary.participants}
    )
    return jsonify(body), 201

"""The case's self-rating page (../shared/DOMAIN.md §12), on the exits blueprint.

It sits with exits because a case's SUS record is made here (`ensure_sus_participant`): the first
rating of a case enrolled before records existed from enrolment makes it. Ratings can be entered
after the exit too, for history.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordination.audit.operations import log_access
from coordination.cases.models import Case
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import local_today
from coordination.core.pages import render_read
from coordination.core.parsing import load_form
from coordination.core.permissions import access
from coordination.exits.operations import ensure_sus_participant
from coordination.exits.views import bp
from coordination.extensions import db
from coordination.statistics import operations as stats
from coordination.statistics import permissions as stat_perms
from coordination.statistics.queries import participant_for_case, rating_due_on
from coordination.statistics.schemas import RatingLoadSchema
from workflows.organisation import Role
from workflows.statistics import PROGRESSION_QUESTIONS, next_rating_due

RATERS = (Role.COORDINATOR, Role.TEAM_LEAD)


def _page(case: Case, form, errors, status=200):
    """The ratings page, its read logged with the person (also after a refused rating)."""
    participant = participant_for_case(case.id)
    if participant is not None:
        read = ("sus_participant", participant.id, case.person_id)
        due_on = rating_due_on(participant)
    else:
        read = ("case", case.id, case.person_id)
        due_on = next_rating_due(None, case.enrolled_on) if case.enrolled_on else None
    return render_read(
        "statistics/case_ratings.html",
        read,
        status,
        case=case,
        participant=participant,
        ratings=participant.ratings if participant else [],
        questions=PROGRESSION_QUESTIONS,
        due_on=due_on,
        can_record=case.enrolled_on is not None,
        form=form,
        errors=errors,
    )


@bp.get("/cases/<int:case_id>/ratings")
@access(*RATERS)
def case_ratings(case_id: int):
    """The case's self-ratings (totals per occasion) and the form for a new one."""
    case = stat_perms.load_rated_case(case_id)
    return _page(case, {"rated_on": local_today().isoformat()}, {})


@bp.post("/cases/<int:case_id>/ratings")
@access(*RATERS)
def add_case_rating(case_id: int):
    """Record a self-rating made with the participant (ten questions, 1-10)."""
    case = stat_perms.load_rated_case(case_id, lock=True)
    if case.enrolled_on is None:
        errors = {"_general": [_("Deltagaren är inte inskriven ännu.")]}
        return _page(case, request.form, errors, 409)
    try:
        data = load_form(RatingLoadSchema(), request.form, stats.case_rating_rules(case))
        participant = ensure_sus_participant(case)
        stats.record_rating(
            participant, rated_on=data.pop("rated_on"), scores=data, by=current_user
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(case, request.form, exc.errors, 422)
    log_access("sus_participant", participant.id, action="update", person_id=case.person_id)
    db.session.commit()
    flash(_("Skattningen är sparad."), "success")
    return redirect(url_for(".case_ratings", case_id=case.id))

"""Conference pages of the chair and the reader: the decision, sending back, minutes, the letter.

Routes on the conferences blueprint (conferences.views), endpoint names as before.
"""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from coordination.audit.operations import log_access
from coordination.cases import queries as case_queries
from coordination.conferences import agenda, decisions, positions, queries
from coordination.conferences import permissions as perms
from coordination.conferences.models import Conference, Decision
from coordination.conferences.schemas import DecisionLoadSchema
from coordination.conferences.views import (
    STAFF,
    VIEWERS,
    agenda_rows,
    bp,
    load_visible,
    log_agenda_reads,
)
from coordination.core.db import utcnow
from coordination.core.errors import ValidationFailed
from coordination.core.parsing import form_errors, form_input, is_digits, load_checked, load_form
from coordination.core.permissions import access, get_visible, require, require_visible
from coordination.extensions import db
from coordination.referrals import operations as referral_ops
from coordination.referrals import permissions as referral_perms
from coordination.referrals.models import Referral
from coordination.referrals.schemas import CompletionRequestSchema
from workflows.caseload import suggest
from workflows.conference import ConferenceState, quorum_missing
from workflows.organisation import Role


def _decision_input(data: dict) -> decisions.DecisionInput:
    """The loaded decision as the operation's input; a coordinator only when the case opens."""
    admit = data.get("outcome") == "admit"
    return decisions.DecisionInput(
        outcome=data.get("outcome"),
        recommendation=data.get("recommendation", ""),
        positions={p["agency"]: p["position"] for p in data.get("positions", [])},
        coordinator_id=data.get("coordinator_id") if admit else None,
        complexity_weight=data.get("complexity_weight") if admit else None,
        over_capacity_reason=data.get("over_capacity_reason", "") if admit else "",
    )


def _load_decision_form(conference: Conference, referral: Referral) -> decisions.DecisionInput:
    """Load the decision form with the API's decision schema; every error at once, by field.

    The form has one box per agency (`position_<agency>`) where the API has a list of positions.
    """
    raw = form_input(DecisionLoadSchema(), request.form)
    raw["conference_id"] = conference.id
    raw["positions"] = [
        {"agency": agency, "position": request.form.get(f"position_{agency}", "")}
        for agency in queries.AGENCIES
    ]
    try:
        data = load_checked(
            DecisionLoadSchema(),
            raw,
            lambda d: decisions.decision_errors(conference, referral, _decision_input(d), utcnow()),
        )
    except ValidationFailed as exc:
        errors = form_errors(DecisionLoadSchema(), exc.errors)
        exc.errors = {_position_field(key): messages for key, messages in errors.items()}
        raise
    return _decision_input(data)


def _position_field(key: str) -> str:
    """The form's box for an error about one of the positions (positions.2.position)."""
    parts = key.split(".")
    if parts[0] == "positions" and len(parts) > 1 and is_digits(parts[1]):
        return f"position_{queries.AGENCIES[int(parts[1])]}"
    return key


def load_agenda_referral(conference: Conference, referral_id: int) -> Referral:
    """Load a referral on the conference's agenda that the current user may read, or 404."""
    return get_visible(
        Referral,
        referral_id,
        lambda user, referral: (
            referral_perms.can_view(user, referral)
            and any(i.referral_id == referral_id for i in conference.agenda)
        ),
    )


@bp.route("/<int:conference_id>/referrals/<int:referral_id>/decision", methods=["GET", "POST"])
@access(Role.TEAM_LEAD)
def decide(conference_id: int, referral_id: int):
    """The chair records the agencies' positions and the one decision, with the recommendation."""
    conference = load_visible(conference_id)
    require(perms.can_chair(current_user, conference))
    referral = load_agenda_referral(conference, referral_id)
    errors: dict = {}
    message = None
    form = request.form
    if request.method == "POST":
        try:
            data = _load_decision_form(conference, referral)
            decisions.decide(referral.id, conference=conference, by=current_user, data=data)
            log_access("referral", referral.id, action="decide", person_id=referral.person_id)
            db.session.commit()
            flash(_("Beslutet om remiss %(id)s är sparat.", id=referral.id), "success")
            return redirect(url_for(".detail", conference_id=conference.id))
        except ValidationFailed as exc:
            db.session.rollback()
            conference = db.session.get(Conference, conference_id)
            referral = db.session.get(Referral, referral_id)
            errors, message = exc.errors, exc.message
    loads = case_queries.coordinator_loads()
    item = queries.pending_item(conference, referral.id)
    if request.method != "POST":
        # The suggestion: the lowest load ratio among the coordinators the case fits.
        weight = conference.programme.complexity_default
        suggested = suggest(loads, weight)
        form = {
            "complexity_weight": str(weight),
            "coordinator_id": str(suggested.coordinator_id) if suggested else "",
        }
        # The form starts from the positions the members recorded before the meeting.
        recorded = positions.recorded_positions(item)
        form.update({f"position_{a}": p.stance for a, p in recorded.items()})
    log_access("referral", referral.id, action="read", person_id=referral.person_id)
    db.session.commit()
    programme = conference.programme
    return render_template(
        "conferences/decision.html",
        conference=conference,
        referral=referral,
        item=item,
        recorded=positions.recorded_positions(item),
        started=decisions.has_started(conference),
        not_started=decisions.not_started_message(conference),
        form=form,
        errors=errors,
        message=message,
        coordinator_options=case_queries.coordinator_options(case_queries.coordinators(), loads),
        occupied=case_queries.occupied_places(programme.id),
        show_identity=referral_perms.can_see_identity(current_user, referral),
        quorum_missing=quorum_missing(
            referral.agencies_needed or [],
            conference.present_agencies,
            all_named_required=programme.quorum_all_named_agencies,
        ),
    ), (422 if errors else 200)


@bp.route("/<int:conference_id>/referrals/<int:referral_id>/send-back", methods=["GET", "POST"])
@access(Role.TEAM_LEAD)
def send_back(conference_id: int, referral_id: int):
    """Send a referral on the agenda back to the referrer for completion."""
    conference = load_visible(conference_id)
    require(perms.can_chair(current_user, conference))
    referral = load_agenda_referral(conference, referral_id)
    errors: dict = {}
    if request.method == "POST":
        try:
            data = load_form(CompletionRequestSchema(), request.form)
            referral = referral_ops.get_referral(referral.id, lock=True)
            agenda.send_back(conference, referral, by=current_user, **data)
            log_access("referral", referral.id, action="update", person_id=referral.person_id)
            db.session.commit()
            flash(
                _("Remiss %(id)s är skickad tillbaka för komplettering.", id=referral.id), "success"
            )
            return redirect(url_for(".detail", conference_id=conference.id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template(
        "conferences/send_back.html",
        conference=conference,
        referral=referral,
        errors=errors,
        form=request.form,
    ), (422 if errors else 200)


def _minutes_context(conference: Conference) -> dict:
    rows = agenda_rows(conference)
    return {
        "conference": conference,
        "rows": rows,
        "generated_at": utcnow(),
    }


def _require_minutes(conference: Conference) -> None:
    require_visible(
        perms.can_see_agenda(current_user, conference)
        and conference.state in (ConferenceState.PUBLISHED.value, ConferenceState.CLOSED.value)
    )


@bp.get("/<int:conference_id>/minutes")
@access(*VIEWERS)
def minutes(conference_id: int):
    """The minutes (protokoll): attendance, positions, decisions and recommendations."""
    conference = load_visible(conference_id, read=True)
    _require_minutes(conference)
    context = _minutes_context(conference)
    log_agenda_reads(context["rows"])
    db.session.commit()
    return render_template("conferences/minutes.html", **context)


@bp.get("/<int:conference_id>/minutes.pdf")
@access(*VIEWERS)
def minutes_pdf(conference_id: int):
    """The minutes as an accessible PDF (logged as a print)."""
    from weasyprint import HTML

    conference = load_visible(conference_id)
    _require_minutes(conference)
    context = _minutes_context(conference)
    html = render_template("conferences/minutes_pdf.html", **context)
    pdf = HTML(string=html, base_url=current_app.static_folder).write_pdf(pdf_variant="pdf/ua-1")
    log_access("conference", conference.id, action="print")
    log_agenda_reads(context["rows"], "print")
    db.session.commit()
    response = current_app.response_class(pdf, mimetype="application/pdf")
    filename = f"protokoll-remissgrupp-{conference.held_on.isoformat()}.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.get("/referrals/<int:referral_id>/decision")
@access(*STAFF)
def decision(referral_id: int):
    """The decision and the written joint recommendation, as the referrer reads it."""
    referral = get_visible(
        Referral,
        referral_id,
        lambda user, referral: (
            referral.decision_id is not None and referral_perms.can_view(user, referral)
        ),
    )
    decision_row = db.session.get(Decision, referral.decision_id)
    log_access("decision", decision_row.id, action="read", person_id=referral.person_id)
    db.session.commit()
    return render_template(
        "conferences/decision_letter.html",
        referral=referral,
        decision=decision_row,
        case=queries.case_for(referral.id),
        show_identity=referral_perms.can_see_identity(current_user, referral),
    )

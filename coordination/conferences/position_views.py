"""A referral on the conference's agenda: members record their agency's position before the meeting.

Routes on the conferences blueprint (conferences.views). The chair's decision form
(conferences.decision_views) starts from the positions recorded here.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from coordination.audit.operations import log_access
from coordination.conferences import decisions, positions, queries
from coordination.conferences import permissions as perms
from coordination.conferences.decision_views import load_agenda_referral
from coordination.conferences.models import AgendaItem, Conference
from coordination.conferences.schemas import MemberPositionFormSchema
from coordination.conferences.views import VIEWERS, bp, load_visible
from coordination.core.errors import ValidationFailed
from coordination.core.parsing import load_form
from coordination.core.permissions import access, require_visible
from coordination.extensions import db
from coordination.referrals import permissions as referral_perms
from coordination.referrals.models import Referral
from workflows.conference import MemberRole


def _item(conference: Conference, referral_id: int, *, lock: bool = False) -> AgendaItem | None:
    """The referral's latest agenda item at this conference (locked before a change)."""
    query = (
        select(AgendaItem)
        .where(AgendaItem.conference_id == conference.id, AgendaItem.referral_id == referral_id)
        .order_by(AgendaItem.id.desc())
        .limit(1)
    )
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


@bp.route("/<int:conference_id>/referrals/<int:referral_id>", methods=["GET", "POST"])
@access(*VIEWERS)
def agenda_item(conference_id: int, referral_id: int):
    """The referral on the agenda; a member records their own agency's position on it."""
    conference = load_visible(conference_id)
    require_visible(perms.can_see_agenda(current_user, conference))
    referral = load_agenda_referral(conference, referral_id)
    member = perms.membership(current_user, conference)
    if member is not None and member.role != MemberRole.MEMBER.value:
        member = None  # the chair decides; positions are the agencies' members'
    errors: dict = {}
    message = None
    form = request.form
    if request.method == "POST":
        require_visible(member is not None)
        assert member is not None
        try:
            data = load_form(MemberPositionFormSchema(), request.form)
            positions.record_position(
                conference,
                _item(conference, referral.id, lock=True),
                member,
                action=data["action"],
                text=data["stance"],
                by=current_user,
            )
            log_access("referral", referral.id, action="update", person_id=referral.person_id)
            db.session.commit()
            flash(
                _("Ställningstagandet är sparat. Du kan ändra det tills beslutet är fattat."),
                "success",
            )
            return redirect(
                url_for(".agenda_item", conference_id=conference.id, referral_id=referral.id)
            )
        except ValidationFailed as exc:
            db.session.rollback()
            conference = db.session.get(Conference, conference_id)
            referral = db.session.get(Referral, referral_id)
            member = perms.membership(current_user, conference)
            errors, message = exc.errors, exc.message
    item = _item(conference, referral.id)
    recorded = positions.recorded_positions(item)
    own = recorded.get(member.agency) if member is not None else None
    if request.method != "POST" and own is not None:
        form = {"stance": own.stance}
    log_access("referral", referral.id, action="read", person_id=referral.person_id)
    db.session.commit()
    return render_template(
        "conferences/agenda_item.html",
        conference=conference,
        referral=referral,
        item=item,
        member=member,
        own=own,
        recorded=recorded if perms.can_chair(current_user, conference) else {},
        may_record=member is not None and positions.may_record(conference, item),
        can_chair=perms.can_chair(current_user, conference),
        started=decisions.has_started(conference),
        agencies=queries.AGENCIES,
        show_identity=referral_perms.can_see_identity(current_user, referral),
        form=form,
        errors=errors,
        message=message,
    ), (422 if errors else 200)

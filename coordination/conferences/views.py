"""Conference pages: the list, scheduling, the conference page and its agenda.

The decision pages and the minutes are in conferences.decision_views, on the same blueprint; the
referral funnel of a period (/conferences/overview) is a statistics page (statistics.views).
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from coordination.audit.operations import log_access
from coordination.auth.models import User
from coordination.cases.models import Case
from coordination.conferences import agenda, queries
from coordination.conferences import operations as ops
from coordination.conferences import permissions as perms
from coordination.conferences.models import Conference, Decision
from coordination.conferences.schemas import (
    AgendaAddSchema,
    AttendanceSchema,
    ConferenceFormSchema,
    EndReasonSchema,
)
from coordination.core.db import utcnow
from coordination.core.errors import ValidationFailed
from coordination.core.pages import render_committed
from coordination.core.paging import keyset_page
from coordination.core.parsing import load_form, read_form, refuse_unreadable, with_unreadable
from coordination.core.permissions import access, get_visible, require, require_visible
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.referrals import operations as referral_ops
from coordination.referrals import permissions as referral_perms
from coordination.referrals.models import Referral
from workflows.conference import AgendaStatus
from workflows.organisation import Role

bp = Blueprint("conferences", __name__, url_prefix="/conferences")

VIEWERS = (Role.TEAM_LEAD, Role.CONFERENCE_MEMBER)
STAFF = (Role.REFERRER, Role.TEAM_LEAD, Role.CONFERENCE_MEMBER, Role.COORDINATOR)


def load_visible(conference_id: int, *, lock: bool = False, read: bool = False) -> Conference:
    """Load a conference the current user may see, or answer 404 (and log the refusal)."""
    return get_visible(
        Conference, conference_id, perms.can_view, lock=lock, read="conference" if read else None
    )


def _programmes() -> list[Programme]:
    return list(
        db.session.scalars(
            select(Programme).where(Programme.active.is_(True)).order_by(Programme.name)
        )
    )


@bp.get("/")
@access(*VIEWERS)
def index():
    """List the upcoming and earlier conferences the user may see, a page of each."""
    since = utcnow() - timedelta(hours=12)
    visible = perms.visible_query(current_user)
    parts = (joinedload(Conference.programme), selectinload(Conference.agenda))
    upcoming = keyset_page(
        visible.where(Conference.starts_at >= since),
        [Conference.starts_at],
        Conference.id,
        name="upcoming",
        options=parts,
    )
    earlier = keyset_page(
        visible.where(Conference.starts_at < since),
        [Conference.starts_at],
        Conference.id,
        descending=True,
        name="earlier",
        options=parts,
    )
    return render_template(
        "conferences/index.html",
        upcoming=upcoming,
        earlier=earlier,
        can_manage=perms.is_team_lead(current_user),
    )


@bp.post("/schedule")
@access(Role.TEAM_LEAD)
def schedule():
    """Create the coming conferences of every active programme by its cadence."""
    created = []
    for programme in _programmes():
        created += ops.schedule_ahead(programme, utcnow())
    db.session.commit()
    if created:
        flash(
            _("%(n)s möten har planerats enligt insatsernas intervall.", n=len(created)), "success"
        )
    else:
        flash(_("Alla möten de kommande åtta veckorna var redan planerade."), "info")
    return redirect(url_for(".index"))


@bp.post("/cutoffs")
@access(Role.TEAM_LEAD)
def cutoffs():
    """Put submitted referrals on the agendas whose cut-off has come (also run every hour)."""
    added = agenda.run_cutoffs(utcnow())
    for item in added:
        log_access("referral", item.referral_id, action="update")
    db.session.commit()
    flash(_("%(n)s remisser har satts på dagordningen.", n=len(added)), "success")
    return redirect(url_for(".index"))


def _member_choices() -> dict[str, list[User]]:
    return {agency: queries.member_candidates(agency) for agency in queries.AGENCIES}


def _read_form(form) -> tuple[dict, dict[str, User | None], User | None, dict]:
    """Read the scheduling form (ConferenceFormSchema): its values, the members by agency, the
    chair, and what could not be read (reported where the operation does not say more)."""
    data, unreadable = read_form(ConferenceFormSchema(), form)
    members = {}
    for agency in queries.AGENCIES:
        user_id = data.get(f"member_{agency}")
        members[agency] = db.session.get(User, user_id) if user_id else None
    chair_id = data.get("chair_id")
    return data, members, db.session.get(User, chair_id) if chair_id else None, unreadable


@bp.route("/new", methods=["GET", "POST"])
@access(Role.TEAM_LEAD)
def new():
    """Schedule a conference by hand: programme, day, time, place or video link, members."""
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        data, members, chair, unreadable = _read_form(form)
        try:
            conference = ops.create_conference(
                programme=db.session.get(Programme, data.get("programme_id") or 0),
                held_on=data.get("held_on"),
                at=data.get("at"),
                place=data.get("place"),
                video_link=data.get("video_link"),
                members=members,
                chair=chair,
                by=current_user,
            )
            refuse_unreadable(unreadable)
            log_access("conference", conference.id, action="create")
            db.session.commit()
            flash(_("Mötet är planerat."), "success")
            return redirect(url_for(".detail", conference_id=conference.id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = with_unreadable(exc.errors, unreadable)
    else:
        form = {"at": "09:00", "chair_id": str(current_user.id)}
    return render_template(
        "conferences/form.html",
        conference=None,
        form=form,
        errors=errors,
        programmes=_programmes(),
        candidates=_member_choices(),
        chairs=queries.chair_candidates(),
    ), (422 if errors else 200)


@bp.route("/<int:conference_id>/edit", methods=["GET", "POST"])
@access(Role.TEAM_LEAD)
def edit(conference_id: int):
    """Change the place, video link and members of a conference."""
    conference = load_visible(conference_id, lock=request.method == "POST")
    require(perms.can_manage(current_user, conference))
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        data, members, chair, unreadable = _read_form(form)
        try:
            ops.update_conference(
                conference,
                place=data.get("place"),
                video_link=data.get("video_link"),
                members=members,
                chair=chair,
                by=current_user,
            )
            refuse_unreadable(unreadable)
            log_access("conference", conference.id, action="update")
            db.session.commit()
            flash(_("Mötet är ändrat."), "success")
            return redirect(url_for(".detail", conference_id=conference.id))
        except ValidationFailed as exc:
            db.session.rollback()
            conference = db.session.get(Conference, conference_id)
            errors = with_unreadable(exc.errors, unreadable)
    else:
        form = {"place": conference.place or "", "video_link": conference.video_link or ""}
        for member in conference.agency_members:
            form[f"member_{member.agency}"] = str(member.user_id)
        if conference.chair:
            form["chair_id"] = str(conference.chair.user_id)
    return render_template(
        "conferences/form.html",
        conference=conference,
        form=form,
        errors=errors,
        programmes=_programmes(),
        candidates=_member_choices(),
        chairs=queries.chair_candidates(),
    ), (422 if errors else 200)


def agenda_rows(conference: Conference) -> list[dict]:
    """Return the agenda as rows with what the current user may see of each referral: the
    referrals, their decisions (with the agencies' positions) and cases in one statement each,
    however long the agenda."""
    items = list(conference.agenda)
    referral_ids = [item.referral_id for item in items]
    referrals = {
        r.id: r
        for r in db.session.scalars(
            select(Referral)
            .where(Referral.id.in_(referral_ids))
            .options(selectinload(Referral.person))
        )
    }
    decided = [
        referrals[i.referral_id].decision_id
        for i in items
        if i.status == AgendaStatus.DECIDED.value and referrals[i.referral_id].decision_id
    ]
    decisions = (
        {
            d.id: d
            for d in db.session.scalars(
                select(Decision)
                .where(Decision.id.in_(decided))
                .options(selectinload(Decision.positions), selectinload(Decision.coordinator))
            )
        }
        if decided
        else {}
    )
    cases = (
        {
            c.referral_id: c
            for c in db.session.scalars(select(Case).where(Case.referral_id.in_(referral_ids)))
        }
        if decisions
        else {}
    )
    visible = referral_perms.viewable_ids(current_user, referrals.values())
    rows = []
    for item in items:
        referral = referrals[item.referral_id]
        decision = (
            decisions.get(referral.decision_id)
            if item.status == AgendaStatus.DECIDED.value
            else None
        )
        rows.append(
            {
                "item": item,
                "referral": referral,
                "visible": referral.id in visible,
                "show_identity": referral.id in visible
                and referral_perms.can_see_identity(current_user, referral),
                "decision": decision,
                "case": cases.get(referral.id) if decision else None,
            }
        )
    return rows


def log_agenda_reads(rows: list[dict], action: str = "read") -> None:
    """Log a read (or list, print) of each visible referral on the agenda."""
    for row in rows:
        if row["visible"]:
            log_access(
                "referral", row["referral"].id, action=action, person_id=row["referral"].person_id
            )


@bp.get("/<int:conference_id>")
@access(*VIEWERS)
def detail(conference_id: int):
    """The conference page: details, members and attendance, the agenda and what to do next."""
    conference = load_visible(conference_id, read=True)
    show_agenda = perms.can_see_agenda(current_user, conference)
    rows = agenda_rows(conference) if show_agenda else []
    log_agenda_reads(rows, "list")
    can_manage = perms.can_manage(current_user, conference)
    addable = None
    if can_manage and conference.state in ("planned", "published"):
        # Submission dates every referral, so the sort key is never NULL here.
        addable = keyset_page(
            select(Referral).where(
                Referral.programme_id == conference.programme_id,
                Referral.state == "submitted",
            ),
            [Referral.referral_date],
            Referral.id,
            name="addable",
        )
    for referral in addable or ():  # listed with their people, to be put on the agenda
        log_access("referral", referral.id, action="list", person_id=referral.person_id)
    return render_committed(
        "conferences/detail.html",
        conference=conference,
        rows=rows,
        show_agenda=show_agenda,
        can_manage=can_manage,
        can_chair=perms.can_chair(current_user, conference),
        is_member=perms.is_agency_member(current_user, conference),
        addable=addable,
        can_see_identity=lambda r: referral_perms.can_see_identity(current_user, r),
        errors={},
    )


@bp.post("/<int:conference_id>/agenda")
@access(Role.TEAM_LEAD)
def add_to_agenda(conference_id: int):
    """Put a submitted referral on the agenda by hand."""
    conference = load_visible(conference_id, lock=True)
    require(perms.can_manage(current_user, conference))
    try:
        referral_id = load_form(AgendaAddSchema(), request.form)["referral_id"]
    except ValidationFailed:
        referral_id = None
    referral = db.session.get(Referral, referral_id) if referral_id else None
    if referral is None:
        flash(_("Välj en remiss att sätta på dagordningen."), "error")
        return redirect(url_for(".detail", conference_id=conference.id))
    require_visible(
        referral_perms.can_view(current_user, referral),
        subject=("referral", referral.id, referral.person_id),
    )
    referral = referral_ops.get_referral(referral.id, lock=True)
    agenda.add_to_agenda(conference, referral, by=current_user)
    log_access("referral", referral.id, action="update", person_id=referral.person_id)
    db.session.commit()
    flash(_("Remiss %(id)s är satt på dagordningen.", id=referral.id), "success")
    return redirect(url_for(".detail", conference_id=conference.id))


@bp.post("/<int:conference_id>/publish")
@access(Role.TEAM_LEAD)
def publish(conference_id: int):
    """Publish the agenda to the members."""
    conference = load_visible(conference_id, lock=True)
    require(perms.can_manage(current_user, conference))
    try:
        agenda.publish(conference, by=current_user)
    except ValidationFailed as exc:
        db.session.rollback()
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(url_for(".detail", conference_id=conference_id))
    log_access("conference", conference.id, action="update")
    db.session.commit()
    flash(_("Dagordningen är publicerad. Ledamöterna kan nu läsa remisserna."), "success")
    return redirect(url_for(".detail", conference_id=conference.id))


@bp.post("/<int:conference_id>/attendance")
@access(Role.TEAM_LEAD)
def attendance(conference_id: int):
    """Record which members are present."""
    conference = load_visible(conference_id, lock=True)
    require(perms.can_chair(current_user, conference))
    data = load_form(AttendanceSchema(), request.form, names={"present_user_ids": "present"})
    ops.record_attendance(conference, present_user_ids=data["present_user_ids"], by=current_user)
    log_access("conference", conference.id, action="update")
    db.session.commit()
    flash(_("Närvaron är registrerad."), "success")
    return redirect(url_for(".detail", conference_id=conference.id))


_END_FROM = {"close": ("published",), "cancel": ("planned", "published")}


def _end_page(conference_id: int, action: str, *, allowed, run, done: str):
    """A confirmation page for closing or cancelling: what will happen, why (required), one
    primary action and a way back. GET only shows the page; POST with a reason acts."""
    conference = load_visible(conference_id, lock=request.method == "POST")
    require(allowed(current_user, conference))
    errors: dict = {}
    if request.method == "POST":
        try:
            data = load_form(EndReasonSchema(), request.form)
            run(conference, by=current_user, reason=data["reason"])
            log_access("conference", conference.id, action="update")
            db.session.commit()
            flash(done, "success")
            return redirect(url_for(".detail", conference_id=conference.id))
        except ValidationFailed as exc:
            db.session.rollback()
            conference = db.session.get(Conference, conference_id)
            errors = exc.errors
    pending = [i for i in conference.agenda if i.status == AgendaStatus.PENDING.value]
    return render_template(
        "conferences/confirm_end.html",
        conference=conference,
        action=action,
        can_act=conference.state in _END_FROM[action],
        pending=len(pending),
        errors=errors,
        form=request.form,
    ), (422 if errors else 200)


@bp.route("/<int:conference_id>/close", methods=["GET", "POST"])
@access(Role.TEAM_LEAD)
def close(conference_id: int):
    """Close the held conference, with a reason; undecided referrals wait for the next one."""
    return _end_page(
        conference_id,
        "close",
        allowed=perms.can_chair,
        run=ops.close,
        done=_("Mötet är avslutat. Protokollet är klart."),
    )


@bp.route("/<int:conference_id>/cancel", methods=["GET", "POST"])
@access(Role.TEAM_LEAD)
def cancel(conference_id: int):
    """Cancel a conference, with a reason; its referrals wait for the next one."""
    return _end_page(
        conference_id,
        "cancel",
        allowed=perms.can_manage,
        run=ops.cancel,
        done=_("Mötet är inställt."),
    )


@bp.cli.command("schedule")
@click.option("--weeks", default=8, show_default=True, help="How far ahead to schedule.")
def schedule_command(weeks: int):
    """Create the coming conferences of every active programme by its cadence."""
    created = []
    for programme in _programmes():
        created += ops.schedule_ahead(programme, utcnow(), weeks=weeks)
    db.session.commit()
    click.echo(f"Scheduled {len(created)} conferences.")


@bp.cli.command("cutoffs")
def cutoffs_command():
    """Put submitted referrals on the agendas whose cut-off has come (run it every hour)."""
    added = agenda.run_cutoffs(utcnow())
    db.session.commit()
    click.echo(f"Put {len(added)} referrals on agendas.")


# The decision pages register their routes on bp (imported last: they import from this module).
from coordination.conferences import decision_views as _decision_views  # noqa: E402,F401
from coordination.conferences import position_views as _position_views  # noqa: E402,F401

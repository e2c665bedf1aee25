"""The start page (what each role has to do now) and the accessibility statement.

The page opens with one to-do list ("Att göra") built from everything open for the user, soonest
deadline first and the items without a deadline last, each linking to where it is done: plans to
sign (an agency's contact, or the coordinator for the participant), escalations to decide,
packets to acknowledge, the coordinator's new cases without a plan or a first meeting, agenda
items whose agency position is not recorded yet, over-capacity coordinators (team lead) and open
or overdue tasks. It is one UNION in SQL, paged fifty at a time, with one count: a constant
number of statements whatever the number of rows (home.todo).

Below it each role keeps its overview: the referrer their referrals; a conference member the
next conference and its agenda; a coordinator the caseload and capacity and today's meetings; the
team lead the queue, capacity and overdue items; the analyst the statistics. The start page shows
numbers, dates and case or referral numbers and links to the pages that hold the personal data
(which log their own reads): no participant's name here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from coordination.cases import caseload
from coordination.cases import queries as case_queries
from coordination.cases.models import Case
from coordination.conferences import permissions as conference_perms
from coordination.conferences.models import Conference, ConferenceMember, MemberPosition
from coordination.conferences.queries import working_calendar
from coordination.core.db import utcnow
from coordination.core.i18n import STOCKHOLM, local_today
from coordination.core.paging import Page
from coordination.core.permissions import access
from coordination.exits.models import Packet
from coordination.extensions import db
from coordination.home import todo
from coordination.meetings.models import Escalation, Meeting, MeetingAttendee, Task
from coordination.programmes.models import Programme
from coordination.referrals.models import Referral
from coordination.statistics import reports
from coordination.tenancy.context import current_id
from workflows.case import OCCUPYING_STATES, CaseState
from workflows.caseload import CoordinatorLoad
from workflows.referral import OPEN_STATES as OPEN_REFERRAL_STATES

bp = Blueprint("home", __name__)

OCCUPYING = sorted(s.value for s in OCCUPYING_STATES)
OPEN_REFERRALS = sorted(s.value for s in OPEN_REFERRAL_STATES)
# Where an account with a platform role (and no förbund) starts (coordination/platform).
PLATFORM_START = {
    "platform_admin": "platform.forbund_index",
    "national_analyst": "platform.statistics",
}


@dataclass
class Start:
    """What the start page shows to one user."""

    counts: dict = field(default_factory=dict)  # the referrer's own referrals by state
    open_counts: dict = field(default_factory=dict)  # every open referral by state (team lead)
    todo: Page | None = None
    new_cases: int = 0
    load: CoordinatorLoad | None = None
    next_conference: Conference | None = None
    agenda: list = field(default_factory=list)
    agenda_visible: bool = False
    positioned: set = field(default_factory=set)  # agenda item ids with the member's position
    caseload: dict | None = None
    meetings_today: list = field(default_factory=list)
    queue: list = field(default_factory=list)
    overdue: dict = field(default_factory=dict)
    reports: list = field(default_factory=list)


def _local_day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Return today's start and end in Stockholm, as aware datetimes."""
    local = now.astimezone(STOCKHOLM)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def _member(start: Start, user, now: datetime) -> None:
    start.next_conference = db.session.scalar(
        select(Conference)
        .join(ConferenceMember, ConferenceMember.conference_id == Conference.id)
        .where(
            ConferenceMember.user_id == user.id,
            Conference.starts_at >= now - timedelta(hours=12),
            Conference.state.in_(("planned", "published")),
        )
        .options(joinedload(Conference.programme), selectinload(Conference.agenda))
        .order_by(Conference.starts_at)
        .limit(1)
    )
    if start.next_conference is not None:
        start.agenda_visible = conference_perms.can_see_agenda(user, start.next_conference)
        if start.agenda_visible:
            start.agenda = list(start.next_conference.agenda)
            member = conference_perms.membership(user, start.next_conference)
            if member is not None and start.agenda:
                start.positioned = set(
                    db.session.scalars(
                        select(MemberPosition.agenda_item_id).where(
                            MemberPosition.agenda_item_id.in_([i.id for i in start.agenda]),
                            MemberPosition.agency == member.agency,
                        )
                    )
                )


def _coordinator(start: Start, user, now: datetime) -> None:
    start.caseload = caseload.caseload_counts(
        user, today=local_today(), calendar=working_calendar()
    )
    day_start, day_end = _local_day_bounds(now)
    invited = select(MeetingAttendee.meeting_id).where(MeetingAttendee.user_id == user.id)
    start.meetings_today = list(
        db.session.scalars(
            select(Meeting)
            .where(
                or_(Meeting.id.in_(invited), Meeting.organiser_id == user.id),
                Meeting.starts_at >= day_start,
                Meeting.starts_at < day_end,
                Meeting.status == "booked",
            )
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )
    start.load = case_queries.own_load(user.id)
    start.new_cases = todo.new_case_count(user)


def _referral_counts(condition) -> dict[str, int]:
    """Count the referrals that meet the condition, by state."""
    return dict(
        db.session.execute(
            select(Referral.state, func.count()).where(condition).group_by(Referral.state)
        ).all()
    )


def _team_lead(start: Start, user, now: datetime) -> None:
    # The team lead sees every referral past the draft; the page shows the open ones only
    # (read from the open referrals' own index, not the closed ones of every year).
    start.open_counts = _referral_counts(Referral.state.in_(OPEN_REFERRALS))
    # Waiting and occupying are the states other than closed: counted from the open cases'
    # index (ix_case_record_open_programme), its condition in the same words.
    counts = {
        (programme_id, state): n
        for programme_id, state, n in db.session.execute(
            select(Case.programme_id, Case.state, func.count())
            .where(Case.state != CaseState.CLOSED.value)
            .group_by(Case.programme_id, Case.state)
        )
    }
    for programme in db.session.scalars(
        select(Programme).where(Programme.active.is_(True)).order_by(Programme.name)
    ):
        start.queue.append(
            {
                "programme": programme,
                "waiting": counts.get((programme.id, CaseState.WAITING.value), 0),
                "occupied": sum(counts.get((programme.id, state), 0) for state in OCCUPYING),
            }
        )
    overdue = {
        "completion": db.session.scalar(
            select(func.count())
            .select_from(Referral)
            .where(
                Referral.state == "completion_requested",
                Referral.completion_due_at.is_not(None),
                Referral.completion_due_at < now,
            )
        )
        or 0
    }
    overdue["escalations"] = db.session.scalar(
        select(func.count())
        .select_from(Escalation)
        .where(Escalation.status == "open", Escalation.decision_due_at < now)
    )
    overdue["tasks"] = db.session.scalar(
        select(func.count())
        .select_from(Task)
        .where(Task.done_at.is_(None), Task.cancelled_at.is_(None), Task.due_at < now)
    )
    overdue["packets"] = db.session.scalar(
        select(func.count())
        .select_from(Packet)
        .where(
            Packet.acknowledged_at.is_(None),
            Packet.delivered_at < now - timedelta(days=14),
        )
    )
    start.overdue = overdue


def _analyst(start: Start) -> None:
    start.reports = list(reports.REPORTS.values())[:6]


def start_for(user, now: datetime | None = None) -> Start:
    """Gather what the start page shows the user, section by section for their roles."""
    now = now or utcnow()
    start = Start()
    if user.has_any_role(["referrer"]):
        start.counts = _referral_counts(Referral.referrer_id == user.id)
    start.todo = todo.todo_page(user, now)
    if user.has_any_role(["conference_member", "team_lead"]):
        _member(start, user, now)
    if user.has_any_role(["coordinator"]):
        _coordinator(start, user, now)
    if user.has_any_role(["team_lead"]):
        _team_lead(start, user, now)
    if user.has_any_role(["analyst"]):
        _analyst(start)
    return start


@bp.get("/")
@access()
def index():
    """Show what the signed-in user has to do, by role."""
    platform_start = PLATFORM_START.get(getattr(current_user, "platform_role", None) or "")
    if platform_start is not None and current_id() is None:
        return redirect(url_for(platform_start))  # no förbund: the installation's own pages
    start = start_for(current_user)
    return render_template(
        "home/index.html",
        start=start,
        counts=start.counts,
        now=utcnow(),
        percent=todo.percent,
    )


@bp.get("/tillganglighet")
@access(public=True)
def accessibility():
    """The accessibility statement required by DOS-lagen."""
    return render_template("home/accessibility.html")

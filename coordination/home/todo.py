"""The start page's to-do list: everything open for one user, as one paged UNION in SQL.

Each part selects the same columns (kind, item, case, two numbers, a code and the deadline) from
the table that holds one kind of work; the parts the user's roles and ties call for are joined
with UNION ALL, sorted by deadline (soonest first, the items without a deadline last), then by
kind and id so that the order is stable, and cut to one page with OFFSET/LIMIT. One statement
gives the page and the count (a window over the UNION), whatever the number of rows. The labels
are built from ids, numbers and codes only (no participant's name): the linked pages show and
log the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy import case as sql_case

from coordination.action_plans.models import PlanAction, PlanSignOff, PlanVersion
from coordination.cases import queries as case_queries
from coordination.cases.models import Case, CoordinatorAssignment
from coordination.conferences.models import AgendaItem, Conference, ConferenceMember, MemberPosition
from coordination.core import paging
from coordination.core.db import UTCDateTime
from coordination.core.formats import percent_text
from coordination.core.i18n import label
from coordination.core.parsing import is_digits
from coordination.exits.models import Packet
from coordination.extensions import db
from coordination.meetings.models import Escalation, Meeting, Task
from coordination.referrals.models import Referral
from workflows.action_plan import PARTICIPANT, PlanState
from workflows.case import CaseState
from workflows.conference import AgendaStatus, ConferenceState, MemberRole

ESCALATION = "escalation"
PLAN_SIGN = "plan_sign"
PARTICIPANT_SIGN = "participant_sign"
PACKET = "packet"
NEW_CASE = "new_case"
AGENDA_ITEM = "agenda_item"
OVER_CAPACITY = "over_capacity"
TASK = "task"
# Among items due at the same time, the decisions that others wait for come first.
KINDS = (
    ESCALATION,
    PLAN_SIGN,
    PARTICIPANT_SIGN,
    PACKET,
    AGENDA_ITEM,
    TASK,
    NEW_CASE,
    OVER_CAPACITY,
)
PAGE_PARAM = "todo_page"
OPEN_PLAN_STATES = (PlanState.DRAFT.value, PlanState.SIGNING.value)
NEW_CASE_STATES = (CaseState.ENROLLED.value, CaseState.ACTIVE.value)
ACKNOWLEDGE_WITHIN = timedelta(days=14)


@dataclass
class Item:
    """One thing to do: what, where it is done, and by when."""

    kind: str
    text: str
    url: str
    due_at: datetime | None
    overdue: bool


class TodoPage(paging.Page):
    """A page of the to-do list; its links carry the page number (`?todo_page=2`)."""

    number: int = 1

    def url(self, direction: str) -> str:
        args: dict[str, Any] = {
            k: v for k, v in request.args.to_dict(flat=False).items() if k != PAGE_PARAM
        }
        args[PAGE_PARAM] = self.number + 1 if direction == "next" else self.number - 1
        return url_for(request.endpoint or "home.index", **args)


def _part(
    kind: str,
    item_id: Any,
    *,
    case_id: Any = None,
    ref: Any = None,
    extra: Any = None,
    code: Any = None,
    due: Any = None,
) -> Select:
    def number(value):
        return cast(null(), Integer) if value is None else value

    return select(
        literal(kind, String(20)).label("kind"),
        item_id.label("item_id"),
        number(case_id).label("case_id"),
        number(ref).label("ref"),
        number(extra).label("extra"),
        (cast(null(), String(255)) if code is None else cast(code, String(255))).label("code"),
        (cast(null(), UTCDateTime) if due is None else due).label("due_at"),
    )


def _plans_to_sign(user) -> Select:
    """The open plan versions with an action of the user's agency where the user is the
    contact, and that agency's sign-off still missing."""
    agencies = sorted(user.agency_kinds)
    signed = exists().where(
        PlanSignOff.version_id == PlanVersion.id, PlanSignOff.party == PlanAction.agency
    )
    return (
        _part(
            PLAN_SIGN,
            PlanVersion.id,
            case_id=PlanVersion.case_id,
            ref=PlanVersion.number,
            code=func.min(PlanAction.agency),
        )
        .join(PlanAction, PlanAction.version_id == PlanVersion.id)
        .where(
            PlanVersion.state.in_(OPEN_PLAN_STATES),
            PlanAction.contact_id == user.id,
            PlanAction.agency.in_(agencies),
            ~signed,
        )
        .group_by(PlanVersion.id, PlanVersion.case_id, PlanVersion.number)
    )


def _plans_to_sign_as_referrer(user) -> Select:
    """The open plan versions whose agency in charge is the referrer's own and has no action of
    its own: that agency signs through the referrer (as the sign-off request goes to them)."""
    agencies = sorted(user.agency_kinds)
    own_action = exists().where(
        PlanAction.version_id == PlanVersion.id, PlanAction.agency == PlanVersion.overall_agency
    )
    signed = exists().where(
        PlanSignOff.version_id == PlanVersion.id, PlanSignOff.party == PlanVersion.overall_agency
    )
    return (
        _part(
            PLAN_SIGN,
            PlanVersion.id,
            case_id=PlanVersion.case_id,
            ref=PlanVersion.number,
            code=PlanVersion.overall_agency,
        )
        .join(Case, Case.id == PlanVersion.case_id)
        .join(Referral, Referral.id == Case.referral_id)
        .where(
            PlanVersion.state.in_(OPEN_PLAN_STATES),
            Referral.referrer_id == user.id,
            PlanVersion.overall_agency.in_(agencies),
            ~own_action,
            ~signed,
        )
    )


def _mine(user):
    return select(CoordinatorAssignment.case_id).where(
        CoordinatorAssignment.coordinator_id == user.id,
        CoordinatorAssignment.active.is_(True),
    )


def _participant_signs(user) -> Select:
    """The open plan versions of the coordinator's cases without the participant's sign-off."""
    signed = exists().where(
        PlanSignOff.version_id == PlanVersion.id, PlanSignOff.party == PARTICIPANT
    )
    return _part(
        PARTICIPANT_SIGN, PlanVersion.id, case_id=PlanVersion.case_id, ref=PlanVersion.number
    ).where(
        PlanVersion.state.in_(OPEN_PLAN_STATES),
        PlanVersion.case_id.in_(_mine(user)),
        ~signed,
    )


def _escalations(user, roles: set[str]) -> Select:
    query = _part(
        ESCALATION,
        Escalation.id,
        case_id=Escalation.case_id,
        ref=Escalation.missed_count,
        due=Escalation.decision_due_at,
    ).where(Escalation.status == "open")
    if "team_lead" in roles:
        return query
    ties = [Escalation.referrer_id == user.id]
    if "coordinator" in roles:
        ties.append(Escalation.case_id.in_(_mine(user)))
    return query.where(or_(*ties))


def _packets(user) -> Select:
    return _part(
        PACKET,
        Packet.id,
        case_id=Packet.case_id,
        ref=Packet.referral_id,
        code=Packet.kind,
        due=_acknowledge_by(),
    ).where(Packet.recipient_id == user.id, Packet.acknowledged_at.is_(None))


def _acknowledge_by():
    """Two weeks after delivery (as the team lead's overdue count), on either database."""
    if db.session.get_bind().dialect.name == "sqlite":
        return type_coerce(func.datetime(Packet.delivered_at, "+14 days"), UTCDateTime)
    return Packet.delivered_at + literal(ACKNOWLEDGE_WITHIN)


def _new_cases(user) -> Select:
    """The coordinator's enrolled or active cases without a plan or without a meeting."""
    has_plan = exists().where(PlanVersion.case_id == Case.id)
    has_meeting = exists().where(Meeting.case_id == Case.id, Meeting.status != "cancelled")
    return _part(
        NEW_CASE,
        Case.id,
        case_id=Case.id,
        ref=sql_case((has_plan, 1), else_=0),
        extra=sql_case((has_meeting, 1), else_=0),
    ).where(
        Case.id.in_(_mine(user)),
        Case.state.in_(NEW_CASE_STATES),
        or_(~has_plan, ~has_meeting),
    )


def new_case_count(user) -> int:
    """Return how many of the coordinator's cases still lack a plan or a first meeting."""
    return db.session.scalar(select(func.count()).select_from(_new_cases(user).subquery())) or 0


def _agenda_items(user) -> Select:
    """The referrals on a published agenda where the member's agency has no position yet."""
    positioned = exists().where(
        MemberPosition.agenda_item_id == AgendaItem.id,
        MemberPosition.agency == ConferenceMember.agency,
    )
    return (
        _part(
            AGENDA_ITEM,
            AgendaItem.id,
            ref=AgendaItem.referral_id,
            extra=AgendaItem.conference_id,
            due=Conference.starts_at,
        )
        .join(Conference, Conference.id == AgendaItem.conference_id)
        .join(
            ConferenceMember,
            and_(
                ConferenceMember.conference_id == Conference.id,
                ConferenceMember.user_id == user.id,
                ConferenceMember.role == MemberRole.MEMBER.value,
            ),
        )
        .where(
            Conference.state == ConferenceState.PUBLISHED.value,
            AgendaItem.status == AgendaStatus.PENDING.value,
            ~positioned,
        )
    )


def _over_capacity() -> Select:
    rows = case_queries.over_capacity_select().subquery()
    return _part(OVER_CAPACITY, rows.c.id, ref=rows.c.load, extra=rows.c.capacity, code=rows.c.name)


def _tasks(user) -> Select:
    return _part(TASK, Task.id, case_id=Task.case_id, code=Task.kind, due=Task.due_at).where(
        Task.assignee_id == user.id, Task.done_at.is_(None), Task.cancelled_at.is_(None)
    )


def parts_for(user) -> list[Select]:
    """Return the selects of the kinds of work the user's roles and ties call for."""
    roles = {
        r
        for r in ("referrer", "coordinator", "team_lead", "conference_member")
        if user.has_any_role([r])
    }
    parts = [_plans_to_sign(user), _tasks(user)]
    if roles & {"referrer", "coordinator", "team_lead"}:
        parts.append(_escalations(user, roles))
    if "referrer" in roles:
        parts += [_packets(user), _plans_to_sign_as_referrer(user)]
    if "coordinator" in roles:
        parts += [_participant_signs(user), _new_cases(user)]
    if "conference_member" in roles or "team_lead" in roles:
        parts.append(_agenda_items(user))
    if "team_lead" in roles:
        parts.append(_over_capacity())
    return parts


def _page_number() -> int:
    raw = request.args.get(PAGE_PARAM, "")
    return int(raw) if is_digits(raw) and 0 < len(raw) < 7 and int(raw) > 0 else 1


def todo_page(user, now: datetime, size: int | None = None) -> TodoPage:
    """Return the user's page of to-dos in one statement: the page with the count of every row
    (a window over the UNION, which is computed once). A page number past the end costs a count
    and the last page."""
    size = size or paging.PAGE_SIZE
    everything = union_all(*parts_for(user)).subquery("todo")
    rank = sql_case({kind: n for n, kind in enumerate(KINDS)}, value=everything.c.kind)
    ordered = select(everything, func.count().over().label("total")).order_by(
        everything.c.due_at.is_(None),
        everything.c.due_at,
        rank,
        everything.c.item_id,
    )
    number = _page_number()
    rows = db.session.execute(ordered.offset((number - 1) * size).limit(size)).all()
    if rows or number == 1:
        total = rows[0].total if rows else 0
    else:  # past the end: the last page instead
        total = db.session.scalar(select(func.count()).select_from(everything)) or 0
        number = max(1, -(-total // size))
        if total:
            rows = db.session.execute(ordered.offset((number - 1) * size).limit(size)).all()
    page = TodoPage(
        rows=[_item(row, now) for row in rows],
        total=total,
        offset=(number - 1) * size,
        name="todo",
    )
    page.number = number
    return page


def _item(row, now: datetime) -> Item:
    text, url = _text_and_url(row)
    due = row.due_at
    return Item(
        kind=row.kind, text=text, url=url, due_at=due, overdue=due is not None and due < now
    )


def _text_and_url(row) -> tuple[str, str]:
    kind, case_id = row.kind, row.case_id
    if kind == ESCALATION:
        return _(
            "Besluta om eskaleringen för deltagande %(case)s (%(n)s uteblivna möten)",
            case=case_id,
            n=row.ref,
        ), url_for("meetings.escalation", escalation_id=row.item_id)
    if kind == PLAN_SIGN:
        return _(
            "Godkänn handlingsplanen för deltagande %(case)s, version %(n)s, för %(agency)s",
            case=case_id,
            n=row.ref,
            agency=label("agency", row.code),
        ), url_for("action_plans.plan", case_id=case_id)
    if kind == PARTICIPANT_SIGN:
        return _(
            "Registrera deltagarens godkännande av handlingsplanen för deltagande %(case)s, "
            "version %(n)s",
            case=case_id,
            n=row.ref,
        ), url_for("action_plans.plan", case_id=case_id)
    if kind == PACKET:
        text = (
            _("Kvittera återremissen för remiss %(id)s", id=row.ref)
            if row.code == "return_referral"
            else _("Kvittera den gemensamma rekommendationen för remiss %(id)s", id=row.ref)
        )
        return text, url_for("exits.packet", packet_id=row.item_id)
    if kind == NEW_CASE:
        return _new_case_text(row), url_for("cases.detail", case_id=case_id)
    if kind == AGENDA_ITEM:
        return _("Förbered myndighetens ställningstagande till remiss %(id)s", id=row.ref), url_for(
            "conferences.agenda_item", conference_id=row.extra, referral_id=row.ref
        )
    if kind == OVER_CAPACITY:
        return _(
            "%(name)s har %(percent)s av kapaciteten: fördela om deltaganden",
            name=row.code,
            percent=percent(row.ref, row.extra),
        ), url_for("cases.index", coordinator_id=row.item_id)
    return _(
        "%(task)s, deltagande %(case)s", task=label("task_kind", row.code), case=case_id
    ), url_for("meetings.task", task_id=row.item_id)


def _new_case_text(row) -> str:
    if not row.ref and not row.extra:
        return _(
            "Boka första mötet och skriv handlingsplanen för deltagande %(case)s", case=row.case_id
        )
    if not row.ref:
        return _("Skriv handlingsplanen för deltagande %(case)s", case=row.case_id)
    return _("Boka första mötet för deltagande %(case)s", case=row.case_id)


def percent(load: int, capacity: int) -> str:
    """Return the load as a whole percentage of the capacity, in the reader's number format."""
    return percent_text(100 * load / capacity if capacity > 0 else None, decimals=0)

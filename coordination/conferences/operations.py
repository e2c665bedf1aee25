"""The only place that changes conferences: scheduling, agenda, publishing, attendance, decisions.

It moves referrals through PUT_ON_AGENDA, REMOVE_FROM_AGENDA and DECIDE (with their history rows)
and opens the case of an admitted referral through coordination.cases.operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from coordination.auth.models import User
from coordination.auth.queries import team_leads
from coordination.cases import operations as case_ops
from coordination.cases.models import Case
from coordination.conferences.events import (
    AgendaCutOff,
    AgendaPublished,
    ConferenceAttendanceRecorded,
    ConferenceCancelled,
    ConferenceClosed,
    ConferenceScheduled,
    ReferralDecided,
    ReferralPutOnAgenda,
)
from coordination.conferences.models import (
    AgencyPosition,
    AgendaItem,
    Conference,
    ConferenceMember,
    Decision,
)
from coordination.core import events
from coordination.core.db import get_row, utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.events import DomainEvent
from coordination.core.i18n import STOCKHOLM, label, local_today
from coordination.extensions import db
from coordination.organisations.calendar import working_calendar as calendar_with_days_off
from coordination.programmes.models import Programme
from coordination.referrals import operations as referral_ops
from coordination.referrals.events import CompletionRequested, ReferralWithdrawn
from coordination.referrals.models import Referral, ReferralHistory
from workflows.calendar import WorkingCalendar
from workflows.conference import (
    AgendaStatus,
    ConferenceAction,
    ConferenceState,
    Funnel,
    MemberRole,
    Outcome,
    agenda_cutoff_at,
    cadence_dates,
    median_working_days,
    meeting_day,
    next_state,
    prepare_due_at,
    quorum_missing,
    starts_at,
)
from workflows.organisation import MEMBER_AGENCIES, AgencyKind, Role
from workflows.referral import ReferralAction, ReferralState
from workflows.referral import next_state as referral_next_state

DEFAULT_START = time(9, 0)
AGENCIES = tuple(a.value for a in MEMBER_AGENCIES)


def working_calendar() -> WorkingCalendar:
    """Return the förbund's working calendar (Swedish holidays and its own days off)."""
    return calendar_with_days_off(db.session)


def get_conference(conference_id: int, *, lock: bool = False) -> Conference:
    """Load a conference, locking its row when it is about to change."""
    return get_row(Conference, conference_id, lock=lock, missing=_("Mötet finns inte."))


# --- members ---------------------------------------------------------------------------------


def member_candidates(agency: str) -> list[User]:
    """Return the active users who may represent an agency kind (conference members there)."""
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [
        u
        for u in users
        if any(
            m.role == Role.CONFERENCE_MEMBER.value and m.unit.agency_kind == agency
            for m in u.memberships
        )
    ]


def chair_candidates() -> list[User]:
    """Return the active team leads, who chair the conference."""
    return team_leads(by_name=True)


def default_members(programme: Programme) -> tuple[dict[str, User], User | None]:
    """Return the members of the programme's latest conference, else one candidate per agency."""
    latest = db.session.scalar(
        select(Conference)
        .where(
            Conference.programme_id == programme.id,
            Conference.state != ConferenceState.CANCELLED.value,
        )
        .order_by(Conference.held_on.desc(), Conference.id.desc())
        .limit(1)
    )
    members: dict[str, User] = {}
    chair = None
    if latest is not None:
        for member in latest.members:
            if member.role == MemberRole.CHAIR.value:
                chair = member.user
            else:
                members[member.agency] = member.user
    for agency in AGENCIES:
        if agency not in members:
            candidates = member_candidates(agency)
            if candidates:
                members[agency] = candidates[0]
    if chair is None:
        leads = chair_candidates()
        chair = leads[0] if leads else None
    return members, chair


def _member_errors(members: dict[str, User | None], chair: User | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for agency, user in members.items():
        if user is None:
            continue
        if agency not in AGENCIES:
            errors.setdefault("members", []).append(_("Välj bara bland de fyra huvudmännen."))
        elif user not in member_candidates(agency):
            errors[f"member_{agency}"] = [
                _(
                    "%(name)s är inte ledamot i remissgruppen för %(agency)s.",
                    name=user.name,
                    agency=label("agency", agency),
                )
            ]
    if chair is not None and not chair.has_any_role([Role.TEAM_LEAD]):
        errors["chair_id"] = [_("Ordföranden ska vara samordnare (teamledare).")]
    return errors


def _set_members(conference: Conference, members: dict[str, User | None], chair) -> None:
    present = {m.user_id: m.present for m in conference.members}
    conference.members.clear()
    db.session.flush()
    for agency in AGENCIES:
        user = members.get(agency)
        if user is not None:
            conference.members.append(
                ConferenceMember(
                    user_id=user.id,
                    agency=agency,
                    role=MemberRole.MEMBER.value,
                    present=present.get(user.id),
                )
            )
    if chair is not None and chair.id not in {m.user_id for m in conference.members}:
        conference.members.append(
            ConferenceMember(
                user_id=chair.id,
                agency=AgencyKind.FORBUND.value,
                role=MemberRole.CHAIR.value,
                present=present.get(chair.id),
            )
        )


# --- scheduling ------------------------------------------------------------------------------


def _timing(conference: Conference, programme: Programme, calendar: WorkingCalendar) -> None:
    conference.agenda_cutoff_at = agenda_cutoff_at(
        conference.held_on, programme.agenda_cutoff_working_days, calendar
    )
    conference.prepare_due_at = prepare_due_at(
        conference.held_on, programme.prepare_reminder_working_days, calendar
    )


def create_conference(
    *,
    programme: Programme | None,
    held_on: date | None,
    at: time | None = DEFAULT_START,
    place: str | None = None,
    video_link: str | None = None,
    members: dict[str, User | None] | None = None,
    chair: User | None = None,
    by,
    origin: str = "manual",
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
) -> Conference:
    """Schedule a conference; a manual one needs a future working day and a place or video link."""
    now = now or utcnow()
    calendar = calendar or working_calendar()
    place, video_link = (place or "").strip() or None, (video_link or "").strip() or None
    errors: dict[str, list[str]] = {}
    if programme is None or not programme.active:
        errors["programme_id"] = [_("Välj en aktiv insats.")]
    if held_on is None:
        errors["held_on"] = [_("Ange datum som ÅÅÅÅ-MM-DD.")]
    elif held_on <= local_today(now):
        errors["held_on"] = [_("Mötet ska ligga efter i dag.")]
    elif not calendar.is_working_day(held_on):
        errors["held_on"] = [_("Välj en arbetsdag. Dagen är en helgdag eller ledig dag.")]
    if at is None:
        errors["at"] = [_("Ange tid som TT:MM.")]
    if origin == "manual" and not place and not video_link:
        errors["place"] = [_("Ange plats eller länk till videomötet.")]
    if video_link and not video_link.startswith("https://"):
        errors["video_link"] = [_("Länken till videomötet ska börja med https://.")]
    errors.update(_member_errors(members or {}, chair))
    if errors:
        raise ValidationFailed(_("Mötet kunde inte sparas. Rätta felen nedan."), errors=errors)
    conference = Conference(
        programme_id=programme.id,
        state=ConferenceState.PLANNED.value,
        origin=origin,
        held_on=held_on,
        starts_at=starts_at(held_on, at, calendar),
        place=place,
        video_link=video_link,
        created_by_id=getattr(by, "id", None),
        created_at=now,
    )
    _timing(conference, programme, calendar)
    db.session.add(conference)
    _set_members(conference, members or {}, chair)
    db.session.flush()
    events.record(
        db.session,
        ConferenceScheduled(
            conference_id=conference.id,
            programme_id=programme.id,
            member_ids=tuple(m.user_id for m in conference.members),
            occurred_at=now,
        ),
    )
    return conference


def update_conference(
    conference: Conference,
    *,
    place: str | None,
    video_link: str | None,
    members: dict[str, User | None],
    chair: User | None,
    by,
) -> Conference:
    """Change the place, video link and members of a conference that has not been held."""
    next_state(conference.state, ConferenceAction.EDIT)
    place, video_link = (place or "").strip() or None, (video_link or "").strip() or None
    errors = _member_errors(members, chair)
    if conference.state == ConferenceState.PUBLISHED.value and not place and not video_link:
        errors["place"] = [_("Ange plats eller länk till videomötet.")]
    if video_link and not video_link.startswith("https://"):
        errors["video_link"] = [_("Länken till videomötet ska börja med https://.")]
    if errors:
        raise ValidationFailed(_("Mötet kunde inte sparas. Rätta felen nedan."), errors=errors)
    conference.place, conference.video_link = place, video_link
    _set_members(conference, members, chair)
    conference.version += 1
    db.session.flush()
    return conference


def schedule_ahead(
    programme: Programme,
    now: datetime,
    weeks: int = 8,
    calendar: WorkingCalendar | None = None,
) -> list[Conference]:
    """Create the programme's conferences by its cadence for the coming weeks; skip existing days.

    A cadence day that is a holiday moves to the next working day. The first run without a
    first-conference date fixes it (the next cadence weekday), so the rhythm stays stable.
    """
    calendar = calendar or working_calendar()
    programme = get_row(Programme, programme.id, lock=True)
    if not programme.active:
        return []
    today = local_today(now)
    if programme.conference_first_date is None:
        programme.conference_first_date = today + timedelta(
            days=(programme.conference_weekday - today.weekday()) % 7 or 7
        )
    taken = set(
        db.session.scalars(
            select(Conference.held_on).where(
                Conference.programme_id == programme.id,
                (Conference.origin == "cadence")
                | (Conference.state != ConferenceState.CANCELLED.value),
            )
        )
    )
    latest = db.session.scalar(
        select(Conference)
        .where(Conference.programme_id == programme.id, Conference.place.is_not(None))
        .order_by(Conference.held_on.desc())
        .limit(1)
    )
    members, chair = default_members(programme)
    created = []
    for cadence_day in cadence_dates(
        programme.conference_first_date,
        programme.conference_weekday,
        programme.conference_interval_weeks,
        today + timedelta(days=1),
        today + timedelta(weeks=weeks),
    ):
        day = meeting_day(cadence_day, calendar)
        if day in taken:
            continue
        conference = create_conference(
            programme=programme,
            held_on=day,
            at=latest.starts_at.astimezone(STOCKHOLM).time() if latest else DEFAULT_START,
            place=latest.place if latest else None,
            video_link=latest.video_link if latest else None,
            members=members,
            chair=chair,
            by=None,
            origin="cadence",
            now=now,
            calendar=calendar,
        )
        taken.add(day)
        created.append(conference)
    return created


def cancel(conference: Conference, *, by, now: datetime | None = None) -> Conference:
    """Cancel a conference; referrals waiting on its agenda go back to wait for the next one."""
    conference.state = next_state(conference.state, ConferenceAction.CANCEL).value
    _release_pending(conference, by, _("Mötet ställdes in."))
    conference.version += 1
    db.session.flush()
    events.record(
        db.session, ConferenceCancelled(conference_id=conference.id, occurred_at=now or utcnow())
    )
    return conference


def close(conference: Conference, *, by, now: datetime | None = None) -> Conference:
    """Close a held conference; undecided referrals go back to wait for the next one."""
    now = now or utcnow()
    conference.state = next_state(conference.state, ConferenceAction.CLOSE).value
    conference.closed_at = now
    _release_pending(conference, by, _("Inte behandlad på mötet; tas upp på nästa möte."))
    conference.version += 1
    db.session.flush()
    events.record(db.session, ConferenceClosed(conference_id=conference.id, occurred_at=now))
    return conference


def _release_pending(conference: Conference, by, note: str) -> None:
    for item in conference.agenda:
        if item.status != AgendaStatus.PENDING.value:
            continue
        referral = referral_ops.get_referral(item.referral_id, lock=True)
        item.status = AgendaStatus.REMOVED.value
        _move_referral(referral, ReferralAction.REMOVE_FROM_AGENDA, by, note)


# --- agenda ----------------------------------------------------------------------------------


def _move_referral(referral: Referral, action: ReferralAction, by, note: str | None = None):
    target = referral_next_state(referral.state, action)
    previous = referral.state
    referral.state = target.value
    referral.version += 1
    db.session.add(
        ReferralHistory(
            referral=referral,
            from_state=previous,
            to_state=target.value,
            action=action.value,
            by_id=getattr(by, "id", None),
            note=note,
        )
    )


def add_to_agenda(
    conference: Conference,
    referral: Referral,
    *,
    by,
    origin: str = "manual",
    now: datetime | None = None,
) -> AgendaItem:
    """Put a submitted referral of the conference's programme on its agenda."""
    now = now or utcnow()
    next_state(conference.state, ConferenceAction.ADD_TO_AGENDA)
    if referral.programme_id != conference.programme_id:
        raise ValidationFailed(
            _("Remissen gäller en annan insats än mötet."),
            errors={"referral_id": [_("Remissen gäller en annan insats än mötet.")]},
        )
    _move_referral(
        referral,
        ReferralAction.PUT_ON_AGENDA,
        by,
        _("Mötet %(date)s.", date=conference.held_on.isoformat()),
    )
    number = (
        db.session.scalar(
            select(func.max(AgendaItem.number)).where(AgendaItem.conference_id == conference.id)
        )
        or 0
    ) + 1
    item = AgendaItem(
        conference_id=conference.id,
        referral_id=referral.id,
        number=number,
        status=AgendaStatus.PENDING.value,
        origin=origin,
        added_at=now,
        added_by_id=getattr(by, "id", None),
    )
    db.session.add(item)
    db.session.flush()
    events.record(
        db.session,
        ReferralPutOnAgenda(
            referral_id=referral.id,
            conference_id=conference.id,
            referrer_id=referral.referrer_id,
            published=conference.state == ConferenceState.PUBLISHED.value,
            occurred_at=now,
        ),
    )
    return item


def run_cutoffs(now: datetime, calendar: WorkingCalendar | None = None) -> list[AgendaItem]:
    """Put complete submitted referrals on the agenda of each conference whose cut-off has come.

    A referral joins the earliest such conference of its programme if it was submitted by the
    cut-off; one submitted later waits for the next conference. Each conference is cut off once.
    """
    due = db.session.scalars(
        select(Conference)
        .where(
            Conference.state.in_([ConferenceState.PLANNED.value, ConferenceState.PUBLISHED.value]),
            Conference.cutoff_done_at.is_(None),
            Conference.agenda_cutoff_at <= now,
            Conference.starts_at > now,
        )
        .order_by(Conference.starts_at, Conference.id)
        .with_for_update(skip_locked=True)
    ).all()
    added: list[AgendaItem] = []
    for conference in due:
        referrals = db.session.scalars(
            select(Referral)
            .where(
                Referral.programme_id == conference.programme_id,
                Referral.state == ReferralState.SUBMITTED.value,
                Referral.submitted_at <= conference.agenda_cutoff_at,
            )
            .order_by(Referral.referral_date, Referral.submitted_at, Referral.id)
            .with_for_update(skip_locked=True)
        ).all()
        items = [
            add_to_agenda(conference, referral, by=None, origin="cutoff", now=now)
            for referral in referrals
        ]
        conference.cutoff_done_at = now
        events.record(
            db.session,
            AgendaCutOff(
                conference_id=conference.id,
                referral_ids=tuple(i.referral_id for i in items),
                occurred_at=now,
            ),
        )
        added.extend(items)
    db.session.flush()
    return added


def publish(conference: Conference, *, by, now: datetime | None = None) -> Conference:
    """Publish the agenda: the members may read its referrals and are reminded to prepare."""
    now = now or utcnow()
    target = next_state(conference.state, ConferenceAction.PUBLISH)
    errors: dict[str, list[str]] = {}
    if not (conference.place or conference.video_link):
        errors["place"] = [
            _("Ange plats eller länk till videomötet innan dagordningen publiceras.")
        ]
    if conference.chair is None:
        errors["chair_id"] = [_("Välj ordförande innan dagordningen publiceras.")]
    if not conference.agency_members:
        errors["members"] = [_("Välj ledamöter innan dagordningen publiceras.")]
    if errors:
        raise ValidationFailed(_("Dagordningen kunde inte publiceras."), errors=errors)
    conference.state = target.value
    conference.published_at = now
    conference.published_by_id = getattr(by, "id", None)
    conference.version += 1
    db.session.flush()
    events.record(
        db.session,
        AgendaPublished(
            conference_id=conference.id,
            programme_id=conference.programme_id,
            member_ids=tuple(m.user_id for m in conference.members),
            referral_ids=tuple(i.referral_id for i in conference.agenda if i.status == "pending"),
            prepare_due_at=conference.prepare_due_at.astimezone(UTC),
            occurred_at=now,
        ),
    )
    return conference


def record_attendance(conference: Conference, *, present_user_ids, by) -> Conference:
    """Record which members are present."""
    next_state(conference.state, ConferenceAction.RECORD_ATTENDANCE)
    present = {int(i) for i in present_user_ids}
    unknown = present - {m.user_id for m in conference.members}
    if unknown:
        raise ValidationFailed(
            _("Bara mötets ledamöter kan vara närvarande."),
            errors={"present_user_ids": [_("Bara mötets ledamöter kan vara närvarande.")]},
        )
    for member in conference.members:
        member.present = member.user_id in present
    conference.version += 1
    db.session.flush()
    events.record(
        db.session,
        ConferenceAttendanceRecorded(
            conference_id=conference.id,
            present_member_ids=tuple(sorted(present)),
            occurred_at=utcnow(),
        ),
    )
    return conference


def pending_item(conference: Conference, referral_id: int) -> AgendaItem | None:
    """Return the referral's agenda item waiting for a decision at this conference."""
    return next(
        (
            i
            for i in conference.agenda
            if i.referral_id == referral_id and i.status == AgendaStatus.PENDING.value
        ),
        None,
    )


def send_back(
    conference: Conference,
    referral: Referral,
    *,
    by,
    note: str,
    due_on: date | None = None,
    now: datetime | None = None,
) -> Referral:
    """Send a referral on the agenda back to the referrer for completion."""
    if pending_item(conference, referral.id) is None:
        raise Conflict(_("Remissen väntar inte på beslut på det här mötet."))
    referral_ops.request_completion(
        referral, by=by, note=note, due_on=due_on, calendar=working_calendar(), now=now
    )
    close_pending_items(db.session, referral.id, AgendaStatus.SENT_BACK)
    return referral


def close_pending_items(session: Session, referral_id: int, status: AgendaStatus) -> None:
    """Mark the referral's waiting agenda item with what became of it."""
    session.execute(
        update(AgendaItem)
        .where(
            AgendaItem.referral_id == referral_id,
            AgendaItem.status == AgendaStatus.PENDING.value,
        )
        .values(status=status.value)
        .execution_options(synchronize_session="fetch")
    )


def close_items_left_on_agenda(session: Session, batch: list[DomainEvent]) -> None:
    """Outbox subscriber: a referral sent back or withdrawn leaves the agenda it was waiting on.

    Installed by the app factory; this covers doing so from the referral's own page.
    """
    for domain_event in batch:
        if isinstance(domain_event, CompletionRequested):
            close_pending_items(session, domain_event.referral_id, AgendaStatus.SENT_BACK)
        elif isinstance(domain_event, ReferralWithdrawn):
            close_pending_items(session, domain_event.referral_id, AgendaStatus.WITHDRAWN)


# --- the decision ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionInput:
    """What the chair records for one referral."""

    outcome: str | None
    recommendation: str
    positions: dict[str, str]
    coordinator_id: int | None = None
    complexity_weight: int | None = None
    over_capacity_reason: str = ""


def decision_errors(
    conference: Conference, referral: Referral, data: DecisionInput
) -> dict[str, list[str]]:
    """Return every rule the decision violates, by field; empty when it may be recorded."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    present = conference.present_agencies
    if not present:
        add("attendance", _("Registrera vilka ledamöter som är närvarande innan ni beslutar."))
    else:
        missing = quorum_missing(
            referral.agencies_needed or [],
            present,
            all_named_required=conference.programme.quorum_all_named_agencies,
        )
        if missing:
            add(
                "attendance",
                _(
                    "Remissgruppen är inte beslutsför: alla myndigheter som remissen gäller ska "
                    "vara företrädda. Saknas: %(names)s.",
                    names=", ".join(label("agency", a) for a in sorted(missing)),
                ),
            )
    for agency in sorted(present):
        if not (data.positions.get(agency) or "").strip():
            add(
                f"position_{agency}",
                _("Skriv %(agency)s ställningstagande.", agency=label("agency", agency)),
            )
    for agency in sorted(set(data.positions) - present):
        if (data.positions.get(agency) or "").strip():
            add(
                f"position_{agency}",
                _(
                    "%(agency)s är inte företrädd på mötet och kan inte ta ställning.",
                    agency=label("agency", agency),
                ),
            )
    if data.outcome not in {o.value for o in Outcome}:
        add("outcome", _("Välj beslut: skrivs in i insatsen eller gemensam rekommendation."))
    if not (data.recommendation or "").strip():
        add(
            "recommendation",
            _(
                "Skriv remissgruppens gemensamma rekommendation med råd om fortsatt planering. "
                "Den krävs vid båda besluten."
            ),
        )
    if data.outcome == Outcome.ADMIT.value:
        coordinator = db.session.get(User, data.coordinator_id) if data.coordinator_id else None
        if not case_ops.is_coordinator(coordinator):
            add("coordinator_id", _("Välj koordinator för deltagandet."))
        if data.complexity_weight not in (1, 2, 3):
            add("complexity_weight", _("Välj komplexitet 1, 2 eller 3."))
        elif case_ops.is_coordinator(coordinator) and not data.over_capacity_reason.strip():
            # Checked again under the lock when the case opens; here so all errors come at once.
            problem = case_ops.capacity_problem(
                coordinator, data.complexity_weight, referral.programme_id
            )
            if problem:
                add("over_capacity_reason", problem)
    elif data.outcome == Outcome.RECOMMEND.value:
        if data.coordinator_id is not None:
            add("coordinator_id", _("Koordinator utses bara när personen skrivs in."))
        if data.complexity_weight is not None:
            add("complexity_weight", _("Komplexitet anges bara när personen skrivs in."))
    return errors


def decide(
    referral_id: int,
    *,
    conference: Conference,
    by,
    data: DecisionInput,
    now: datetime | None = None,
) -> Decision:
    """Record the conference's one decision on a referral; the loser of a race gets 409."""
    now = now or utcnow()
    # The row lock makes a second, simultaneous decision wait here and then see the first one.
    referral = referral_ops.get_referral(referral_id, lock=True)
    if referral.state == ReferralState.DECIDED.value:
        earlier = db.session.get(Decision, referral.decision_id)
        raise Conflict(
            _(
                "Remissen är redan beslutad (%(when)s). Ditt beslut sparades inte. "
                "Ladda om sidan för att se beslutet.",
                when=earlier.decided_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M"),
            ),
            payload={"decision_id": earlier.id, "referral_id": referral.id},
        )
    next_state(conference.state, ConferenceAction.DECIDE)
    item = pending_item(conference, referral.id)
    if item is None:
        raise Conflict(
            _("Remissen väntar inte på beslut på det här mötet."),
            payload={"referral_id": referral.id, "state": referral.state},
        )
    referral_next_state(referral.state, ReferralAction.DECIDE)
    errors = decision_errors(conference, referral, data)
    if errors:
        raise ValidationFailed(
            _("Beslutet kunde inte sparas. Rätta felen nedan."),
            errors=errors,
            payload={"referral_id": referral.id},
        )
    admit = data.outcome == Outcome.ADMIT.value
    decision = Decision(
        conference_id=conference.id,
        outcome=data.outcome,
        recommendation=data.recommendation.strip(),
        agencies=sorted(conference.present_agencies),
        coordinator_id=data.coordinator_id if admit else None,
        complexity_weight=data.complexity_weight if admit else None,
        decided_by_id=by.id,
        decided_at=now,
    )
    for agency in sorted(conference.present_agencies):
        decision.positions.append(
            AgencyPosition(agency=agency, stance=data.positions[agency].strip())
        )
    db.session.add(decision)
    db.session.flush()
    referral.decision_id = decision.id
    _move_referral(
        referral,
        ReferralAction.DECIDE,
        by,
        label("outcome", data.outcome),
    )
    item.status = AgendaStatus.DECIDED.value
    db.session.flush()
    case = None
    if admit:
        case = case_ops.admit(
            referral,
            coordinator=db.session.get(User, data.coordinator_id),
            complexity_weight=data.complexity_weight,
            over_capacity_reason=data.over_capacity_reason.strip(),
            by=by,
            now=now,
        )
    events.record(
        db.session,
        ReferralDecided(
            referral_id=referral.id,
            decision_id=decision.id,
            conference_id=conference.id,
            programme_id=referral.programme_id,
            outcome=decision.outcome,
            referrer_id=referral.referrer_id,
            coordinator_id=decision.coordinator_id if case and case.active_assignment else None,
            case_id=case.id if case else None,
            occurred_at=now,
        ),
    )
    return decision


def case_for(referral_id: int):
    """Return the case opened for a referral, if any."""
    return db.session.scalar(select(Case).where(Case.referral_id == referral_id))


# --- the funnel ------------------------------------------------------------------------------


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    low = datetime.combine(start, time(0), tzinfo=STOCKHOLM).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time(0), tzinfo=STOCKHOLM).astimezone(UTC)
    return low, high


def funnel(
    start: date,
    end: date,
    *,
    programme_id: int | None = None,
    calendar: WorkingCalendar | None = None,
) -> Funnel:
    """Return the referral funnel of a period (local dates, both ends included)."""
    calendar = calendar or working_calendar()
    low, high = _utc_bounds(start, end)

    def in_programme(query):
        return query.where(Referral.programme_id == programme_id) if programme_id else query

    received = db.session.scalar(
        in_programme(
            select(func.count())
            .select_from(Referral)
            .where(Referral.referral_date >= start, Referral.referral_date <= end)
        )
    )
    decided_rows = db.session.execute(
        in_programme(
            select(Decision.outcome, Decision.recommendation, Decision.decided_at, Referral)
            .join(Referral, Referral.decision_id == Decision.id)
            .where(Decision.decided_at >= low, Decision.decided_at < high)
        )
    ).all()
    withdrawn = db.session.scalar(
        in_programme(
            select(func.count(func.distinct(ReferralHistory.referral_id)))
            .select_from(ReferralHistory)
            .join(Referral, Referral.id == ReferralHistory.referral_id)
            .where(
                ReferralHistory.action == ReferralAction.WITHDRAW.value,
                ReferralHistory.from_state != ReferralState.DRAFT.value,
                ReferralHistory.at >= low,
                ReferralHistory.at < high,
            )
        )
    )
    pairs = [
        (referral.referral_date or local_today(referral.submitted_at), local_today(decided_at))
        for _o, _r, decided_at, referral in decided_rows
    ]
    return Funnel(
        received=received,
        decided=len(decided_rows),
        admitted=sum(1 for row in decided_rows if row[0] == Outcome.ADMIT.value),
        recommended=sum(1 for row in decided_rows if row[0] == Outcome.RECOMMEND.value),
        withdrawn=withdrawn,
        median_working_days=median_working_days(pairs, calendar),
        with_recommendation=sum(1 for row in decided_rows if (row[1] or "").strip()),
    )

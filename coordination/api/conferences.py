"""The conference endpoints of the API: schedule, agenda, publish, attendance and the decision."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from sqlalchemy import select

from coordination.api import bp
from coordination.api.catalogue import paginated
from coordination.api.registry import endpoint, json_body
from coordination.audit.operations import log_access
from coordination.auth.models import User
from coordination.conferences import agenda as agenda_ops
from coordination.conferences import decisions as decision_ops
from coordination.conferences import operations as ops
from coordination.conferences import permissions as perms
from coordination.conferences import queries
from coordination.conferences.models import Conference, Decision
from coordination.conferences.schemas import (
    AgendaAddSchema,
    AttendanceSchema,
    ConferenceCreateSchema,
    ConferenceDumpSchema,
    DecisionDumpSchema,
    DecisionLoadSchema,
)
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import STOCKHOLM
from coordination.core.permissions import get_visible, require, require_visible
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.referrals import operations as referral_ops
from coordination.referrals import permissions as referral_perms
from coordination.referrals.models import Referral
from workflows.organisation import Role

VIEWERS = (Role.TEAM_LEAD, Role.CONFERENCE_MEMBER)
STAFF = (Role.REFERRER, Role.TEAM_LEAD, Role.CONFERENCE_MEMBER, Role.COORDINATOR)


def dump_conference(conference: Conference) -> dict:
    """Return the conference as JSON; the agenda only for those who may see it."""
    data = ConferenceDumpSchema(exclude=("agenda",)).dump(conference)
    if not perms.can_see_agenda(current_user, conference):
        data["agenda"] = []
        return data
    decisions = {
        r.id: r.decision_id
        for r in db.session.scalars(
            select(Referral).where(Referral.id.in_([i.referral_id for i in conference.agenda]))
        )
    }
    outcomes = dict(
        db.session.execute(
            select(Decision.id, Decision.outcome).where(
                Decision.id.in_([d for d in decisions.values() if d])
            )
        ).all()
    )
    data["agenda"] = [
        {
            "number": item.number,
            "referral_id": item.referral_id,
            "status": item.status,
            "origin": item.origin,
            "added_at": item.added_at.isoformat(),
            "outcome": outcomes.get(decisions.get(item.referral_id))
            if item.status == "decided"
            else None,
        }
        for item in conference.agenda
    ]
    return data


def dump_decision(decision: Decision, referral: Referral) -> dict:
    """Return a decision as JSON, with the case it opened."""
    case = queries.case_for(referral.id)
    data = DecisionDumpSchema().dump(decision)
    data.update(
        referral_id=referral.id,
        case_id=case.id if case else None,
        case_state=case.state if case else None,
    )
    return data


def load_conference(conference_id: int, *, lock: bool = False, read: bool = False) -> Conference:
    """Load a conference the caller may see, else 404."""
    return get_visible(
        Conference, conference_id, perms.can_view, lock=lock, read="conference" if read else None
    )


def _members_from_ids(member_ids: list[int], chair_id: int | None):
    errors: dict[str, list[str]] = {}
    members: dict[str, User] = {}
    for user_id in member_ids:
        user = db.session.get(User, user_id)
        kinds = sorted(
            {
                m.unit.agency_kind
                for m in (user.memberships if user else [])
                if m.role == Role.CONFERENCE_MEMBER.value
            }
        )
        if len(kinds) != 1:
            errors.setdefault("member_ids", []).append(
                f"User {user_id} is not a conference member of exactly one agency kind."
            )
        elif kinds[0] in members:
            errors.setdefault("member_ids", []).append(
                f"Two members for the agency kind {kinds[0]}; one representative per agency kind."
            )
        else:
            members[kinds[0]] = user
    chair = db.session.get(User, chair_id) if chair_id else current_user._get_current_object()
    if chair_id and chair is None:
        errors["chair_id"] = ["No user with this id."]
    if errors:
        raise ValidationFailed("The conference could not be scheduled.", errors=errors)
    return members, chair


@endpoint(
    bp,
    "POST",
    "/conferences",
    "Schedule a conference (members: one per agency kind; the chair is a team lead)",
    body=ConferenceCreateSchema,
    response=ConferenceDumpSchema,
    roles=(Role.TEAM_LEAD,),
    status=201,
)
def create_conference():
    """Schedule a conference by hand."""
    data = ConferenceCreateSchema().load(json_body())
    programme = db.session.get(Programme, data["programme_id"])
    members, chair = _members_from_ids(data["member_ids"], data.get("chair_id"))
    local = data["starts_at"].astimezone(STOCKHOLM)
    conference = ops.create_conference(
        programme=programme,
        held_on=local.date(),
        at=local.time().replace(tzinfo=None),
        place=data.get("place"),
        video_link=data.get("video_link"),
        members=members,
        chair=chair,
        by=current_user,
    )
    log_access("conference", conference.id, action="create")
    db.session.commit()
    return jsonify(dump_conference(conference)), 201


@endpoint(
    bp,
    "GET",
    "/conferences",
    "Conferences visible to the caller (team leads: all; members: their own)",
    response=ConferenceDumpSchema,
    many=True,
    roles=VIEWERS,
)
def list_conferences():
    """List the conferences the caller may see, by date."""
    response = paginated(
        perms.visible_query(current_user), ConferenceDumpSchema, Conference.starts_at
    )
    payload = response.get_json()
    for item in payload["items"]:
        item["agenda"] = []  # read one conference for its agenda
    return jsonify(payload)


@endpoint(
    bp,
    "GET",
    "/conferences/<int:conference_id>",
    "Read a conference with its members and agenda",
    response=ConferenceDumpSchema,
    roles=VIEWERS,
)
def get_conference(conference_id: int):
    """Read a conference."""
    conference = load_conference(conference_id, read=True)
    db.session.commit()
    return jsonify(dump_conference(conference))


@endpoint(
    bp,
    "POST",
    "/conferences/<int:conference_id>/agenda",
    "Put a submitted referral on the agenda",
    body=AgendaAddSchema,
    response=ConferenceDumpSchema,
    roles=(Role.TEAM_LEAD,),
    status=201,
)
def add_to_conference_agenda(conference_id: int):
    """Put a referral on the agenda by hand."""
    conference = load_conference(conference_id, lock=True)
    require(perms.can_manage(current_user, conference))
    data = AgendaAddSchema().load(json_body())
    referral = get_visible(Referral, data["referral_id"], referral_perms.can_view)
    referral = referral_ops.get_referral(referral.id, lock=True)
    agenda_ops.add_to_agenda(conference, referral, by=current_user)
    log_access("referral", referral.id, action="update", person_id=referral.person_id)
    db.session.commit()
    return jsonify(dump_conference(conference)), 201


@endpoint(
    bp,
    "POST",
    "/conferences/<int:conference_id>/publish",
    "Publish the agenda: members may read its referrals and are reminded to prepare",
    response=ConferenceDumpSchema,
    roles=(Role.TEAM_LEAD,),
)
def publish_conference_agenda(conference_id: int):
    """Publish the agenda."""
    conference = load_conference(conference_id, lock=True)
    require(perms.can_manage(current_user, conference))
    agenda_ops.publish(conference, by=current_user)
    log_access("conference", conference.id, action="update")
    db.session.commit()
    return jsonify(dump_conference(conference))


@endpoint(
    bp,
    "PUT",
    "/conferences/<int:conference_id>/attendance",
    "Record which members are present",
    body=AttendanceSchema,
    response=ConferenceDumpSchema,
    roles=(Role.TEAM_LEAD,),
)
def record_conference_attendance(conference_id: int):
    """Record attendance."""
    conference = load_conference(conference_id, lock=True)
    require(perms.can_chair(current_user, conference))
    data = AttendanceSchema().load(json_body())
    ops.record_attendance(conference, present_user_ids=data["present_user_ids"], by=current_user)
    log_access("conference", conference.id, action="update")
    db.session.commit()
    return jsonify(dump_conference(conference))


@endpoint(
    bp,
    "POST",
    "/referrals/<int:referral_id>/decision",
    "Record the conference's one decision (admit or recommend, with the joint recommendation)",
    body=DecisionLoadSchema,
    response=DecisionDumpSchema,
    roles=(Role.TEAM_LEAD,),
    status=201,
)
def decide_referral(referral_id: int):
    """Record the decision on a referral."""
    referral = get_visible(Referral, referral_id, referral_perms.can_view)
    data = DecisionLoadSchema().load(json_body())
    conference = db.session.get(Conference, data["conference_id"])
    if conference is None or not perms.can_view(current_user, conference):
        raise ValidationFailed(
            "The decision could not be recorded.",
            errors={"conference_id": ["No conference with this id."]},
        )
    require(perms.can_chair(current_user, conference))
    positions: dict[str, str] = {}
    for entry in data["positions"]:
        if entry["agency"] in positions:
            raise ValidationFailed(
                "The decision could not be recorded.",
                errors={"positions": [f"Two positions for {entry['agency']}."]},
            )
        positions[entry["agency"]] = entry["position"]
    try:
        decision = decision_ops.decide(
            referral.id,
            conference=conference,
            by=current_user,
            data=decision_ops.DecisionInput(
                outcome=data["outcome"],
                recommendation=data["recommendation"],
                positions=positions,
                coordinator_id=data["coordinator_id"],
                complexity_weight=data["complexity_weight"],
                over_capacity_reason=data["over_capacity_reason"],
            ),
        )
    except ValidationFailed as exc:
        errors: dict[str, list[str]] = {}
        for field, messages in exc.errors.items():
            key = "positions" if field.startswith("position_") else field
            errors.setdefault(key, []).extend(messages)
        exc.errors = errors
        raise
    log_access("referral", referral.id, action="decide", person_id=referral.person_id)
    db.session.commit()
    return jsonify(dump_decision(decision, referral)), 201


@endpoint(
    bp,
    "GET",
    "/referrals/<int:referral_id>/decision",
    "Read the decision and the written joint recommendation on a referral",
    response=DecisionDumpSchema,
    roles=STAFF,
)
def get_referral_decision(referral_id: int):
    """Read the decision on a referral the caller may see."""
    referral = get_visible(Referral, referral_id, referral_perms.can_view)
    require_visible(referral.decision_id is not None)
    decision = db.session.get(Decision, referral.decision_id)
    log_access("decision", decision.id, action="read", person_id=referral.person_id)
    db.session.commit()
    return jsonify(dump_decision(decision, referral))

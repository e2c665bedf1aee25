"""The exit endpoints of the API: the exit, the return referral, packets and follow-ups."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from coordination.api import bp
from coordination.api.catalogue import page_of
from coordination.api.registry import endpoint, json_body, page_args
from coordination.audit.operations import log_access
from coordination.core.i18n import local_today
from coordination.core.permissions import require
from coordination.exits import documents, queries
from coordination.exits import operations as ops
from coordination.exits import packets as packet_ops
from coordination.exits import permissions as perms
from coordination.exits import return_referrals as return_referral_ops
from coordination.exits.models import FollowUp, Packet
from coordination.exits.schemas import (
    ExitDumpSchema,
    ExitLoadSchema,
    FollowUpDumpSchema,
    FollowUpLoadSchema,
    OutcomesLoadSchema,
    PacketDumpSchema,
    ReturnReferralDumpSchema,
    ReturnReferralUpdateSchema,
)
from coordination.extensions import db
from workflows.organisation import Role
from workflows.return_referral import ReturnReferralAction, next_state

STAFF = (Role.REFERRER, Role.COORDINATOR, Role.TEAM_LEAD)
MANAGERS = (Role.COORDINATOR, Role.TEAM_LEAD)


def _follow_up_data(follow_up: FollowUp) -> dict:
    registration = queries.follow_up_registration(follow_up)
    return FollowUpDumpSchema().dump(
        {
            "id": follow_up.id,
            "case_id": follow_up.case_id,
            "occasion": follow_up.occasion,
            "due_on": follow_up.due_on,
            "assignee_id": follow_up.assignee_id,
            "registered_at": follow_up.registered_at,
            "support": registration.support_codes if registration else [],
            "occupation": registration.occupation if registration else None,
            "work": registration.work if registration else None,
        }
    )


def _pdf(pdf: bytes, filename: str):
    response = current_app.response_class(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@endpoint(
    bp,
    "POST",
    "/cases/<int:case_id>/exit",
    "Register the exit: the case moves to exiting, SUS gets the exit, the return referral a draft",
    body=ExitLoadSchema,
    response=ExitDumpSchema,
    roles=MANAGERS,
    status=201,
)
def exit_case(case_id: int):
    """Register (or, while the return referral is a draft, correct) a case's exit."""
    case = perms.load_case(case_id)
    data = ExitLoadSchema().load(json_body())
    registration = ops.register_exit(case, data=data, by=current_user)
    log_access("case", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    follow_ups = db.session.scalars(
        select(FollowUp).where(FollowUp.case_id == case.id).order_by(FollowUp.due_on)
    )
    body = ExitDumpSchema().dump(
        {
            "case_id": case.id,
            "case_state": case.state,
            "exit_reason": registration.exit_reason,
            "support_at_exit": registration.support_at_exit,
            "occupation_at_exit": registration.occupation_at_exit,
            "work_at_exit": registration.work_at_exit,
            "exited_on": registration.exited_on,
            "return_referral_id": queries.return_referral_of(case.id).id,
            "follow_ups": [],
        }
    )
    body["follow_ups"] = [_follow_up_data(f) for f in follow_ups]
    return jsonify(body), 201


@endpoint(
    bp,
    "GET",
    "/return-referrals/<int:return_referral_id>",
    "Read a return referral: the same content as its PDF, and its packet",
    response=ReturnReferralDumpSchema,
    roles=STAFF,
)
def get_return_referral(return_referral_id: int):
    """Read a return referral."""
    document = perms.load_return_referral(return_referral_id, read=True)
    data = ReturnReferralDumpSchema().dump(documents.return_referral_data(document, current_user))
    db.session.commit()
    return jsonify(data)


@endpoint(
    bp,
    "GET",
    "/return-referrals/<int:return_referral_id>.pdf",
    "The return referral as an accessible PDF (application/pdf)",
    roles=STAFF,
)
def return_referral_pdf(return_referral_id: int):
    """The return referral as a tagged PDF (logged as a print)."""
    document = perms.load_return_referral(return_referral_id)
    pdf = documents.pdf_of(documents.return_referral_context(current_user, document))
    log_access("return_referral", document.id, action="print", person_id=document.case.person_id)
    db.session.commit()
    return _pdf(pdf, f"aterremiss-{document.id}.pdf")


@endpoint(
    bp,
    "PUT",
    "/return-referrals/<int:return_referral_id>",
    "Complete a drafted return referral (sections; recommendations replace the old ones)",
    body=ReturnReferralUpdateSchema,
    response=ReturnReferralDumpSchema,
    roles=MANAGERS,
)
def update_return_referral(return_referral_id: int):
    """Save sections and recommendations of a draft; a finalised one answers 409."""
    document = perms.load_return_referral(return_referral_id, lock=True)
    require(perms.can_exit(current_user, document.case))
    data = ReturnReferralUpdateSchema().load(json_body())
    return_referral_ops.ensure_not_stale(document, data.pop("version", None))
    return_referral_ops.update_draft(document, data=data, by=current_user)
    log_access("return_referral", document.id, action="update", person_id=document.case.person_id)
    db.session.commit()
    return jsonify(
        ReturnReferralDumpSchema().dump(documents.return_referral_data(document, current_user))
    )


@endpoint(
    bp,
    "POST",
    "/return-referrals/<int:return_referral_id>/finalise",
    "Sign the return referral: locked, the case closed, the packet delivered to the referrer",
    response=ReturnReferralDumpSchema,
    roles=(Role.COORDINATOR,),
)
def finalise_return_referral(return_referral_id: int):
    """Finalise (lock and sign) a return referral; only the assigned coordinator may."""
    document = perms.load_return_referral(return_referral_id, lock=True)
    require(perms.is_assigned_coordinator(current_user, document.case))
    return_referral_ops.finalise(document, by=current_user)
    log_access("return_referral", document.id, action="update", person_id=document.case.person_id)
    db.session.commit()
    return jsonify(
        ReturnReferralDumpSchema().dump(documents.return_referral_data(document, current_user))
    )


@endpoint(
    bp,
    "POST",
    "/return-referrals/<int:return_referral_id>/acknowledge",
    "Acknowledge receipt of a delivered return referral (its packet)",
    response=PacketDumpSchema,
    roles=STAFF,
)
def acknowledge_return_referral(return_referral_id: int):
    """Acknowledge the packet of a return referral."""
    document = perms.load_return_referral(return_referral_id)
    if document.packet is None:
        next_state(document.state, ReturnReferralAction.ACKNOWLEDGE)  # not delivered yet: 409
    return _acknowledge(document.packet.id)


def _acknowledge(packet_id: int):
    packet = perms.load_packet(packet_id, lock=True)
    require(perms.speaks_for_recipient(current_user, packet))
    packet_ops.acknowledge(packet, by=current_user)
    log_access("packet", packet.id, action="update", person_id=packet.person_id)
    db.session.commit()
    return jsonify(PacketDumpSchema().dump(documents.packet_data(packet, current_user)))


@endpoint(
    bp,
    "GET",
    "/packets",
    "Packets addressed to the caller (or the caller's unit as team lead), newest first",
    response=PacketDumpSchema,
    many=True,
    roles=STAFF,
)
def list_packets():
    """List the packets the caller answers for; `?open=true` only unacknowledged ones."""
    query = perms.readable_packets_query(current_user, local_today())
    if request.args.get("open") in ("true", "1"):
        query = query.where(Packet.acknowledged_at.is_(None))
    rows, total = page_of(
        query,
        Packet.delivered_at.desc(),
        Packet.id.desc(),
        options=(selectinload(Packet.unit), selectinload(Packet.case)),
    )
    items = [PacketDumpSchema().dump(documents.packet_data(p, current_user)) for p in rows]
    for packet in rows:
        log_access("packet", packet.id, action="list", person_id=packet.person_id)
    db.session.commit()
    return jsonify({"items": items, "total": total})


@endpoint(
    bp,
    "GET",
    "/packets/<int:packet_id>",
    "Read a packet (a return referral or a joint recommendation) with its reminders",
    response=PacketDumpSchema,
    roles=STAFF,
)
def get_packet(packet_id: int):
    """Read a packet."""
    packet = perms.load_packet(packet_id, read=True)
    data = PacketDumpSchema().dump(documents.packet_data(packet, current_user))
    db.session.commit()
    return jsonify(data)


@endpoint(
    bp,
    "GET",
    "/packets/<int:packet_id>.pdf",
    "The packet's document as an accessible PDF (application/pdf)",
    roles=STAFF,
)
def packet_pdf(packet_id: int):
    """The packet's document as a tagged PDF (logged as a print)."""
    packet = perms.load_packet(packet_id)
    pdf = documents.pdf_of(documents.packet_context(current_user, packet))
    log_access("packet", packet.id, action="print", person_id=packet.person_id)
    db.session.commit()
    return _pdf(pdf, f"paket-{packet.id}.pdf")


@endpoint(
    bp,
    "POST",
    "/packets/<int:packet_id>/acknowledge",
    "Acknowledge receipt of a packet; its reminders stop",
    response=PacketDumpSchema,
    roles=STAFF,
)
def acknowledge_packet(packet_id: int):
    """Acknowledge a packet (a return referral or a joint recommendation)."""
    return _acknowledge(packet_id)


@endpoint(
    bp,
    "POST",
    "/packets/<int:packet_id>/outcomes",
    "Record what became of recommendations: [{number, status, note}]",
    body=OutcomesLoadSchema,
    response=PacketDumpSchema,
    roles=STAFF,
)
def record_outcomes(packet_id: int):
    """Record the referrer's follow-up of a packet's recommendations."""
    packet = perms.load_packet(packet_id, lock=True)
    require(perms.speaks_for_recipient(current_user, packet))
    data = OutcomesLoadSchema().load(json_body())
    packet_ops.record_outcomes(packet, outcomes=data["outcomes"], by=current_user)
    log_access("packet", packet.id, action="update", person_id=packet.person_id)
    db.session.commit()
    return jsonify(PacketDumpSchema().dump(documents.packet_data(packet, current_user)))


@endpoint(
    bp,
    "GET",
    "/follow-ups",
    "Open follow-ups after exit: the caller's, or every one for a team lead",
    response=FollowUpDumpSchema,
    many=True,
    roles=MANAGERS,
)
def list_follow_ups():
    """List open follow-ups, soonest first."""
    page, per_page = page_args()
    query = select(FollowUp).where(FollowUp.registered_at.is_(None))
    if not perms.is_team_lead(current_user):
        query = query.where(FollowUp.assignee_id == current_user.id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(FollowUp.due_on, FollowUp.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return jsonify({"items": [_follow_up_data(f) for f in rows], "total": total})


@endpoint(
    bp,
    "POST",
    "/follow-ups/<int:follow_up_id>",
    "Register means of support, occupation and work at a follow-up (from its due day on)",
    body=FollowUpLoadSchema,
    response=FollowUpDumpSchema,
    roles=MANAGERS,
)
def register_follow_up(follow_up_id: int):
    """Register a follow-up 6 or 12 months after the exit."""
    follow_up = perms.load_follow_up(follow_up_id)
    data = FollowUpLoadSchema().load(json_body())
    ops.register_follow_up(follow_up, data=data, by=current_user)
    log_access("follow_up", follow_up.id, action="update", person_id=follow_up.case.person_id)
    db.session.commit()
    return jsonify(_follow_up_data(follow_up))

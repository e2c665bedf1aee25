"""The exits domain's part of the register extract and of retention (gallring)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from coordination.audit.extract import section
from coordination.cases.models import Case
from coordination.exits.models import ExitRegistration, FollowUp, Packet, ReturnReferral
from coordination.extensions import db
from coordination.people.retention import eraser, last_activity, still_open


def _case_ids(person_id: int) -> list[int]:
    return list(db.session.scalars(select(Case.id).where(Case.person_id == person_id)))


def _iso(value):
    return value.isoformat() if value is not None else None


def _exits(person_id: int) -> list[dict]:
    case_ids = _case_ids(person_id)
    rows: list[dict] = []
    for registration in db.session.scalars(
        select(ExitRegistration).where(ExitRegistration.case_id.in_(case_ids))
    ):
        rows.append(
            {
                "record": "exit",
                "case_id": registration.case_id,
                "exit_reason": registration.exit_reason,
                "support_at_exit": list(registration.support_at_exit),
                "occupation_at_exit": registration.occupation_at_exit,
                "work_at_exit": registration.work_at_exit,
                "exited_on": _iso(registration.exited_on),
            }
        )
    for document in db.session.scalars(
        select(ReturnReferral).where(ReturnReferral.case_id.in_(case_ids))
    ):
        rows.append(
            {
                "record": "return_referral",
                "id": document.id,
                "case_id": document.case_id,
                "state": document.state,
                "sections": (document.content or {}).get("sections"),
                "recommendations": (document.content or {}).get("recommendations"),
                "signed_at": _iso(document.signed_at),
            }
        )
    for packet in db.session.scalars(
        select(Packet).where(or_(Packet.person_id == person_id, Packet.case_id.in_(case_ids)))
    ):
        rows.append(
            {
                "record": "packet",
                "id": packet.id,
                "kind": packet.kind,
                "referral_id": packet.referral_id,
                "delivered_at": _iso(packet.delivered_at),
                "acknowledged_at": _iso(packet.acknowledged_at),
                "outcomes": [
                    {"number": o.number, "status": o.status, "note": o.note}
                    for o in packet.outcomes
                ],
            }
        )
    for follow_up in db.session.scalars(select(FollowUp).where(FollowUp.case_id.in_(case_ids))):
        rows.append(
            {
                "record": "follow_up",
                "case_id": follow_up.case_id,
                "occasion": follow_up.occasion,
                "due_on": _iso(follow_up.due_on),
                "registered_at": _iso(follow_up.registered_at),
            }
        )
    return rows


def _draft_open(person_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(func.count()).where(
                ReturnReferral.case_id.in_(_case_ids(person_id)), ReturnReferral.state == "draft"
            )
        )
    )


def _exit_activity(person_id: int) -> datetime | None:
    case_ids = _case_ids(person_id)
    times = [
        db.session.scalar(
            select(func.max(ExitRegistration.updated_at)).where(
                ExitRegistration.case_id.in_(case_ids)
            )
        ),
        db.session.scalar(
            select(func.max(ReturnReferral.updated_at)).where(ReturnReferral.case_id.in_(case_ids))
        ),
        db.session.scalar(
            select(func.max(func.coalesce(Packet.acknowledged_at, Packet.delivered_at))).where(
                or_(Packet.person_id == person_id, Packet.case_id.in_(case_ids))
            )
        ),
        db.session.scalar(
            select(func.max(FollowUp.registered_at)).where(FollowUp.case_id.in_(case_ids))
        ),
    ]
    found = [t for t in times if t is not None]
    return max(found) if found else None


def _erase_exits(person_id: int) -> None:
    """Delete the person's exit registrations, documents, packets and follow-ups."""
    case_ids = _case_ids(person_id)
    for packet in db.session.scalars(
        select(Packet).where(or_(Packet.person_id == person_id, Packet.case_id.in_(case_ids)))
    ):
        db.session.delete(packet)
    db.session.flush()
    for model in (ReturnReferral, ExitRegistration, FollowUp):
        for row in db.session.scalars(select(model).where(model.case_id.in_(case_ids))):
            db.session.delete(row)
    db.session.flush()


def register() -> None:
    """Add exits, return referrals and follow-ups to the register extract and to retention."""
    section(_l("Avslut, återremisser och uppföljning"), _exits)
    still_open(_draft_open)
    last_activity(_exit_activity)
    eraser(_erase_exits)

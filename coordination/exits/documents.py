"""A packet as its reader sees it: the same content as JSON, as a page and as an accessible PDF.

The stored content never holds the person's name; it is added here for the reader: the name for
the assigned coordinator (or anyone when the identity is not protected), otherwise the code. A
section of a kind of information the reader's consent does not cover is left out here, and the
reader is told so.
"""

from __future__ import annotations

from datetime import datetime

from flask import render_template, url_for

from coordination.core.db import utcnow
from coordination.documents import render_pdf
from coordination.exits import permissions as perms
from coordination.exits import queries
from coordination.exits.models import Packet, ReturnReferral
from coordination.organisations.calendar import working_calendar
from workflows.return_referral import PacketKind, reminder_schedule


def reminders_of(packet: Packet, now: datetime | None = None) -> list[dict]:
    """Return the packet's reminder schedule with each reminder's status at `now`."""
    now = now or utcnow()
    rows = []
    for reminder in reminder_schedule(packet.delivered_at, working_calendar()):
        if packet.acknowledged_at is not None and packet.acknowledged_at < reminder.due_at:
            status = "cancelled"
        elif reminder.due_at <= now:
            status = "sent"
        else:
            status = "scheduled"
        rows.append(
            {
                "level": reminder.level,
                "working_days": reminder.working_days,
                "due_at": reminder.due_at,
                "to": reminder.to.value,
                "status": status,
            }
        )
    return rows


def recommendations_with_outcomes(packet: Packet | None, recommendations: list[dict]) -> list:
    """Return the recommendations with what the referrer recorded for each."""
    rows = []
    for item in recommendations:
        outcome = packet.outcome_of(item["number"]) if packet is not None else None
        rows.append(
            {
                "number": item["number"],
                "agency": item.get("agency"),
                "text": item.get("text", ""),
                "outcome": {
                    "status": outcome.status,
                    "note": outcome.note,
                    "recorded_at": outcome.recorded_at,
                }
                if outcome
                else None,
            }
        )
    return rows


def _without(sections: dict, withheld: list[str]) -> dict:
    """Return the sections without those withheld from the reader."""
    return {name: text for name, text in sections.items() if name not in withheld}


def content_for(content: dict, withheld: list[str]) -> dict:
    """Return a document's content as the reader may see it (withheld sections left out)."""
    if not withheld or "sections" not in content:
        return content
    return {**content, "sections": _without(content.get("sections") or {}, withheld)}


def packet_data(packet: Packet, user, now: datetime | None = None) -> dict:
    """Return a packet as the API gives it to this user."""
    person = packet.person
    withheld = perms.withheld_sections(user, packet)
    return {
        "id": packet.id,
        "kind": packet.kind,
        "referral_id": packet.referral_id,
        "case_id": packet.case_id,
        "return_referral_id": packet.return_referral_id,
        "decision_id": packet.decision_id,
        "person": perms.person_label(user, person, packet.case),
        "protected_identity": bool(person and person.protected_identity),
        "recipient_id": packet.recipient_id,
        "unit_id": packet.unit_id,
        "delivered_at": packet.delivered_at,
        "acknowledged_at": packet.acknowledged_at,
        "acknowledged_by_id": packet.acknowledged_by_id,
        "content_hash": packet.content_hash,
        "content": content_for(packet.content or {}, withheld),
        "withheld_sections": withheld,
        "recommendations": recommendations_with_outcomes(packet, packet.recommendations),
        "reminders": reminders_of(packet, now),
        "pdf": url_for("api.packet_pdf", packet_id=packet.id),
    }


def return_referral_data(document: ReturnReferral, user, now: datetime | None = None) -> dict:
    """Return a return referral as the API gives it to this user."""
    person = document.case.person
    packet = document.packet
    withheld = perms.withheld_in_return_referral(user, document)
    return {
        "id": document.id,
        "case_id": document.case_id,
        "referral_id": document.referral_id,
        "state": document.state,
        "version": document.version,
        "person": perms.person_label(user, person, document.case),
        "protected_identity": bool(person.protected_identity),
        "sections": _without(queries.sections_of(document), withheld),
        "withheld_sections": withheld,
        "recommendations": recommendations_with_outcomes(
            packet, queries.recommendations_of(document)
        ),
        "facts": queries.facts_of(document),
        "signed_by_id": document.signed_by_id,
        "signed_at": document.signed_at,
        "content_hash": document.content_hash,
        "packet": packet_data(packet, user, now) if packet is not None else None,
        "pdf": url_for("api.return_referral_pdf", return_referral_id=document.id),
    }


def document_context(
    user,
    *,
    content: dict,
    person,
    case=None,
    packet: Packet | None = None,
    document: ReturnReferral | None = None,
    withheld: list[str] | None = None,
) -> dict:
    """Return what the page and the PDF templates need to show one document."""
    kind = content.get("kind") or PacketKind.RETURN_REFERRAL.value
    signed_at = content.get("signed_at")
    withheld = withheld or []
    content = content_for(content, withheld)
    return {
        "signed_at": datetime.fromisoformat(signed_at) if signed_at else None,
        "kind": kind,
        "content": content,
        "sections": content.get("sections") or {},
        "withheld": withheld,
        "facts": content.get("facts") or {},
        "recommendations": recommendations_with_outcomes(
            packet, list(content.get("recommendations") or [])
        ),
        "person_label": perms.person_label(user, person, case),
        "protected": bool(person is not None and person.protected_identity),
        "packet": packet,
        "document": document,
    }


def return_referral_context(user, document: ReturnReferral) -> dict:
    """Return the template context of a return referral (its packet's once delivered)."""
    content = dict(document.content or {})
    content.setdefault("kind", PacketKind.RETURN_REFERRAL.value)
    return document_context(
        user,
        content=content,
        person=document.case.person,
        case=document.case,
        packet=document.packet,
        document=document,
        withheld=perms.withheld_in_return_referral(user, document),
    )


def packet_context(user, packet: Packet) -> dict:
    """Return the template context of a packet."""
    return document_context(
        user,
        content=packet.content or {},
        person=packet.person,
        case=packet.case,
        packet=packet,
        document=packet.return_referral,
        withheld=perms.withheld_sections(user, packet),
    )


def pdf_of(context: dict) -> bytes:
    """Render a document as a tagged PDF with embedded fonts."""
    return render_pdf(render_template("exits/document_pdf.html", **context))

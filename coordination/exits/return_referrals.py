"""The only place that changes a return referral: its draft, editing and signing.

Finalising locks and signs the document, closes the case and delivers the packet to the referrer.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from coordination.cases.models import Case
from coordination.cases.operations import change_state, get_case
from coordination.core import events
from coordination.core.actor import Actor
from coordination.core.db import utcnow
from coordination.core.errors import Conflict, ValidationFailed
from coordination.exits.events import (
    CaseClosed,
    ReturnReferralFinalised,
)
from coordination.exits.facts import compile_facts, drafted_sections
from coordination.exits.models import (
    ReturnReferral,
)
from coordination.exits.packets import deliver_return_referral
from coordination.exits.queries import AGENCY_CODES, recommendations_of, sections_of
from coordination.extensions import db
from workflows.case import CaseAction
from workflows.case import next_state as case_next_state
from workflows.return_referral import (
    TEXT_SECTIONS,
    ReturnReferralAction,
    ReturnReferralState,
    content_hash,
    missing_sections,
    next_state,
)


def new_draft(case: Case, by: Actor | None, now: datetime) -> ReturnReferral:
    """Draft the case's return referral from its compiled facts."""
    facts = compile_facts(case)
    draft = ReturnReferral(
        case_id=case.id,
        referral_id=case.referral_id,
        state=ReturnReferralState.DRAFT.value,
        content={"sections": drafted_sections(facts), "recommendations": [], "facts": facts},
        created_at=now,
        updated_at=now,
        updated_by_id=getattr(by, "id", None),
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def refresh_facts(draft: ReturnReferral) -> None:
    """Compile the draft's facts again (the exit was corrected)."""
    content = dict(draft.content or {})
    content["facts"] = compile_facts(draft.case)
    draft.content = content


def _recommendation_errors(recommendations: list[dict]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(recommendations):
        if item.get("agency") not in AGENCY_CODES:
            errors.setdefault("recommendations", []).append(
                _("Rekommendation %(n)s: välj vilken myndighet den riktar sig till.", n=index + 1)
            )
        if not str(item.get("text") or "").strip():
            errors.setdefault("recommendations", []).append(
                _("Rekommendation %(n)s: skriv rekommendationen.", n=index + 1)
            )
    return errors


def ensure_not_stale(return_referral: ReturnReferral, version: int | None) -> None:
    """Refuse a change made on an outdated copy of the draft."""
    if version is not None and version != return_referral.version:
        raise Conflict(
            _("Återremissen har ändrats av någon annan sedan du öppnade den. Ladda om sidan.")
        )


def update_draft(
    return_referral: ReturnReferral, *, data: dict, by: Actor, now: datetime | None = None
) -> ReturnReferral:
    """Save the coordinator's sections and recommendations; a finalised document is refused."""
    now = now or utcnow()
    next_state(return_referral.state, ReturnReferralAction.EDIT)
    recommendations = data.get("recommendations")
    if recommendations is not None:
        errors = _recommendation_errors(recommendations)
        if errors:
            raise ValidationFailed(
                _("Återremissen kunde inte sparas. Rätta felen nedan."), errors=errors
            )
    content = dict(return_referral.content or {})
    sections = dict(content.get("sections") or {})
    for name in TEXT_SECTIONS:
        if name in data and data[name] is not None:
            sections[name] = str(data[name]).strip()
    content["sections"] = sections
    if recommendations is not None:
        content["recommendations"] = [
            {"number": n, "agency": r["agency"], "text": str(r["text"]).strip()}
            for n, r in enumerate(recommendations, start=1)
        ]
    content["facts"] = compile_facts(return_referral.case)
    return_referral.content = content
    return_referral.version += 1
    return_referral.updated_at = now
    return_referral.updated_by_id = getattr(by, "id", None)
    db.session.flush()
    return return_referral


def finalise_errors(return_referral: ReturnReferral) -> dict[str, list[str]]:
    """Return what the return referral lacks before it may be signed, by field."""
    messages = {
        "purpose": _("Beskriv syftet med insatsen."),
        "actions_taken": _("Beskriv vilka insatser som har gjorts."),
        "results": _("Beskriv resultaten."),
        "health_care_needs": _("Beskriv fortsatta vårdbehov i hälsoprofilen."),
        "health_how_met": _("Beskriv hur vårdbehoven kan tillgodoses."),
        "participant_comments": _(
            "Skriv deltagarens egna synpunkter (eller att deltagaren inte ville lämna några)."
        ),
        "recommendations": _("Skriv minst en rekommendation till en myndighet."),
    }
    missing = missing_sections(sections_of(return_referral), recommendations_of(return_referral))
    errors = {name: [messages[name]] for name in missing}
    for field, found in _recommendation_errors(recommendations_of(return_referral)).items():
        errors.setdefault(field, []).extend(found)
    return errors


def finalise(
    return_referral: ReturnReferral, *, by: Actor, now: datetime | None = None
) -> ReturnReferral:
    """Lock and sign the return referral, close the case and deliver the packet to the referrer.

    The caller passes the return referral locked (get_return_referral(..., lock=True)).
    """
    now = now or utcnow()
    target = next_state(return_referral.state, ReturnReferralAction.FINALISE)
    case = get_case(return_referral.case_id, lock=True)
    case_next_state(case.state, CaseAction.CLOSE)  # refused before the document is touched
    errors = finalise_errors(return_referral)
    if errors:
        raise ValidationFailed(
            _("Återremissen kan inte undertecknas ännu. Komplettera det som saknas."),
            errors=errors,
        )
    content = dict(return_referral.content or {})
    content["facts"] = compile_facts(case)
    content["signed_by"] = {"id": by.id, "name": by.name}
    content["signed_at"] = now.isoformat()
    return_referral.content = content
    return_referral.content_hash = content_hash(content)
    return_referral.signed_by_id = by.id
    return_referral.signed_at = now
    return_referral.state = target.value
    return_referral.version += 1
    return_referral.updated_at = now
    change_state(
        case,
        CaseAction.CLOSE,
        by=by,
        reason=_("Återremissen är undertecknad och skickad till remittenten."),
        now=now,
    )
    db.session.flush()
    events.record(
        db.session,
        ReturnReferralFinalised(
            return_referral_id=return_referral.id,
            case_id=case.id,
            signed_by_id=by.id,
            occurred_at=now,
        ),
    )
    events.record(
        db.session, CaseClosed(case_id=case.id, programme_id=case.programme_id, occurred_at=now)
    )
    deliver_return_referral(return_referral, now=now)
    return return_referral

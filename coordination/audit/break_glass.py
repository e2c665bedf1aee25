"""Break-glass: a team lead opens an object they may not normally see, with a stated reason.

The grant lasts 30 minutes for that one object; every access under it is flagged in the log with
the reason, and the review shows it.
"""

from __future__ import annotations

import time

from flask import g, session
from flask_babel import gettext as _

from coordination.audit.operations import log_access
from coordination.core.errors import ValidationFailed

GRANT_SECONDS = 30 * 60
KINDS = ("referral", "case")


def _key(object_type: str, object_id) -> str:
    return f"{object_type}:{object_id}"


def grant(user, object_type: str, object_id: int, reason: str) -> None:
    """Open one object for 30 minutes; the reason is required."""
    errors = {}
    if object_type not in KINDS:
        errors["object_type"] = [_("Välj vad du behöver öppna.")]
    if not reason or len(reason.strip()) < 10:
        errors["reason"] = [_("Skriv varför du behöver nödåtkomst (minst 10 tecken).")]
    if errors:
        raise ValidationFailed(_("Nödåtkomsten kunde inte ges."), errors=errors)
    grants = dict(session.get("break_glass", {}))
    grants[_key(object_type, object_id)] = {"until": time.time() + GRANT_SECONDS, "reason": reason}
    session["break_glass"] = grants
    g.break_glass_reason = reason.strip()
    log_access(object_type, object_id, action="break_glass", user=user)


def active_reason(object_type: str, object_id) -> str | None:
    """Return the reason of a live grant for the object in this session, if any."""
    item = session.get("break_glass", {}).get(_key(object_type, object_id))
    if not item or item["until"] < time.time():
        return None
    return item["reason"]


def use(object_type: str, object_id) -> bool:
    """Let the request through under a live grant, flagging its log rows; False if none."""
    reason = active_reason(object_type, object_id)
    if reason is None:
        return False
    g.break_glass_reason = reason
    return True

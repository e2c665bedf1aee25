"""Who an inbox item is about, for the inbox page only (never for an email or an SMS).

An item's subject (a case, a referral, or a meeting, escalation, task or packet of one) leads to
its person. The reader sees the name where they may see the case or the referral and its
identity (`can_see_identity`); a protected person they may not see is shown by their code. Each
name shown is a read of the person and is logged as a list read, as the caseload does. A
constant number of statements for a page, whatever the number of items.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from coordination.audit.operations import log_access
from coordination.cases import permissions as case_perms
from coordination.cases.models import Case
from coordination.exits.models import Packet
from coordination.extensions import db
from coordination.meetings.models import Escalation, Meeting, Task
from coordination.referrals import permissions as referral_perms
from coordination.referrals.models import Referral
from notifications.models import Notification

# The subjects that belong to one case: their table and its case column.
CASE_PARTS: dict[str, tuple[Any, Any]] = {
    "meeting": (Meeting, Meeting.case_id),
    "escalation": (Escalation, Escalation.case_id),
    "task": (Task, Task.case_id),
}


@dataclass(frozen=True)
class Who:
    """What the inbox shows of the person an item is about."""

    text: str
    protected: bool


def _case_ids(items: list[Notification]) -> dict[int, int]:
    """Map each item about a case (directly or through a part of it) to the case's id."""
    found: dict[int, int] = {
        i.id: i.subject_id for i in items if i.subject_type == "case" and i.subject_id
    }
    for subject, (model, column) in CASE_PARTS.items():
        ids = {i.subject_id for i in items if i.subject_type == subject and i.subject_id}
        if not ids:
            continue
        cases: dict[int, int] = dict(
            db.session.execute(select(model.id, column).where(model.id.in_(ids))).all()
        )
        for i in items:
            case_id = cases.get(i.subject_id or 0)
            if i.subject_type == subject and case_id:
                found[i.id] = case_id
    return found


def _referral_ids(items: list[Notification], cased: dict[int, int]) -> dict[int, int]:
    """Map each item about a referral (or a packet on one, without a case) to the referral."""
    found: dict[int, int] = {
        i.id: i.subject_id for i in items if i.subject_type == "referral" and i.subject_id
    }
    packet_ids = {i.subject_id for i in items if i.subject_type == "packet" and i.subject_id}
    if packet_ids:
        packets = {
            pid: (case_id, referral_id)
            for pid, case_id, referral_id in db.session.execute(
                select(Packet.id, Packet.case_id, Packet.referral_id).where(
                    Packet.id.in_(packet_ids)
                )
            )
        }
        for i in items:
            if i.subject_type == "packet" and i.subject_id in packets:
                case_id, referral_id = packets[i.subject_id]
                if case_id:
                    cased[i.id] = case_id
                else:
                    found[i.id] = referral_id
    return found


def _case_names(user, case_ids: Iterable[int]) -> dict[int, tuple[Who, int]]:
    ids = set(case_ids)
    if not ids:
        return {}
    visible = case_perms.visible_case_ids(user)
    shown = ids if visible is None else ids & visible
    result: dict[int, tuple[Who, int]] = {}
    for case in db.session.scalars(
        select(Case).where(Case.id.in_(shown)).options(joinedload(Case.person))
    ):
        person = case.person
        if case_perms.can_see_identity(user, case):
            who = Who(f"{person.first_name} {person.last_name}".strip(), False)
        else:
            who = Who(person.code, True)
        result[case.id] = (who, person.id)
    return result


def _referral_names(user, referral_ids: Iterable[int]) -> dict[int, tuple[Who, int | None]]:
    ids = set(referral_ids)
    if not ids:
        return {}
    result: dict[int, tuple[Who, int | None]] = {}
    query = referral_perms.visible_query(user).where(Referral.id.in_(ids))
    for referral in db.session.scalars(query):
        if referral_perms.can_see_identity(user, referral):
            who = Who(referral.display_name, False)
        elif referral.person_id is not None:
            who = Who(f"P-{referral.person_id:06d}", True)
        else:
            who = Who(_("Skyddad identitet"), True)
        result[referral.id] = (who, referral.person_id)
    return result


def names_for(user, items: list[Notification]) -> dict[int, Who]:
    """Return, by item id, who each item on the page is about where the reader may see it, and
    log the reads of the people shown (the case or the referral, action "list")."""
    cased = _case_ids(items)
    referred = _referral_ids(items, cased)
    cases = _case_names(user, cased.values())
    referrals = _referral_names(user, referred.values())
    shown: dict[int, Who] = {}
    logged: set[tuple[str, int]] = set()
    for item_id, case_id in cased.items():
        if case_id in cases:
            shown[item_id], person_id = cases[case_id]
            if ("case", case_id) not in logged:
                logged.add(("case", case_id))
                log_access("case", case_id, action="list", person_id=person_id)
    for item_id, referral_id in referred.items():
        if referral_id in referrals:
            shown[item_id], ref_person = referrals[referral_id]
            if ("referral", referral_id) not in logged:
                logged.add(("referral", referral_id))
                log_access("referral", referral_id, action="list", person_id=ref_person)
    return shown

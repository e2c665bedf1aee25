"""The attendance-and-escalations report (../shared/DOMAIN.md §8, §12).

Meetings sit above statistics, so this report is built here over statistics' building blocks and
handed to the statistics registry when the app is created (coordination.app). Two grouped
queries: the registered attendances by status, and the escalations opened in the period by
outcome; Python only orders and labels the grouped rows.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from coordination.cases.models import Case
from coordination.extensions import db
from coordination.meetings.models import Attendance, Escalation, Meeting
from coordination.people.models import Person
from coordination.referrals.models import Referral
from coordination.statistics.reports import G_MEETINGS, Definition
from coordination.statistics.reports.base import (
    COLUMNS,
    Filters,
    Report,
    Row,
    counts_of,
    gender_counts,
    period_on_timestamp,
    zero_counts,
)
from workflows.meeting import AttendanceStatus

NAME = "attendance"
TITLE = _l("Närvaro och eskaleringar")
STATUSES = [s.value for s in AttendanceStatus]


def _status_labels() -> dict[str, str]:
    return {
        "attended": _("Genomförda möten: deltagaren kom"),
        "missed": _("Uteblev"),
        "cancelled_by_participant": _("Återbud från deltagaren"),
        "cancelled_by_staff": _("Inställt av personalen"),
    }


def _escalation_labels() -> dict[str, str]:
    return {
        "continue": _("varav beslut: fortsätta i insatsen"),
        "discharge": _("varav beslut: avsluta (avbrutit, uteblivit)"),
        "withdrawn": _("varav återkallade efter rättad närvaro"),
        "open": _("varav ännu utan beslut"),
    }


def _case_conditions(filters: Filters) -> list[Any]:
    conditions: list[Any] = []
    if filters.programme_id:
        conditions.append(Case.programme_id == filters.programme_id)
    if filters.municipality:
        conditions.append(Referral.home_municipality == filters.municipality)
    return conditions


def _by_case(query: Any, case_id: Any, *, referral: bool = True) -> Any:
    # The referral (outer-joined on its key, so it never adds or drops a row) is read for the
    # municipality filter only.
    joined = query.join(Case, Case.id == case_id).join(Person, Person.id == Case.person_id)
    return joined.outerjoin(Referral, Referral.id == Case.referral_id) if referral else joined


def _attendance_by_status(filters: Filters) -> dict[str, dict[str, int]]:
    """Count the registered attendances per status and gender.

    Counted per case first (an index-only scan of ix_attendance_case_status in case order), then
    joined to the cases and their people: the join sees one row per case and status, not one
    per meeting. The meeting is read only for the period (every attendance has its meeting).
    """
    per_case = select(
        Attendance.case_id, Attendance.status, func.count().label("meetings")
    ).group_by(Attendance.case_id, Attendance.status)
    period = period_on_timestamp(filters, Meeting.starts_at)
    if period:
        per_case = per_case.join(Meeting, Meeting.id == Attendance.meeting_id).where(*period)
    counted = per_case.subquery()
    grouped = db.session.execute(
        _by_case(
            select(
                counted.c.status, Person.gender, func.sum(counted.c.meetings).label("n")
            ).select_from(counted),
            counted.c.case_id,
            referral=bool(filters.municipality),
        )
        .where(*_case_conditions(filters))
        .group_by(counted.c.status, Person.gender)
    )
    found: dict[str, dict[str, int]] = {}
    for record in grouped:
        counts = found.setdefault(record.status, zero_counts())
        column = record.gender if record.gender in ("kvinna", "man") else "annat"
        counts[column] += int(record.n)
        counts["total"] += int(record.n)
    return found


def attendance(filters: Filters, population: str | None) -> Report:
    """Count registered attendance by status, the attendance rate and the escalations."""
    found = _attendance_by_status(filters)
    labels = _status_labels()
    rows = [Row(code, labels[code], found.get(code, zero_counts())) for code in STATUSES]
    registered = {c: sum(r.counts[c] for r in rows) for c in COLUMNS}
    came, missed = rows[0].counts, rows[1].counts
    rows.append(
        Row(
            "attendance_rate",
            _("Närvarograd: kom, av möten som inte ställdes in (kom + uteblev)"),
            came,
            denominator={c: came[c] + missed[c] for c in COLUMNS},
        )
    )

    outcome = case(
        (Escalation.status == "decided", Escalation.decision), else_=Escalation.status
    ).label("outcome")
    escalations = _by_case(
        select(outcome, *gender_counts(Person.gender)).select_from(Escalation),
        Escalation.case_id,
        referral=bool(filters.municipality),
    ).where(*_case_conditions(filters), *period_on_timestamp(filters, Escalation.opened_at))
    outcomes = {r.outcome: counts_of(r) for r in db.session.execute(escalations.group_by(outcome))}
    raised = {c: sum(counts[c] for counts in outcomes.values()) for c in COLUMNS}
    rows.append(Row("escalations", _("Eskaleringar (tredje uteblivna mötet)"), raised, {}))
    for code, text in _escalation_labels().items():
        rows.append(Row(f"escalation_{code}", text, outcomes.get(code, zero_counts()), raised))

    return Report(
        NAME,
        str(TITLE),
        "meetings",
        filters,
        rows,
        registered,
        note=_(
            "Möten räknas efter mötets dag och omfattar deltagarens registrerade närvaro, även "
            "vid gruppaktiviteter; möten som ställts in i förväg eller saknar registrerad närvaro "
            "räknas inte. Närvarograden räknas på möten som inte ställdes in: kom delat med kom "
            "plus uteblev. Eskaleringar räknas efter den dag de öppnades, med vad som hände med "
            "dem; procenten avser eskaleringarna."
        ),
        fixed_totals=registered,
        total_label=_("Möten med registrerad närvaro (nämnare)"),
        row_denominators=True,
    )


DEFINITION = Definition(NAME, TITLE, G_MEETINGS, attendance, population=None)

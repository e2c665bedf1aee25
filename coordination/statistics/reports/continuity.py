"""Reports on continuity: how often a case's coordinator changed."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from coordination.cases.models import Case, CoordinatorAssignment
from coordination.extensions import db
from coordination.people.models import Person
from coordination.referrals.models import Referral
from coordination.statistics.reports.base import (
    Filters,
    Report,
    Row,
    counts_of,
    filter_conditions,
    gender_counts,
    simple_report,
)

CHANGE_BUCKETS = 3  # 0, 1, 2 and "3 or more" changes


def coordinator_changes(filters: Filters, population: str | None) -> Report:
    """Count enrolled cases by how many times the coordinator changed (fewer is better)."""
    per_case = (
        select(
            CoordinatorAssignment.case_id,
            (func.count() - 1).label("changes"),
        )
        .group_by(CoordinatorAssignment.case_id)
        .subquery()
    )
    bucket = case(
        (per_case.c.changes >= CHANGE_BUCKETS, CHANGE_BUCKETS), else_=per_case.c.changes
    ).label("bucket")
    conditions = filter_conditions(
        filters,
        programme=Case.programme_id,
        municipality=Referral.home_municipality,
        day=Case.enrolled_on,
    )
    joined = (
        select()
        .select_from(Case)
        .join(per_case, per_case.c.case_id == Case.id)
        .join(Person, Person.id == Case.person_id)
        .join(Referral, Referral.id == Case.referral_id)
        .where(*conditions)
    )
    grouped = db.session.execute(
        joined.add_columns(bucket, *gender_counts(Person.gender)).group_by(bucket).order_by(bucket)
    ).all()
    mean = db.session.scalar(joined.add_columns(func.avg(per_case.c.changes)))
    names = {
        0: _("Inga byten"),
        1: _("1 byte"),
        2: _("2 byten"),
        3: _("3 eller fler byten"),
    }
    rows = [Row(str(int(r.bucket)), names[int(r.bucket)], counts_of(r)) for r in grouped]
    return simple_report(
        "coordinator_changes",
        _("Koordinatorsbyten per ärende"),
        filters,
        rows,
        unit="cases",
        summary={"mean_changes": None if mean is None else round(float(mean), 2)},
        note=_(
            "Inskrivna ärenden efter antal byten av koordinator. Färre byten ger bättre "
            "kontinuitet. Perioden avser inskrivningsdatum."
        ),
    )

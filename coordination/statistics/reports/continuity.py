"""Reports on continuity: how often a case's coordinator changed."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from coordination.cases.models import Case, CoordinatorAssignment
from coordination.extensions import db
from coordination.people.models import Person
from coordination.referrals.models import Referral
from coordination.statistics.reports.base import (
    COLUMNS,
    Filters,
    Report,
    Row,
    counts_of,
    filter_conditions,
    gender_counts,
    simple_report,
    zero_counts,
)

CHANGE_BUCKETS = 3  # 0, 1, 2 and "3 or more" changes


def coordinator_changes(filters: Filters, population: str | None) -> Report:
    """Count enrolled cases by how many times the coordinator changed (fewer is better).

    One grouped query per number of changes; Python folds "3 or more" together and takes the
    mean from the same counts (no second pass over the joined cases).
    """
    changes = (func.count() - 1).label("changes")
    per_case = (
        select(CoordinatorAssignment.case_id, changes)
        .group_by(CoordinatorAssignment.case_id)
        .subquery()
    )
    conditions = filter_conditions(
        filters,
        programme=Case.programme_id,
        municipality=Referral.home_municipality,
        day=Case.enrolled_on,
    )
    joined = (
        select(per_case.c.changes, *gender_counts(Person.gender))
        .select_from(Case)
        .join(per_case, per_case.c.case_id == Case.id)
        .join(Person, Person.id == Case.person_id)
    )
    if filters.municipality:
        joined = joined.join(Referral, Referral.id == Case.referral_id)
    else:
        # Only the filter reads the referral: without it, "has a referral" is all the join
        # asked (the key is a foreign key), not a hash of every referral.
        conditions.append(Case.referral_id.is_not(None))
    grouped = db.session.execute(joined.where(*conditions).group_by(per_case.c.changes)).all()
    buckets: dict[int, dict[str, int]] = {}
    weighted = cases = 0
    for record in grouped:
        counts = counts_of(record)
        number = int(record.changes)
        bucket = buckets.setdefault(min(number, CHANGE_BUCKETS), zero_counts())
        for column in COLUMNS:
            bucket[column] += counts[column]
        weighted += number * counts["total"]
        cases += counts["total"]
    mean = weighted / cases if cases else None
    names = {
        0: _("Inga byten"),
        1: _("1 byte"),
        2: _("2 byten"),
        3: _("3 eller fler byten"),
    }
    rows = [Row(str(b), names[b], buckets[b]) for b in sorted(buckets)]
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

"""Reports on who the participants are: counts, age, home, referring agency, gender balance."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, SQLColumnExpression, case, func, literal, or_, select

from coordination.core.i18n import label
from coordination.extensions import db
from coordination.statistics.reports.base import (
    COLUMNS,
    Filters,
    P,
    Report,
    Row,
    as_float,
    code_rows,
    counts_of,
    gender_counts,
    not_given,
    population_conditions,
    simple_report,
    sum_counts,
)
from workflows.statistics import (
    Population,
    age_bands,
    outside_balance,
    percent,
)


def participants(filters: Filters, population: str) -> Report:
    """Count participants enrolled, active and exited in the period."""
    rows = []
    for kind in (Population.ENROLLED, Population.ACTIVE, Population.EXITED):
        record = db.session.execute(
            select(*gender_counts(P.gender)).where(*population_conditions(filters, kind))
        ).one()
        rows.append(Row(kind.value, label("participant_count", kind.value), counts_of(record)))
    return Report(
        "participants",
        _("Deltagare under perioden"),
        "participants",
        filters,
        rows,
        rows[1].counts,
        note=_("Inskrivna och utskrivna är delmängder av de aktiva under perioden."),
    )


def age(filters: Filters, population: str) -> Report:
    """Count participants per age band (year of enrolment minus birth year)."""
    start, end, width = filters.band_start, filters.band_end, filters.band_width
    years = P.age_at_enrolment
    band = case(
        (years.is_(None), literal(-2)),
        (or_(years < start, years > end), literal(-1)),
        else_=(years - start) // width,
    ).label("band")
    grouped = db.session.execute(
        select(band, *gender_counts(P.gender))
        .where(*population_conditions(filters, population))
        .group_by(band)
        .order_by(band)
    ).all()
    bands = age_bands(start, end, width)
    rows = []
    for record in grouped:
        index = int(record.band)
        if index >= 0:
            rows.append(Row(bands[index].code, bands[index].label, counts_of(record)))
    for record in grouped:
        if int(record.band) == -1:
            rows.append(Row("outside", _("Utanför åldersbanden"), counts_of(record)))
        elif int(record.band) == -2:
            rows.append(Row(None, not_given(), counts_of(record)))
    return simple_report("age", _("Ålder vid inskrivning"), filters, rows)


def municipality(filters: Filters, population: str) -> Report:
    """Count participants per home municipality."""
    grouped = db.session.execute(
        select(P.home_municipality, *gender_counts(P.gender))
        .where(*population_conditions(filters, population))
        .group_by(P.home_municipality)
    ).all()
    # Labelled by the municipality list; a free text kept from before the list shows as it reads.
    rows = code_rows("municipality", grouped)
    return simple_report("municipality", _("Hemkommun"), filters, rows)


def referring_agency(filters: Filters, population: str) -> Report:
    """Count participants per referring agency."""
    grouped = db.session.execute(
        select(P.referring_agency, *gender_counts(P.gender))
        .where(*population_conditions(filters, population))
        .group_by(P.referring_agency)
    ).all()
    order = ["kommun", "af", "fk", "region"]
    grouped = sorted(
        grouped, key=lambda r: (r[0] is None, order.index(r[0]) if r[0] in order else 9)
    )
    rows = [
        Row(r[0], label("agency", r[0]) if r[0] else not_given(), counts_of(r)) for r in grouped
    ]
    return simple_report("referring_agency", _("Remitterande myndighet"), filters, rows)


def _month(column: SQLColumnExpression[Any]) -> ColumnElement[str]:
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def gender_balance(filters: Filters, population: str) -> Report:
    """Per month of enrolment and referring agency: the share of women, flagged outside 40-60 %."""
    month = _month(P.enrolled_on).label("month")
    grouped = db.session.execute(
        select(month, P.referring_agency, *gender_counts(P.gender))
        .where(*population_conditions(filters, population))
        .group_by(month, P.referring_agency)
    ).all()
    order = ["kommun", "af", "fk", "region"]
    grouped = sorted(
        grouped,
        key=lambda r: (r.month, order.index(r[1]) if r[1] in order else 9),
    )
    rows = []
    for record in grouped:
        counts = counts_of(record)
        agency = label("agency", record[1]) if record[1] else not_given()
        flagged = outside_balance(counts["kvinna"], counts["man"])
        share = percent(counts["kvinna"], counts["kvinna"] + counts["man"])
        rows.append(
            Row(
                f"{record.month}:{record[1] or ''}",
                f"{record.month} {agency}",
                counts,
                denominator={c: counts["total"] for c in COLUMNS},
                extra={
                    "month": record.month,
                    "agency": record[1],
                    "share_women": as_float(share),
                    "flagged": flagged,
                },
            )
        )
    return Report(
        "gender_balance",
        _("Könsfördelning per månad och remitterande myndighet"),
        "enrolments",
        filters,
        rows,
        sum_counts(rows),
        note=_(
            "Andelen kvinnor bland kvinnor och män som skrevs in under månaden. En andel "
            "utanför 40–60 procent flaggas. Procent i raden: av radens inskrivningar."
        ),
        summary={"flagged": sum(1 for r in rows if r.extra["flagged"])},
    )

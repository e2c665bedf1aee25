"""Reports on the participants' self-rated progression, overall and per age band."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Row as SqlRow
from sqlalchemy import case, func, literal, or_, select

from coordination.core.formats import band_label
from coordination.core.i18n import label
from coordination.extensions import db
from coordination.statistics.models import (
    ProgressionRating,
)
from coordination.statistics.reports.base import (
    COLUMNS,
    Filters,
    P,
    Report,
    Row,
    counts_of,
    gender_counts,
    not_given,
    population_conditions,
    simple_report,
)
from workflows.statistics import (
    PROGRESSION_QUESTIONS,
    age_bands,
)


def _progression_query(
    filters: Filters, population: str, *, by_band: bool
) -> Sequence[SqlRow[Any]]:
    T = ProgressionRating
    score = sum(
        (getattr(T, q) for q in PROGRESSION_QUESTIONS[1:]), getattr(T, PROGRESSION_QUESTIONS[0])
    )
    ranked = select(
        T.participant_id,
        score.label("score"),
        func.row_number().over(partition_by=T.participant_id, order_by=T.rated_on).label("first"),
        func.row_number()
        .over(partition_by=T.participant_id, order_by=T.rated_on.desc())
        .label("last"),
    ).subquery()
    per_person = (
        select(
            ranked.c.participant_id,
            func.max(case((ranked.c.first == 1, ranked.c.score))).label("first_score"),
            func.max(case((ranked.c.last == 1, ranked.c.score))).label("last_score"),
        )
        .group_by(ranked.c.participant_id)
        .having(func.count() >= 2)
        .subquery()
    )
    change = case(
        (per_person.c.last_score > per_person.c.first_score, "positive"),
        (per_person.c.last_score < per_person.c.first_score, "negative"),
        else_="unchanged",
    ).label("change")
    keys = [change]
    if by_band:
        years = P.age_at_enrolment
        start, end, width = filters.band_start, filters.band_end, filters.band_width
        band = case(
            (years.is_(None), literal(-2)),
            (or_(years < start, years > end), literal(-1)),
            else_=(years - start) // width,
        ).label("band")
        keys.insert(0, band)
    return db.session.execute(
        select(*keys, *gender_counts(P.gender))
        .select_from(P)
        .join(per_person, per_person.c.participant_id == P.id)
        .where(*population_conditions(filters, population))
        .group_by(*keys)
    ).all()


CHANGES = ("positive", "unchanged", "negative")


def progression(filters: Filters, population: str) -> Report:
    """Share with a higher, lower or equal self-rating total, first against latest rating."""
    found = {r.change: counts_of(r) for r in _progression_query(filters, population, by_band=False)}
    rows = [Row(c, label("progression_change", c), found[c]) for c in CHANGES if c in found]
    return simple_report(
        "progression",
        _("Självskattad stegförflyttning"),
        filters,
        rows,
        note=_(
            "Deltagare med minst två skattningar: summan av de tio frågorna i den senaste "
            "skattningen jämförs med den första."
        ),
    )


def progression_age(filters: Filters, population: str) -> Report:
    """The progression shares per age band (percentages within each band)."""
    grouped = _progression_query(filters, population, by_band=True)
    bands = age_bands(filters.band_start, filters.band_end, filters.band_width)
    by_band: dict[int, dict[str, dict[str, int]]] = {}
    for record in grouped:
        by_band.setdefault(int(record.band), {})[record.change] = counts_of(record)
    rows = []
    code: str | None
    for index in sorted(by_band, key=lambda i: (i < 0, i)):
        if index >= 0:
            code, name = bands[index].code, band_label(bands[index])
        else:
            code, name = (
                ("outside", _("Utanför åldersbanden"))
                if index == -1
                else (
                    None,
                    not_given(),
                )
            )
        group_total = {c: sum(v[c] for v in by_band[index].values()) for c in COLUMNS}
        for change in CHANGES:
            if change in by_band[index]:
                rows.append(
                    Row(
                        f"{code}:{change}",
                        f"{name}: {label('progression_change', change)}",
                        by_band[index][change],
                        denominator=group_total,
                        extra={"band": code, "change": change},
                    )
                )
    return simple_report(
        "progression_age",
        _("Självskattad stegförflyttning per åldersband"),
        filters,
        rows,
        note=_("Procent inom åldersbandet. Deltagare med minst två skattningar."),
    )

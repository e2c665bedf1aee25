"""Reports on who the participants are: counts, age, home, referring agency, gender balance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, SQLColumnExpression, case, func, literal, or_, select

from coordination.core.formats import band_label
from coordination.core.i18n import label
from coordination.extensions import db
from coordination.organisations import members
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
from workflows.organisation import MEMBER_AGENCIES
from workflows.statistics import (
    Population,
    age_bands,
    outside_balance,
    percent,
)

KIND_ORDER: list[str] = [k.value for k in MEMBER_AGENCIES]


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
            rows.append(Row(bands[index].code, band_label(bands[index]), counts_of(record)))
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
    """Count participants per referring agency: per kind, or per member organisation."""
    columns = _group_columns(filters.level)
    grouped = db.session.execute(
        select(*columns, *gender_counts(P.gender))
        .where(*population_conditions(filters, population))
        .group_by(*columns)
    ).all()
    group = _grouper(filters.level)
    merged: dict[str | None, tuple[_Group, dict[str, int]]] = {}
    for record in grouped:
        found = group(*record[: len(columns)])
        _add(merged, found.code, found, counts_of(record))
    rows = [
        Row(g.code, g.label, counts, extra={"agency": g.kind, "organisation": g.organisation})
        for g, counts in sorted(merged.values(), key=lambda item: item[0].sort)
    ]
    title = (
        _("Remitterande medlemsorganisation")
        if filters.level == "organisation"
        else _("Remitterande myndighet")
    )
    return simple_report("referring_agency", title, filters, rows)


@dataclass(frozen=True)
class _Group:
    """One referring agency as a report row shows it: code, label, place in the order."""

    code: str | None
    label: str
    sort: tuple
    kind: str | None
    organisation: str | None


def _group_columns(level: str) -> list[SQLColumnExpression[Any]]:
    """Return the columns a report by referring agency groups on at a level."""
    if level == "organisation":
        return [P.referring_agency, P.referring_organisation]
    return [P.referring_agency]


def _grouper(level: str) -> Callable[..., _Group]:
    """Return how a grouped (kind[, organisation]) becomes a row, labelled from the register.

    Kinds in the members' order; within a kind the organisations by name, then the participants
    whose organisation is not known; those without a referring agency last.
    """
    names = (
        {code: m.name for code, m in members.by_code().items()} if level == "organisation" else {}
    )
    last = len(KIND_ORDER)

    def group(kind: str | None, organisation: str | None = None) -> _Group:
        position = KIND_ORDER.index(kind) if kind in KIND_ORDER else last
        if organisation and level == "organisation":
            name = names.get(organisation, organisation)
            return _Group(
                organisation, name, (position, 0, name.lower(), organisation), kind, organisation
            )
        if kind is None:
            return _Group(None, not_given(), (last + 1, 0, "", ""), None, None)
        text = label("agency", kind)
        if level == "organisation":
            text = _("%(kind)s, ingen medlemsorganisation angiven", kind=text)
        return _Group(kind, text, (position, 1, "", kind), kind, None)

    return group


def _add(merged: dict, key: Any, found: _Group, counts: dict[str, int]) -> None:
    """Add a grouped record's counts to its row (two records can share one only in odd data)."""
    if key in merged:
        counts = {c: merged[key][1][c] + counts[c] for c in COLUMNS}
    merged[key] = (found, counts)


def _month(column: SQLColumnExpression[Any]) -> ColumnElement[str]:
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def gender_balance(filters: Filters, population: str) -> Report:
    """The share of women among women and men per referring agency (kind or member organisation),
    per month of enrolment or over the whole period; flagged outside 40-60 % (unrounded)."""
    columns = _group_columns(filters.level)
    per_month = filters.per == "month"
    month = _month(P.enrolled_on).label("month")
    keys = [month, *columns] if per_month else columns
    grouped = db.session.execute(
        select(*keys, *gender_counts(P.gender))
        .where(*population_conditions(filters, population))
        .group_by(*keys)
    ).all()
    group = _grouper(filters.level)
    merged: dict[tuple, tuple[_Group, dict[str, int]]] = {}
    for record in grouped:
        when = record.month if per_month else None
        found = group(*record[len(keys) - len(columns) : len(keys)])
        _add(merged, (when, found.code), found, counts_of(record))
    rows = []
    for (when, _code), (found, counts) in sorted(
        merged.items(), key=lambda item: (item[0][0] or "", item[1][0].sort)
    ):
        share = percent(counts["kvinna"], counts["kvinna"] + counts["man"])
        rows.append(
            Row(
                f"{when}:{found.code or ''}" if per_month else found.code,
                f"{when} {found.label}" if per_month else found.label,
                counts,
                denominator={c: counts["total"] for c in COLUMNS},
                extra={
                    "month": when,
                    "agency": found.kind,
                    "organisation": found.organisation,
                    "share_women": as_float(share),
                    "flagged": outside_balance(counts["kvinna"], counts["man"]),
                },
            )
        )
    return Report(
        "gender_balance",
        _balance_title(filters),
        "enrolments",
        filters,
        rows,
        sum_counts(rows),
        note=(
            _(
                "Andelen kvinnor bland kvinnor och män som skrevs in under månaden. En andel "
                "utanför 40–60 procent flaggas. Procent i raden: av radens inskrivningar."
            )
            if per_month
            else _(
                "Andelen kvinnor bland kvinnor och män som skrevs in under hela den valda "
                "perioden. En andel utanför 40–60 procent flaggas. Procent i raden: av radens "
                "inskrivningar."
            )
        )
        + " "
        + _("Andelen jämförs utan avrundning: 39,96 procent visas som 40,0 men flaggas."),
        summary={"flagged": sum(1 for r in rows if r.extra["flagged"])},
        extra_columns=[
            ("share_women", _("Andel kvinnor, procent"), "percent"),
            ("flagged", _("Utanför 40–60 procent"), "yesno"),
        ],
    )


def _balance_title(filters: Filters) -> str:
    if filters.per == "month":
        if filters.level == "organisation":
            return _("Könsfördelning per månad och remitterande medlemsorganisation")
        return _("Könsfördelning per månad och remitterande myndighet")
    if filters.level == "organisation":
        return _("Könsfördelning under perioden per remitterande medlemsorganisation")
    return _("Könsfördelning under perioden per remitterande myndighet")

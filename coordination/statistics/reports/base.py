"""What every report is made of: filters, rows, the result, and the SQL building blocks.

Each builder runs one or two grouped queries (GROUP BY); Python only orders the grouped rows by the
code list, labels them and computes percentages of the stated denominator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, SQLColumnExpression, func, or_

from coordination.codes.operations import codes_among, label_of
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import STOCKHOLM, label
from coordination.core.parsing import is_digits
from coordination.statistics.models import (
    SusParticipant,
)
from workflows.statistics import (
    AGENCY_LEVELS,
    BALANCE_SPANS,
    DEFAULT_BAND_END,
    DEFAULT_BAND_START,
    DEFAULT_BAND_WIDTH,
    GENDERS,
    SUPPRESSION_THRESHOLD,
    Occasion,
    Population,
    is_suppressed,
    percent,
    suppressed,
)

COLUMNS: tuple[str, ...] = (*GENDERS, "total")
P = SusParticipant


@dataclass
class Filters:
    """What a report counts: programme, period, municipality and report options."""

    programme_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    municipality: str | None = None
    population: str | None = None
    occasion: str = Occasion.INTAKE.value
    suppress: bool = False
    band_start: int = DEFAULT_BAND_START
    band_end: int = DEFAULT_BAND_END
    band_width: int = DEFAULT_BAND_WIDTH
    level: str = AGENCY_LEVELS[0]
    per: str = BALANCE_SPANS[0]

    def as_dict(self) -> dict:
        """Return the filters as JSON-able data."""
        return {
            "programme_id": self.programme_id,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "municipality": self.municipality,
            "population": self.population,
            "occasion": self.occasion,
            "suppress": self.suppress,
            "band_start": self.band_start,
            "band_end": self.band_end,
            "band_width": self.band_width,
            "level": self.level,
            "per": self.per,
        }

    def query_args(self) -> dict:
        """Return the filters as query-string arguments (defaults left out)."""
        out: dict = {}
        for key, value in self.as_dict().items():
            default = getattr(Filters, key, None)
            if value not in (None, "", False) and value != default:
                out[key] = "1" if value is True else value
        return out


def parse_filters(args: Mapping) -> Filters:
    """Read filters from a query string; raise ValidationFailed listing every bad one."""
    errors: dict[str, list[str]] = {}
    filters = Filters()

    def integer(name: str, low: int, high: int) -> int | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        if not is_digits(raw.lstrip("-")) or not low <= int(raw) <= high:
            errors[name] = [_("Ange ett heltal från %(low)s till %(high)s.", low=low, high=high)]
            return None
        return int(raw)

    def day(name: str) -> date | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = [_("Ange datumet som ÅÅÅÅ-MM-DD.")]
            return None

    filters.programme_id = integer("programme_id", 1, 2**31 - 1)
    filters.date_from = day("date_from")
    filters.date_to = day("date_to")
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        errors["date_to"] = [_("Periodens slut kan inte vara före dess början.")]
    filters.municipality = (args.get("municipality") or "").strip() or None
    population = (args.get("population") or "").strip() or None
    if population and population not in {p.value for p in Population}:
        errors["population"] = [_("Välj ett av alternativen.")]
    filters.population = population
    occasion = (args.get("occasion") or "").strip() or Occasion.INTAKE.value
    if occasion not in {o.value for o in Occasion}:
        errors["occasion"] = [_("Välj ett av alternativen.")]
    filters.occasion = occasion
    filters.suppress = (args.get("suppress") or "").lower() in ("1", "on", "true", "yes")
    for name, default in (("band_start", 15), ("band_end", 64), ("band_width", 5)):
        value = integer(name, 1 if name == "band_width" else 0, 120)
        setattr(filters, name, default if value is None else value)
    if filters.band_start > filters.band_end and "band_end" not in errors:
        errors["band_end"] = [_("Det sista åldersbandet kan inte börja före det första.")]
    for name, allowed in (("level", AGENCY_LEVELS), ("per", BALANCE_SPANS)):
        choice = (args.get(name) or "").strip() or allowed[0]
        if choice not in allowed:
            errors[name] = [_("Välj ett av alternativen.")]
        else:
            setattr(filters, name, choice)
    if errors:
        raise ValidationFailed(_("Filtret innehåller fel."), errors=errors)
    return filters


@dataclass
class Row:
    """One row of a report: a code, its label and the count per gender and in total."""

    code: str | None
    label: str
    counts: dict[str, int]
    # A row group's own denominator, if any; {} for a count that has no percentage.
    denominator: dict[str, int] | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Report:
    """A report's result: rows, the denominator and how to read it."""

    name: str
    title: str
    unit: str
    filters: Filters
    rows: list[Row]
    denominator: dict[str, int]
    population: str | None = None
    note: str = ""
    summary: dict = field(default_factory=dict)
    available: bool = True
    matrix: dict | None = None
    # A report whose rows do not add up (stages of one flow, rates) states its own total row:
    # what it counts (total_label) and the figures (fixed_totals), or none (no_totals).
    fixed_totals: dict[str, int] | None = None
    total_label: str | None = None
    no_totals: bool = False
    # Rows with their own denominator (a rate among counts) show it in a column of its own.
    row_denominators: bool = False
    # Further columns of the table and the exports: (key in Row.extra, heading, kind).
    extra_columns: list[tuple[str, str, str]] = field(default_factory=list)
    denominator_description: str = ""  # when every row states its own denominator

    @property
    def totals(self) -> dict[str, int]:
        """Return the total row: the sum of the rows per column unless the report states it."""
        if self.fixed_totals is not None:
            return self.fixed_totals
        return {c: sum(r.counts[c] for r in self.rows) for c in COLUMNS}

    @property
    def show_totals(self) -> bool:
        """Tell whether a totals row adds up to something meaningful."""
        if self.no_totals:
            return False
        return self.name not in ("participants", "gender_balance", "progression_age")

    def totals_text(self) -> str:
        """Return the heading of the totals row."""
        return self.total_label or _("Totalt")

    def _denominator_of(self, row: Row) -> dict[str, int]:
        # None: the report's denominator; {}: the row is a count without a percentage.
        return self.denominator if row.denominator is None else row.denominator

    def row_denominator(self, row: Row, column: str = "total") -> int | str | None:
        """Return the denominator a row's percentage is computed on, as published (None when
        the row has no percentage)."""
        denominator = self._denominator_of(row)
        return self.cell(denominator[column]) if column in denominator else None

    def extra_value(self, row: Row, key: str, kind: str) -> object:
        """Return an extra column's value as published (counts suppressed, yes/no in words)."""
        value = row.extra.get(key)
        if value is None:
            return None
        if kind == "count":
            return self.cell(int(value))
        if kind == "yesno":
            return _("Ja") if value else _("Nej")
        return value

    def percent(self, row: Row, column: str) -> Decimal | None:
        """Return a cell's percentage of its denominator, None when hidden or undefined."""
        denominator = self._denominator_of(row).get(column, 0)
        if self.filters.suppress and is_suppressed(row.counts[column]):
            return None
        return percent(row.counts[column], denominator)

    def cell(self, count: int) -> int | str:
        """Return a count as published: "<5" for a small cell when suppression is on."""
        return suppressed(count, SUPPRESSION_THRESHOLD) if self.filters.suppress else count

    def denominator_text(self) -> str:
        """Return the denominator in words, e.g. "Andel av 398 deltagare (212 kvinnor ...)"."""
        if self.denominator_description:
            return self.denominator_description
        d = self.denominator
        return _(
            "Procent av %(total)s %(unit)s: kvinnor %(kvinna)s, män %(man)s, "
            "annat/ej angivet %(annat)s.",
            total=self.cell(d["total"]),
            unit=label("report_unit", self.unit),
            kvinna=self.cell(d["kvinna"]),
            man=self.cell(d["man"]),
            annat=self.cell(d["annat"]),
        )

    def json_counts(self, counts: dict[str, int]) -> dict[str, Any]:
        """Return counts for the API: numbers, or null plus the column in `suppressed`.

        A small cell is never a string in a numeric field: with suppression on it becomes null
        and its column is listed in the object's `suppressed` (empty when nothing is hidden).
        """
        hidden = [c for c in COLUMNS if self.filters.suppress and is_suppressed(counts[c])]
        out: dict[str, Any] = {c: None if c in hidden else counts[c] for c in COLUMNS}
        out["suppressed"] = hidden
        return out

    def as_json(self) -> dict:
        """Return the report in the shape of ../shared/API.md (small cells null, see
        json_counts)."""
        rows = []
        for row in self.rows:
            item: dict[str, Any] = {"code": row.code, "label": row.label}
            item.update(self.json_counts(row.counts))
            item["percent"] = {c: as_float(self.percent(row, c)) for c in COLUMNS}
            if row.denominator:
                item["denominator"] = self.json_counts(row.denominator)
            item.update(row.extra)
            rows.append(item)
        out = {
            "report": self.name,
            "title": self.title,
            "available": self.available,
            "filters": self.filters.as_dict() | {"population": self.population},
            "unit": self.unit,
            "denominator": self.json_counts(self.denominator),
            "denominator_text": self.denominator_text(),
            "note": self.note,
            "rows": rows,
            "totals": None if self.no_totals else self.json_counts(self.totals),
            "summary": self.summary,
        }
        if self.total_label:
            out["totals_label"] = self.total_label
        return out


def as_float(value: Decimal | None) -> float | None:
    """Return a percentage as JSON-able number, None as None."""
    return None if value is None else float(value)


# ---------------------------------------------------------------------------------------------
# SQL building blocks


def gender_counts(gender_column: SQLColumnExpression[Any]) -> list[ColumnElement[int]]:
    """Return count columns for kvinna, man, annat (any other or none) and the total.

    Annat is the total less women and men: the same count as "none, or neither" without a third
    filtered aggregate that tests every row again.
    """
    women = func.count().filter(gender_column == "kvinna")
    men = func.count().filter(gender_column == "man")
    return [
        women.label("kvinna"),
        men.label("man"),
        (func.count() - women - men).label("annat"),
        func.count().label("total"),
    ]


def filter_conditions(
    filters: Filters,
    *,
    programme: SQLColumnExpression[Any],
    municipality: SQLColumnExpression[Any],
    day: SQLColumnExpression[Any],
) -> list[ColumnElement[bool]]:
    """Return the WHERE conditions of the filters: programme, home municipality, and the period
    on `day` (the report's own date column, which must be set)."""
    conditions: list[ColumnElement[bool]] = [day.is_not(None)]
    if filters.programme_id:
        conditions.append(programme == filters.programme_id)
    if filters.municipality:
        conditions.append(municipality == filters.municipality)
    if filters.date_from:
        conditions.append(day >= filters.date_from)
    if filters.date_to:
        conditions.append(day <= filters.date_to)
    return conditions


def period_on_timestamp(filters: Filters, at: SQLColumnExpression[Any]) -> list[Any]:
    """Return the period's conditions on a UTC timestamp column: local (Stockholm) days, both
    ends included."""
    conditions: list[Any] = []
    if filters.date_from:
        low = datetime.combine(filters.date_from, time(0), tzinfo=STOCKHOLM)
        conditions.append(at >= low.astimezone(UTC))
    if filters.date_to:
        high = datetime.combine(filters.date_to + timedelta(days=1), time(0), tzinfo=STOCKHOLM)
        conditions.append(at < high.astimezone(UTC))
    return conditions


def population_conditions(filters: Filters, population: str) -> list:
    """Return the WHERE conditions for the participants a report counts."""
    conditions = []
    if filters.programme_id:
        conditions.append(P.programme_id == filters.programme_id)
    if filters.municipality:
        conditions.append(P.home_municipality == filters.municipality)
    start, end = filters.date_from, filters.date_to
    if population == Population.ENROLLED:
        if start:
            conditions.append(P.enrolled_on >= start)
        if end:
            conditions.append(P.enrolled_on <= end)
    elif population == Population.EXITED:
        conditions.append(P.exited_on.is_not(None))
        if start:
            conditions.append(P.exited_on >= start)
        if end:
            conditions.append(P.exited_on <= end)
    else:
        if end:
            conditions.append(P.enrolled_on <= end)
        if start:
            conditions.append(or_(P.exited_on.is_(None), P.exited_on >= start))
    return conditions


def counts_of(record: Any) -> dict[str, int]:
    """Return a grouped record's count per gender and in total."""
    return {c: int(getattr(record, c)) for c in COLUMNS}


def zero_counts() -> dict[str, int]:
    """Return zero for every column."""
    return dict.fromkeys(COLUMNS, 0)


def sum_counts(rows: list[Row]) -> dict[str, int]:
    """Return the sum of the rows per column."""
    return {c: sum(r.counts[c] for r in rows) for c in COLUMNS}


def not_given() -> str:
    """Return the label of a row without a value."""
    return _("Ej angivet")


def code_rows(list_name: str, grouped: Sequence[Any]) -> list[Row]:
    """Order grouped (code, counts) records by the code list and label them as the list does."""
    found = {record[0]: counts_of(record) for record in grouped}
    rows = []
    for code in codes_among(list_name, found):
        if code.code in found:
            rows.append(Row(code.code, label_of(code), found.pop(code.code)))
    for code in sorted((c for c in found if c is not None), key=str):
        rows.append(Row(code, code, found.pop(code)))
    if None in found:
        rows.append(Row(None, not_given(), found.pop(None)))
    return rows


def simple_report(
    name: str, title: str, filters: Filters, rows: list[Row], **kwargs: Any
) -> Report:
    """Return a report whose denominator is the sum of its rows."""
    return Report(
        name, title, kwargs.pop("unit", "participants"), filters, rows, sum_counts(rows), **kwargs
    )

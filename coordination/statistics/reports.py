"""The reports of DOMAIN.md §12 as SQL aggregations (GROUP BY), split by gender with a total.

Each builder runs one or two grouped queries; Python only orders the grouped rows by the code
list, labels them and computes percentages of the stated denominator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from coordination.cases.models import Case, CoordinatorAssignment
from coordination.codes.operations import all_codes, label_of
from coordination.conferences.models import Decision
from coordination.core.errors import ValidationFailed
from coordination.core.i18n import label
from coordination.core.parsing import is_digits
from coordination.extensions import db
from coordination.people.models import Person
from coordination.referrals.models import Referral, ReferralHistory
from coordination.statistics.models import (
    ProgressionRating,
    SusParticipant,
    SusRegistration,
    SusSupport,
)
from workflows.statistics import (
    DEFAULT_BAND_END,
    DEFAULT_BAND_START,
    DEFAULT_BAND_WIDTH,
    GENDERS,
    PROGRESSION_QUESTIONS,
    SUPPRESSION_THRESHOLD,
    Band,
    Occasion,
    Population,
    age_bands,
    is_suppressed,
    outside_balance,
    percent,
    suppressed,
    three_month_bin,
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
    if errors:
        raise ValidationFailed(_("Filtret innehåller fel."), errors=errors)
    return filters


@dataclass
class Row:
    """One row of a report: a code, its label and the count per gender and in total."""

    code: str | None
    label: str
    counts: dict[str, int]
    denominator: dict[str, int] | None = None  # a row group's own denominator, if any
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

    @property
    def totals(self) -> dict[str, int]:
        """Return the sum of the rows per column."""
        return {c: sum(r.counts[c] for r in self.rows) for c in COLUMNS}

    @property
    def show_totals(self) -> bool:
        """Tell whether a totals row adds up to something meaningful."""
        return self.name not in ("participants", "gender_balance", "progression_age")

    def percent(self, row: Row, column: str) -> Decimal | None:
        """Return a cell's percentage of its denominator, None when hidden or undefined."""
        denominator = (row.denominator or self.denominator).get(column, 0)
        if self.filters.suppress and is_suppressed(row.counts[column]):
            return None
        return percent(row.counts[column], denominator)

    def cell(self, count: int) -> int | str:
        """Return a count as published: "<5" for a small cell when suppression is on."""
        return suppressed(count, SUPPRESSION_THRESHOLD) if self.filters.suppress else count

    def denominator_text(self) -> str:
        """Return the denominator in words, e.g. "Andel av 398 deltagare (212 kvinnor ...)"."""
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

    def as_json(self) -> dict:
        """Return the report in the shape of API.md."""
        rows = []
        for row in self.rows:
            item = {"code": row.code, "label": row.label}
            item.update({c: self.cell(row.counts[c]) for c in COLUMNS})
            item["percent"] = {c: _float(self.percent(row, c)) for c in COLUMNS}
            if row.denominator:
                item["denominator"] = {c: self.cell(row.denominator[c]) for c in COLUMNS}
            item.update(row.extra)
            rows.append(item)
        return {
            "report": self.name,
            "title": self.title,
            "available": self.available,
            "filters": self.filters.as_dict() | {"population": self.population},
            "unit": self.unit,
            "denominator": {c: self.cell(self.denominator[c]) for c in COLUMNS},
            "denominator_text": self.denominator_text(),
            "note": self.note,
            "rows": rows,
            "totals": {c: self.cell(v) for c, v in self.totals.items()},
            "summary": self.summary,
        }


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# ---------------------------------------------------------------------------------------------
# SQL building blocks


def gender_counts(gender_column) -> list:
    """Return count columns for kvinna, man, annat (any other or none) and the total."""
    other = or_(gender_column.is_(None), gender_column.not_in(("kvinna", "man")))
    return [
        func.count().filter(gender_column == "kvinna").label("kvinna"),
        func.count().filter(gender_column == "man").label("man"),
        func.count().filter(other).label("annat"),
        func.count().label("total"),
    ]


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


def _counts(record) -> dict[str, int]:
    return {c: int(getattr(record, c)) for c in COLUMNS}


def _zero() -> dict[str, int]:
    return dict.fromkeys(COLUMNS, 0)


def _sum(rows: list[Row]) -> dict[str, int]:
    return {c: sum(r.counts[c] for r in rows) for c in COLUMNS}


def _not_given() -> str:
    return _("Ej angivet")


def code_rows(list_name: str, grouped: list) -> list[Row]:
    """Order grouped (code, counts) records by the code list and label them as the list does."""
    found = {record[0]: _counts(record) for record in grouped}
    rows = []
    for code in all_codes(list_name):
        if code.code in found:
            rows.append(Row(code.code, label_of(code), found.pop(code.code)))
    for code in sorted((c for c in found if c is not None), key=str):
        rows.append(Row(code, code, found.pop(code)))
    if None in found:
        rows.append(Row(None, _not_given(), found.pop(None)))
    return rows


# ---------------------------------------------------------------------------------------------
# The reports


@dataclass(frozen=True)
class Definition:
    """A report's name, title, group and builder."""

    name: str
    title: object
    group: object
    build: Callable[[Filters], Report]
    population: str | None = Population.ENROLLED.value  # the default; None: not participants
    fixed_population: bool = False
    uses_occasion: bool = False
    uses_bands: bool = False


REPORTS: dict[str, Definition] = {}


def report(name: str, title, group, **options) -> Callable:
    """Register a report builder."""

    def decorate(build: Callable[[Filters, str | None], Report]) -> Callable:
        REPORTS[name] = Definition(name, title, group, build, **options)
        return build

    return decorate


def run(name: str, filters: Filters) -> Report:
    """Build one report with the given filters."""
    definition = REPORTS[name]
    population = definition.population
    if population and not definition.fixed_population and filters.population:
        population = filters.population
    result = definition.build(filters, population)
    result.population = population
    return result


G_PEOPLE = _l("Deltagare")
G_SUS = _l("SUS-variabler")
G_OUTCOME = _l("Avslut och resultat")
G_REFERRAL = _l("Remisser")
G_PROGRESSION = _l("Stegförflyttning")
G_CONTINUITY = _l("Kontinuitet")


@report(
    "participants",
    _l("Deltagare under perioden"),
    G_PEOPLE,
    population=Population.ACTIVE.value,
    fixed_population=True,
)
def participants(filters: Filters, population: str) -> Report:
    """Count participants enrolled, active and exited in the period."""
    rows = []
    for kind in (Population.ENROLLED, Population.ACTIVE, Population.EXITED):
        record = db.session.execute(
            select(*gender_counts(P.gender)).where(*population_conditions(filters, kind))
        ).one()
        rows.append(Row(kind.value, label("participant_count", kind.value), _counts(record)))
    return Report(
        "participants",
        _("Deltagare under perioden"),
        "participants",
        filters,
        rows,
        rows[1].counts,
        note=_("Inskrivna och utskrivna är delmängder av de aktiva under perioden."),
    )


@report("age", _l("Ålder vid inskrivning"), G_PEOPLE, uses_bands=True)
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
            rows.append(Row(bands[index].code, bands[index].label, _counts(record)))
    for record in grouped:
        if int(record.band) == -1:
            rows.append(Row("outside", _("Utanför åldersbanden"), _counts(record)))
        elif int(record.band) == -2:
            rows.append(Row(None, _not_given(), _counts(record)))
    return _simple("age", _("Ålder vid inskrivning"), filters, rows)


def _simple(name: str, title: str, filters: Filters, rows: list[Row], **kwargs) -> Report:
    return Report(
        name, title, kwargs.pop("unit", "participants"), filters, rows, _sum(rows), **kwargs
    )


@report("municipality", _l("Hemkommun"), G_PEOPLE)
def municipality(filters: Filters, population: str) -> Report:
    """Count participants per home municipality."""
    grouped = db.session.execute(
        select(P.home_municipality, *gender_counts(P.gender))
        .where(*population_conditions(filters, population))
        .group_by(P.home_municipality)
        .order_by(P.home_municipality)
    ).all()
    rows = [Row(r[0], r[0], _counts(r)) for r in grouped if r[0] is not None]
    rows += [Row(None, _not_given(), _counts(r)) for r in grouped if r[0] is None]
    return _simple("municipality", _("Hemkommun"), filters, rows)


@report("referring_agency", _l("Remitterande myndighet"), G_PEOPLE)
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
    rows = [Row(r[0], label("agency", r[0]) if r[0] else _not_given(), _counts(r)) for r in grouped]
    return _simple("referring_agency", _("Remitterande myndighet"), filters, rows)


VARIABLE_TITLES = {
    "work": _l("Arbete"),
    "occupation": _l("Sysselsättning"),
    "education": _l("Utbildning"),
    "time_on_support": _l("Tid i offentlig försörjning"),
    "support": _l("Försörjning"),
}


def _variable_report(variable: str) -> Callable:
    def build(filters: Filters, population: str) -> Report:
        occasion = filters.occasion
        R = aliased(SusRegistration)
        joined = (
            select()
            .select_from(P)
            .join(R, and_(R.participant_id == P.id, R.occasion == occasion))
            .where(*population_conditions(filters, population))
        )
        title = _(
            "%(variable)s vid %(occasion)s",
            variable=VARIABLE_TITLES[variable],
            occasion=label("occasion", occasion).lower(),
        )
        if variable == "support":
            S = aliased(SusSupport)
            grouped = db.session.execute(
                select(S.code, *gender_counts(P.gender))
                .select_from(P)
                .join(S, and_(S.participant_id == P.id, S.occasion == occasion))
                .where(*population_conditions(filters, population))
                .group_by(S.code)
            ).all()
            people = db.session.execute(joined.add_columns(*gender_counts(P.gender))).one()
            rows = code_rows("support", grouped)
            return _simple(
                variable,
                title,
                filters,
                rows,
                unit="registrations",
                summary={"participants": _counts(people)},
                note=_(
                    "Flervalsvariabel: en deltagare kan ha flera försörjningskällor. Varje "
                    "registrerad kod räknas, så summan (%(registrations)s registreringar) kan "
                    "överstiga antalet deltagare (%(participants)s).",
                    registrations=sum(r.counts["total"] for r in rows),
                    participants=int(people.total),
                ),
            )
        column = getattr(R, variable)
        grouped = db.session.execute(
            joined.add_columns(column, *gender_counts(P.gender)).group_by(column)
        ).all()
        return _simple(variable, title, filters, code_rows(variable, grouped))

    return build


for _variable in ("work", "occupation", "education", "time_on_support", "support"):
    report(_variable, VARIABLE_TITLES[_variable], G_SUS, uses_occasion=True)(
        _variable_report(_variable)
    )


@report(
    "support_transition",
    _l("Försörjning vid inskrivning och utskrivning (övergångsmatris)"),
    G_OUTCOME,
    population=Population.EXITED.value,
    fixed_population=True,
)
def support_transition(filters: Filters, population: str) -> Report:
    """Cross-tabulate each person's means of support at intake against those at exit."""
    SI, SE = aliased(SusSupport), aliased(SusSupport)
    grouped = db.session.execute(
        select(SI.code.label("intake"), SE.code.label("exit"), *gender_counts(P.gender))
        .select_from(P)
        .join(SI, and_(SI.participant_id == P.id, SI.occasion == Occasion.INTAKE.value))
        .join(SE, and_(SE.participant_id == P.id, SE.occasion == Occasion.EXIT.value))
        .where(*population_conditions(filters, population))
        .group_by(SI.code, SE.code)
    ).all()
    codes = all_codes("support")
    order = {c.code: i for i, c in enumerate(codes)}
    labels = {c.code: label_of(c) for c in codes}
    grouped = sorted(grouped, key=lambda r: (order.get(r.intake, 99), order.get(r.exit, 99)))
    rows = [
        Row(
            f"{r.intake}>{r.exit}",
            f"{labels.get(r.intake, r.intake)} → {labels.get(r.exit, r.exit)}",
            _counts(r),
            extra={"intake": r.intake, "exit": r.exit},
        )
        for r in grouped
    ]
    intake_codes = [c.code for c in codes if any(r.intake == c.code for r in grouped)]
    exit_codes = [c.code for c in codes if any(r.exit == c.code for r in grouped)]
    cells = {(r.intake, r.exit): int(r.total) for r in grouped}
    matrix = {
        "intake": [(c, labels[c]) for c in intake_codes],
        "exit": [(c, labels[c]) for c in exit_codes],
        "cells": cells,
        "row_totals": {i: sum(cells.get((i, e), 0) for e in exit_codes) for i in intake_codes},
    }
    return _simple(
        "support_transition",
        _("Försörjning vid inskrivning och utskrivning (övergångsmatris)"),
        filters,
        rows,
        unit="pairs",
        matrix=matrix,
        note=_(
            "Varje utskriven deltagares försörjning vid inskrivning korstabuleras mot samma "
            "persons försörjning vid utskrivning. Flervalsvariabel: en person med två koder "
            "före och en efter ger två par."
        ),
    )


@report(
    "time_in_programme",
    _l("Tid i insatsen (månader)"),
    G_OUTCOME,
    population=Population.EXITED.value,
    fixed_population=True,
)
def time_in_programme(filters: Filters, population: str) -> Report:
    """Count exited participants per started 3-month period in the programme."""
    bin_index = ((P.months_in_programme - 1) // 3).label("bin")
    grouped = db.session.execute(
        select(bin_index, *gender_counts(P.gender))
        .where(*population_conditions(filters, population))
        .group_by(bin_index)
        .order_by(bin_index)
    ).all()
    rows = []
    for record in grouped:
        if record.bin is None:
            rows.append(Row(None, _not_given(), _counts(record)))
            continue
        band: Band = three_month_bin(int(record.bin) * 3 + 1)
        rows.append(Row(band.code, band.label, _counts(record)))
    return _simple(
        "time_in_programme",
        _("Tid i insatsen (månader)"),
        filters,
        rows,
        note=_("Påbörjade månader från inskrivning till utskrivning, i intervall om tre."),
    )


@report(
    "exit_reason",
    _l("Avslutsanledning"),
    G_OUTCOME,
    population=Population.EXITED.value,
    fixed_population=True,
)
def exit_reason(filters: Filters, population: str) -> Report:
    """Count exited participants per exit reason (historical codes included)."""
    grouped = db.session.execute(
        select(P.exit_reason, *gender_counts(P.gender))
        .where(*population_conditions(filters, population))
        .group_by(P.exit_reason)
    ).all()
    return _simple("exit_reason", _("Avslutsanledning"), filters, code_rows("exit_reason", grouped))


def _referral_conditions(filters: Filters) -> list:
    conditions = [Referral.referral_date.is_not(None)]
    if filters.programme_id:
        conditions.append(Referral.programme_id == filters.programme_id)
    if filters.municipality:
        conditions.append(Referral.home_municipality == filters.municipality)
    if filters.date_from:
        conditions.append(Referral.referral_date >= filters.date_from)
    if filters.date_to:
        conditions.append(Referral.referral_date <= filters.date_to)
    return conditions


def _days_between(later, earlier):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


@report("referral_funnel", _l("Remissflödet"), G_REFERRAL, population=None)
def referral_funnel(filters: Filters, population: str | None) -> Report:
    """Count referrals received, in process, decided (admitted, recommended) and withdrawn."""
    conditions = _referral_conditions(filters)
    state = Referral.state
    open_states = ("submitted", "completion_requested", "on_agenda")
    kinds = [
        ("received", literal(True)),
        ("open", state.in_(open_states)),
        ("decided", state == "decided"),
        ("admitted", and_(state == "decided", Decision.outcome == "admit")),
        ("recommended", and_(state == "decided", Decision.outcome == "recommend")),
        ("withdrawn", state == "withdrawn"),
    ]
    query = select().select_from(Referral).outerjoin(Decision, Referral.decision_id == Decision.id)
    gender = Referral.gender
    other = or_(gender.is_(None), gender.not_in(("kvinna", "man")))
    columns = []
    for kind, condition in kinds:
        for column, extra in (
            ("kvinna", gender == "kvinna"),
            ("man", gender == "man"),
            ("annat", other),
            ("total", literal(True)),
        ):
            columns.append(func.count().filter(and_(condition, extra)).label(f"{kind}_{column}"))
    record = db.session.execute(query.add_columns(*columns).where(*conditions)).one()
    rows = [
        Row(kind, label("funnel", kind), {c: int(getattr(record, f"{kind}_{c}")) for c in COLUMNS})
        for kind, _condition in kinds
    ]
    decided_at = (
        select(ReferralHistory.referral_id, func.min(ReferralHistory.at).label("at"))
        .where(ReferralHistory.to_state == "decided")
        .group_by(ReferralHistory.referral_id)
        .subquery()
    )
    days = _days_between(decided_at.c.at, Referral.submitted_at)
    median = None
    if db.session.get_bind().dialect.name == "postgresql":
        median = db.session.scalar(
            select(func.percentile_cont(0.5).within_group(days))
            .select_from(Referral)
            .join(decided_at, decided_at.c.referral_id == Referral.id)
            .where(*conditions)
        )
    note = _("Mottagna: remisser som skickats in någon gång. Procent av mottagna remisser.")
    return Report(
        "referral_funnel",
        _("Remissflödet"),
        "referrals",
        filters,
        rows,
        rows[0].counts,
        note=note,
        summary={"median_days_to_decision": None if median is None else round(float(median), 1)},
    )


@report(
    "joint_recommendation",
    _l("Beslutade remisser med gemensam rekommendation"),
    G_REFERRAL,
    population=None,
)
def joint_recommendation(filters: Filters, population: str | None) -> Report:
    """Share of decided referrals with a written joint recommendation (target 100 %)."""
    title = _("Beslutade remisser med gemensam rekommendation")
    text = func.coalesce(func.trim(Decision.recommendation), "")
    has_text = case((text != "", "with_recommendation"), else_="without_recommendation").label(
        "kind"
    )
    grouped = db.session.execute(
        select(has_text, *gender_counts(Referral.gender))
        .select_from(Referral)
        .join(Decision, Referral.decision_id == Decision.id)
        .where(Referral.state == "decided", *_referral_conditions(filters))
        .group_by(has_text)
    ).all()
    found = {r.kind: _counts(r) for r in grouped}
    rows = [
        Row(kind, label("funnel", kind), found.get(kind, _zero()))
        for kind in ("with_recommendation", "without_recommendation")
    ]
    return _simple(
        "joint_recommendation",
        title,
        filters,
        rows,
        unit="referrals",
        note=_(
            "Målet är 100 %: varje beslutad remiss ska ha en skriftlig gemensam rekommendation."
        ),
    )


def _month(column):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


@report(
    "gender_balance",
    _l("Könsfördelning per månad och remitterande myndighet"),
    G_PEOPLE,
    population=Population.ENROLLED.value,
    fixed_population=True,
)
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
        counts = _counts(record)
        agency = label("agency", record[1]) if record[1] else _not_given()
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
                    "share_women": _float(share),
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
        _sum(rows),
        note=_(
            "Andelen kvinnor bland kvinnor och män som skrevs in under månaden. En andel "
            "utanför 40–60 procent flaggas. Procent i raden: av radens inskrivningar."
        ),
        summary={"flagged": sum(1 for r in rows if r.extra["flagged"])},
    )


def _progression_query(filters: Filters, population: str, *, by_band: bool):
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


@report(
    "progression",
    _l("Självskattad stegförflyttning"),
    G_PROGRESSION,
    population=Population.ACTIVE.value,
)
def progression(filters: Filters, population: str) -> Report:
    """Share with a higher, lower or equal self-rating total, first against latest rating."""
    found = {r.change: _counts(r) for r in _progression_query(filters, population, by_band=False)}
    rows = [Row(c, label("progression_change", c), found[c]) for c in CHANGES if c in found]
    return _simple(
        "progression",
        _("Självskattad stegförflyttning"),
        filters,
        rows,
        note=_(
            "Deltagare med minst två skattningar: summan av de tio frågorna i den senaste "
            "skattningen jämförs med den första."
        ),
    )


@report(
    "progression_age",
    _l("Självskattad stegförflyttning per åldersband"),
    G_PROGRESSION,
    population=Population.ACTIVE.value,
    uses_bands=True,
)
def progression_age(filters: Filters, population: str) -> Report:
    """The progression shares per age band (percentages within each band)."""
    grouped = _progression_query(filters, population, by_band=True)
    bands = age_bands(filters.band_start, filters.band_end, filters.band_width)
    by_band: dict[int, dict[str, dict[str, int]]] = {}
    for record in grouped:
        by_band.setdefault(int(record.band), {})[record.change] = _counts(record)
    rows = []
    for index in sorted(by_band, key=lambda i: (i < 0, i)):
        if index >= 0:
            code, name = bands[index].code, bands[index].label
        else:
            code, name = (
                ("outside", _("Utanför åldersbanden"))
                if index == -1
                else (
                    None,
                    _not_given(),
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
    return _simple(
        "progression_age",
        _("Självskattad stegförflyttning per åldersband"),
        filters,
        rows,
        note=_("Procent inom åldersbandet. Deltagare med minst två skattningar."),
    )


CHANGE_BUCKETS = 3  # 0, 1, 2 and "3 or more" changes


@report(
    "coordinator_changes",
    _l("Koordinatorsbyten per ärende"),
    G_CONTINUITY,
    population=None,
)
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
    conditions = [Case.enrolled_on.is_not(None)]
    if filters.programme_id:
        conditions.append(Case.programme_id == filters.programme_id)
    if filters.municipality:
        conditions.append(Referral.home_municipality == filters.municipality)
    if filters.date_from:
        conditions.append(Case.enrolled_on >= filters.date_from)
    if filters.date_to:
        conditions.append(Case.enrolled_on <= filters.date_to)
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
    rows = [Row(str(int(r.bucket)), names[int(r.bucket)], _counts(r)) for r in grouped]
    return _simple(
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

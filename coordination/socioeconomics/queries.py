"""Reads: price lists, programme costs, a cohort's SUS registrations and its calculation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from coordination.core.errors import ValidationFailed
from coordination.core.parsing import bounded_int, is_digits
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.socioeconomics import labels
from coordination.socioeconomics.models import PriceList, ProgrammeCost, SavedCalculation
from coordination.statistics.models import SusParticipant, SusRegistration
from workflows import socioeconomics as rules
from workflows.statistics import Occasion


def price_lists() -> list[PriceList]:
    """Return every price-list version, newest year and version first."""
    return list(
        db.session.scalars(
            select(PriceList)
            .options(selectinload(PriceList.entries))
            .order_by(PriceList.year.desc(), PriceList.name, PriceList.version.desc())
        )
    )


def programme_costs(programme_id: int) -> list[ProgrammeCost]:
    """Return a programme's costs by year."""
    return list(
        db.session.scalars(
            select(ProgrammeCost)
            .where(ProgrammeCost.programme_id == programme_id)
            .order_by(ProgrammeCost.year)
        )
    )


def saved_calculations() -> list[SavedCalculation]:
    """Return the saved calculations, newest first."""
    return list(
        db.session.scalars(
            select(SavedCalculation)
            .options(selectinload(SavedCalculation.programme))
            .order_by(SavedCalculation.id.desc())
            .limit(200)
        )
    )


def prices_of(price_list: PriceList) -> list[rules.Price]:
    """Return a price list's entries as the rules take them."""
    return [
        rules.Price(e.variable, e.code, e.actor, e.kind, int(e.amount)) for e in price_list.entries
    ]


def _state(registration: SusRegistration) -> rules.State:
    return rules.State(
        support=frozenset(registration.support_codes),
        occupation=registration.occupation,
        work=registration.work,
    )


@dataclass
class Cohort:
    """The participants of a programme who exited in a period, as the rules take them."""

    participants: list[rules.Participant] = field(default_factory=list)
    left_out: int = 0  # exited in the period but without intake, or without exit and follow-up
    missing_cost_years: list[int] = field(default_factory=list)


def exited_in_year(programme_id: int, year: int) -> int:
    """Return how many participants exited the programme during a year (for budget ÷ them)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(SusParticipant)
            .where(
                SusParticipant.programme_id == programme_id,
                SusParticipant.exited_on >= date(year, 1, 1),
                SusParticipant.exited_on <= date(year, 12, 31),
            )
        )
        or 0
    )


def _cost_per_participant(programme_id: int, year: int) -> tuple[Fraction, dict] | None:
    cost = db.session.scalar(
        select(ProgrammeCost).where(
            ProgrammeCost.programme_id == programme_id, ProgrammeCost.year == year
        )
    )
    if cost is None:
        return None
    if cost.cost_per_participant is not None:
        return Fraction(cost.cost_per_participant), cost.shares
    exited = exited_in_year(programme_id, year)
    return Fraction(cost.budget or 0, max(exited, 1)), cost.shares


def load_cohort(programme_id: int, exited_from: date, exited_to: date) -> Cohort:
    """Build a cohort: before = intake, after = the 12-month follow-up, else the exit."""
    found = db.session.scalars(
        select(SusParticipant)
        .where(
            SusParticipant.programme_id == programme_id,
            SusParticipant.exited_on >= exited_from,
            SusParticipant.exited_on <= exited_to,
        )
        .options(selectinload(SusParticipant.registrations).selectinload(SusRegistration.supports))
        .order_by(SusParticipant.id)
    )
    cohort = Cohort()
    costs: dict[int, tuple[Fraction, dict] | None] = {}
    for participant in found:
        intake = participant.registration(Occasion.INTAKE)
        follow_up = participant.registration(Occasion.FOLLOW_UP_12)
        after = follow_up or participant.registration(Occasion.EXIT)
        if intake is None or after is None or participant.exited_on is None:
            cohort.left_out += 1
            continue
        year = participant.exited_on.year
        if year not in costs:
            costs[year] = _cost_per_participant(programme_id, year)
        cost = costs[year]
        if cost is None:
            continue
        cohort.participants.append(
            rules.Participant(
                before=_state(intake),
                after=_state(after),
                used_exit_data=follow_up is None,
                cost=cost[0],
                shares=cost[1],
            )
        )
    cohort.missing_cost_years = sorted(y for y, c in costs.items() if c is None)
    return cohort


@dataclass
class CohortReport:
    """One cohort's calculation with what it rests on."""

    programme: Programme
    exited_from: date
    exited_to: date
    price_list: PriceList
    horizon: int
    result: rules.Result
    left_out: int

    def rows(self) -> list[dict]:
        """Return one row per actor, then the public actors and society, in whole kronor."""
        out = []
        for key, figures in self.result.rows:
            payback = figures.payback_months
            out.append(
                {
                    "actor": key,
                    "label": labels.actor(key),
                    "benefit": rules.kronor(figures.benefit),
                    "cost": rules.kronor(figures.cost),
                    "net_1_year": rules.kronor(figures.net_1),
                    "net_horizon": rules.kronor(figures.net_horizon),
                    "payback_months": payback,
                    "cohort_benefit": rules.kronor(figures.cohort(figures.benefit)),
                    "cohort_cost": rules.kronor(figures.cohort(figures.cost)),
                    "cohort_net_1_year": rules.kronor(figures.cohort(figures.net_1)),
                    "cohort_net_horizon": rules.kronor(figures.cohort(figures.net_horizon)),
                    "before": rules.kronor(figures.before),
                    "after": rules.kronor(figures.after),
                }
            )
        return out

    def as_json(self) -> dict:
        """The calculation as the API and the saved calculations give it."""
        society = self.result.society
        assert society is not None
        return {
            "programme_id": self.programme.id,
            "programme": self.programme.name,
            "exited_from": self.exited_from.isoformat(),
            "exited_to": self.exited_to.isoformat(),
            "price_list": {
                "id": self.price_list.id,
                "name": self.price_list.name,
                "year": self.price_list.year,
                "version": self.price_list.version,
            },
            "horizon_years": self.horizon,
            "participants": self.result.participants,
            "used_exit_data": self.result.used_exit_data,
            "left_out": self.left_out,
            "cost_per_participant": rules.kronor(society.cost),
            "cohort_cost": rules.kronor(society.cohort(society.cost)),
            "income_change": rules.kronor(self.result.income_change),
            "rows": self.rows(),
        }


def _parse_day(raw: str | None, errors: dict, field_name: str) -> date | None:
    if not raw:
        errors[field_name] = [_("Ange ett datum.")]
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[field_name] = [_("Ange ett datum som ÅÅÅÅ-MM-DD.")]
        return None


def _parse_id(model, raw: str | None, errors: dict, field_name: str, message: str):
    text = (raw or "").strip()
    row = db.session.get(model, int(text)) if is_digits(text) else None
    if row is None:
        errors[field_name] = [message]
    return row


def run_cohort(args, programme: Programme | None = None) -> CohortReport:
    """Calculate a cohort from request arguments; raise ValidationFailed with every problem.

    Arguments: programme_id (unless given), exited_from, exited_to, price_list_id,
    horizon_years (default 5).
    """
    errors: dict[str, list[str]] = {}
    if programme is None:
        programme = _parse_id(
            Programme,
            args.get("programme_id"),
            errors,
            "programme_id",
            _("Välj en insats i listan."),
        )
    start = _parse_day(args.get("exited_from"), errors, "exited_from")
    end = _parse_day(args.get("exited_to"), errors, "exited_to")
    if start and end and end < start:
        errors["exited_to"] = [_("Slutdatum kan inte ligga före startdatum.")]
    price_list = _parse_id(
        PriceList,
        args.get("price_list_id"),
        errors,
        "price_list_id",
        _("Välj en prislista i listan."),
    )
    horizon_text = str(args.get("horizon_years") or rules.DEFAULT_HORIZON).strip()
    try:
        horizon = bounded_int(horizon_text)
    except ValueError:
        horizon = 0
        errors["horizon_years"] = [labels.problem("horizon_out_of_range")]
    cohort = Cohort()
    if programme is not None and start and end and "exited_to" not in errors:
        cohort = load_cohort(programme.id, start, end)
        if cohort.missing_cost_years:
            errors["cost"] = [
                _(
                    "Insatsens kostnad saknas för %(years)s: ange den under Insatsens kostnad.",
                    years=", ".join(str(y) for y in cohort.missing_cost_years),
                )
            ]
    prices = prices_of(price_list) if price_list is not None else []
    problems = labels.problems(rules.check_inputs(cohort.participants, prices, horizon))
    if (
        programme is None
        or not (start and end)
        or "exited_to" in errors
        or cohort.missing_cost_years
    ):
        problems.pop("cohort", None)  # an empty cohort says nothing before the period is valid
    for key, messages in problems.items():
        errors.setdefault(key, messages)
    if errors:
        raise ValidationFailed(_("Beräkningen kunde inte göras: rätta felen."), errors=errors)
    assert programme is not None and price_list is not None and start and end
    result = rules.calculate(cohort.participants, prices, horizon)
    return CohortReport(programme, start, end, price_list, horizon, result, cohort.left_out)

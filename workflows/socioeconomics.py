"""Socio-economic follow-up, NyttoSam-style (../shared/DOMAIN.md §13): pure arithmetic.

Amounts are whole kronor (int) in, exact fractions inside, so the worked example of §13 comes out
exact; rounding to whole kronor happens only when a figure is shown (`kronor`). Problems are
returned as codes ("negative_amount", ...) that the application turns into sentences.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

ACTORS: tuple[str, ...] = ("individual", "kommun", "region", "af", "fk", "state")
PUBLIC_ACTORS: tuple[str, ...] = ("kommun", "region", "af", "fk", "state")
VARIABLES: tuple[str, ...] = ("support", "occupation", "work")
KINDS: tuple[str, ...] = ("cost", "revenue")
# The finsam funding: the state 50 %, the region 25 %, the municipalities 25 %.
DEFAULT_SHARES: dict[str, Decimal] = {
    "kommun": Decimal(25),
    "region": Decimal(25),
    "af": Decimal(0),
    "fk": Decimal(0),
    "state": Decimal(50),
}
DEFAULT_HORIZON = 5
MAX_HORIZON = 50


@dataclass(frozen=True)
class Price:
    """What one state (a support code, an occupation or a work code) costs or brings one actor
    per year."""

    variable: str
    code: str
    actor: str
    kind: str
    amount: int


@dataclass(frozen=True)
class State:
    """A participant's situation on one occasion: means of support, occupation, work."""

    support: frozenset[str] = frozenset()
    occupation: str | None = None
    work: str | None = None

    def codes(self) -> set[tuple[str, str]]:
        """Return the (variable, code) pairs the state has."""
        found = {("support", code) for code in self.support}
        if self.occupation:
            found.add(("occupation", self.occupation))
        if self.work:
            found.add(("work", self.work))
        return found


@dataclass(frozen=True)
class Participant:
    """One participant of a cohort: before (intake), after (12-month follow-up, else exit)."""

    before: State
    after: State
    used_exit_data: bool
    cost: Fraction  # C, the programme's cost for this participant
    shares: Mapping[str, Decimal]  # how C is split over the public actors, in percent


@dataclass
class Figures:
    """The key figures of one actor (or the public actors together, or society)."""

    benefit: Fraction  # B per participant and year
    cost: Fraction  # C per participant
    participants: int
    horizon: int
    before: Fraction = Fraction(0)  # net annual position before (revenue − cost), per participant
    after: Fraction = Fraction(0)

    @property
    def net_1(self) -> Fraction:
        """Net after one year per participant: B − C."""
        return self.benefit - self.cost

    @property
    def net_horizon(self) -> Fraction:
        """Net after the horizon per participant: horizon·B − C."""
        return self.horizon * self.benefit - self.cost

    @property
    def payback_months(self) -> int | None:
        """Months until B has paid C back; None: "ingen återbetalning"."""
        return payback_months(self.cost, self.benefit, self.horizon)

    def cohort(self, value: Fraction) -> Fraction:
        """Return a per-participant figure for the whole cohort."""
        return value * self.participants


@dataclass
class Result:
    """The calculation of one cohort: figures per actor, public actors, society."""

    participants: int
    used_exit_data: int
    horizon: int
    actors: dict[str, Figures] = field(default_factory=dict)
    public: Figures | None = None
    society: Figures | None = None

    @property
    def rows(self) -> list[tuple[str, Figures]]:
        """Return (key, figures) for each actor, then 'public' and 'society'."""
        rows = list(self.actors.items())
        if self.public is not None:
            rows.append(("public", self.public))
        if self.society is not None:
            rows.append(("society", self.society))
        return rows

    @property
    def income_change(self) -> Fraction:
        """The change in the individual's disposable income per participant and year."""
        return self.actors["individual"].benefit


class InvalidInput(Exception):
    """The input cannot be calculated; `errors` maps each field to problem codes."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def payback_months(cost: Fraction, benefit: Fraction, horizon: int) -> int | None:
    """Return ceil(12·C / B), or None when B ≤ 0 or the months exceed the horizon."""
    if benefit <= 0:
        return None
    months = math.ceil(Fraction(12) * cost / benefit)
    if months > 12 * horizon:
        return None
    return max(months, 0)


def kronor(value: Fraction | int) -> int:
    """Round an exact amount to whole kronor, halves away from zero."""
    exact = Fraction(value)
    half = Fraction(1, 2)
    return math.floor(exact + half) if exact >= 0 else -math.floor(-exact + half)


def price_problems(price: Price) -> dict[str, list[str]]:
    """Return the problems of one price by field (codes, empty when it is valid)."""
    errors: dict[str, list[str]] = {}
    if price.variable not in VARIABLES:
        errors.setdefault("variable", []).append("unknown_variable")
    if price.actor not in ACTORS:
        errors.setdefault("actor", []).append("unknown_actor")
    if price.kind not in KINDS:
        errors.setdefault("kind", []).append("unknown_kind")
    if price.amount < 0:
        errors.setdefault("amount", []).append("negative_amount")
    return errors


def share_problems(shares: Mapping[str, Decimal]) -> list[str]:
    """Return the problems of a split of the programme's cost (each 0-100, sum exactly 100)."""
    problems = []
    if any(actor not in PUBLIC_ACTORS for actor in shares):
        problems.append("unknown_actor")
    if any(value < 0 or value > 100 for value in shares.values()):
        problems.append("share_out_of_range")
    if sum(shares.values(), Decimal(0)) != 100:
        problems.append("shares_not_100")
    return problems


def position(prices: Iterable[Price], state: State) -> dict[str, Fraction]:
    """Return each actor's net annual position in a state: revenue − cost.

    The prices of every code the state has are added (a support code, the occupation, the work).
    """
    codes = state.codes()
    out = {actor: Fraction(0) for actor in ACTORS}
    for price in prices:
        if (price.variable, price.code) in codes:
            sign = 1 if price.kind == "revenue" else -1
            out[price.actor] += sign * price.amount
    return out


def benefit(prices: Iterable[Price], before: State, after: State) -> dict[str, Fraction]:
    """Return B per actor for one participant: cost before − cost after + revenue after −
    revenue before."""
    prices = list(prices)
    was, now = position(prices, before), position(prices, after)
    return {actor: now[actor] - was[actor] for actor in ACTORS}


def split_cost(cost: Fraction, shares: Mapping[str, Decimal]) -> dict[str, Fraction]:
    """Split C over the funders by percentage shares (the individual pays nothing)."""
    out = {actor: Fraction(0) for actor in ACTORS}
    for actor, share in shares.items():
        out[actor] += cost * Fraction(share) / 100
    return out


def check_inputs(
    participants: list[Participant], prices: list[Price], horizon: int
) -> dict[str, list[str]]:
    """Return every problem of the inputs at once (codes by field)."""
    errors: dict[str, list[str]] = {}
    if not participants:
        errors["cohort"] = ["empty_cohort"]
    if horizon < 1 or horizon > MAX_HORIZON:
        errors["horizon_years"] = ["horizon_out_of_range"]
    if any(price_problems(price) for price in prices):
        errors["price_list_id"] = ["invalid_prices"]
    if any(share_problems(p.shares) for p in participants):
        errors["shares"] = ["shares_not_100"]
    if any(p.cost < 0 for p in participants):
        errors["cost"] = ["negative_amount"]
    return errors


def calculate(participants: list[Participant], prices: list[Price], horizon: int) -> Result:
    """Calculate the §13 key figures of a cohort; raise InvalidInput with every problem."""
    errors = check_inputs(participants, prices, horizon)
    if errors:
        raise InvalidInput(errors)
    count = len(participants)
    benefit_sum = {actor: Fraction(0) for actor in ACTORS}
    cost_sum = {actor: Fraction(0) for actor in ACTORS}
    before_sum = {actor: Fraction(0) for actor in ACTORS}
    after_sum = {actor: Fraction(0) for actor in ACTORS}
    for participant in participants:
        was, now = position(prices, participant.before), position(prices, participant.after)
        for actor in ACTORS:
            benefit_sum[actor] += now[actor] - was[actor]
            before_sum[actor] += was[actor]
            after_sum[actor] += now[actor]
        for actor, part in split_cost(participant.cost, participant.shares).items():
            cost_sum[actor] += part

    def figures(actors: tuple[str, ...]) -> Figures:
        return Figures(
            benefit=sum((benefit_sum[a] for a in actors), Fraction(0)) / count,
            cost=sum((cost_sum[a] for a in actors), Fraction(0)) / count,
            participants=count,
            horizon=horizon,
            before=sum((before_sum[a] for a in actors), Fraction(0)) / count,
            after=sum((after_sum[a] for a in actors), Fraction(0)) / count,
        )

    return Result(
        participants=count,
        used_exit_data=sum(1 for p in participants if p.used_exit_data),
        horizon=horizon,
        actors={actor: figures((actor,)) for actor in ACTORS},
        public=figures(PUBLIC_ACTORS),
        society=figures(ACTORS),
    )

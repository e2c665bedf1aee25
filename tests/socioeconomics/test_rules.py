"""The pure formulas of DOMAIN.md §13, as tables (workflows.socioeconomics)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from workflows import socioeconomics as rules

F = Fraction


@pytest.mark.parametrize(
    ("cost", "benefit", "horizon", "months"),
    [
        (F(15_000), F(65_600), 5, 3),  # kommun in the worked example
        (F(15_000), F(9_000), 5, 20),  # region
        (F(30_000), F(5_400), 5, None),  # state: 67 months, beyond 60
        (F(30_000), F(5_400), 6, 67),  # the same within a 6-year horizon
        (F(60_000), F(80_000), 5, 9),  # the public actors together
        (F(60_000), F(12_000), 5, 60),  # exactly the horizon: still paid back
        (F(60_000), F(11_999), 5, None),  # one krona less: 61 months
        (F(60_000), F(0), 5, None),  # B = 0
        (F(60_000), F(-1_000), 5, None),  # B < 0
        (F(0), F(1_000), 5, 0),  # nothing to pay back
        (F(12), F(1), 1, None),  # 144 months, beyond a 1-year horizon
        (F(1), F(12), 1, 1),
        (F(1, 3), F(4), 1, 1),  # ceil(1) exactly
    ],
)
def test_payback_months(cost, benefit, horizon, months):
    assert rules.payback_months(cost, benefit, horizon) == months


@pytest.mark.parametrize(
    ("value", "kronor"),
    [(F(65_600), 65_600), (F(1, 2), 1), (F(-1, 2), -1), (F(5, 3), 2), (F(-5, 3), -2), (0, 0)],
)
def test_rounding_to_whole_kronor_happens_last_and_halves_go_away_from_zero(value, kronor):
    assert rules.kronor(value) == kronor


PRICES = [
    rules.Price("support", "forsorjningsstod", "kommun", "cost", 110_000),
    rules.Price("work", "ej_subventionerat", "kommun", "revenue", 54_000),
    rules.Price("work", "ej_subventionerat", "region", "revenue", 22_500),
    rules.Price("work", "ej_subventionerat", "state", "revenue", 13_500),
    rules.Price("support", "sjukpenning_rehabpenning", "fk", "cost", 200_000),
]
ON_SUPPORT = rules.State(support=frozenset({"forsorjningsstod"}))
WORKING = rules.State(work="ej_subventionerat")
SICK = rules.State(support=frozenset({"sjukpenning_rehabpenning"}))


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (ON_SUPPORT, WORKING, {"kommun": 164_000, "region": 22_500, "state": 13_500}),
        (ON_SUPPORT, ON_SUPPORT, {}),
        (WORKING, ON_SUPPORT, {"kommun": -164_000, "region": -22_500, "state": -13_500}),
        (SICK, ON_SUPPORT, {"fk": 200_000, "kommun": -110_000}),
        (rules.State(), rules.State(), {}),
    ],
)
def test_benefit_is_cost_before_minus_after_plus_revenue_after_minus_before(
    before, after, expected
):
    found = rules.benefit(PRICES, before, after)
    assert {a: v for a, v in found.items() if v} == expected


def participant(before, after, *, exit_data=False, cost=60_000, shares=None):
    return rules.Participant(
        before=before,
        after=after,
        used_exit_data=exit_data,
        cost=F(cost),
        shares=shares or rules.DEFAULT_SHARES,
    )


def test_the_worked_example_exactly():
    cohort = [participant(ON_SUPPORT, WORKING) for _ in range(4)]
    cohort += [participant(ON_SUPPORT, ON_SUPPORT) for _ in range(6)]
    result = rules.calculate(cohort, PRICES, 5)
    assert (result.participants, result.used_exit_data) == (10, 0)
    expected = {
        "kommun": (65_600, 15_000, 3),
        "region": (9_000, 15_000, 20),
        "state": (5_400, 30_000, None),
        "af": (0, 0, None),
        "fk": (0, 0, None),
    }
    for actor, (benefit, cost, months) in expected.items():
        figures = result.actors[actor]
        assert (figures.benefit, figures.cost, figures.payback_months) == (benefit, cost, months)
    public = result.public
    assert public is not None
    assert (public.benefit, public.cost, public.payback_months) == (80_000, 60_000, 9)
    assert (public.net_1, public.net_horizon) == (20_000, 340_000)
    assert public.cohort(public.net_horizon) == 3_400_000
    assert public.cohort(public.benefit) == 800_000
    # The state within a horizon of 6 years: ceil(12 * 30,000 / 5,400) = 67 months.
    assert rules.calculate(cohort, PRICES, 6).actors["state"].payback_months == 67


def test_a_cohort_where_some_follow_ups_are_missing_counts_them():
    cohort = [participant(ON_SUPPORT, WORKING, exit_data=True)]
    cohort += [
        participant(ON_SUPPORT, WORKING),
        participant(ON_SUPPORT, ON_SUPPORT, exit_data=True),
    ]
    result = rules.calculate(cohort, PRICES, 5)
    assert (result.participants, result.used_exit_data) == (3, 2)
    assert result.actors["kommun"].benefit == F(2 * 164_000, 3)


def test_a_cohort_that_gets_worse_never_pays_back():
    result = rules.calculate([participant(WORKING, ON_SUPPORT)], PRICES, 5)
    assert result.public is not None
    assert result.public.benefit == -200_000
    assert result.public.payback_months is None
    assert result.public.net_horizon == 5 * -200_000 - 60_000


def test_shares_split_the_cost_exactly():
    split = rules.split_cost(F(60_000), rules.DEFAULT_SHARES)
    assert {a: v for a, v in split.items() if v} == {
        "state": 30_000,
        "region": 15_000,
        "kommun": 15_000,
    }
    odd = {"kommun": Decimal("33.33"), "region": Decimal("33.33"), "state": Decimal("33.34")}
    assert sum(rules.split_cost(F(100), odd).values()) == 100


@pytest.mark.parametrize(
    ("shares", "problems"),
    [
        (rules.DEFAULT_SHARES, []),
        ({"state": Decimal(50), "region": Decimal(25)}, ["shares_not_100"]),
        ({"state": Decimal(110), "region": Decimal(-10)}, ["share_out_of_range"]),
        ({"state": Decimal(100), "municipality": Decimal(0)}, ["unknown_actor"]),
    ],
)
def test_share_problems(shares, problems):
    assert rules.share_problems(shares) == problems


def test_every_input_problem_is_reported_at_once():
    bad_price = rules.Price("support", "forsorjningsstod", "kommun", "cost", -1)
    bad = participant(ON_SUPPORT, WORKING, shares={"state": Decimal(50)}, cost=-5)
    with pytest.raises(rules.InvalidInput) as refused:
        rules.calculate([bad], [bad_price], 0)
    assert refused.value.errors == {
        "horizon_years": ["horizon_out_of_range"],
        "price_list_id": ["invalid_prices"],
        "shares": ["shares_not_100"],
        "cost": ["negative_amount"],
    }
    with pytest.raises(rules.InvalidInput) as refused:
        rules.calculate([], PRICES, 5)
    assert refused.value.errors == {"cohort": ["empty_cohort"]}
    assert rules.price_problems(bad_price) == {"amount": ["negative_amount"]}
    assert rules.price_problems(rules.Price("x", "c", "king", "gift", 1)) == {
        "variable": ["unknown_variable"],
        "actor": ["unknown_actor"],
        "kind": ["unknown_kind"],
    }

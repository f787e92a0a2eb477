"""A tiny point's cap (one period's upper forecast bound, or the bound read from its error_sd)
refuses an over-dispersed fit's implausible lumps; it never holds less than Poisson demand of
the same mean needs at the target.

Known answers by hand with scipy: (R, S) weekly, 14-day lead time (L = 2 weeks, T = 3), the
smallest S whose fill rate 1 - (E[(D_T - S)^+] - E[(D_L - S)^+]) / (demand of a review) reaches
the target, D Poisson of the forecast's mean; expected service at a capped level is the fit's
(scipy's negative binomial of the fit's mean and variance)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl
import pytest
from scipy import stats

from segchain.stock import stock


def forecast(row: dict) -> pl.DataFrame:
    return pl.DataFrame([{"ds": date(2024, 1, 1) + timedelta(weeks=i), **row} for i in range(4)])


def loss(dist, mean: float, s: int) -> float:  # type: ignore[no-untyped-def]
    """E[(D - s)^+] = E[D] - sum_{k < s} P(D > k)."""
    return mean - float(sum(dist.sf(k) for k in range(s)))


def rs_fill(over_t, over_l, mu: float, s: int) -> float:  # type: ignore[no-untyped-def]
    return 1 - (loss(over_t, 3 * mu, s) - loss(over_l, 2 * mu, s)) / mu


def poisson_level(mu: float, target: float) -> int:
    over_t, over_l = stats.poisson(3 * mu), stats.poisson(2 * mu)
    return next(s for s in range(100) if rs_fill(over_t, over_l, mu, s) >= target - 1e-9)


def plan(row: dict, target: float) -> dict:
    fc = forecast(row)
    p = stock(fc, service_level=target, policy_type="RS", review_days=7).policy
    return p.row(0, named=True)


@pytest.mark.parametrize(("target", "level"), [(0.95, 3), (0.99, 4), (0.9999, 7)])
def test_a_poisson_point_is_not_held_below_its_own_level_by_the_upper_bound(
    target: float, level: int
) -> None:
    # 0.3 a week, 0.9 units over the protection interval, an upper forecast bound of 0.9 a
    # week: the bound had held it at 1 at every target (expected fill 0.47 by scipy).
    mu = 0.3
    assert poisson_level(mu, target) == level
    p = plan({"sku": "A", "forecast": mu, "error_sd": 0.0, "forecast-hi-95": 0.9}, target)
    assert p["distribution"] == "poisson" and p["mean_demand_lt"] < 1
    assert p["order_up_to"] == level
    assert not p["capped"]
    fill = rs_fill(stats.poisson(3 * mu), stats.poisson(2 * mu), mu, level)
    assert p["expected_fill_rate"] == pytest.approx(fill, abs=1e-6)


@pytest.mark.parametrize(("target", "level"), [(0.95, 3), (0.99, 4), (0.9999, 7)])
def test_an_over_dispersed_tiny_point_is_capped_no_lower_than_poisson(
    target: float, level: int
) -> None:
    # sd 0.7 on 0.3 a week: the fit asks more than the bound (1.4 -> 2); held at the Poisson
    # level instead, which lies above the bound, and its service is the fit's there.
    mu, sd = 0.3, 0.7
    assert poisson_level(mu, target) == level > math.ceil(1.4)
    p = plan({"sku": "A", "forecast": mu, "error_sd": sd, "forecast-hi-95": 1.4}, target)
    assert p["distribution"] == "negbin"
    assert p["order_up_to"] == level
    assert p["capped"]

    def negbin(mean: float, var: float):  # type: ignore[no-untyped-def]
        q = mean / var
        return stats.nbinom(mean * q / (1 - q), q)

    fill = rs_fill(negbin(3 * mu, 3 * sd**2), negbin(2 * mu, 2 * sd**2), mu, level)
    assert p["expected_fill_rate"] == pytest.approx(fill, abs=1e-6)


def test_a_bound_above_the_poisson_level_still_holds() -> None:
    # Mean 4e-7 a week under sd 0.1 (lumps of 25,000 units): Poisson needs 1, the bound read
    # from the sd is ceil(4e-7 + 0.1 sqrt(3652.5 / 7)) = 3, and the bound holds.
    mu, sd = 4e-7, 0.1
    assert poisson_level(mu, 0.95) == 1
    bound = math.ceil(mu + sd * math.sqrt(3652.5 / 7))
    assert bound == 3
    p = plan({"sku": "A", "forecast": mu, "error_sd": sd}, 0.95)
    assert p["order_up_to"] == bound and p["capped"]


def test_the_note_names_a_point_held_at_the_poisson_level_above_its_bound() -> None:
    # A's bound (forecast-hi-95 1.4: 2 units) lies below the Poisson level of 0.3 a week at 0.95
    # (3, by scipy): A holds 3, and stderr had said it was "capped at one period's upper
    # forecast bound" with B, which does hold its bound (4, above Poisson's 3).
    mu, sd = 0.3, 0.7
    level, bound = poisson_level(mu, 0.95), math.ceil(1.4)
    assert (level, bound) == (3, 2)
    fc = pl.concat(
        [
            forecast({"sku": "A", "forecast": mu, "error_sd": sd, "forecast-hi-95": 1.4}),
            forecast({"sku": "B", "forecast": mu, "error_sd": sd, "forecast-hi-95": 4.0}),
        ]
    )
    res = stock(fc, service_level=0.95, policy_type="RS", review_days=7)
    assert res.policy["order_up_to"].to_list() == [level, 4]
    tiny = "with under 1 unit of expected demand over its protection interval"
    notes = [n for n in res.notes if tiny in n]
    assert notes == [
        f"1 stocking point {tiny} capped at one period's upper forecast bound (its "
        "forecast-hi-* column)",
        f"1 stocking point {tiny} holds the Poisson level of its mean at its target, above one "
        "period's upper forecast bound (its forecast-hi-* column), which is less than sales one "
        f"unit at a time need (sku 'A' at {level} against {bound} units)",
    ]


def test_a_segment_short_because_of_a_point_at_the_poisson_level_is_told_so() -> None:
    # Gold's only point A is capped at the Poisson level 3 (scipy), above its bound 2: the
    # segment's note had said its capped points held one period's upper bound.
    mu, sd = 0.3, 0.7
    assert (poisson_level(mu, 0.95), math.ceil(1.4)) == (3, 2)
    row = {"sku": "A", "segment": "Gold", "forecast": mu, "error_sd": sd, "forecast-hi-95": 1.4}
    res = stock(forecast(row), service_level=0.95, policy_type="RS", review_days=7)
    assert res.policy["order_up_to"].to_list() == [3] and res.policy["capped"].to_list() == [True]
    gold = [n for n in res.notes if n.startswith("Gold: ")]
    assert len(gold) == 1
    assert (
        "because of its 1 capped stocking point (a tiny series at one period's upper bound, "
        "or at the Poisson level of its mean at its target where that is higher, or a "
        "bootstrapped one at its history's largest demand)" in gold[0]
    )

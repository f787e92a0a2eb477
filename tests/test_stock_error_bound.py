"""A tiny series without an upper forecast bound (a forecast from another tool: sku, ds,
forecast, error_sd) is held to one period's bound read from its error sd.

Known answers by hand: the bound is forecast + error_sd * sqrt(n), n ten years of periods
(3652.5 / 7 weeks, 3652.5 days, 120 months); expected service at the capped level from scipy's
negative binomial with the fit's mean and variance over the lead time and the protection
interval."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import stats

from segchain.stock import stock
from segchain.stock.inputs import level_caps

PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 30.4375}


def dates(period: str, n: int = 4) -> list[date]:
    start = date(2024, 1, 1)
    if period == "month":
        return [date(2024, 1 + i, 1) for i in range(n)]
    return [start + timedelta(days=PERIOD_DAYS[period] * i) for i in range(n)]


def forecast(rows: list[dict], period: str = "week") -> pl.DataFrame:
    return pl.DataFrame([{"ds": d, **r} for r in rows for d in dates(period)])


def bound(mean: float, sd: float, period: str) -> float:
    """One period's bound by hand: mean + sd * sqrt(ten years of periods)."""
    return mean + sd * math.sqrt(10 * 365.25 / PERIOD_DAYS[period])


def negbin(mean: float, var: float):  # type: ignore[no-untyped-def]
    p = mean / var
    return stats.nbinom(mean * p / (1 - p), p)


def loss(dist, mean: float, s: int) -> float:  # type: ignore[no-untyped-def]
    """E[(D - s)^+] = E[D] - sum_{k < s} P(D > k): exact, without the long tail."""
    return mean - float(sum(dist.sf(k) for k in range(s)))


@pytest.mark.parametrize(("period", "level"), [("week", 3.0), ("day", 7.0), ("month", 2.0)])
def test_a_tiny_over_dispersed_point_without_upper_bound_holds_its_error_bound(
    period: str, level: float
) -> None:
    # Mean 4e-7 a period with error sd 0.1, a 0.95 fill rate, (s, Q) looked at nightly: the
    # negative binomial of that mean and variance is lumps of var/mean = 25,000 units once in
    # var/mean^2 = 6e10 periods, and the reorder point was 44,547 (weekly). Held now to one
    # period's bound: 4e-7 + 0.1 * sqrt(522) = 2.28 a week -> 3, 6.04 a day -> 7, 1.10 a
    # month -> 2 (`level`, by hand).
    assert math.ceil(bound(4e-7, 0.1, period)) == level
    fc = forecast([{"sku": "A", "forecast": 4e-7, "error_sd": 0.1}], period)
    p = stock(fc, service_level=0.95).policy
    assert p["distribution"][0] == "negbin"
    assert p["mean_demand_lt"][0] < 1
    assert p["reorder_point"][0] == level
    assert p["capped"][0]


def test_the_capped_levels_service_is_the_fits_at_that_level() -> None:
    # (R, S) weekly, lead time 14 days: over the lead time L = 2 weeks, over the protection
    # interval T = 3. S = ceil(4e-7 + 0.1 sqrt(522)) = 3. Fill rate 1 - (E[(D_T - S)^+] -
    # E[(D_L - S)^+]) / (demand of a review), CSL P(D_T <= S), with scipy's negative binomial
    # of the fit's means and variances (as a tiny point at its upper forecast bound is said).
    mu, sd = 4e-7, 0.1
    fc = forecast([{"sku": "A", "forecast": mu, "error_sd": sd}])
    p = stock(fc, service_level=0.95, policy_type="RS", review_days=7).policy.row(0, named=True)
    s = math.ceil(bound(mu, sd, "week"))
    assert p["order_up_to"] == s == 3 and p["capped"]
    over_t, over_l = negbin(3 * mu, 3 * sd**2), negbin(2 * mu, 2 * sd**2)
    fill = 1 - (loss(over_t, 3 * mu, s) - loss(over_l, 2 * mu, s)) / mu
    assert p["expected_fill_rate"] == pytest.approx(fill, abs=1e-6)
    assert p["expected_csl"] == pytest.approx(float(over_t.cdf(s)), abs=1e-9)


def test_a_forecast_at_its_historys_rate_is_not_capped_and_a_decayed_one_keeps_its_sale() -> None:
    # A backtest of 52 weeks with one sale of 6 units: error sd 6/sqrt(52) = 0.832 (ddof 1,
    # forecasts ~0). Forecast at the history's rate, 6/52 a week: the fit's lumps are 6 units,
    # the bound 0.115 + 0.832 * 22.8 = 19.1, and the (R, S) level is the negative binomial's
    # own, the smallest S whose fill rate reaches 0.95 by scipy: not capped. The same sd under
    # a forecast decayed to 1e-5 a week: lumps of 69,000 units; held at 20, above the 6 units
    # the backtest saw.
    sale = np.zeros(52)
    sale[20] = 6.0
    sd = float(np.std(sale, ddof=1))
    assert sd == pytest.approx(6 / math.sqrt(52))
    mu = 6 / 52
    fc = forecast([{"sku": "A", "forecast": mu, "error_sd": sd}])
    p = stock(fc, service_level=0.95, policy_type="RS", review_days=7).policy.row(0, named=True)
    over_t, over_l = negbin(3 * mu, 3 * sd**2), negbin(2 * mu, 2 * sd**2)
    level = next(
        s
        for s in range(200)
        if 1 - (loss(over_t, 3 * mu, s) - loss(over_l, 2 * mu, s)) / mu >= 0.95 - 1e-9
    )
    assert p["order_up_to"] == level < bound(mu, sd, "week")
    assert not p["capped"]
    decayed = forecast([{"sku": "A", "forecast": 1e-5, "error_sd": sd}])
    q = stock(decayed, service_level=0.95, policy_type="RS", review_days=7).policy
    assert q["order_up_to"][0] == math.ceil(bound(1e-5, sd, "week")) == 20
    assert q["capped"][0]


def test_a_poisson_fit_is_not_held_to_the_error_bound() -> None:
    # An error sd of 0 (a tool that gives none) under 0.3 a week, 0.9 units over the protection
    # interval: the bound 0.3 says nothing of unit-by-unit sales, and the Poisson fit does not
    # read the sd. Its (R, S) level is Poisson's, the smallest S meeting 0.99 by scipy (4), not
    # the bound's 1.
    fc = forecast([{"sku": "A", "forecast": 0.3, "error_sd": 0.0}])
    p = stock(fc, service_level=0.99, policy_type="RS", review_days=7).policy.row(0, named=True)
    assert p["distribution"] == "poisson" and p["mean_demand_lt"] < 1 and not p["capped"]
    over_t, over_l = stats.poisson(0.9), stats.poisson(0.6)
    level = next(
        s
        for s in range(50)
        if 1 - (loss(over_t, 0.9, s) - loss(over_l, 0.6, s)) / 0.3 >= 0.99 - 1e-9
    )
    assert p["order_up_to"] == level == 4


def test_an_empty_upper_bound_is_no_bound() -> None:
    # A forecast with forecast-hi-95 empty for sku A: summed as 0, its level was capped at 0
    # (fill rate 0.25). Empty is no bound: A is held to its error bound, 0.05 + 3 sqrt(522) =
    # 68.6 -> 69; B keeps its given bound, 8.
    fc = pl.concat(
        [
            forecast([{"sku": "A", "forecast": 0.05, "error_sd": 3.0}]).with_columns(
                pl.lit(None, pl.Float64).alias("forecast-hi-95")
            ),
            forecast([{"sku": "B", "forecast": 0.05, "error_sd": 3.0}]).with_columns(
                pl.lit(8.0).alias("forecast-hi-95")
            ),
        ]
    )
    found = level_caps(fc, ["sku"])
    assert found is not None
    caps = dict(found.iter_rows())
    assert caps == {"A": None, "B": 8.0}
    p = {r["sku"]: r for r in stock(fc, service_level=0.95).policy.iter_rows(named=True)}
    assert p["A"]["reorder_point"] == math.ceil(bound(0.05, 3.0, "week")) == 69
    assert p["B"]["reorder_point"] == 8
    assert p["A"]["capped"] and p["B"]["capped"]


def test_a_point_with_one_segments_bound_empty_has_none() -> None:
    # Segments summed per period: where segment y's bound is empty (weeks 2-4), the point's is
    # unknown, not segment x's 9 alone (as an empty bound summed as 0 had it, above the 5 of
    # week 1 where both are given). The point is held to its error bound instead.
    rows = []
    for i, d in enumerate(dates("week")):
        rows.append({"sku": "A", "segment": "x", "ds": d, "forecast-hi-95": 2.0 if i == 0 else 9.0})
        rows.append(
            {"sku": "A", "segment": "y", "ds": d, "forecast-hi-95": 3.0 if i == 0 else None}
        )
    caps = level_caps(pl.DataFrame(rows), ["sku"])
    assert caps is not None
    assert caps.to_dicts() == [{"sku": "A", "level_cap": None}]


def test_stderr_says_which_bound_capped_each_tiny_point():
    # Two tiny, over-dispersed skus, one with a forecast-hi-95 of 3 units a period and one
    # whose bound is empty: one capped at the forecast's bound, the other at its error_sd's
    # (the note had called both "one period's upper forecast bound").
    rows = [
        {"sku": "A", "forecast": 4e-7, "error_sd": 0.1, "forecast-hi-95": 3.0},
        {"sku": "B", "forecast": 4e-7, "error_sd": 0.1, "forecast-hi-95": None},
    ]
    result = stock(forecast(rows), service_level=0.95, service_measure="fill-rate")
    assert result.policy["capped"].to_list() == [True, True]
    notes = [n for n in result.notes if "protection interval capped at" in n]
    assert notes == [
        "1 stocking point with under 1 unit of expected demand over its protection interval "
        "capped at one period's upper forecast bound (its forecast-hi-* column)",
        "1 stocking point with under 1 unit of expected demand over its protection interval "
        "capped at one period's bound read from its error_sd (the forecast gives no "
        "forecast-hi-* bound there): the forecast plus error_sd times the root of ten years of "
        "periods",
    ]

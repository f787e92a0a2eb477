"""A sku x site series too thin to stand on its own (its own model forecasts no demand although it
sold in the last year, or its history is one period) is forecast as the sku's forecast across
sites times the site's share of the sku's history."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from segchain.forecast import forecast
from segchain.forecast.reconcile import SITE_FROM_SKU

WEEKS = 80
MONDAY = dt.date(2023, 1, 2)
# Site B sold the sku three times within the last year: weeks 40 and 70 to customer b1
# (segment "one"), week 55 to b2 (segment "two"); site A sells 10 a week to a1 ("one"); site C
# first sold it, 6 units to c1 ("one"), in the history's last week.
B_SALES = ((40, "b1"), (55, "b2"), (70, "b1"))
C_SALE = (WEEKS - 1, "c1", 6.0)
# By hand: the sku's naive forecast across sites is its last week, 10 + 6; it sold 800 + 12 + 6.
SKU_NEXT = 16.0
SKU_UNITS = 818.0


def _orders() -> pl.DataFrame:
    rows = [("A", "a1", MONDAY + dt.timedelta(weeks=w), 10.0) for w in range(WEEKS)] + [
        ("B", c, MONDAY + dt.timedelta(weeks=w), 4.0) for w, c in B_SALES
    ]
    rows.append(("C", C_SALE[1], MONDAY + dt.timedelta(weeks=C_SALE[0]), C_SALE[2]))
    return pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "site": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "order_date": [r[2] for r in rows],
            "quantity": [r[3] for r in rows],
            "sku": ["X"] * len(rows),
            "unit_price": [1.0] * len(rows),
        }
    )


SEGMENTS = pl.DataFrame(
    {"customer_id": ["a1", "b1", "b2", "c1"], "segment": ["one", "one", "two", "one"]}
)


@pytest.fixture(scope="module")
def result():
    return forecast(
        _orders(), SEGMENTS, freq="W", horizon=4, by="site,segment,sku", models="Naive", n_jobs=1
    )


def test_site_split_forecasts_a_silent_site_from_its_sku(result):
    # Site B sold 12 of the sku's units; its segments hold 8 and 4 of B's 12.
    b = result.forecast.filter(pl.col("site") == "B")
    per_segment = b.group_by("segment").agg(pl.col("forecast").mean()).sort("segment")
    assert per_segment["forecast"].to_list() == pytest.approx(
        [SKU_NEXT * 12 / SKU_UNITS * 8 / 12, SKU_NEXT * 12 / SKU_UNITS * 4 / 12]
    )


def test_site_split_forecasts_a_one_week_site_from_its_sku(result):
    # Not half its one sale every week (3.0): its 6 of the sku's units.
    c = result.forecast.filter(pl.col("site") == "C")
    assert c["forecast"].to_list() == pytest.approx([SKU_NEXT * 6 / SKU_UNITS] * 4)


def test_site_split_is_counted(result):
    assert result.fallbacks[SITE_FROM_SKU] == 2


def test_site_split_leaves_a_site_its_own_model_forecasts(result):
    a = result.forecast.filter(pl.col("site") == "A")
    assert a["forecast"].to_list() == pytest.approx([10.0] * 4)  # its own naive


def test_site_split_rows_name_the_model_that_made_their_numbers(result):
    # Only Naive may be chosen, so the sku's forecast across sites, which site C's rows are a
    # share of, is Naive's (16 a week, its last week). Site C's own series, one week long, is too
    # short to backtest and gets the young series' level (HistoricAverage), which made none of
    # the numbers written: the README's `model` is the model that made them.
    c = result.forecast.filter(pl.col("site") == "C")
    assert c["model"].unique().to_list() == ["Naive"]


def test_site_split_is_said_on_stderr(result):
    assert any(
        "2 sku x site series too thin to forecast on their own" in w for w in result.warnings
    )


# The spread of a split series: its sku's across sites times its share, as its forecast is. The
# sku's naive one-step error of week t is its week t-1 less its week t; its 4 backtest windows
# of 4 weeks start after week 79 - 16 = 63, so its error_sd is taken over weeks 64..79.
FIRST_CUT = WEEKS - 1 - 16
# Each split segment row's share of the sku: B's 12 of 818 units times the segment's of B's 12
# (b1 bought 8, b2 4); C's 6 of 818, all its segment one's.
SHARES = {("B", "one"): 8 / SKU_UNITS, ("B", "two"): 4 / SKU_UNITS, ("C", "one"): 6 / SKU_UNITS}


def _sku_week(t: int) -> float:
    b = sum(4.0 for w, _ in B_SALES if w == t)
    return 10.0 + b + (C_SALE[2] if t == C_SALE[0] else 0.0)


def _sku_error_sd() -> float:
    errors = [_sku_week(t - 1) - _sku_week(t) for t in range(FIRST_CUT + 1, WEEKS)]
    mean = sum(errors) / len(errors)
    return math.sqrt(sum((e - mean) ** 2 for e in errors) / (len(errors) - 1))


@pytest.mark.parametrize(("site", "segment"), list(SHARES))
def test_site_split_error_sd_is_the_skus_times_the_share(result, site, segment):
    # Not the sku x site series' own naive model's (site B's: its own last week, split), which
    # forecast none of the numbers written (1.24 for B's segment one).
    row = result.forecast.filter((pl.col("site") == site) & (pl.col("segment") == segment))
    assert row["error_sd"].unique().to_list() == pytest.approx(
        [_sku_error_sd() * SHARES[site, segment]]
    )


# Standard normal quantiles of the central 80 % and 95 % (any table).
Z = {80: 1.2815515655446004, 95: 1.959963984540054}


@pytest.mark.parametrize(("site", "segment"), list(SHARES))
def test_site_split_bounds_are_normal_of_its_error_sd(result, site, segment):
    # Not its own model's bounds moved to the split forecast (0 to 0 at site C).
    share = SHARES[site, segment]
    f, sd = SKU_NEXT * share, _sku_error_sd() * share
    row = result.forecast.filter((pl.col("site") == site) & (pl.col("segment") == segment))
    for lv, z in Z.items():
        assert row[f"forecast-lo-{lv}"].to_list() == pytest.approx([max(f - z * sd, 0.0)] * 4)
        assert row[f"forecast-hi-{lv}"].to_list() == pytest.approx([f + z * sd] * 4)


def test_site_split_bounds_hold_the_forecast(result):
    fc = result.forecast
    for lv in (80, 95):
        lo, hi = fc[f"forecast-lo-{lv}"], fc[f"forecast-hi-{lv}"]
        assert ((lo >= 0) & (lo <= fc["forecast"]) & (fc["forecast"] <= hi)).all()


@pytest.mark.parametrize("unit", [1.0, 1e-3])
def test_no_demand_is_judged_against_the_series_own_sales_in_any_unit(unit):
    # A site selling 4 a time forecast half a unit over the horizon (an eighth of a sale) has a
    # forecast of its own; forecast 1e-27 (ADIDA's decay) it has none. The same in tonnes.
    from segchain.forecast.reconcile import thin_site_series

    weeks = [MONDAY + dt.timedelta(weeks=w) for w in range(WEEKS)]
    top_y = pl.DataFrame(
        {
            "unique_id": ["B"] * WEEKS,
            "ds": weeks,
            "y": [4.0 * unit if w in (40, 55, 70) else 0.0 for w in range(WEEKS)],
        }
    )
    ahead = [MONDAY + dt.timedelta(weeks=WEEKS + h) for h in range(4)]

    def thin(total: float) -> list[str]:
        fc = pl.DataFrame({"unique_id": ["B"] * 4, "ds": ahead, "forecast": [total / 4] * 4})
        return thin_site_series(top_y, fc)["unique_id"].to_list()

    assert thin(0.5 * unit) == []
    assert thin(1e-27 * unit) == ["B"]

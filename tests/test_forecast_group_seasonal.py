"""GroupSeasonal: each series' moving average times the seasonal lift of the total of all series.

Known answers are worked out by hand here from the definition (Withycombe 1989; shrunk halfway
toward 1): lift(origin, t) = 1 + 0.5 (S(t - 52) / mean S(origin - 52 - 7 .. origin - 52) - 1),
S the total's centred 3-week mean."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from segchain.forecast import forecast
from segchain.forecast.group_seasonal import lifts
from segchain.forecast.options import Plan

MONDAY = dt.date(2020, 1, 6)
PLAN = Plan(freq="W", horizon=4, season=52, window=8, models=None)


def week(i: int) -> dt.date:
    return MONDAY + dt.timedelta(weeks=i)


def flat_total(n: int, spikes: dict[int, float]) -> pl.DataFrame:
    """Two series adding up to 10 a week (20 in the weeks given), ``n`` weeks."""
    rows = []
    for i in range(n):
        total = spikes.get(i, 10.0)
        rows += [("a", week(i), total * 0.3), ("b", week(i), total * 0.7)]
    return pl.DataFrame(rows, schema=["unique_id", "ds", "y"], orient="row")


def test_lift_is_the_year_ago_ratio_of_the_smoothed_total_shrunk_halfway():
    # 70 weeks of history, origin week 69; the target week 71 has its year-ago week 19 at 20.
    y = flat_total(70, {19: 20.0})
    pairs = pl.DataFrame({"cutoff": [week(69)] * 3, "ds": [week(70), week(71), week(73)]})
    got = lifts(y, pairs, PLAN).sort("ds").get_column("lift").to_list()
    # Week 70 <- week 18, whose 3-week mean holds the spike: (10 + 10 + 20) / 3.
    # Week 71 <- week 19: (10 + 20 + 10) / 3. Week 73 <- week 21: 10, no lift.
    # The base, weeks 10-17 a year before the origin's 8 weeks, is 10 (week 17's mean reads
    # week 18, still 10).
    spike = 40.0 / 3.0
    assert got == pytest.approx([1 + 0.5 * (spike / 10 - 1)] * 2 + [1.0])


def test_lift_reads_nothing_after_the_origin():
    # The same origin, with different data after it, gives the same lift: no leakage.
    pairs = pl.DataFrame({"cutoff": [week(69)] * 4, "ds": [week(i) for i in range(70, 74)]})
    before = lifts(flat_total(70, {19: 20.0}), pairs, PLAN)
    after = lifts(flat_total(80, {19: 20.0, 70: 500.0, 72: 0.0}), pairs, PLAN)
    assert before.sort("ds").equals(after.sort("ds"))


def test_under_a_year_of_history_the_lift_is_one():
    y = flat_total(40, {5: 30.0})
    pairs = pl.DataFrame({"cutoff": [week(39)] * 4, "ds": [week(i) for i in range(40, 44)]})
    assert lifts(y, pairs, PLAN).get_column("lift").to_list() == [1.0] * 4


def test_lift_takes_seasons_back_until_they_lie_before_the_origin():
    # Monthly, season 12, horizon 14: the 13th and 14th months ahead read two years back.
    plan = Plan(freq="M", horizon=14, season=12, window=3, models=None)
    months = pl.date_range(dt.date(2018, 1, 1), dt.date(2020, 12, 1), "1mo", eager=True)
    # Total 10 a month, 30 in every January (months are read unsmoothed).
    y = pl.DataFrame(
        {
            "unique_id": ["a"] * months.len(),
            "ds": months,
            "y": [30.0 if d.month == 1 else 10.0 for d in months.to_list()],
        }
    )
    pairs = pl.DataFrame(
        {"cutoff": [dt.date(2020, 12, 1)] * 2, "ds": [dt.date(2021, 1, 1), dt.date(2022, 1, 1)]}
    )
    got = lifts(y, pairs, plan).sort("ds").get_column("lift").to_list()
    # Base: Oct-Dec a season (or two) before = 10; numerator January = 30: 1 + 0.5 * 2 = 2.
    assert got == pytest.approx([2.0, 2.0])


def seasonal_orders(weeks: int, n_skus: int = 12) -> pl.DataFrame:
    """Skus of different sizes sharing one season: weeks 44-51 of each year sell 3x."""
    rows = []
    for k in range(n_skus):
        size = 2 + k
        for i in range(weeks):
            d = week(i)
            busy = 44 <= d.isocalendar()[1] <= 51
            q = size * (3 if busy else 1) + (k + i) % 3
            rows.append((f"o{k}-{i}", d, "c1", f"s{k:02d}", float(q)))
    return pl.DataFrame(
        rows, schema=["order_id", "order_date", "customer_id", "sku", "quantity"], orient="row"
    )


def test_group_seasonal_forecast_is_the_moving_average_times_the_lift():
    orders = seasonal_orders(95)  # to the end of October 2021, just before the busy weeks
    segments = pl.DataFrame({"customer_id": ["c1"], "segment": ["A"]})
    r = forecast(orders, segments, freq="W", horizon=4, by="sku", models="GroupSeasonal")
    fc = r.forecast.sort("unique_id", "ds")
    assert fc.get_column("model").unique().to_list() == ["GroupSeasonal"]
    # Independently: the 8-week mean of each sku and the lift of the total, by hand.
    hist = orders.group_by("sku", "order_date").agg(pl.col("quantity").sum()).sort("order_date")
    total = hist.group_by("order_date").agg(pl.col("quantity").sum()).sort("order_date")
    t = dict(zip(total["order_date"].to_list(), total["quantity"].to_list(), strict=True))
    last = total["order_date"].max()

    def smooth(d: dt.date) -> float:
        return sum(t[d + dt.timedelta(weeks=k)] for k in (-1, 0, 1)) / 3

    year = dt.timedelta(weeks=52)
    base = sum(smooth(last - year - dt.timedelta(weeks=k)) for k in range(8)) / 8
    expected = []
    for sku in sorted(hist["sku"].unique().to_list()):
        ma = hist.filter(pl.col("sku") == sku).tail(8)["quantity"].mean()
        for h in range(1, 5):
            d = last + dt.timedelta(weeks=h)
            expected.append(ma * (1 + 0.5 * (smooth(d - year) / base - 1)))
    assert fc.get_column("forecast").to_list() == pytest.approx(expected)
    # The busy weeks are coming (ISO weeks 44-47): the lift is well above 1 in every one.
    lift_by_hand = [smooth(last + dt.timedelta(weeks=h) - year) / base for h in range(1, 5)]
    assert min(lift_by_hand) > 2


def test_group_seasonal_beats_the_moving_average_held_out():
    # Held out, the busy weeks come: the moving average alone stays at the quiet level.
    orders = seasonal_orders(95 + 6)
    train = orders.filter(pl.col("order_date") < week(95))
    actual = (
        orders.filter(pl.col("order_date") >= week(95))
        .group_by("sku", "order_date")
        .agg(pl.col("quantity").sum().alias("y"))
        .rename({"order_date": "ds"})
    )
    segments = pl.DataFrame({"customer_id": ["c1"], "segment": ["A"]})
    scores = {}
    for models in ("WindowAverage", "GroupSeasonal"):
        fc = forecast(train, segments, freq="W", horizon=6, by="sku", models=models).forecast
        j = actual.join(fc, on=["sku", "ds"])
        assert j.height == 12 * 6
        scores[models] = ((j["forecast"] - j["y"]).abs().sum()) / j["y"].sum()
    assert scores["GroupSeasonal"] < 0.7 * scores["WindowAverage"]

"""A series split top-down from its sku gets an interval around the number written, of width
0 only where its spread is 0: never a bound equal to a forecast above 0 while error_sd > 0."""

from __future__ import annotations

import datetime as dt
from statistics import NormalDist

import numpy as np
import polars as pl
import pytest

from segchain.forecast import forecast

MONDAY = dt.date(2022, 1, 3)
H = 4


def _run(gold: np.ndarray, silver: np.ndarray) -> pl.DataFrame:
    n = len(gold)
    days = [MONDAY + dt.timedelta(weeks=i) for i in range(n)]
    orders = pl.DataFrame(
        {
            "order_id": [f"g{i}" for i in range(n)] + [f"s{i}" for i in range(n)],
            "order_date": days * 2,
            "customer_id": ["g"] * n + ["s"] * n,
            "sku": ["X"] * (2 * n),
            "quantity": np.concatenate([gold, silver]),
            "unit_price": [1.0] * (2 * n),
        }
    ).filter(pl.col("quantity") > 0)
    segments = pl.DataFrame({"customer_id": ["g", "s"], "segment": ["Gold", "Silver"]})
    res = forecast(
        orders,
        segments,
        freq="W",
        horizon=H,
        models="Naive",
        reconcile="top-down",
        outliers="keep",
        n_jobs=1,
    )
    assert res.reconciliation == "top-down"
    return res.forecast.filter(pl.col("segment") == "Silver")


def _assert_normal(rows: pl.DataFrame, point: float, sd: float) -> None:
    """The rows' forecast and error_sd are ``point`` and ``sd``, and their bounds normal of
    ``sd`` around ``point``, the lower clipped at 0."""
    assert rows["forecast"].to_list() == pytest.approx([point] * H)
    assert rows["error_sd"].to_list() == pytest.approx([sd] * H)
    for level in (80, 95):
        z = NormalDist().inv_cdf(0.5 + level / 200)
        lo, hi = max(point - z * sd, 0.0), point + z * sd
        assert rows[f"forecast-lo-{level}"].to_list() == pytest.approx([lo] * H)
        assert rows[f"forecast-hi-{level}"].to_list() == pytest.approx([hi] * H)


def test_split_series_without_backtest_gets_normal_bounds_around_the_split_value():
    # Ten weeks: too short to backtest, so the series has no errors of the split and its
    # bounds had been its own model's moved onto the split value. Silver bought only in the
    # sku's first week: its own forecast (the mean after the first period) is 0 with bounds
    # [0, z sd], and moved onto its share of the sku's forecast the lower bound was that
    # forecast itself (Loyal/23503 on Online Retail: 72.06 in [72.06, 211.16]).
    gold = np.array([8, 11, 9, 12, 10, 7, 13, 9, 10, 11], dtype=float)
    silver = np.zeros(10)
    silver[0] = 30.0
    rows = _run(gold, silver)
    total = gold + silver
    # The sku's HistoricAverage (the mean after its first week) times Silver's share.
    point = silver.sum() / total.sum() * (total[1:].sum() / 9)
    sd = np.std(silver, ddof=1)  # error_sd of a series without a backtest: its history's
    _assert_normal(rows, point, sd)
    assert (rows["forecast-lo-80"] < rows["forecast"]).all()


def test_split_series_with_zero_conformal_width_gets_normal_bounds_of_its_error_sd():
    # Forty weeks, four backtest windows of four weeks. Silver first buys in the last window
    # (weeks 37 and 39): at every cutoff its share was 0, so 14 of its 16 split errors are 0,
    # the 80 % conformal half-width (the 14th smallest) is 0, and [p, p] was written around a
    # forecast p > 0 that whole units can never equal, though its error_sd is above 0.
    n = 40
    rng = np.random.default_rng(11)
    gold = rng.integers(5, 15, n).astype(float)
    silver = np.zeros(n)
    silver[[37, 39]] = [6.0, 4.0]
    rows = _run(gold, silver)
    total = gold + silver
    point = silver.sum() / total.sum() * total[-1]  # the sku's naive forecast, split
    # error_sd: the one-step errors of the split over the sku's backtest span (the weeks after
    # its first cutoff, week 23), each week's split by the shares of the weeks before it.
    split = [silver[:t].sum() / total[:t].sum() * total[t - 1] - silver[t] for t in range(24, n)]
    sd = np.std(split, ddof=1)
    assert sd > 0
    _assert_normal(rows, point, sd)
    assert (rows["forecast-hi-80"] > rows["forecast"]).all()

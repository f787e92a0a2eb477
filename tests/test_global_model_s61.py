"""The global model's forecasts scale with the unit of quantity (an audit, session 60: with every
quantity x1000 or x0.001 the demo's global-model forecasts moved by factors 0 to 12 against the
original's times the factor; every local model's scaled exactly)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from segchain.forecast import forecast

MONDAY = dt.date(2022, 1, 3)
ONE_SEGMENT = pl.DataFrame({"customer_id": ["c1"], "segment": ["A"]})


def _poisson_orders(skus: int = 12, weeks: int = 40) -> pl.DataFrame:
    """One order line a week for each sku, Poisson demand of a mean of its own (480 lines)."""
    rng = np.random.default_rng(7)
    rows = [
        (f"o{k}-{w}", MONDAY + dt.timedelta(weeks=w), "c1", f"s{k:02d}", float(q))
        for k in range(skus)
        for w, q in enumerate(rng.poisson(2 + 3 * k, size=weeks))
    ]
    return pl.DataFrame(
        rows, schema=["order_id", "order_date", "customer_id", "sku", "quantity"], orient="row"
    )


def _global_forecast(orders: pl.DataFrame) -> pl.DataFrame:
    r = forecast(orders, ONE_SEGMENT, freq="W", horizon=6, by="sku", n_jobs=1, models="Global")
    assert r.forecast.get_column("model").unique().to_list() == ["Global"]
    return r.forecast.sort("unique_id", "ds")


@pytest.mark.parametrize(
    ("factor", "scale"),
    [
        # In thousands, as an export's 0.007 is read (the quantity divided, not multiplied by
        # 0.001, whose product is another float), and in grams instead of kilograms.
        (0.001, pl.col("quantity") / 1000),
        (1000.0, pl.col("quantity") * 1000),
    ],
)
def test_global_forecasts_scale_with_the_unit_of_quantity(factor, scale):
    orders = _poisson_orders()
    base = _global_forecast(orders)
    other = _global_forecast(orders.with_columns(scale.alias("quantity")))
    assert other.get_column("unique_id").to_list() == base.get_column("unique_id").to_list()
    assert base.get_column("forecast").sum() > 0
    for column in ("forecast", "error_sd", "forecast-hi-95"):
        expected = base.get_column(column).to_numpy() * factor
        np.testing.assert_allclose(other.get_column(column).to_numpy(), expected, rtol=1e-9)


def test_the_model_sees_the_same_numbers_in_any_unit():
    """The demand in the run's own unit, rounded to single precision, is the same bits whatever
    the unit: the trees split on last bits."""
    from segchain.forecast.units import demand_unit, in_unit

    rng = np.random.default_rng(3)
    y = pl.DataFrame({"unique_id": ["a"] * 500, "y": rng.poisson(3.0, 500).astype(float)})
    # 1.7 is no power of two: its product, unlike y x 2, is not exact.
    for scaled in (y.with_columns(pl.col("y") / 1000), y.with_columns(pl.col("y") * 1.7)):
        a = in_unit(y, demand_unit(y)).get_column("y").to_numpy()
        b = in_unit(scaled, demand_unit(scaled)).get_column("y").to_numpy()
        assert np.array_equal(a, b)
    # The unit is the mean of the nonzero demand, computed here independently.
    nonzero = y.filter(pl.col("y") > 0).get_column("y").to_numpy()
    assert demand_unit(y) == pytest.approx(nonzero.sum() / nonzero.size, rel=1e-15)

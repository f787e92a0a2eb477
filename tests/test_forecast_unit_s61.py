"""The forecast scales with the unit of quantity, whichever model made it (an audit, session 61:
with every quantity x1000 or /1000 AutoETS and AutoTheta forecasts moved, on the demo's data by
factors up to hundreds, and the backtests of ADIDA and IMAPA, hence their bounds, by up to 5 %:
statsforecast's optimisers start from fixed values and stop at absolute tolerances)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from segchain.forecast import forecast

MONDAY = dt.date(2022, 1, 3)
SEGMENTS = pl.DataFrame({"customer_id": ["c1", "c2"], "segment": ["A", "B"]})
COLUMNS = (
    "forecast",
    "error_sd",
    "forecast-lo-80",
    "forecast-hi-80",
    "forecast-lo-95",
    "forecast-hi-95",
)
# In thousands, as an export's 0.007 is read (the quantity divided, not multiplied by 0.001,
# whose product is another float), and in grams instead of kilograms.
UNITS = [(0.001, pl.col("quantity") / 1000), (1000.0, pl.col("quantity") * 1000)]


def _lines(customer: str, sku: str, weekly: list[int] | np.ndarray) -> list[tuple]:
    return [
        (f"{customer}-{sku}-{w}", MONDAY + dt.timedelta(weeks=w), customer, sku, float(q))
        for w, q in enumerate(weekly)
        if q > 0
    ]


def _orders(kind: str) -> pl.DataFrame:
    """Weekly order lines of customer c1 (segment A) over 60 weeks, 8 skus.

    ``smooth``: Poisson around a trend of a level of its own (routed to AutoETS and AutoTheta).
    ``intermittent``: 1 to 14 units in a tenth of the weeks. ``sparse``: three skus as the demo's
    segment x sku series where AutoETS moved most with the unit, a few units every few months
    after two years without, because customer c2 (segment B) bought the sku in the first week.
    """
    rng = np.random.default_rng(11)
    rows = []
    weeks = np.arange(60)
    if kind == "sparse":
        sparse = [
            [0] * 57 + [2] + [0] * 12 + [3] + [0] * 27 + [3, 0, 0, 0, 0, 2] + [0] * 26,
            [0] * 141 + [2, 0, 0, 0, 0, 10] + [0] * 9,
            [0] * 104 + [3, 0, 3] + [0] * 13 + [2] + [0] * 9,
        ]
        for k, weekly in enumerate(sparse):
            rows += _lines("c1", f"s{k}", weekly) + _lines("c2", f"s{k}", [5])
        # A sku sold every week to the end, so that every series runs to week 155.
        rows += _lines("c1", "z", [0] * 100 + [1 + w % 3 for w in range(56)])
    for k in range(8 if kind != "sparse" else 0):
        if kind == "intermittent":
            demand = rng.integers(1, 15, size=60) * (rng.random(60) < 0.1)
        else:
            demand = rng.poisson((3 + 4 * k) * (1 + 0.01 * weeks))
        rows += _lines("c1", f"s{k}", demand)
    return pl.DataFrame(
        rows, schema=["order_id", "order_date", "customer_id", "sku", "quantity"], orient="row"
    )


def _forecast(orders: pl.DataFrame, model: str) -> pl.DataFrame:
    # Not reconciled: the numbers written are the model's own.
    r = forecast(orders, SEGMENTS, freq="W", horizon=6, n_jobs=1, models=model, reconcile="none")
    return r.forecast.sort("unique_id", "ds")


@pytest.mark.parametrize(("factor", "scale"), UNITS)
@pytest.mark.parametrize(
    ("model", "kind"),
    [
        ("AutoETS", "sparse"),
        ("AutoTheta", "smooth"),
        ("Ensemble", "smooth"),
        ("ADIDA", "intermittent"),
        ("IMAPA", "intermittent"),
    ],
)
def test_forecasts_scale_with_the_unit_of_quantity(model, kind, factor, scale):
    orders = _orders(kind)
    base = _forecast(orders, model)
    other = _forecast(orders.with_columns(scale.alias("quantity")), model)
    assert base.get_column("model").unique().to_list() == [model]
    assert other.get_column("model").to_list() == base.get_column("model").to_list()
    assert other.get_column("unique_id").to_list() == base.get_column("unique_id").to_list()
    assert base.get_column("forecast").sum() > 0
    for column in COLUMNS:
        expected = base.get_column(column).to_numpy() * factor
        np.testing.assert_allclose(
            other.get_column(column).to_numpy(), expected, rtol=1e-9, err_msg=column
        )

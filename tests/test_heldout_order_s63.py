"""Session 63: the held-out check's figures do not depend on the order of the rows it is given.

It summed rows in the order its joins returned them, which polars does not fix: three runs of
one routed forecast wrote three sets of last digits in ``segchain.held_out`` (found by the
forecast-memory work of session 63)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from segchain.forecast.heldout import held_out


def _orders() -> pl.DataFrame:
    # 40 skus x 3 customers (two segments), 30 weeks of history and 4 held out, quantities with
    # fractions so that float sums depend on their order.
    rng = np.random.default_rng(7)
    rows = []
    start = dt.date(2024, 1, 1)
    for week in range(34):
        for sku in range(40):
            for cust in range(3):
                if rng.random() < 0.6:
                    q = float(rng.gamma(2.0, 3.0)) + 1.0 / 3.0
                    rows.append(
                        (
                            f"o{week}-{sku}-{cust}",
                            start + dt.timedelta(weeks=week),
                            f"c{cust}",
                            f"s{sku:02d}",
                            q,
                        )
                    )
    return pl.DataFrame(
        rows, schema=["order_id", "order_date", "customer_id", "sku", "quantity"], orient="row"
    )


def _forecast(rng: np.random.Generator) -> pl.DataFrame:
    cut = dt.date(2024, 1, 1) + dt.timedelta(weeks=30)
    rows = [
        (
            f"{seg}/s{sku:02d}",
            seg,
            f"s{sku:02d}",
            cut + dt.timedelta(weeks=h),
            float(rng.gamma(2.0, 3.0)) / 7.0,
        )
        for seg in ("A", "B")
        for sku in range(40)
        for h in range(4)
    ]
    return pl.DataFrame(
        rows, schema=["unique_id", "segment", "sku", "ds", "forecast"], orient="row"
    )


def test_held_out_figures_are_the_same_whatever_the_rows_order() -> None:
    orders = _orders()
    segments = pl.DataFrame({"customer_id": ["c0", "c1", "c2"], "segment": ["A", "A", "B"]})
    fc = _forecast(np.random.default_rng(11))
    first = held_out(orders, segments, fc, freq="W", by=["segment", "sku"])
    assert first is not None and first.periods == 3  # the 4th week is not covered whole
    seen = {repr(first.as_metadata())}
    for seed in range(6):
        shuffled = fc.sample(fraction=1.0, shuffle=True, seed=seed)
        again = held_out(
            orders.sample(fraction=1.0, shuffle=True, seed=seed),
            segments,
            shuffled,
            freq="W",
            by=["segment", "sku"],
        )
        assert again is not None
        seen.add(repr(again.as_metadata()))
    assert len(seen) == 1, seen

"""The held-out check counts as unscored only series whose demand went unscored.

The Complete Journey (300 best sellers, `forecast --as-of 2017-11-06`): two products whose every
line has quantity 0 (all year, before and after the as-of day) got no forecast, as zero-quantity
lines are no demand, and stderr and the report said "2 sku series first sold after --as-of not
scored": none of the 300 was first sold after that day (each has lines from January), and the two
had no demand to score.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from segchain.forecast import forecast

MONDAY = dt.date(2024, 1, 1)
KW = {"freq": "W", "horizon": 3, "models": "WindowAverage", "n_jobs": 1}


def _orders(weeks: int, *, late_sku: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sku A sold every day; sku Z on a line of quantity 0 every day (a zeroed line: no goods
    moved); with ``late_sku``, sku N sold only in the last three weeks."""
    rows = []
    for d in range(weeks * 7):
        day = MONDAY + dt.timedelta(days=d)
        rows.append((f"O{d}", day, f"C{d % 3}", "A", float(1 + d % 5), 2.0, None))
        rows.append((f"Z{d}", day, f"C{(d + 1) % 3}", "Z", 0.0, 3.0, "zero_quantity"))
        if late_sku and d >= (weeks - 3) * 7:
            rows.append((f"N{d}", day, f"C{(d + 2) % 3}", "N", 2.0, 1.0, None))
    schema = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price", "flag"]
    orders = pl.DataFrame(rows, schema=schema, orient="row")
    segments = pl.DataFrame({"customer_id": ["C0", "C1", "C2"], "segment": ["S", "S", "T"]})
    return orders, segments


def test_heldout_unscored_leaves_out_a_sku_that_never_had_demand() -> None:
    orders, segments = _orders(15, late_sku=False)
    as_of = MONDAY + dt.timedelta(weeks=12)
    # Independently: the skus whose first line of nonzero quantity is on or after as_of.
    first_sold = (
        orders.filter(pl.col("quantity") != 0).group_by("sku").agg(pl.col("order_date").min())
    )
    assert first_sold.filter(pl.col("order_date") >= as_of).height == 0
    held = forecast(orders, segments, as_of=as_of, **KW).held_out
    assert held is not None
    assert held.unscored == 0


def test_heldout_unscored_counts_a_sku_first_sold_after_as_of() -> None:
    orders, segments = _orders(15, late_sku=True)
    as_of = MONDAY + dt.timedelta(weeks=12)
    held = forecast(orders, segments, as_of=as_of, **KW).held_out
    assert held is not None
    assert held.unscored == 1  # N, first sold in the as-of week

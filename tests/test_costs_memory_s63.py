"""Session 63 (audit U4): ``costs`` reduces the order lines in queries, never holding them whole.

It collected validate's whole table, then joined, filtered and grouped it eagerly, each step
copying every line: 7.7 GB at 10 M lines (0.75 KB a line) for an 11-row output. Now each query
reduces the lines to per-customer figures (or a few bytes a line for the sums that must add
the lines in their order) before anything is collected.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from segchain.costs import costs

N_LINES = 3_000
SEGMENTS = pl.DataFrame({"customer_id": ["C1", "C2", "C3"], "segment": ["A", "A", "B"]})
ITEMS = pl.DataFrame({"sku": ["K1", "K2"], "unit_cost": [2.0, 3.0]})
# Columns the costs do not read: a frame collected with them held every line whole.
UNREAD = ("unit_price", "description", "customer_name", "city")


def _orders() -> pl.LazyFrame:
    """Lines of C1..C4 (C4 in no segment), amounts in quarters: sums exact in any order."""
    i = list(range(N_LINES))
    return pl.LazyFrame(
        {
            "order_id": [f"O{k // 3}" for k in i],
            "order_date": [dt.date(2024, 1, 1) + dt.timedelta(days=k % 90) for k in i],
            "customer_id": [f"C{k % 4 + 1}" for k in i],
            "sku": [f"K{k % 2 + 1}" for k in i],
            "quantity": [float(k % 5 + 1) for k in i],
            "unit_price": [1.0] * N_LINES,
            "amount": [(k % 7 + 1) * 0.25 for k in i],
            "flag": [None] * N_LINES,
            "description": ["a long description of the item, as ERP exports carry"] * N_LINES,
            "customer_name": ["Some Customer GmbH"] * N_LINES,
            "city": ["Dortmund"] * N_LINES,
        }
    )


def test_costs_collects_no_frame_of_whole_order_lines() -> None:
    collected: list[pl.DataFrame] = []

    def recording(queries):  # type: ignore[no-untyped-def]
        frames = pl.collect_all(queries)
        collected.extend(frames)
        return frames

    result = costs(_orders(), SEGMENTS, items=ITEMS, by="customer", collect=recording)
    assert collected
    for frame in collected:
        # Per line at most the amount and its part of the reconciliation, or the few columns
        # revenue and cogs sum; never the lines' text columns.
        assert not set(UNREAD) & set(frame.columns)
        assert frame.width <= 5
    # Known answers, from the lines themselves (plain Python).
    i = range(N_LINES)
    revenue = {f"C{c}": sum((k % 7 + 1) * 0.25 for k in i if k % 4 + 1 == c) for c in (1, 2, 3)}
    cogs = {
        f"C{c}": sum(float(k % 5 + 1) * (2.0, 3.0)[k % 2] for k in i if k % 4 + 1 == c)
        for c in (1, 2, 3)
    }
    table = result.table.sort("customer_id")
    assert dict(zip(table["customer_id"], table["revenue"], strict=True)) == revenue
    assert dict(zip(table["customer_id"], table["cogs"], strict=True)) == cogs
    assert table["lines"].to_list() == [N_LINES // 4] * 3
    assert result.order_lines == N_LINES
    (check,) = [c for c in result.checks if c.name == "revenue"]
    assert check.ok
    assert check.source_total == sum((k % 7 + 1) * 0.25 for k in i)
    assert check.parts["1 customer not in the segments"] == sum(
        (k % 7 + 1) * 0.25 for k in i if k % 4 == 3
    )

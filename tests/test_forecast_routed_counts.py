"""Lines left out of a forecast routed through network's assignments are counted once each.

A customer split over two sites has each of its order lines routed to both (quantity x share):
the lines left out (postage, zero price, oversized, without a segment) were counted once per
site, 'non_product 348' where the orders held 336 (audit of session 58)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from segchain.forecast import forecast

MONDAY = dt.date(2024, 1, 1)


def _orders() -> pl.DataFrame:
    rows = []
    for w in range(30):
        day = MONDAY + dt.timedelta(weeks=w)
        for c in ("A", "B"):
            rows.append((c, day, "X", 3.0 + w % 4, 10.0, None))
    # Postage: two lines of A (split over two sites), one of B; a giveaway of A; one line of a
    # customer in no segment.
    rows += [
        ("A", dt.date(2024, 3, 5), "POST", 1.0, 5.0, "non_product"),
        ("A", dt.date(2024, 4, 9), "POST", 1.0, 5.0, "non_product"),
        ("B", dt.date(2024, 5, 7), "POST", 1.0, 5.0, "non_product"),
        ("A", dt.date(2024, 5, 8), "X", 2.0, 0.0, "zero_price"),
    ]
    return pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "customer_id": [r[0] for r in rows],
            "order_date": [r[1] for r in rows],
            "sku": [r[2] for r in rows],
            "quantity": [r[3] for r in rows],
            "unit_price": [r[4] for r in rows],
            "flag": pl.Series([r[5] for r in rows], dtype=pl.String),
        }
    )


def test_a_split_customers_left_out_lines_count_once():
    segments = pl.DataFrame({"customer_id": ["A", "B"], "segment": ["Gold", "Silver"]})
    assignments = pl.DataFrame(
        {
            "customer_id": ["A", "A", "B"],
            "segment": ["Gold", "Gold", "Silver"],
            "site_id": ["S1", "S2", "S1"],
            "share": [0.5, 0.5, 1.0],
        }
    )
    result = forecast(
        _orders(), segments, horizon=2, assignments=assignments, models="Naive", n_jobs=1
    )
    assert result.excluded["non_product"] == 3
    assert result.excluded["zero_price"] == 1
    said = " ".join(result.warnings)
    assert "3 non-product order lines (postage, fees) left out" in said
    # The units are routed by share: A's 30 weeks split half and half, B's whole at S1.
    by_site = dict(result.forecast.group_by("site").agg(pl.len()).iter_rows())
    assert set(by_site) == {"S1", "S2"}


def test_a_split_customers_line_is_judged_by_the_size_it_was_ordered_in():
    # Lines of 10 units, and one of 300 (beyond 10 x the median): A's lines routed half to S1
    # and half to S2. Judged by its copies (5 and 150 units, beside B's whole 10s), the fence
    # moved, and a line of 10 split in two became two lines of 5 among lines of 10.
    from segchain.cleansing import LINE_ID, LINE_QUANTITY, cleanse

    ordered = pl.DataFrame(
        {
            "customer_id": ["A"] * 6 + ["B"] * 5,
            "sku": ["X"] * 11,
            "quantity": [10.0, 10.0, 10.0, 10.0, 10.0, 300.0] + [10.0] * 5,
        }
    ).with_row_index(LINE_ID)
    routed = pl.concat(
        [
            ordered.filter(pl.col("customer_id") == "A").with_columns(
                pl.col("quantity").alias(LINE_QUANTITY), pl.col("quantity") * 0.5
            ),
            ordered.filter(pl.col("customer_id") == "A").with_columns(
                pl.col("quantity").alias(LINE_QUANTITY), pl.col("quantity") * 0.5
            ),
            ordered.filter(pl.col("customer_id") == "B").with_columns(
                pl.col("quantity").alias(LINE_QUANTITY)
            ),
        ]
    )
    whole, counted = cleanse(ordered.drop(LINE_ID))
    split, split_counted = cleanse(routed)
    assert counted == split_counted == {"outlier_capped": 1}
    # The same units in all: each copy of the capped line holds half of the capped line.
    assert split["quantity"].sum() == pytest.approx(whole["quantity"].sum())
    assert LINE_QUANTITY not in split.columns

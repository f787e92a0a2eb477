"""Demand cleansing: zero-price lines and lines far beyond their sku's usual size."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from segchain.cleansing import cleanse, line_fences
from segchain.forecast import build_series

MONDAY = dt.date(2022, 1, 3)


def lines(quantities, *, sku="s", flags=None):
    n = len(quantities)
    return pl.DataFrame(
        {
            "order_date": [MONDAY + dt.timedelta(weeks=i) for i in range(n)],
            "customer_id": ["c"] * n,
            "sku": [sku] * n,
            "quantity": [float(q) for q in quantities],
            "flag": flags or [None] * n,
        },
        schema_overrides={"flag": pl.Utf8},
    )


def test_line_fences_is_the_larger_of_ten_medians_and_tukey_far_out_on_logs():
    # Quantities 1, 2, 4, 8, 16: logs are 0, 1, 2, 3, 4 x ln 2; Q1 = ln 2, Q3 = 3 ln 2, so the
    # far-out fence is exp(3 ln 2 + 3 * 2 ln 2) = 2**9 = 512; ten medians = 40.
    fences = line_fences(lines([1, 2, 4, 8, 16]))
    assert fences.get_column("fence").to_list() == pytest.approx([512.0])
    # All lines of 12: IQR 0, Tukey's fence is 12, ten medians (120) wins.
    assert line_fences(lines([12] * 6)).get_column("fence").to_list() == pytest.approx([120.0])


def test_line_fences_skip_skus_with_too_few_lines():
    assert line_fences(lines([1, 2, 3, 4])).height == 0


def test_cleanse_caps_a_huge_line_and_its_cancellation_alike():
    got, counts = cleanse(lines([12, 12, 12, 12, 12, 12, 5000, -5000]), outliers="cap")
    assert got.get_column("quantity").to_list() == [12.0] * 6 + [120.0, -120.0]
    assert counts == {"outlier_capped": 2}


def test_cleanse_drop_leaves_huge_lines_out():
    got, counts = cleanse(lines([12, 12, 12, 12, 12, 12, 5000]), outliers="drop")
    assert got.get_column("quantity").to_list() == [12.0] * 6
    assert counts == {"outlier_dropped": 1}


def test_cleanse_leaves_zero_quantity_lines_out_as_zero_price_ones():
    """A quantity-0 line was flagged zero_price and left out of the history: still left out
    (no first sale, no line in the sku's median line size), counted under its own flag."""
    frame = lines([3, 0, 0, 5], flags=[None, "zero_quantity", "zero_quantity", "zero_price"])
    kept, counts = cleanse(frame)
    assert kept["quantity"].to_list() == [3]
    assert counts == {"zero_quantity": 2, "zero_price": 1}


def test_cleanse_leaves_zero_price_lines_out_unless_keep():
    frame = lines([3, 4, 5], flags=[None, "zero_price", "return"])
    got, counts = cleanse(frame, outliers="cap")
    assert got.get_column("quantity").to_list() == [3.0, 5.0]
    assert counts == {"zero_price": 1}
    kept, none = cleanse(frame, outliers="keep")
    assert kept.get_column("quantity").to_list() == [3.0, 4.0, 5.0]
    assert none == {}
    assert "flag" not in kept.columns and "flag" not in got.columns


def test_build_series_counts_cleansed_lines_and_warns():
    frame = lines([12, 12, 12, 12, 12, 12, 5000, 7], flags=[None] * 7 + ["zero_price"])
    segments = pl.DataFrame({"customer_id": ["c"], "segment": ["A"]})
    s = build_series(frame, segments, freq="W", by=("sku",), outliers="cap")
    assert s.excluded == {"zero_price": 1, "outlier_capped": 1}
    assert s.y.get_column("y").to_list() == [12.0] * 6 + [120.0]
    assert any("zero-price" in w for w in s.warnings)
    raw = build_series(frame, segments, freq="W", by=("sku",), outliers="keep")
    assert math.isclose(raw.y.get_column("y").sum(), 72 + 5000 + 7)

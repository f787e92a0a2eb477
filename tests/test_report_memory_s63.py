"""report holds of the order lines only the columns it reads (audit U5, session 63): every copy a
section made of the lines (a filter, an eager group-by) copied each column of the export, its
names and addresses too, and a 0.6 MB page of 10 M lines peaked at 4.4 GB."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

import segchain.report.sections as sections
from segchain.report import build_report, order_columns_read, to_html, to_markdown


def wide_orders() -> pl.DataFrame:
    """Order lines with the columns validate keeps of an export that no section reads."""
    n = 60
    return pl.DataFrame(
        {
            "order_id": [f"o{i // 2}" for i in range(n)],
            "order_date": [date(2024, 1, 3) + timedelta(days=3 * i) for i in range(n)],
            "customer_id": [f"c{1 + i % 4}" for i in range(n)],
            "sku": [f"S{i % 3}" for i in range(n)],
            "quantity": [float(1 + i % 5) for i in range(n)],
            "amount": [10.0 * (1 + i % 5) for i in range(n)],
            "flag": [None if i % 7 else "return" for i in range(n)],
            "description": [f"item {i % 3}" for i in range(n)],
            "customer_name": [f"Customer {1 + i % 4}" for i in range(n)],
            "city": ["Berlin" if i % 2 else "Munich" for i in range(n)],
            "lat": [52.5 if i % 2 else 48.1 for i in range(n)],
            "note": ["x" * 50 for _ in range(n)],
        }
    )


def segments() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "segment": ["Champions", "Champions", "Lost", "At Risk"],
            "segment_rank": [1, 1, 3, 2],
            "recency_days": [5, 15, 400, 200],
            "frequency": [10, 6, 1, 3],
            "monetary": [600.0, 300.0, 20.0, 80.0],
            "lat": [48.1, 52.5, 50.9, 53.6],
        }
    )


@pytest.mark.parametrize(
    ("columns", "others", "kept"),
    [
        # The columns a section reads, in the orders' order; the others left.
        (
            ["order_id", "order_date", "customer_id", "sku", "quantity", "customer_name"],
            [],
            ["order_date", "customer_id", "sku", "quantity"],
        ),
        # forecast --by country: the forecast's key column is read from the orders.
        (
            ["order_id", "country", "sku", "city"],
            [["unique_id", "country", "ds"]],
            ["country", "sku"],
        ),
        (
            ["flag", "amount", "unit_price", "site", "description"],
            [],
            ["flag", "amount", "unit_price", "site", "description"],
        ),
    ],
)
def test_order_columns_read_keeps_the_read_and_the_shared(columns, others, kept):
    assert order_columns_read(columns, others) == kept


def test_build_report_gives_the_sections_only_the_order_columns_they_read(monkeypatch):
    seen = {}
    build = sections.build_sections

    def spy(tables, meta):
        seen.update(tables)
        return build(tables, meta)

    monkeypatch.setattr(sections, "build_sections", spy)
    build_report({"orders": wide_orders(), "segments": segments()})
    # order_id, customer_name, city and note are read by no section; lat is the segments' too.
    assert seen["orders"].columns == [
        "order_date",
        "customer_id",
        "sku",
        "quantity",
        "amount",
        "flag",
        "description",
        "lat",
    ]
    assert seen["orders"].height == 60


def test_report_is_the_same_without_the_unread_columns():
    wide = wide_orders()
    narrow = wide.drop("order_id", "customer_name", "city", "note")
    pages = [build_report({"orders": o, "segments": segments()}, title="t") for o in (wide, narrow)]
    assert to_html(pages[0]) == to_html(pages[1])
    assert to_markdown(pages[0], image_dir="f") == to_markdown(pages[1], image_dir="f")

"""Session 63 (audit U5): ``forecast`` holds only the order columns it reads, and reduces the
lines in queries instead of copying them at each step.

It collected validate's whole table (sixteen columns, text among them) and then filtered,
cleansed and joined it eagerly, each step a copy of every line: 4.5 GB at 10 M lines for the
same 4,965 series as 1 M lines took 0.9 GB. Now the CLI collects the columns the stage reads,
and the series are built by lazy queries over them (counts, fences and series-periods).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest

from segchain.cleansing import cleanse
from segchain.cli import common

START = dt.date(2024, 1, 1)  # a Monday
WEEKS = 12
# Columns of validate's table the forecast does not read: collected, they held every line.
UNREAD = ("order_id", "unit_price", "amount", "description", "customer_name", "city")


def _lines() -> list[dict]:
    """Two customers, two skus, a line each per week and sku, quantities that vary by week."""
    rows = []
    for w in range(WEEKS):
        for c, cust in enumerate(("C1", "C2")):
            for k, sku in enumerate(("K1", "K2")):
                rows.append(
                    {
                        "order_id": f"O{w}-{c}",
                        "order_date": START + dt.timedelta(weeks=w, days=c + k),
                        "customer_id": cust,
                        "sku": sku,
                        "quantity": float((w * 3 + c + 2 * k) % 7 + 1),
                        "unit_price": 2.5,
                        "amount": 2.5 * ((w * 3 + c + 2 * k) % 7 + 1),
                        "description": "a long description of the item, as ERP exports carry",
                        "customer_name": "Some Customer GmbH",
                        "city": "Dortmund",
                    }
                )
    return rows


def test_cli_forecast_collects_only_the_order_columns_it_reads(cli, tmp_path: Path, monkeypatch):
    rows = _lines()
    orders, segments = tmp_path / "orders.csv", tmp_path / "segments.csv"
    pl.DataFrame(rows).write_csv(orders)
    segments.write_text("customer_id,segment\nC1,A\nC2,B\n")
    collected: list[list[str]] = []
    collect = common.LoadedOrders.collect

    def recording(self, *frames, **options):  # type: ignore[no-untyped-def]
        results, recon = collect(self, *frames, **options)
        collected.extend(f.columns for f in results)
        return results, recon

    monkeypatch.setattr(common.LoadedOrders, "collect", recording)
    out = tmp_path / "fc.csv"
    r = cli(
        "forecast",
        str(segments),
        "--orders",
        str(orders),
        *("--by", "sku", "--models", "Naive", "--reconcile", "none", "--outliers", "keep"),
        *("--horizon", "2", "--n-jobs", "1", "-o", str(out)),
    )
    assert r.exit_code == 0, r.stderr
    assert collected
    for columns in collected:
        assert not set(UNREAD) & set(columns), columns
    # Known answer, from the lines (plain Python): the naive forecast is each sku's units in
    # the last week.
    last: dict[str, float] = defaultdict(float)
    for row in rows:
        if (row["order_date"] - START).days // 7 == WEEKS - 1:
            last[row["sku"]] += row["quantity"]
    fc = pl.read_csv(out)
    assert fc.height == 2 * 2
    for sku, units in last.items():
        # statsforecast computes in float32: equal to its precision.
        forecast = fc.filter(pl.col("sku") == sku).get_column("forecast").to_list()
        assert forecast == pytest.approx([units] * 2, rel=1e-6)


def test_cleanse_lazy_lines_stay_lazy_and_are_capped_as_held_ones():
    # K1: five lines of 1 and one of 100. Fence: max(10 x median 1, exp(Q3 + 3 IQR of log q) =
    # exp(0)) = 10, so the line of 100 is capped at 10 and its return of -100 at -10.
    lines = pl.DataFrame(
        {
            "sku": ["K1"] * 7 + ["K2"],
            "quantity": [1.0, 1.0, 1.0, 1.0, 1.0, 100.0, -100.0, 3.0],
            "flag": [None, None, None, None, None, None, "return", "zero_price"],
        }
    )
    lazy, counts = cleanse(lines.lazy(), outliers="cap")
    assert isinstance(lazy, pl.LazyFrame)
    assert counts == {"zero_price": 1, "outlier_capped": 2}
    assert lazy.collect().get_column("quantity").to_list() == [1.0] * 5 + [10.0, -10.0]
    held, held_counts = cleanse(lines, outliers="cap")
    assert held_counts == counts
    assert held.equals(lazy.collect())

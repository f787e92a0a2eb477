"""`segment --clv` on an export where no customer bought on a second day (session 68).

BG/NBD is not identified without a repeat purchase. The stage refused (exit 1, nothing written),
so a cron job with ``clv = true`` lost its whole segmentation, RFM included, over three optional
columns until a customer came back. Now the segments are written with the CLV columns empty and
stderr says why; a segment none of whose customers has a CLV has an empty ``clv_total`` (a sum
over no value is not a segment worth 0).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from segchain.segment import profile, segment

ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-05,A,P1,2,10\n"
    "2,2024-02-05,B,P1,1,10\n"
    "3,2024-03-05,C,P2,3,5\n"
    "4,2024-04-05,D,P2,1,5\n"
    "5,2024-05-05,E,P1,4,10\n"
)


def _one_purchase_each() -> pl.DataFrame:
    rows = [(f"o{i}", dt.date(2024, 1, 1 + 7 * i), f"c{i}", "P", 1.0, 10.0) for i in range(5)]
    return pl.DataFrame(
        rows,
        schema=["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"],
        orient="row",
    )


def test_stage_leaves_clv_empty_and_says_why():
    result = segment(_one_purchase_each(), clv=True)
    seg = result.segments
    assert seg.height == 5
    for column in ("p_alive", "expected_purchases", "clv"):
        assert seg.get_column(column).null_count() == 5, column
    # The RFM part is the same as without --clv.
    plain = segment(_one_purchase_each())
    assert seg.select(plain.segments.columns).equals(plain.segments)
    assert result.clv_fit is None
    assert any("CLV not fitted" in w for w in result.warnings)


def test_cli_writes_segments_with_empty_clv(cli, tmp_path: Path):
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS)
    result = cli("segment", str(orders), "--clv", "-o", "s.csv", "--profile", "p.csv")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert (
        "Warning: CLV not fitted: none of the 5 customers with a purchase bought on a second "
        "day before --as-of" in result.output
    )
    seg = pl.read_csv(tmp_path / "s.csv")
    assert sorted(seg.get_column("customer_id").to_list()) == ["A", "B", "C", "D", "E"]
    assert seg.get_column("clv").null_count() == 5
    prof = pl.read_csv(tmp_path / "p.csv")
    # Every segment's customers lack a CLV: the total is unknown, not 0.
    assert prof.get_column("clv_total").null_count() == prof.height


def test_profile_total_empty_only_where_no_customer_has_a_clv():
    segments = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "segment": ["Lost", "Lost", "Champions", "Champions"],
            "segment_rank": [2, 2, 1, 1],
            "recency_days": [300, 200, 3, 5],
            "frequency": [1, 1, 9, 7],
            "monetary": [10.0, 20.0, 900.0, 700.0],
            "clv": [None, None, 150.25, None],
        },
        schema_overrides={"clv": pl.Float64},
    )
    got = dict(profile(segments).select("segment", "clv_total").iter_rows())
    # Champions: the known CLV summed (d's unknown one left out, as the report says);
    # Lost: none known, so empty.
    assert got == {"Champions": pytest.approx(150.25), "Lost": None}

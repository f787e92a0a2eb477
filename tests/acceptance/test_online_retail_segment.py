"""Acceptance: segment the UCI Online Retail export (real data, read through segchain.orders)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
ONLINE_RETAIL = DATA / "online_retail" / "online_retail.csv.gz"


@pytest.fixture(scope="module")
def online_retail():
    from segchain.config import resolve_mapping
    from segchain.orders import import_orders
    from segchain.tableio import read_raw

    path = ONLINE_RETAIL
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (see ../shared/data/README.md)")
    table = read_raw(str(path))
    headers = table.frame.collect_schema().names()
    mapping = resolve_mapping(headers, preset="online-retail")
    imp = import_orders(table.frame, mapping=mapping, source=path.name)
    return imp.clean.collect()


@pytest.fixture(scope="module")
def rfm(online_retail):
    from segchain.segment import segment

    return segment(online_retail, method="rfm")


def test_online_retail_segments_every_known_customer(rfm):
    # README: 4,372 customer ids; a handful only hold lines without a usable customer.
    assert 4300 <= rfm.segments.height <= 4372
    assert rfm.segments.get_column("customer_id").is_unique().all()


def test_online_retail_as_of_is_day_after_last_invoice(rfm):
    assert str(rfm.as_of) == "2011-12-10"


def test_online_retail_returns_netted(online_retail, rfm):
    # Independent computation: the net product value of one customer straight from the lines.
    # 17850 has cancellations (C-invoices) in the data.
    lines = online_retail.filter(
        (pl.col("customer_id") == "17850") & (pl.col("flag").fill_null("") != "non_product")
    )
    assert lines.filter(pl.col("quantity") < 0).height > 0
    want = lines.get_column("amount").sum()
    got = rfm.segments.filter(pl.col("customer_id") == "17850").item(0, "monetary")
    assert got == pytest.approx(want, abs=0.01)
    assert rfm.segments.get_column("monetary").min() < 0  # some customers are net refunds


def test_online_retail_top_segment_holds_large_revenue_share(rfm):
    # Pareto: Champions are ~20 % of customers; they should carry far more than their share.
    top = rfm.profile.filter(pl.col("segment_rank") == 1).row(0, named=True)
    assert top["segment"] == "Champions"
    assert top["share_revenue"] > 2 * top["share_customers"]
    assert top["share_revenue"] > 0.4


def test_online_retail_all_eleven_rfm_segments_present(rfm):
    assert rfm.profile.height == 11


@pytest.mark.slow
@pytest.mark.parametrize("method", ["kmeans", "abc-xyz"])
def test_online_retail_other_methods_no_nan(online_retail, method):
    from segchain.segment import segment

    result = segment(online_retail, method=method, clv=True)
    # Customers without a purchase day (only returns or fees), or whose purchases were all
    # returned (no units nor value kept net), have no CLV: left empty (session 65, audit M F3).
    kept = (pl.col("quantity") > 0) | (pl.col("monetary") > 0)
    bought = result.segments.filter((pl.col("frequency") > 0) & kept)
    for name in ("monetary", "avg_order_value", "p_alive", "expected_purchases", "clv"):
        col = (bought if name in ("p_alive", "expected_purchases", "clv") else result.segments)[
            name
        ]
        assert col.null_count() == 0 and col.is_finite().all(), name
    no_purchase = result.segments.filter((pl.col("frequency") == 0) | ~kept)
    assert no_purchase.height and no_purchase.get_column("clv").null_count() == no_purchase.height
    # Online Retail holds both kinds: only returns or fees, and purchases all returned.
    assert no_purchase.filter(pl.col("frequency") > 0).height
    ranked = result.profile.sort("segment_rank")
    assert ranked.item(0, "share_revenue") == ranked.get_column("share_revenue").max() or (
        method == "abc-xyz"
    )

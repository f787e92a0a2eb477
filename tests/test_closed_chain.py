"""The closed chain: forecast routes each customer's demand to the site(s) network assigns, and
stock plans per site with the site's own item parameters (figures by hand here)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from segchain.errors import DataError
from segchain.forecast.routing import route_orders
from segchain.stock import stock

ORDERS = pl.DataFrame(
    {
        "order_id": ["1", "2", "3", "4"],
        "customer_id": ["A", "A", "B", "C"],
        "sku": ["X", "Y", "X", "X"],
        "quantity": [10.0, 4.0, 6.0, 5.0],
        "amount": [100.0, 40.0, 60.0, 50.0],
        "site": ["OLD", "OLD", "OLD", "OLD"],  # where it shipped from before the new plan
    }
)
ASSIGNMENTS = pl.DataFrame(
    {
        "customer_id": ["A", "A", "B"],
        "site_id": ["S1", "S2", "S2"],
        "share": [0.25, 0.75, 1.0],
    }
)


def test_route_orders_splits_a_customer_by_its_shares_and_conserves_demand() -> None:
    r = route_orders(ORDERS, ASSIGNMENTS)
    a = r.orders.filter(pl.col("customer_id") == "A").sort("order_id", "site")
    assert a.select("order_id", "site", "quantity").rows() == [
        ("1", "S1", 2.5),
        ("1", "S2", 7.5),
        ("2", "S1", 1.0),
        ("2", "S2", 3.0),
    ]
    routed = r.orders.filter(pl.col("site").is_not_null())
    assert routed["quantity"].sum() == pytest.approx(10 + 4 + 6)
    assert "OLD" not in r.orders["site"].to_list()


def test_route_orders_counts_customers_without_a_site() -> None:
    r = route_orders(ORDERS, ASSIGNMENTS)
    assert (r.unrouted_customers, r.unrouted_lines) == (1, 1)  # C has no assignment
    assert "1 order line(s) of 1 customer(s) have no serving site" in r.warnings[0]


def test_route_orders_rejects_shares_not_adding_to_one() -> None:
    bad = ASSIGNMENTS.with_columns(share=pl.Series([0.5, 0.4, 1.0]))
    with pytest.raises(DataError, match="'A' do not add up to 1"):
        route_orders(ORDERS, bad)


WEEKS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(4)]


def _site_forecast() -> pl.DataFrame:
    rows = [
        {"ds": d, "sku": "X", "site": s, "segment": "Gold", "forecast": 10.0, "error_sd": 2.0}
        for s in ("S1", "S2")
        for d in WEEKS
    ]
    return pl.DataFrame(rows)


def test_stock_takes_lead_time_per_site_from_items_else_the_skus_default() -> None:
    items = pl.DataFrame(
        {
            "sku": ["X", "X"],
            "site": [None, "S2"],
            "unit_cost": [4.0, None],
            "lead_time_days": [14.0, 35.0],
        }
    )
    policy = stock(_site_forecast(), items=items).policy.sort("site")
    assert policy["site"].to_list() == ["S1", "S2"]
    assert policy["lead_time_days"].to_list() == [14.0, 35.0]
    # S2's row leaves unit_cost empty: the sku's default row gives it.
    assert (policy["inventory_value"] / policy["avg_inventory"]).to_list() == pytest.approx(
        [4.0, 4.0]
    )
    assert policy["reorder_point"][1] > policy["reorder_point"][0]  # 5 weeks of demand, not 2


def test_stock_items_duplicate_sku_and_site_is_an_error() -> None:
    items = pl.DataFrame({"sku": ["X", "X"], "site": ["S1", "S1"], "lead_time_days": [1.0, 2.0]})
    with pytest.raises(DataError, match="duplicate sku@site"):
        stock(_site_forecast(), items=items)


def test_forecast_with_assignments_forecasts_each_site_its_customers_share() -> None:
    from segchain.forecast import forecast
    from tests.test_forecast import orders_from_series, segments_for

    orders = orders_from_series({("c1", "s1"): [8.0] * 60, ("c2", "s1"): [4.0] * 60})
    assignments = pl.DataFrame(
        {"customer_id": ["c1", "c1", "c2"], "site_id": ["N", "S", "S"], "share": [0.25, 0.75, 1.0]}
    )
    r = forecast(orders, segments_for(["c1", "c2"]), horizon=4, n_jobs=1, assignments=assignments)
    per_site = dict(
        r.forecast.group_by("site").agg(pl.col("forecast").mean()).sort("site").iter_rows()
    )
    assert per_site == pytest.approx({"N": 8.0 * 0.25, "S": 8.0 * 0.75 + 4.0})
    assert r.forecast["unique_id"].str.starts_with("N/").any()

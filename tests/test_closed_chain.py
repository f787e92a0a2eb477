"""The closed chain: forecast routes each customer's demand to the site(s) network assigns, and
stock plans per site with the site's own item parameters (figures by hand here)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from segchain.errors import DataError
from segchain.routing import route_orders
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
    assert "1 order line of 1 customer has no serving site" in r.warnings[0]


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
    message = r"1 sku@site is on more than one row: 'X@S1' \(rows 1, 2\)"
    with pytest.raises(DataError, match=message):
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


def test_forecast_counts_lines_without_a_serving_site_once() -> None:
    """The lines of a customer without a serving site were reported as having none, then again
    as lines with a blank site (220 and 213 of them on Online Retail): one count, one warning."""
    from segchain.forecast import forecast
    from tests.test_forecast import orders_from_series, segments_for

    orders = orders_from_series({("c1", "s1"): [8.0] * 30, ("c2", "s1"): [4.0] * 30})
    assignments = pl.DataFrame({"customer_id": ["c1"], "site_id": ["N"]})
    r = forecast(orders, segments_for(["c1", "c2"]), horizon=4, n_jobs=1, assignments=assignments)
    assert r.excluded.get("no_serving_site") == 30  # c2's 30 lines
    assert "blank_key" not in r.excluded
    assert [w for w in r.warnings if "serving site" in w or "blank" in w] == [
        "--orders: 30 order lines of 1 customer have no serving site in the assignments: left "
        "out of the site series"
    ]
    with pytest.raises(DataError, match="none of the 2 customer"):
        forecast(
            orders,
            segments_for(["c1", "c2"]),
            horizon=4,
            n_jobs=1,
            assignments=pl.DataFrame({"customer_id": ["c9"], "site_id": ["N"]}),
        )


# --- on-hand where the network puts no demand ----------------------------------------------
ON_HAND = pl.DataFrame(
    {
        # S3 is a site the network closed; Y has no demand anywhere; X@S1 is a planned point.
        "sku": ["X", "X", "X", "Y", "Y"],
        "site": ["S1", "S3", "S3", "S2", "S1"],
        "on_hand": [5.0, 7.0, 3.0, 4.0, 0.0],
        "backorders": [0.0, 0.0, 0.0, 6.0, 0.0],
    }
)
SITE_ITEMS = pl.DataFrame(
    {
        "sku": ["X", "Y", "X"],
        "site": [None, None, "S3"],
        "unit_cost": [2.0, 3.0, 5.0],
        "pack_size": [None, 4.0, None],
    }
)


@pytest.mark.parametrize("review_days", [7.0, None])
def test_stock_keeps_on_hand_without_demand_as_flagged_rows_per_site(
    review_days: float | None,
) -> None:
    r = stock(_site_forecast(), items=SITE_ITEMS, on_hand=ON_HAND, review_days=review_days)
    p = r.policy
    flagged = p.filter(pl.col("no_demand")).sort("sku", "site")
    # Every on-hand unit is in the plan: nothing refused, nothing dropped.
    assert p["on_hand"].sum() == ON_HAND["on_hand"].sum()
    assert flagged.select("sku", "site", "on_hand", "unit_cost").rows() == [
        ("X", "S3", 10.0, 5.0),  # two rows summed; S3's own unit cost
        ("Y", "S1", 0.0, 3.0),
        ("Y", "S2", 4.0, 3.0),
    ]
    # No demand: nothing to protect, no planned inventory; only backorders owed are ordered
    # (Y@S2 owes 6, holds 4: 2 units, one pack of 4).
    assert flagged["order_now"].to_list() == [0.0, 0.0, 4.0]
    for col in ("mean_demand", "safety_stock", "order_up_to", "avg_inventory", "inventory_value"):
        assert flagged[col].to_list() == [0.0, 0.0, 0.0], col
    planned = p.filter(~pl.col("no_demand")).sort("site")
    assert planned.select("sku", "site").rows() == [("X", "S1"), ("X", "S2")]
    assert (planned["order_now"] > 0).all()
    # Y@S2's 4 units go to its 6 backorders: only X@S3's 10 (at S3's 5.00) are stock to clear,
    # and Y@S2 orders (it was said to order nothing; audit S, S3, session 67).
    # Not in the per-segment table: no segment's demand is there.
    assert r.segments is not None and set(r.segments["site"]) == {"S1", "S2"}
    assert r.notes[-1] == (
        "--on-hand: 4 on-hand rows at 3 stocking points without forecast demand (sku@site 'X@S3', "
        "'Y@S1', 'Y@S2'): 10 units not owed to customers at 1 of them, 50.00 at unit cost, stock "
        "to move or clear; kept in the policy with no_demand = true, ordering only for backorders "
        "owed: 4 units at 1 of them (order_now)"
    )


def test_stock_on_hand_rows_need_a_site_when_the_forecast_is_by_site() -> None:
    oh = ON_HAND.with_columns(site=pl.Series(["S1", None, "S3", "S2", "S1"]))
    with pytest.raises(DataError, match="1 row has no site"):
        stock(_site_forecast(), on_hand=oh)


def test_costs_inventory_reconciles_with_a_policy_holding_stock_without_demand() -> None:
    from segchain.costs.allocate import segment_inventory

    r = stock(_site_forecast(), items=SITE_ITEMS, on_hand=ON_HAND, review_days=7.0)
    alloc, _, unattributed = segment_inventory(
        r.policy, stock_segments=r.segments, forecast=None, lines=pl.DataFrame()
    )
    assert unattributed == 0.0
    assert round(alloc["inventory_value"].sum(), 2) == round(r.policy["inventory_value"].sum(), 2)


def test_stock_without_sites_takes_the_skus_default_row_of_items_per_site() -> None:
    fc = _site_forecast().filter(pl.col("site") == "S1").drop("site")
    items = pl.DataFrame(
        {"sku": ["X", "X", "X"], "site": ["S2", None, "S3"], "lead_time_days": [35.0, 21.0, 9.0]}
    )
    policy = stock(fc, items=items).policy
    assert policy["lead_time_days"].to_list() == [21.0]


def test_costs_carrying_takes_a_sites_own_holding_rate_else_the_skus() -> None:
    from segchain.costs.allocate import carrying, holding_rates

    items = pl.DataFrame(
        {
            "sku": ["X", "X", "X", "Y"],
            "site": ["S2", None, "S3", "S1"],
            "holding_rate": [0.5, 0.2, None, None],
        }
    )
    inv = pl.DataFrame(
        {
            "segment": ["Gold"] * 4,
            "sku": ["X", "X", "X", "Y"],
            "site": ["S1", "S2", "S3", "S1"],
            "inventory_value": [100.0, 100.0, 100.0, 100.0],
        }
    )
    out = carrying(inv, rates=holding_rates(items, 0.25), default_rate=0.25, period_days=365)
    # S2 states its own rate; S1 and S3 take X's row without a site; Y states none: default.
    assert out["holding_rate"].to_list() == [0.2, 0.5, 0.2, 0.25]
    # period_days / 365.25 (issue 15; schema.DAYS_PER_YEAR): a calendar year of 365 days is
    # 365 / 365.25 of a year of carrying at the rate.
    assert out["inventory_carrying"].to_list() == pytest.approx(
        [100 * r * 365 / 365.25 for r in (0.2, 0.5, 0.2, 0.25)]
    )

"""report: a headline that sums a column with unknown cells (null, NaN, infinite) says so.

The known answers are summed here by hand from the frames' known cells, not by the report's code.
"""

from __future__ import annotations

import math

import polars as pl
from test_report import assignments_frame

from segchain.report import build_report

NAN, INF = float("nan"), float("inf")


def headline(report, key, label_start):
    section = next(s for s in report.sections if s.key == key)
    exact = [h for h in section.headlines if h.label == label_start]
    return (
        exact[0] if exact else next(h for h in section.headlines if h.label.startswith(label_start))
    )


def known_sum(values) -> float:
    return sum(v for v in values if v is not None and math.isfinite(v))


def assignments(cost) -> pl.DataFrame:
    """test_report's four lanes, with these transport costs."""
    return assignments_frame().with_columns(transport_cost=pl.Series(cost, dtype=pl.Float64))


def test_network_cost_with_a_nan_lane_names_the_lane_left_out():
    cost = [1000.0, NAN, 2500.25, 400.0]
    report = build_report({"assignments": assignments(cost)})
    head = headline(report, "network", "Network cost")
    assert head.value == f"{known_sum(cost):,.0f}"  # 3,900
    assert head.detail == "transport cost; 1 lane's cost unknown, left out"


def test_network_cost_with_every_lane_known_says_nothing_of_unknowns():
    cost = [1000.0, 1.0, 2500.25, 400.0]
    head = headline(build_report({"assignments": assignments(cost)}), "network", "Network cost")
    assert head.value == f"{sum(cost):,.0f}"
    assert head.detail == "transport cost"


def test_inventory_headlines_name_the_stocking_points_left_out():
    safety = [200.0, NAN, 80.0, None]
    unit_cost = [2.0, 10.0, 5.0, 3.0]
    value = [100.0, INF, 70.0, 55.0]
    policy = pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "segment": ["Champions", "Lost", "Champions", "Lost"],
            "service_target": [0.98, 0.9, 0.98, 0.9],
            "mean_demand": [10.0, 1.0, 5.0, 2.0],
            "safety_stock": safety,
            "expected_fill_rate": [0.99, 0.9, 0.97, 0.9],
            "unit_cost": unit_cost,
            "inventory_value": value,
        },
        schema_overrides={"safety_stock": pl.Float64},
    )
    report = build_report({"policy": policy})
    ss = headline(report, "inventory", "Safety stock value")
    ss_known = known_sum(
        s * c if s is not None else None for s, c in zip(safety, unit_cost, strict=True)
    )
    assert ss.value == f"{ss_known:,.0f}"  # 200*2 + 80*5 = 800
    assert ss.detail.endswith("2 stocking points' value unknown, left out")
    inv = headline(report, "inventory", "Inventory value")
    assert inv.value == f"{known_sum(value):,.0f}"  # 225
    assert inv.detail.endswith("1 stocking point's value unknown, left out")


def test_forecast_demand_names_the_rows_left_out():
    forecast = [10.0, 11.0, NAN, 1.0, 2.0, 3.0]
    fc = pl.DataFrame(
        {
            "unique_id": ["Champions/A"] * 3 + ["Lost/B"] * 3,
            "ds": pl.date_range(
                pl.date(2024, 1, 1), pl.date(2024, 1, 15), "1w", eager=True
            ).to_list()
            * 2,
            "forecast": forecast,
            "segment": ["Champions"] * 3 + ["Lost"] * 3,
            "sku": ["A"] * 3 + ["B"] * 3,
        }
    )
    head = headline(build_report({"forecast": fc}), "forecast", "Forecast demand")
    assert head.value == f"{known_sum(forecast):,.0f}"  # 27
    assert head.detail == "units over the horizon; 1 period's forecast unknown, left out"


def test_costs_headlines_name_the_segments_left_out():
    revenue = [1000.0, 500.0, NAN]
    cts = [300.0, 200.0, 100.0]
    profit = [700.0, 300.0, NAN]
    costs = pl.DataFrame(
        {
            "segment": ["Champions", "Lost", "At Risk"],
            "revenue": revenue,
            "cost_to_serve": cts,
            "profit": profit,
        }
    )
    report = build_report({"costs": costs})
    head = headline(report, "costs", "Profit")
    assert head.value == f"{known_sum(profit):,.0f}"  # 1,000
    assert "1 segment's profit unknown, left out" in head.detail
    assert "1 segment's revenue unknown, left out" in head.detail


def test_order_now_names_the_stocking_points_whose_value_is_unknown():
    order_now = [150.0, 30.0, 0.0, 40.0]
    unit_cost = [2.0, NAN, 1.0, 5.0]
    policy = pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "safety_stock": [1.0, 1.0, 1.0, 1.0],
            "order_now": order_now,
            "unit_cost": unit_cost,
        }
    )
    head = headline(build_report({"policy": policy}), "actions", "Order now")
    value = known_sum(
        q * c for q, c in zip(order_now, unit_cost, strict=True) if q > 0
    )  # 300 + 200
    assert head.detail.startswith(f"value {value:,.0f}, ")
    assert head.detail.endswith("; 1 stocking point's value unknown, left out")


def test_segments_revenue_names_the_customers_whose_monetary_is_unknown():
    monetary = [600.0, None, 20.0, 80.0, INF]
    segments = pl.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5"],
            "segment": ["Champions", "Champions", "Lost", "At Risk", "Lost"],
            "segment_rank": [1, 1, 3, 2, 3],
            "recency_days": [5, 15, 400, 200, 300],
            "frequency": [10, 6, 1, 3, 2],
            "monetary": monetary,
        }
    )
    head = headline(build_report({"segments": segments}), "segments", "Revenue")
    assert head.value == f"{known_sum(monetary):,.0f}"  # 700
    assert head.detail == "net order value; 2 customers' revenue unknown, left out"

"""Leftovers of the s44 walk-through on real exports (the report's series names, charts' ids
and cost bases; stock's points forecast no demand), each with the case that showed it."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from test_report import forecast_frame, policy_frame

from segchain.report import build_report, to_html
from segchain.report.charts import Chart, render_svg


def test_a_forecast_panel_is_named_by_its_keys_not_the_escaped_id() -> None:
    # The Complete Journey's category 'COUPON/MISC ITEMS': forecast escapes the '/' within a
    # key in the series id ('Loyal/COUPON%2FMISC ITEMS'), which the chart's title showed.
    fc = forecast_frame().with_columns(
        unique_id=pl.col("unique_id").str.replace("Champions/A", "Champions/COUPON%2FMISC"),
        sku=pl.col("sku").replace("A", "COUPON/MISC"),
    )
    page = to_html(build_report({"forecast": fc}))
    assert "Champions/COUPON/MISC" in page
    assert "%2F" not in page


def test_chart_ids_are_prefixed_with_every_reference_to_them() -> None:
    # render_svg gave the ids of several charts on one page a prefix by three string replaces
    # per id over the whole SVG (some 4 s of Online Retail's report); now one pass per form.
    # Checked independently: every id of the SVG is prefixed, and every reference in it names
    # an id it has.
    chart = Chart("forecast", "A chart", lambda fig: fig.add_subplot().plot([1, 2], [3, 4]))
    plain = render_svg(chart)
    svg = render_svg(chart, prefix="q7-")
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("q7-") for i in ids)
    assert sorted(ids) == sorted("q7-" + i for i in re.findall(r'\bid="([^"]+)"', plain))
    refs = re.findall(r'href="#([^"]+)"', svg) + re.findall(r"url\(#([^)]+)\)", svg)
    assert refs and set(refs) <= set(ids)


def _inventory_headlines(policy: pl.DataFrame) -> list:
    report = build_report({"policy": policy})
    return next(s for s in report.sections if s.key == "inventory").headlines


def test_a_safety_stock_of_mixed_cost_bases_says_which() -> None:
    # Online Retail through stock --orders without --items: 3,659 points valued at their mean
    # selling price and 17 with no price (valued at 1 a unit); the headline said "at unit cost".
    policy = pl.concat([policy_frame()] * 3).with_columns(
        sku=pl.Series([f"S{i}" for i in range(9)]),
        unit_cost_source=pl.Series(["price"] * 7 + ["default"] * 2),
        safety_stock_value=pl.lit(1.0),
    )
    heads = _inventory_headlines(policy)
    expected = "at selling price for 7 stocking points, 1 a unit (no cost) for 2"
    assert heads[1].label == "Safety stock value"
    assert heads[1].detail == expected
    assert heads[0].detail == f"average stock of 9 stocking points, {expected}"
    # One basis reads as before.
    one = _inventory_headlines(policy.with_columns(unit_cost_source=pl.lit("items")))
    assert one[1].detail == "at unit cost" and one[0].detail == "average stock of 9 stocking points"


def test_points_below_zero_are_counted_with_thousands_separators() -> None:
    n = 1_200
    policy = pl.DataFrame(
        {
            "sku": [f"S{i}" for i in range(n)],
            "segment": ["Champions"] * n,
            "service_target": [0.9] * n,
            "mean_demand": [1.0] * n,
            "safety_stock": [-1.0] * (n - 1) + [5.0],
            "reorder_point": [1.0] * n,
            "unit_cost": [2.0] * n,
            "inventory_value": [3.0] * n,
        }
    )
    detail = _inventory_headlines(policy)[1].detail
    assert detail.endswith("below zero at 1,199 of 1,200 stocking points, counted as none"), detail


# A forecast of two skus, Z forecast no demand (a sku no longer sold).
FLAT_FORECAST = "unique_id,ds,forecast,error_sd,sku,segment\n" + "".join(
    f"A,2024-01-{d:02d},10,3,A,S\nZ,2024-01-{d:02d},0,0,Z,S\n" for d in (1, 8, 15, 22)
)


@pytest.mark.parametrize("policy", ["sQ", "RS"])
def test_a_point_forecast_no_demand_plans_no_stock(cli, tmp_path: Path, policy: str) -> None:
    # It orders nothing but what it owes (199a63e), so the plan holds none there, as the README
    # says of on-hand points without demand; as (s, Q) it was planned half a cycle, a unit.
    (tmp_path / "fc.csv").write_text(FLAT_FORECAST)
    result = cli("stock", "fc.csv", "--policy", policy, "-o", "p.csv")
    assert result.exit_code == 0, result.stderr
    plan = {r["sku"]: r for r in pl.read_csv(tmp_path / "p.csv").iter_rows(named=True)}
    assert plan["Z"]["avg_inventory"] == 0.0
    assert plan["Z"]["inventory_value"] == 0.0
    assert plan["A"]["avg_inventory"] > 0.0  # 10 a week: stock to hold


def test_the_backtest_summary_says_how_many_series_its_mean_mase_is_of() -> None:
    # Online Retail's stderr table gave segment New a MASE of 0.00, the mean of 1 of its 453
    # series (the others have no in-sample change before their first window, so no MASE).
    import datetime as dt

    from segchain.forecast import forecast

    monday = dt.date(2024, 1, 1)
    rows = []
    for w in range(40):
        day = monday + dt.timedelta(weeks=w)
        # Steady: changes every week (a MASE). Flat: 5 a week, then 8 from week 36, so its
        # history before the backtest's windows (4 of 2 weeks) never changes: no MASE.
        rows.append(("S", day, "A", 3.0 + (w * 7) % 5))
        rows.append(("F", day, "B", 5.0 if w < 36 else 8.0))
    orders = pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "order_date": [r[1] for r in rows],
            "customer_id": [r[0] for r in rows],
            "sku": [r[2] for r in rows],
            "quantity": [r[3] for r in rows],
            "unit_price": [1.0] * len(rows),
        }
    )
    segments = pl.DataFrame({"customer_id": ["S", "F"], "segment": ["Steady", "Flat"]})
    summary = forecast(orders, segments, freq="W", horizon=2).summary
    mase_of = dict(summary.select("unique_id", "mase_of").iter_rows())
    assert mase_of == {"segment:Flat": "0 of 1", "segment:Steady": "all", "overall": "1 of 2"}
    assert summary.filter(pl.col("unique_id") == "segment:Flat")["mase"].item() is None


def test_columns_named_as_the_reports_working_columns_are_passed_over() -> None:
    # hostile5 (s44): a per-segment stock table carrying `_capped` and `_demand` of its own
    # ended in a polars traceback (arithmetic on f64 and str), the report's own columns of those
    # names meeting them. Such columns are passed over, as any column the report does not read:
    # the page is the one without them.
    from test_report import all_tables
    from test_report_actions import orders, policy, stock_segments

    tables = all_tables()
    tables |= {"policy": policy(), "stock_segments": stock_segments(), "orders": orders()}
    odd = {"_capped": pl.lit("x"), "_demand": pl.lit("y"), "_w": pl.lit("z"), "_got": pl.lit(1)}
    with_odd = {k: v.with_columns(**odd) for k, v in tables.items()}
    assert to_html(build_report(with_odd)) == to_html(build_report(tables))

"""stock states its plan's cover in weeks of forecast demand, and warns when it is far above the
longest lead time plus review (audit K, session 60, F5: Superstore's plan held 256 weeks of
forecast demand against lead times of 10-21 days, and nothing said so)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from segchain.cli.stock_summary import COVER_WARN_FACTOR, plan_cover


def _policy(avg: list[float], mean: list[float], value: list[float], lead: float) -> pl.DataFrame:
    n = len(avg)
    return pl.DataFrame(
        {
            "avg_inventory": avg,
            "mean_demand": mean,
            "period_days": [7.0] * n,
            "lead_time_days": [lead] * n,
            "review_days": [1.0] * n,
            "inventory_value": value,
        }
    )


def test_plan_cover_is_total_inventory_over_total_weekly_forecast() -> None:
    """(30 + 50) units against 4 + 6 a week: 8 weeks; 13 + 1 days of lead time and review
    (2 weeks) x 4 = 8 weeks, not above: no warning."""
    line, warning = plan_cover(_policy([30.0, 50.0], [4.0, 6.0], [60.0, 100.0], lead=13.0))
    assert (
        line
        == "cover: average inventory 80 units = 8.0 weeks of forecast demand (10.0 units a week)"
    )
    assert warning is None


def test_plan_cover_far_above_lead_time_names_the_value_of_points_under_a_unit_a_year() -> None:
    """A point forecast 0.01 a week (0.52 a year) holds 900 units worth 1,800 beside one of
    10 a week holding 100 worth 200: 1,000 / 10.01 = 99.9 weeks, above 4 x 2 weeks; 90 % of
    the value is the slow point's."""
    policy = _policy([900.0, 100.0], [0.01, 10.0], [1800.0, 200.0], lead=13.0)
    line, warning = plan_cover(policy)
    assert line is not None and "= 99.9 weeks of forecast demand" in line
    assert warning is not None
    assert warning.startswith(
        f"the plan holds 100 weeks of forecast demand, over {COVER_WARN_FACTOR:g} x its longest "
        "lead time plus review (2.0 weeks); 1 stocking point forecast under 1 unit a year holds "
        "90% of the inventory value (1,800.00 of 2,000.00)"
    )


def test_plan_cover_says_nothing_without_forecast_demand() -> None:
    assert plan_cover(_policy([5.0], [0.0], [5.0], lead=7.0)) == (None, None)


def test_stock_prints_the_cover_and_its_warning(cli, tmp_path: Path) -> None:
    """The audit's F1 inputs, smaller: sku A sold 30-34 a week for 20 weeks, then nothing
    (forecast 0.001 a week); B sells 10 a week; both 70 days of lead time."""
    start = dt.date(2011, 1, 3)
    rows = ["order_id,order_date,customer_id,sku,quantity,unit_price"]
    for week in range(40):
        day = (start + dt.timedelta(weeks=week)).isoformat()
        rows.append(f"B{week},{day},C9,B,10,1.0")
        if week < 20:
            rows.append(f"A{week},{day},C{week % 7},A,{30 + week % 5},2.0")
    (tmp_path / "o.csv").write_text("\n".join(rows) + "\n")
    fc = ["sku,ds,forecast,error_sd"]
    for i in range(13):
        ds = (dt.date(2011, 12, 12) + dt.timedelta(weeks=i)).isoformat()
        fc += [f"A,{ds},0.001,20.0", f"B,{ds},10.0,2.0"]
    (tmp_path / "f.csv").write_text("\n".join(fc) + "\n")
    # B at a thousandth of a unit of money: its economic order is years of its demand (the
    # lapsed A alone no longer is, its level brought to its forecast).
    (tmp_path / "i.csv").write_text("sku,unit_cost,lead_time_days\nA,1.0,70\nB,0.001,70\n")
    result = cli("stock", "f.csv", "--orders", "o.csv", "--items", "i.csv", "-o", "p.csv")
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    policy = pl.read_csv(tmp_path / "p.csv")
    weekly = float((policy["mean_demand"] * 7 / policy["period_days"]).sum())
    weeks = float(policy["avg_inventory"].sum()) / weekly
    assert f"= {weeks:,.1f} weeks of forecast demand" in said
    assert (
        "over 4 x its longest lead time plus review (10.1 weeks); 1 stocking point forecast "
        "under 1 unit a year holds"
    ) in said

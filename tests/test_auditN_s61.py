"""Audit N, session 61: a year-ago period the orders do not cover whole is none (held-out
seasonal naive, the group seasonal lift); stock names the points whose level holds many weeks
of their forecast demand; the report's headline counts promises as planned and held out."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from segchain.forecast.group_seasonal import lifts
from segchain.forecast.heldout import NAIVE, SEASONAL_NAIVE, held_out
from segchain.forecast.options import Plan

# F4 ---------------------------------------------------------------------------------------


def _orders_from_a_sunday() -> pl.DataFrame:
    """One sku, one customer: the data start on Sunday 2017-01-01 (1 unit: the week of
    2016-12-26 holds that one day), then 10 units every Monday to 2017-12-18; the held-out week
    of 2017-12-25 (a year after the one-day week) sells 5 + 5 and is covered to its Sunday."""
    days = [dt.date(2017, 1, 1)] + [dt.date(2017, 1, 2) + dt.timedelta(weeks=i) for i in range(51)]
    qty = [1.0] + [10.0] * 51
    days += [dt.date(2017, 12, 25), dt.date(2017, 12, 31)]
    qty += [5.0, 5.0]
    return pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(days))],
            "customer_id": ["c1"] * len(days),
            "sku": ["s1"] * len(days),
            "order_date": days,
            "quantity": qty,
        }
    )


def test_heldout_seasonal_naive_takes_no_partial_year_ago_week():
    orders = _orders_from_a_sunday()
    assert dt.date(2017, 12, 18) == dt.date(2017, 1, 2) + dt.timedelta(weeks=50)
    segments = pl.DataFrame({"customer_id": ["c1"], "segment": ["A"]})
    fc = pl.DataFrame(
        {"segment": ["A"], "sku": ["s1"], "ds": [dt.date(2017, 12, 25)], "forecast": [10.0]}
    )
    h = held_out(orders, segments, fc, freq="W", by=["segment", "sku"])
    assert h is not None and h.periods == 1 and h.demand == 10.0
    wape = dict(zip(h.scores["approach"], h.scores["wape"], strict=True))
    # Naive repeats the week of 2017-12-18 (10 units): no error. The week a year before
    # 2017-12-25 is 2016-12-26, which the orders cover one day of: none, so seasonal naive is
    # naive (it took the one day's 1 unit, WAPE |1 - 10| / 10 = 0.9).
    assert wape[NAIVE] == 0.0
    assert wape[SEASONAL_NAIVE] == 0.0


def test_group_seasonal_lift_reads_no_partial_first_month():
    # Monthly, season 12, window 3: the data start on 2018-01-20, so January 2018 holds 12 of
    # its 31 days (4 units against 10 a month). The origin 2019-03 reads as its base the 3
    # months a year before it, January-March 2018: not covered whole, so no lift (1.0), as
    # with under a year of history; counted whole, the base (4 + 10 + 10) / 3 = 8 against
    # April 2018's 20 gave 1 + 0.5 (20 / 8 - 1) = 1.75.
    months = pl.date_range(dt.date(2018, 1, 1), dt.date(2019, 3, 1), "1mo", eager=True)
    values = {dt.date(2018, 1, 1): 4.0, dt.date(2018, 4, 1): 20.0}
    y = pl.DataFrame(
        {
            "unique_id": ["a"] * months.len(),
            "ds": months,
            "y": [values.get(d, 10.0) for d in months.to_list()],
        }
    )
    pairs = pl.DataFrame({"cutoff": [dt.date(2019, 3, 1)], "ds": [dt.date(2019, 4, 1)]})
    plan = Plan(freq="M", horizon=1, season=12, window=3, models=None)
    covered = Plan(
        freq="M", horizon=1, season=12, window=3, models=None, first_day=dt.date(2018, 1, 20)
    )
    assert lifts(y, pairs, plan).get_column("lift").to_list() == pytest.approx([1.75])
    assert lifts(y, pairs, covered).get_column("lift").to_list() == [1.0]


# F3 ---------------------------------------------------------------------------------------


def _levels_policy() -> pl.DataFrame:
    """(R, S) weekly, 7 days of lead time and 7 of review: a protection interval of 2 weeks.
    A: 10 a week, S 30, order 10: 30 / (20 + 10) = 1 x. B: 2 a week, S 100, order 2:
    100 / (4 + 2) = 16.7 x, 50 weeks. C: 0.01 a week (0.52 a year), S 5: tiny, counted apart.
    D: 5 a week, S 60, order 5: 60 / (10 + 5) = 4.0 x, not over. E: 5 a week, S 61: 4.07 x,
    12.2 weeks. Values 100, 300, 50, 50, 60: B and E hold 360 of 560 = 64.3 %."""
    return pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D", "E"],
            "policy_type": ["RS"] * 5,
            "reorder_point": [30.0, 100.0, 5.0, 60.0, 61.0],
            "order_up_to": [30.0, 100.0, 5.0, 60.0, 61.0],
            "order_qty": [10.0, 2.0, 1.0, 5.0, 5.0],
            "mean_demand": [10.0, 2.0, 0.01, 5.0, 5.0],
            "period_days": [7.0] * 5,
            "lead_time_days": [7.0] * 5,
            "review_days": [7.0] * 5,
            "avg_inventory": [15.0, 90.0, 5.0, 40.0, 41.0],
            "inventory_value": [100.0, 300.0, 50.0, 50.0, 60.0],
        }
    )


def test_stock_names_points_whose_level_is_many_times_their_forecast_demand():
    from segchain.cli.stock_summary import high_levels

    said = high_levels(_levels_policy())
    assert said is not None
    assert said.startswith(
        "2 stocking points hold a level over 4 x their forecast demand over lead time plus "
        "review plus one order, 64.3% of the inventory value (360.00 of 560.00), the most "
        "valuable: sku B (order-up-to 100 = 50 weeks of forecast demand), sku E (order-up-to "
        "61 = 12 weeks of forecast demand); not counted: 1 point forecast under 1 unit a year."
    )
    assert "'A'" not in said and "sku A" not in said and "sku D" not in said


def test_stock_names_no_point_when_every_level_fits_its_demand():
    from segchain.cli.stock_summary import high_levels

    policy = _levels_policy().filter(pl.col("sku").is_in(["A", "D"]))
    assert high_levels(policy) is None


def test_stock_prints_the_high_level_warning(cli, tmp_path):
    """sku A sells 5 a week for 30 weeks, and 405 in a promotion week (40 more customers, 10
    each); B sells 10-12 a week. Lead time 7 days, (R, S) weekly: the promotion's two weeks
    (410 units) set A's level far above 4 x (5 x 2 + an order of 5) = 60, and it is named;
    B is not."""
    start = dt.date(2011, 1, 3)
    rows = ["order_id,order_date,customer_id,sku,quantity,unit_price"]
    for week in range(30):
        day = (start + dt.timedelta(weeks=week)).isoformat()
        rows.append(f"B{week},{day},C9,B,{10 + week % 3},1.0")
        rows.append(f"A{week},{day},C{week % 7},A,5,2.0")
        if week == 12:  # a promotion: 40 more customers, 10 each
            rows += [f"P{k},{day},P{k},A,10,1.5" for k in range(40)]
    (tmp_path / "o.csv").write_text("\n".join(rows) + "\n")
    fc = ["sku,ds,forecast,error_sd"]
    for i in range(13):
        ds = (dt.date(2011, 8, 1) + dt.timedelta(weeks=i)).isoformat()
        fc += [f"A,{ds},5.0,6.0", f"B,{ds},10.0,2.0"]
    (tmp_path / "f.csv").write_text("\n".join(fc) + "\n")
    (tmp_path / "i.csv").write_text("sku,unit_cost,lead_time_days\nA,1.0,7\nB,1.0,7\n")
    result = cli(
        "stock", "f.csv", "--orders", "o.csv", "--items", "i.csv", "--policy", "RS",
        "--review-days", "7", "-o", "p.csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    policy = pl.read_csv(tmp_path / "p.csv").sort("sku")
    a = policy.row(0, named=True)
    assert a["sku"] == "A"
    assert a["order_up_to"] == 410.0  # the promotion's 405 and a week's 5
    assert a["order_up_to"] > 4 * (a["mean_demand"] * 2 + a["order_qty"])
    weeks = a["order_up_to"] / a["mean_demand"]
    assert (
        "1 stocking point holds a level over 4 x its forecast demand over lead time plus "
        "review plus one order"
    ) in said
    assert f"sku A (order-up-to {a['order_up_to']:,.0f} = {weeks:,.0f} weeks" in said
    assert "sku B" not in said


# F2 ---------------------------------------------------------------------------------------


def _held_record(rows: list[dict]) -> dict:
    """A held_out record as stock writes it (stock.heldout.StockHeldOut.as_metadata)."""
    return {
        "period_days": 7.0,
        "periods": 13,
        "segments": rows,
        "start": "2017-10-02",
        "stocking_points": 3,
        "warmup_days": 56,
    }


def test_report_headline_counts_promises_held_out_beside_the_plan():
    from test_report import all_tables, section

    from segchain.report import build_report, to_markdown

    # The plan (all_tables) keeps Lost and Other and breaks Champions. Held out: Champions got
    # 0.93 for 0.99 (6 points short), Lost 0.78 for 0.80 (2 points: not well short), a CSL
    # promise is not scored by a fill rate and a segment that asked nothing is not scored:
    # 1 of 2 segments 5 points or more short.
    rows = [
        {"segment": "Champions", "measure": "fill-rate", "target": 0.99, "asked": 400.0,
         "fill_segmented": 0.93, "expected_fill": 0.97},
        {"segment": "Lost", "measure": "fill-rate", "target": 0.8, "asked": 100.0,
         "fill_segmented": 0.78, "expected_fill": 0.9},
        {"segment": "Other", "measure": "csl", "target": 0.95, "asked": 50.0,
         "fill_segmented": 0.5, "expected_fill": 0.95},
        {"segment": "Idle", "measure": "fill-rate", "target": 0.95, "asked": 0.0,
         "fill_segmented": None, "expected_fill": None},
        {"segment": "(all)", "measure": None, "target": None, "asked": 550.0,
         "fill_segmented": 0.88, "expected_fill": None},
    ]  # fmt: skip
    metadata = {"policy": {"held_out": _held_record(rows)}}
    report = build_report(all_tables(), metadata=metadata)
    head = next(h for h in section(report, "actions").headlines if "Promises" in h.label)
    assert (head.label, head.value) == (
        "Promises held out",
        "1 of 2 segments 5 points or more short",
    )
    assert head.detail == (
        "over the 13 weeks from 2017-10-02; in the plan: 2 of 3 kept, not kept: Champions"
    )
    page = to_markdown(report, image_dir="r_files")[0]
    assert "**Promises kept" not in page


def test_report_headline_and_title_say_the_plan_without_a_replay():
    from test_report import all_tables, section

    from segchain.report import build_report

    report = build_report(all_tables(), metadata={})
    actions = section(report, "actions")
    head = next(h for h in actions.headlines if "Promises" in h.label)
    # The plan expects Champions below its target (all_tables): it says so, as the plan's.
    assert (head.label, head.value, head.detail) == (
        "Promises kept in the plan",
        "2 of 3 segments",
        "not kept: Champions",
    )
    titles = [getattr(b, "title", "") for b in actions.blocks]
    assert "Segments whose promise is not kept in the plan" in titles

"""report says when tables of different runs are given as one story: the three pairs audit R
(session 65) found passing without a word. The known answers are counted by hand from the small
tables below; tables of one run say nothing.

- R2: costs made from another policy (or other network tables) than the ones given: the profit
  rested on 133,135 of stock beside an Inventory section of 314,767.
- R3: the backtest of another forecast run (as of 2022-06-06 beside a forecast as of
  2022-10-10) quoted as the forecast's, the series that run lacked called too short to backtest.
- R1: segments of another run (351 customers) beside a forecast made from 400: their history
  drawn as "the demand the forecast read".
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl

from segchain.report import build_report, to_markdown
from segchain.report.consistency import mismatches

# ---- R2

POLICY = pl.DataFrame(
    {"site": ["S1", "S1"], "sku": ["A", "B"], "inventory_value": [30.0, 12.5],
     "mean_demand": [2.0, 1.0]}
)  # fmt: skip  # 42.50 of inventory value
SPLIT = pl.DataFrame(
    {"site": ["S1", "S1", "S1"], "sku": ["A", "A", "B"], "segment": ["Gold", "Tin", "Tin"],
     "inventory_value": [20.0, 10.0, 12.5]}
)  # fmt: skip
LANES = pl.DataFrame(
    {"customer_id": ["c1", "c2"], "segment": ["Gold", "Tin"], "site_id": ["S1", "S2"],
     "share": [1.0, 1.0], "demand": [10.0, 5.0], "transport_cost": [7.0, 3.0]}
)  # fmt: skip  # 10.00 of transport
SITES = pl.DataFrame(
    {"site_id": ["S1", "S2", "S3"], "open": [True, True, False],
     "fixed_cost": [100.0, 50.0, 70.0], "demand_served": [10.0, 5.0, 0.0],
     "customers": [1, 1, 0]}
)  # fmt: skip  # 150 of fixed cost open
COSTS = pl.DataFrame(
    {"segment": ["Gold", "Tin"], "customers": [1, 1], "revenue": [9.0, 2.0],
     "inventory_value": [20.0, 22.5], "inventory_carrying": [5.0, 5.625]}
)  # fmt: skip


def _reconciled(inventory: float, transport: float, fixed: float) -> dict:
    """A costs table's metadata as costs writes it: each source's total it reconciled."""
    return {
        "reconciliation": [
            {"name": "revenue", "source": "orders net value", "source_total": 11.0},
            {
                "name": "transport",
                "source": "assignments transport_cost",
                "source_total": transport,
            },
            {"name": "warehouse fixed", "source": "sites open fixed_cost", "source_total": fixed},
            {
                "name": "inventory value",
                "source": "policy inventory_value",
                "source_total": inventory,
            },
        ]  # fmt: skip
    }


TABLES = {"policy": POLICY, "assignments": LANES, "sites": SITES, "costs": COSTS}


def test_costs_of_the_policy_and_network_given_raise_nothing() -> None:
    assert mismatches(TABLES, {"costs": _reconciled(42.5, 10.0, 150.0)}) == []


def test_costs_of_another_policy_are_named() -> None:
    assert mismatches(TABLES, {"costs": _reconciled(40.0, 10.0, 150.0)}) == [
        "the costs were made from a policy other than the one given (inventory value: 40.00 in "
        "the costs' reconciliation, 42.50 in the policy): tables of different runs? Rerun costs "
        "with this policy (--policy)"
    ]
    # Without costs' metadata (a CSV) nothing says what it reconciled: nothing is said.
    assert mismatches(TABLES, {}) == []


def test_costs_of_another_network_plan_are_named() -> None:
    # Transport 12 against the lanes' 7 + 3; fixed 100 against S1 + S2 open, 150.
    assert mismatches(TABLES, {"costs": _reconciled(42.5, 12.0, 100.0)}) == [
        "the costs were made from assignments and sites other than the ones given (transport: "
        "12.00 in the costs' reconciliation, 10.00 in the assignments; warehouse fixed: 100 in "
        "the costs' reconciliation, 150 in the open sites): tables of different runs? Rerun "
        "costs with these assignments and these sites (--assignments, --sites)"
    ]


def test_customer_costs_of_another_policy_are_named() -> None:
    customers = pl.DataFrame(
        {"customer_id": ["c1", "c2"], "segment": ["Gold", "Tin"], "revenue": [9.0, 2.0],
         "cost_to_serve": [1.0, 1.0], "inventory_value": [20.0, 20.0]}
    )  # fmt: skip
    tables = {**TABLES, "customer_costs": customers}
    meta = {
        "costs": _reconciled(42.5, 10.0, 150.0),
        "customer_costs": _reconciled(40.0, 10.0, 150.0),
    }
    assert mismatches(tables, meta) == [
        "the customer costs were made from a policy other than the one given (inventory value: "
        "40.00 in the customer costs' reconciliation, 42.50 in the policy): tables of different "
        "runs? Rerun costs --by customer with this policy (--policy)"
    ]


def test_the_page_says_the_costs_of_another_policy_first_and_no_same_split() -> None:
    report = build_report(
        {"policy": POLICY, "stock_segments": SPLIT, "costs": COSTS},
        metadata={"costs": _reconciled(40.0, 10.0, 150.0)},
    )
    page, _ = to_markdown(report)
    text = " ".join(page.split())
    said = "the costs were made from a policy other than the one given"
    assert said in text and text.index(said) < text.index("## ")
    assert "use the same split" not in text
    assert "the cost section's inventory carrying is of another policy's" in text
    same = build_report(
        {"policy": POLICY, "stock_segments": SPLIT, "costs": COSTS},
        metadata={"costs": _reconciled(42.5, 10.0, 150.0)},
    )
    assert same.mismatched == []
    assert "use the same split" in " ".join(to_markdown(same)[0].split())


ORDERS_CSV = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-02,C1,A,4,10\n"
    "2,2024-01-05,C1,B,4,10\n"
    "3,2024-01-20,C2,A,2,10\n"
)
POLICY_CSV = (
    "sku,inventory_value,mean_demand,safety_stock,reorder_point\nA,{a},2,1,3\nB,12.5,1,1,2\n"
)


def said_of_costs_of_another_policy(cli, tmp_path: Path, out: str, said: str) -> None:  # type: ignore[no-untyped-def]
    """The costs of one policy written to ``out`` (p1.csv, 42.50 of inventory value; p2.csv,
    72.50, for a CSV, whose costs can hold less than the policy given) beside the other: the
    report says ``said`` on stderr and first on its page; beside their own, nothing."""
    (tmp_path / "o.csv").write_text(ORDERS_CSV)
    (tmp_path / "s.csv").write_text("customer_id,segment\nC1,Gold\nC2,Tin\n")
    (tmp_path / "p1.csv").write_text(POLICY_CSV.format(a=30))  # 42.50 in all
    (tmp_path / "p2.csv").write_text(POLICY_CSV.format(a=60))  # 72.50 in all
    own, other = ("p2.csv", "p1.csv") if out.endswith(".csv") else ("p1.csv", "p2.csv")
    made = cli("costs", "s.csv", "--orders", "o.csv", "--policy", own, "-o", out)
    assert made.exit_code == 0, made.stderr
    mixed = cli("report", out, other, "-o", "r.md")
    assert mixed.exit_code == 0, mixed.stderr
    assert said in " ".join(mixed.stderr.split())
    page = " ".join((tmp_path / "r.md").read_text().split())
    assert said in page and page.index(said) < page.index("## ")
    same = cli("report", out, own, "-o", "r1.md")
    assert same.exit_code == 0, same.stderr
    assert "other than the one given" not in same.stderr


def test_costs_written_by_costs_of_another_policy_are_said_on_stderr(cli, tmp_path: Path) -> None:
    said_of_costs_of_another_policy(
        cli,
        tmp_path,
        "c.parquet",
        "the costs were made from a policy other than the one given (inventory value: 42.50 in "
        "the costs' reconciliation, 72.50 in the policy)",
    )


# ---- R3

# Three series forecast, 10 + 5 + 1 units; the backtest of this run scores a and b, c being too
# short (the forecast's metadata counts it: fallbacks.not_backtested = 1).
FORECAST = pl.DataFrame(
    {"unique_id": ["a", "b", "c"], "ds": [dt.date(2024, 1, 1)] * 3, "forecast": [10.0, 5.0, 1.0]}
)
BACKTEST = pl.DataFrame(
    {"unique_id": ["a", "b"], "scope": ["series", "series"], "mase": [0.8, 1.2],
     "baseline_mase": [1.0, 1.0], "wape": [0.3, 0.6], "baseline_wape": [0.4, 0.5],
     "backtest_actual": [20.0, 10.0], "backtest_abs_error": [6.0, 6.0]}
)  # fmt: skip
RUN = {
    "params": {"as_of": "2022-10-10", "freq": "W", "horizon": 13, "by": "segment,sku",
               "models": "auto", "outliers": "cap", "reconcile": "auto", "seed": 0},
    "inputs": {"orders": 10194, "segments": 804},
    "fallbacks": {"not_backtested": 1},
}  # fmt: skip
FIX = (
    "tables of different runs? Rerun forecast with --backtest FILE to write a forecast and its "
    "backtest together"
)


def _run(**params: object) -> dict:
    return {**RUN, "params": {**RUN["params"], **params}}


def test_a_backtest_of_the_forecasts_run_raises_nothing() -> None:
    tables = {"forecast": FORECAST, "backtest": BACKTEST}
    assert mismatches(tables, {"forecast": RUN, "backtest": RUN}) == []
    # As CSV (no backtest metadata): c is the one series the forecast records too short.
    assert mismatches(tables, {"forecast": RUN}) == []
    assert mismatches(tables, {}) == []


def test_a_backtest_recording_another_as_of_is_named() -> None:
    meta = {"forecast": RUN, "backtest": _run(as_of="2022-06-06")}
    assert mismatches({"forecast": FORECAST, "backtest": BACKTEST}, meta) == [
        "the backtest was written by another forecast run than the forecast (as_of 2022-06-06 "
        "in the backtest, 2022-10-10 in the forecast): its WAPE, MASE and series beating the "
        f"baseline are not this forecast's: {FIX}"
    ]


def test_a_backtest_of_other_inputs_is_named() -> None:
    other = {**RUN, "inputs": {"orders": 9000, "segments": 804}}
    assert mismatches(
        {"forecast": FORECAST, "backtest": BACKTEST}, {"forecast": RUN, "backtest": other}
    ) == [  # fmt: skip
        "the backtest was written by another forecast run than the forecast (order lines read "
        "9,000 in the backtest, 10,194 in the forecast): its WAPE, MASE and series beating the "
        f"baseline are not this forecast's: {FIX}"
    ]


def test_a_backtest_of_other_segments_is_named() -> None:
    # Same options and rows read; the segments' fingerprints differ (recorded by both).
    ours, theirs = (
        {**RUN, "segmented_by": {"sha256": "1"}},
        {**RUN, "segmented_by": {"sha256": "2"}},
    )
    tables = {"forecast": FORECAST, "backtest": BACKTEST}
    assert mismatches(tables, {"forecast": ours, "backtest": theirs}) == [
        "the backtest was written by another forecast run than the forecast (made from other "
        f"segments): its WAPE, MASE and series beating the baseline are not this forecast's: {FIX}"
    ]
    # A backtest of an older segchain records none: nothing to compare.
    assert mismatches(tables, {"forecast": ours, "backtest": RUN}) == []


def test_a_csv_backtest_lacking_series_the_forecast_backtested_is_named() -> None:
    # b and c have no row; the forecast records only 1 too short to backtest.
    only_a = BACKTEST.filter(pl.col("unique_id") == "a")
    assert mismatches({"forecast": FORECAST, "backtest": only_a}, {"forecast": RUN}) == [
        "2 of the forecast's 3 series have no row in the backtest, where the forecast records 1 "
        f"too short to backtest: {FIX}"
    ]


def test_a_backtest_of_series_the_forecast_lacks_is_named() -> None:
    extra = pl.concat([BACKTEST, BACKTEST.head(1).with_columns(unique_id=pl.lit("z"))])
    assert mismatches({"forecast": FORECAST, "backtest": extra}, {}) == [
        f"1 series of the backtest is not in the forecast ('z'): {FIX}"
    ]


def _note(backtest: pl.DataFrame, meta: dict) -> str:
    report = build_report({"forecast": FORECAST, "backtest": backtest}, metadata=meta)
    return " ".join(to_markdown(report)[0].split())


def test_the_page_calls_too_short_only_what_the_forecast_records_so() -> None:
    one_run = _note(BACKTEST, {"forecast": RUN, "backtest": RUN})
    assert "1 was too short to backtest" in one_run
    assert "Warning" not in one_run
    # Another run's backtest without c and b: the forecast records 1 too short, not 2.
    only_a = BACKTEST.filter(pl.col("unique_id") == "a")
    mixed = _note(only_a, {"forecast": RUN})
    assert "1 was too short to backtest" in mixed
    assert (
        "1 has no row in the backtest given, which is of another forecast run (see the warning "
        "at the top)"
    ) in mixed
    # A backtest recording another as_of: c is too short as the forecast says, nothing more.
    other = _note(BACKTEST, {"forecast": RUN, "backtest": _run(as_of="2022-06-06")})
    assert other.index("another forecast run than the forecast") < other.index("## ")


# ---- R1

SEGMENTS = pl.DataFrame(
    {"customer_id": ["c2", "c1", "c3"], "segment": ["Gold", "Gold", "Tin"], "recency": [1, 2, 3]}
)
# routing.segments_fingerprint as worked out by hand: the (customer_id, segment) pairs sorted, as
# CSV lines without a header, hashed.
READ = {
    "customers": 3,
    "segments": 2,
    "sha256": hashlib.sha256(b"c1,Gold\nc2,Gold\nc3,Tin\n").hexdigest(),
}
SEG_FIX = "tables of different runs? Rerun forecast with these segments, or give the ones it read"


def test_the_segments_fingerprint_is_each_customers_segment() -> None:
    from segchain.routing import segments_fingerprint

    assert segments_fingerprint(SEGMENTS) == READ
    # Row order and the other columns do not count; a customer in another segment does.
    assert segments_fingerprint(SEGMENTS.reverse().drop("recency")) == READ
    moved = SEGMENTS.with_columns(segment=pl.Series(["Gold", "Tin", "Tin"]))
    assert segments_fingerprint(moved)["sha256"] != READ["sha256"]


def test_segments_the_forecast_read_raise_nothing() -> None:
    tables = {"forecast": FORECAST, "segments": SEGMENTS}
    assert mismatches(tables, {"forecast": {"segmented_by": READ}}) == []
    assert mismatches(tables, {"forecast": {"inputs": {"segments": 3}}}) == []
    assert mismatches(tables, {}) == []


def test_segments_of_another_run_are_named() -> None:
    # c1 moved from Gold to Tin: as many customers and segments, not the same segments.
    moved = SEGMENTS.with_columns(segment=pl.Series(["Gold", "Tin", "Tin"]))
    said = mismatches(
        {"forecast": FORECAST, "segments": moved}, {"forecast": {"segmented_by": READ}}
    )
    assert said == [
        "the forecast was made from other segments (3 customers in 2 segments) than the segments "
        "given (3 customers in 2 segments): their customers' segments differ, so the history "
        f"drawn by segment is not the one the forecast read: {SEG_FIX}"
    ]


def test_an_older_forecast_is_compared_by_the_rows_it_read() -> None:
    # It records only that it read 4 rows of segments: 3 are given.
    meta = {"forecast": {"inputs": {"orders": 10, "segments": 4}}}
    assert mismatches({"forecast": FORECAST, "segments": SEGMENTS}, meta) == [
        f"the forecast read 4 rows of segments and the segments given hold 3: {SEG_FIX}"
    ]


def test_forecast_records_the_segments_it_read_and_the_report_compares(cli, tmp_path: Path) -> None:
    from segchain.tableio import read_table

    (tmp_path / "orders.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        + "".join(
            f"{i},2024-{1 + i // 4:02d}-{1 + 7 * (i % 4):02d},C{1 + i % 2},A,{1 + i % 3},5\n"
            for i in range(24)
        )
    )
    (tmp_path / "new.csv").write_text(
        "customer_id,segment,segment_rank\nC1,Champions,1\nC2,Loyal,2\n"
    )
    (tmp_path / "old.csv").write_text(
        "customer_id,segment,segment_rank\nC1,Loyal,2\nC2,Champions,1\n"
    )
    args = ["new.csv", "--orders", "orders.csv", "--horizon", "2", "--models", "WindowAverage"]
    made = cli("forecast", *args, "-o", "fc.parquet")
    assert made.exit_code == 0, made.stderr
    recorded = read_table("fc.parquet").metadata.get("segmented_by")
    text = b"C1,Champions\nC2,Loyal\n"
    assert recorded == {"customers": 2, "segments": 2, "sha256": hashlib.sha256(text).hexdigest()}
    said = "the forecast was made from other segments (2 customers in 2 segments)"
    same = cli("report", "orders.csv", "new.csv", "fc.parquet", "-o", "new.md")
    assert same.exit_code == 0, same.stderr
    assert said not in " ".join(same.stderr.split())
    other = cli("report", "orders.csv", "old.csv", "fc.parquet", "-o", "old.md")
    assert other.exit_code == 0, other.stderr
    assert said in " ".join(other.stderr.split())
    page = " ".join((tmp_path / "old.md").read_text().split())
    assert page.index(said) < page.index("## ")
    assert "The history is the demand of the segments given, which are not the ones" in page
    assert "The history is the demand the forecast read" not in page

"""``segchain costs`` through the CLI runner: outputs, metadata, exit codes and exact errors."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from test_costs import ASSIGNMENTS, ITEMS, POLICY, SEGMENTS, SITES, STOCK_TOTALS, _orders

from segchain.tableio import write_table


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "orders": tmp_path / "orders.csv",
        "segments": tmp_path / "segments.csv",
        "assignments": tmp_path / "assignments.csv",
        "sites": tmp_path / "sites.csv",
        "policy": tmp_path / "policy.csv",
        "items": tmp_path / "items.csv",
        "config": tmp_path / "segchain.toml",
    }
    _orders().drop("flag").with_columns(
        order_id=pl.when(pl.col("quantity") < 0).then(pl.lit("C1")).otherwise(pl.col("order_id"))
    ).write_csv(paths["orders"])
    SEGMENTS.write_csv(paths["segments"])
    ASSIGNMENTS.write_csv(paths["assignments"])
    SITES.write_csv(paths["sites"])
    POLICY.write_csv(paths["policy"])
    ITEMS.write_csv(paths["items"])
    paths["config"].write_text("[costs]\ncost_per_order = 2.0\ncost_per_line = 0.5\n")
    return paths


def _args(f: dict[str, Path], *extra: str) -> list[str]:
    return [
        "costs",
        str(f["segments"]),
        "--orders",
        str(f["orders"]),
        "--assignments",
        str(f["assignments"]),
        "--sites",
        str(f["sites"]),
        "--policy",
        str(f["policy"]),
        "--items",
        str(f["items"]),
        "--config",
        str(f["config"]),
        *extra,
    ]


def test_cli_costs_writes_segment_rows_and_reconciles(cli, files, tmp_path) -> None:
    out = tmp_path / "costs.parquet"
    result = cli(*_args(files, "-o", str(out)))
    assert result.exit_code == 0, result.output
    df = pl.read_parquet(out)
    assert df["segment"].to_list() == ["Gold", "Bronze"]
    assert "reconciled transport: assignments transport_cost 19.00 = allocated 19.00" in (
        result.stderr
    )
    assert "reconciled warehouse fixed: sites open fixed_cost 190.00" in result.stderr
    meta = pq.read_metadata(out).metadata
    sources = json.loads(meta[b"segchain.sources"])
    assert sources["returns_handling"].startswith("missing")
    assert json.loads(meta[b"segchain.period_days"]) == 31


def test_cli_costs_names_the_option_when_its_split_differs_from_stocks(
    cli, files, tmp_path
) -> None:
    # stock's policy records its totals by segment in its metadata (what the report shows);
    # costs given that policy but not --stock-segments splits by units bought, and says so.
    policy = tmp_path / "policy.parquet"
    write_table(
        POLICY, str(policy), metadata={"stage": "policy", "inventory_by_segment": STOCK_TOTALS}
    )
    args = _args(files, "-o", str(tmp_path / "costs.csv"))
    args[args.index("--policy") + 1] = str(policy)
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert "Gold 100.00 here against 85.00 in stock's" in result.stderr
    assert "--stock-segments" in result.stderr


def test_cli_costs_by_customer(cli, files, tmp_path) -> None:
    out = tmp_path / "c.csv"
    result = cli(*_args(files, "--by", "customer", "-o", str(out)))
    assert result.exit_code == 0, result.output
    df = pl.read_csv(out)
    assert df["customer_id"].to_list() == ["A", "B", "C"]
    assert df["returns_handling"].null_count() == 3  # no cost_per_return: missing, not 0


def test_cli_costs_verbose_prints_the_sources(cli, files, tmp_path) -> None:
    result = cli(*_args(files, "--verbose", "-o", str(tmp_path / "c.csv")))
    assert result.exit_code == 0
    assert "column sources" in result.stderr
    assert "missing: no cost_per_return in [costs]" in result.stderr


def test_cli_costs_bad_config_type_exits_2_writes_nothing(cli, files, tmp_path) -> None:
    files["config"].write_text('[costs]\ncost_per_order = "eight"\n')
    out = tmp_path / "c.csv"
    result = cli(*_args(files, "-o", str(out)))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain costs: Error: {files['config']} [costs] cost_per_order: must be a number >= "
        "0, got 'eight'"
    )
    assert not out.exists()


def test_cli_costs_unknown_customer_in_assignments_exits_1_writes_nothing(
    cli, files, tmp_path
) -> None:
    pl.concat([ASSIGNMENTS, ASSIGNMENTS.head(1).with_columns(customer_id=pl.lit("Z9"))]).write_csv(
        files["assignments"]
    )
    out = tmp_path / "c.csv"
    result = cli(*_args(files, "-o", str(out)))
    assert result.exit_code == 1
    assert (
        f"segchain costs: Error: --assignments {files['assignments']}: 1 customer is not in "
        f"SEGMENTS {files['segments']}: 'Z9'" in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_cli_costs_segments_of_only_a_header_exit_1(cli, files, tmp_path) -> None:
    # Said 'no order line belongs to a customer in SEGMENTS ...', as if the ids differed.
    files["segments"].write_text("customer_id,segment\n")
    result = cli(*_args(files), "-o", str(tmp_path / "c.csv"))
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"segchain costs: Error: SEGMENTS {files['segments']}: the table has no rows (only a "
        "header)\nsegchain costs:   hint: give the segments that segchain segment wrote (one "
        "row per customer)\n"
    )
    assert not (tmp_path / "c.csv").exists()


def test_cli_costs_bad_by_exits_2(cli, files) -> None:
    result = cli(*_args(files, "--by", "site"))
    assert result.exit_code == 2
    assert "--by must be segment or customer, got 'site'" in result.stderr


def test_cli_costs_empty_by_exits_2(cli, files) -> None:
    # --by "$BY" with BY unset ran by segment; forecast refuses --by '' too.
    result = cli(*_args(files, "--by", ""))
    assert result.exit_code == 2
    assert "--by must be segment or customer, got ''" in result.stderr


@pytest.mark.parametrize(
    ("table", "message"),
    [
        # The stock on hand and the candidate sites given as --items were read for nothing:
        # cogs left empty ('costs_missing'), not a word on stderr.
        ("sku,site,on_hand\nP1,S1,4\n", "missing required column unit_cost or holding_rate"),
        ("site_id,lat,lon,fixed_cost\nS1,50,8,100\n", "missing required column sku"),
    ],
)
def test_cli_costs_items_without_a_column_costs_reads_exit_1(
    cli, files, tmp_path, table, message
) -> None:
    files["items"].write_text(table)
    result = cli(*_args(files), "-o", str(tmp_path / "c.csv"))
    assert result.exit_code == 1
    assert f"segchain costs: Error: --items {files['items']}: {message}; found " in result.stderr
    assert not (tmp_path / "c.csv").exists()


def test_cli_costs_sites_without_assignments_exits_2(cli, files, tmp_path) -> None:
    # --sites only shares the open sites' fixed cost over the assignments' demand: without
    # them it was read for nothing, and warehouse_fixed left empty without a word.
    args = _args(files, "-o", str(tmp_path / "c.csv"))
    at = args.index("--assignments")
    del args[at : at + 2]
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "segchain costs: Error: --sites shares the open sites' fixed_cost over the demand each "
        "serves in --assignments: without --assignments it would be read for nothing\n"
        "segchain costs:   hint: give network's assignments with --assignments, or leave --sites "
        "out\n"
    )
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.parametrize("option", ["--orders", "--sites", "--policy", "--items", "--assignments"])
def test_cli_costs_a_missing_file_names_its_option(cli, files, tmp_path, option) -> None:
    """'missing.csv: no such file' did not say which of the six files costs reads it was."""
    args = _args(files, "-o", str(tmp_path / "c.csv"))
    args[args.index(option) + 1] = "missing.csv"
    result = cli(*args)
    assert result.exit_code == 1
    assert result.stderr.endswith(f"segchain costs: Error: {option} missing.csv: no such file\n")
    assert not (tmp_path / "c.csv").exists()


# network's comparison with its plan without promises, as its assignments' metadata holds it
# (consistent with ASSIGNMENTS: Gold's lanes cost 7 + 3 + 4 = 14, Bronze's 5).
PROMISE = [
    {
        "segment": "Gold",
        "demand": 40.0,
        "transport_cost": 14.0,
        "baseline_transport_cost": 20.0,
        "baseline_within_promise": 0.5,
    },
    {
        "segment": "Bronze",
        "demand": 20.0,
        "transport_cost": 5.0,
        "baseline_transport_cost": 5.0,
        "baseline_within_promise": 1.0,
    },
]
TOTALS = {"fixed_cost": 190.0, "baseline_total_cost": 155.0, "baseline_status": "optimal"}
COMPARISON = [
    {"segment": "Gold", "inventory_value_segmented": 85.0, "inventory_value_uniform": 80.0},
    {"segment": "Bronze", "inventory_value_segmented": 45.0, "inventory_value_uniform": 40.0},
]


def _parquet_inputs(  # type: ignore[no-untyped-def]
    f: dict[str, Path], tmp_path: Path, *, totals=TOTALS, promise=PROMISE, compare="equal"
):
    from test_costs import ASSIGNMENTS, POLICY

    asg, pol = tmp_path / "assignments.parquet", tmp_path / "policy.parquet"
    write_table(
        ASSIGNMENTS,
        str(asg),
        metadata={
            "stage": "assignments",
            "params": {"time_limit": 30.0},
            "totals": totals,
            "promise": promise,
        },
    )
    meta = {"stage": "policy", "params": {"compare_uniform": compare}}
    if compare is not None:
        meta["comparison"] = COMPARISON
    write_table(POLICY, str(pol), metadata=meta)
    args = _args(f, "-o", str(tmp_path / "costs.csv"))
    args[args.index("--assignments") + 1] = str(asg)
    args[args.index("--policy") + 1] = str(pol)
    return args


def test_cli_costs_says_why_the_promise_columns_are_empty_for_csv_inputs(
    cli, files, tmp_path
) -> None:
    # A CSV has no room for the per-segment comparisons that network and stock carry in their
    # Parquet metadata: the columns are empty, and the old code said so only with --verbose.
    result = cli(*_args(files, "-o", str(tmp_path / "costs.csv")))
    assert result.exit_code == 0, result.output
    df = pl.read_csv(tmp_path / "costs.csv")
    assert df["delivery_promise_cost"].null_count() == df.height == 2
    assert df["service_promise_cost"].null_count() == 2
    asg, pol = files["assignments"], files["policy"]
    said = [line for line in result.stderr.splitlines() if "promise columns" in line]
    assert said == [
        "segchain costs: Warning: the promise columns are empty: delivery_promise_* because "
        f"--assignments {asg} is CSV, and network's comparison with its plan without promises "
        "travels only in the Parquet metadata of its output; service_promise_* because "
        f"--policy {pol} is CSV, and stock's comparison with its uniform plan travels only in "
        "the Parquet metadata of its output; to fill them, write network's output as Parquet "
        "(-o assignments.parquet) and give that; write stock's output as Parquet "
        "(-o policy.parquet), with --compare-uniform, and give that"
    ]


def test_cli_costs_says_stock_ran_without_compare_uniform(cli, files, tmp_path) -> None:
    args = _parquet_inputs(files, tmp_path, compare=None)
    result = cli(*args)
    assert result.exit_code == 0, result.output
    df = pl.read_csv(tmp_path / "costs.csv")
    # Gold: transport 14 - 20 = -6, and all of the extra fixed cost 190 - (155 - 25) = 60.
    assert df["delivery_promise_cost"].to_list() == pytest.approx([54.0, 0.0])
    assert df["service_promise_cost"].null_count() == 2
    said = [line for line in result.stderr.splitlines() if "promise columns" in line]
    assert said == [
        "segchain costs: Warning: the promise columns are empty: service_promise_* because "
        f"stock (--policy {tmp_path / 'policy.parquet'}) ran without --compare-uniform; to "
        "fill them, rerun stock with --compare-uniform equal (the same mean service) or keep"
    ]


def test_cli_costs_says_networks_comparison_was_not_finished(cli, files, tmp_path) -> None:
    unfinished = {"fixed_cost": 190.0, "baseline_total_cost": None, "baseline_status": "unfinished"}
    # As network writes it: no baseline_* figures, and the totals say why.
    promise = [{k: v for k, v in r.items() if not k.startswith("baseline_")} for r in PROMISE]
    args = _parquet_inputs(files, tmp_path, totals=unfinished, promise=promise)
    result = cli(*args)
    assert result.exit_code == 0, result.output
    df = pl.read_csv(tmp_path / "costs.csv")
    assert df["delivery_promise_cost"].null_count() == 2
    # Gold 85 - 80 = 5 of inventory value more than the uniform plan: filled.
    assert df["service_promise_cost"].null_count() == 0
    said = [line for line in result.stderr.splitlines() if "promise columns" in line]
    assert said == [
        "segchain costs: Warning: the promise columns are empty: delivery_promise_* because "
        f"network (--assignments {tmp_path / 'assignments.parquet'}) found no plan without "
        "promises within --time-limit (30 s) per solve to compare with; to fill them, rerun "
        "network with a larger --time-limit"
    ]


def test_cli_costs_is_silent_on_promises_when_both_comparisons_are_given(
    cli, files, tmp_path
) -> None:
    result = cli(*_parquet_inputs(files, tmp_path))
    assert result.exit_code == 0, result.output
    assert "promise columns" not in result.stderr
    df = pl.read_csv(tmp_path / "costs.csv")
    assert df["service_promise_inventory"].to_list() == pytest.approx([5.0, 5.0])

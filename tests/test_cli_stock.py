"""``segchain stock`` through the CLI runner: exit codes, exact error text, outputs."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

WEEKS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(4)]


@pytest.fixture
def forecast_csv(tmp_path: Path) -> Path:
    rows = []
    for sku, seg, mu, sd in [
        ("A", "Champions", 30.0, 3.0),
        ("A", "Hibernating", 10.0, 4.0),
        ("B", "Champions", 0.2, math.sqrt(0.2)),
    ]:
        for d in WEEKS:
            rows.append(
                {
                    "unique_id": f"{seg}/{sku}",
                    "ds": d,
                    "forecast": mu,
                    "segment": seg,
                    "sku": sku,
                    "demand_class": "smooth" if sku == "A" else "intermittent",
                    "mean_demand": mu,
                    "error_sd": sd,
                }
            )
    path = tmp_path / "forecast.csv"
    pl.DataFrame(rows).write_csv(path)
    return path


@pytest.fixture
def items_csv(tmp_path: Path) -> Path:
    path = tmp_path / "items.csv"
    path.write_text("sku,unit_cost,lead_time_days\nA,5.0,14\nB,2.0,21\n")
    return path


@pytest.fixture
def config_toml(tmp_path: Path) -> Path:
    path = tmp_path / "segchain.toml"
    path.write_text(
        '[segments."Champions"]\nservice_level = 0.99\n\n'
        '[segments."Hibernating"]\nservice_level = 0.90\n'
    )
    return path


def test_cli_stock_writes_one_row_per_sku(cli, forecast_csv, items_csv, tmp_path) -> None:
    out = tmp_path / "policy.parquet"
    result = cli("stock", str(forecast_csv), "--items", str(items_csv), "-o", str(out))
    assert result.exit_code == 0, result.output
    policy = pl.read_parquet(out)
    assert policy["sku"].to_list() == ["A", "B"]
    assert policy["mean_demand"].to_list() == [40.0, 0.2]


def test_cli_stock_targets_come_from_config_segments(
    cli, forecast_csv, items_csv, config_toml, tmp_path
) -> None:
    out = tmp_path / "policy.csv"
    result = cli(
        "stock",
        str(forecast_csv),
        "--items",
        str(items_csv),
        "--config",
        str(config_toml),
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    policy = pl.read_csv(out)
    assert policy["service_target"].to_list() == pytest.approx([0.75 * 0.99 + 0.25 * 0.9, 0.99])


def test_cli_stock_reports_items_using_defaults(cli, forecast_csv, tmp_path) -> None:
    items = tmp_path / "items.csv"
    items.write_text(
        "sku,unit_cost,order_cost,holding_rate,lead_time_days,lead_time_sd_days,moq,pack_size\n"
        "A,5,50,0.2,14,0,1,1\n"
    )
    result = cli("stock", str(forecast_csv), "--items", str(items), "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.output
    assert (
        f"1 of 2 items used default parameters (1 item not in --items {items}): no unit_cost, "
        "order_cost = 50, holding_rate = 0.25, lead_time_days = 14, lead_time_sd_days = 0, "
        "moq = 0, pack_size = 1 (each for 1 item)"
    ) in result.stderr


def test_cli_stock_says_which_default_each_item_value_took(cli, forecast_csv, tmp_path) -> None:
    """'unit_cost 23, order_cost 23, ...' counted items, and read as the values used (the
    default order cost is 50); each default is now named with its value and how many items
    took it, --lead-time-days as the lead time's."""
    items = tmp_path / "items.csv"
    items.write_text("sku,unit_cost,order_cost,moq\nA,5,,2\nB,3,40,\n")
    args = ["stock", str(forecast_csv), "--items", str(items), "--lead-time-days", "9"]
    result = cli(*args, "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.output
    assert (
        f"2 of 2 items used default parameters (--items {items} has no columns holding_rate, "
        "lead_time_days, lead_time_sd_days, pack_size; empty order_cost for 1 item, moq for 1 "
        "item): order_cost = 50 (1 item), holding_rate = 0.25 (2 items), lead_time_days = 9 "
        "(2 items), lead_time_sd_days = 0 (2 items), moq = 0 (1 item), pack_size = 1 (2 items)"
    ) in result.stderr


def test_cli_stock_prints_uniform_comparison(cli, forecast_csv, config_toml, tmp_path) -> None:
    result = cli(
        "stock",
        str(forecast_csv),
        "--config",
        str(config_toml),
        "--compare-uniform",
        "0.95",
        "-o",
        str(tmp_path / "p.csv"),
    )
    assert result.exit_code == 0, result.output
    assert "segmented targets vs one uniform target 0.95" in result.stderr
    assert "(all)" in result.stderr and "Hibernating" in result.stderr


def test_cli_stock_uniform_comparison_gives_no_fill_rate_without_demand(
    cli, forecast_csv, config_toml, tmp_path
) -> None:
    # Lost buys nothing (forecast 0): it showed the 95.0 % of the point it does not buy from.
    lost = pl.read_csv(forecast_csv, try_parse_dates=True).filter(pl.col("segment") == "Champions")
    lost = lost.with_columns(
        segment=pl.lit("Lost"), unique_id=pl.lit("Lost/") + pl.col("sku"), forecast=0.0
    ).with_columns(mean_demand=0.0, error_sd=0.0)
    fc = tmp_path / "fc.csv"
    pl.concat([pl.read_csv(forecast_csv, try_parse_dates=True), lost]).write_csv(fc)
    args = ["stock", str(fc), "--config", str(config_toml), "--compare-uniform", "0.95"]
    result = cli(*args, "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stderr.splitlines() if "│" in line and "Lost" in line)
    assert row.count("%") == 1  # its target only
    assert (
        "no fill rate or CSL for 1 segment without forecast demand (Lost): service is "
        "undefined without demand"
    ) in " ".join(result.stderr.split())


def test_cli_stock_simulate_prints_replay(cli, forecast_csv, tmp_path) -> None:
    result = cli("stock", str(forecast_csv), "--simulate", "200", "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.output
    assert "replay of 200 periods" in result.stderr
    assert "achieved_fill_rate" in result.stderr


def test_cli_stock_on_hand_adds_order_now(cli, forecast_csv, tmp_path) -> None:
    on_hand = tmp_path / "on_hand.csv"
    on_hand.write_text("sku,site,on_hand\nA,S1,10\nA,S2,5\n")
    out = tmp_path / "p.csv"
    result = cli("stock", str(forecast_csv), "--on-hand", str(on_hand), "-o", str(out))
    assert result.exit_code == 0, result.output
    policy = pl.read_csv(out)
    assert policy["on_hand"].to_list() == [15.0, 0.0]
    assert "1 stocking point has no on-hand row (counted as 0)" in result.stderr


def test_cli_stock_reads_stdin(cli, forecast_csv) -> None:
    result = cli("stock", input=forecast_csv.read_bytes())
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("sku,segment,")


def test_cli_stock_on_hand_sku_without_demand_is_a_flagged_row(cli, forecast_csv, tmp_path) -> None:
    on_hand = tmp_path / "on_hand.csv"
    on_hand.write_text("sku,on_hand\nA,1\nZZ,3\nZZ,2\n")
    out = tmp_path / "policy.csv"
    result = cli("stock", str(forecast_csv), "--on-hand", str(on_hand), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert (
        f"segchain stock: Warning: --on-hand {on_hand}: 2 on-hand rows at 1 stocking point "
        "without forecast "
        "demand (sku 'ZZ'): 5 units, 5.00 at unit cost, stock to move or clear; kept in the "
        "policy with no_demand = true and nothing ordered"
    ) in result.stderr
    policy = pl.read_csv(out)
    assert policy.filter(pl.col("no_demand")).select("sku", "on_hand", "order_now").rows() == [
        ("ZZ", 5.0, 0.0)
    ]


def test_cli_stock_duplicate_items_exit_1(cli, forecast_csv, tmp_path) -> None:
    items = tmp_path / "items.csv"
    items.write_text("sku,unit_cost\nA,1\nA,2\nB,-1\n")
    result = cli("stock", str(forecast_csv), "--items", str(items))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"segchain stock: Error: --items {items}: 1 sku is on more than one row: 'A' (rows 1, "
        "2); unit_cost must be a finite number "
        "> 0 up to 1e+15, got -1.0 for sku 'B'\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--service-level", "1.5"],
            "segchain stock: Error: --service-level: must be a service level between 0 and 1 "
            "(or 50-99.99 for percent), got 1.5\n",
        ),
        (
            ["--service-measure", "speed"],
            "segchain stock: Error: --service-measure: must be one of csl, fill-rate, got "
            "'speed'\n",
        ),
        (
            ["--blend", "min"],
            "segchain stock: Error: --blend: must be one of weighted, max, got 'min'\n",
        ),
        (
            ["--review-days", "0"],
            "segchain stock: Error: --review-days: must be a number of days from 0.01 (about a "
            "quarter of an hour) to 3660, got 0.0\n",
        ),
        (
            ["--simulate", "0"],
            "segchain stock: Error: --simulate: must be a whole number >= 1, got 0\n",
        ),
    ],
)
def test_cli_stock_bad_options_exit_2(cli, forecast_csv, args, message) -> None:
    result = cli("stock", str(forecast_csv), *args)
    assert result.exit_code == 2
    assert result.stderr == message


def test_cli_stock_negative_forecast_exits_1(cli, tmp_path) -> None:
    path = tmp_path / "fc.csv"
    path.write_text(
        "unique_id,ds,sku,forecast,error_sd\nu1,2024-01-01,A,-2,1\nu1,2024-01-08,A,1,1\n"
    )
    result = cli("stock", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"segchain stock: Error: FORECAST {path}: forecast must be a finite number >= 0 up to "
        "1e+15, "
        "got -2.0 for unique_id@ds 'u1@2024-01-01'\n"
    )


def test_cli_stock_segments_out_writes_the_per_segment_table(
    cli, forecast_csv, config_toml, tmp_path
) -> None:
    seg_out = tmp_path / "segments.csv"
    result = cli(
        "stock",
        str(forecast_csv),
        "--config",
        str(config_toml),
        "--segments-out",
        str(seg_out),
        "-o",
        str(tmp_path / "p.csv"),
    )
    assert result.exit_code == 0, result.output
    seg = pl.read_csv(seg_out)
    assert seg.select("sku", "segment", "service_level").rows() == [
        ("A", "Champions", 0.99),
        ("A", "Hibernating", 0.90),
        ("B", "Champions", 0.99),
    ]
    assert seg["demand_share"].to_list() == pytest.approx([0.75, 0.25, 1.0])
    assert "wrote 3 stocking point x segment rows" in result.stderr


def test_cli_stock_reads_a_csv_whose_decimals_start_late(cli, tmp_path) -> None:
    # 4(e): types were inferred from the first 10,000 rows, so whole numbers at the top made the
    # first decimal further down fail to parse.
    lines = ["unique_id,ds,sku,forecast,error_sd"]
    for i in range(2600):
        for d in WEEKS:
            value = "3" if i < 2550 else "2.5"
            lines.append(f"s{i},{d.isoformat()},k{i},{value},1")
    path = tmp_path / "forecast.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "p.csv"
    result = cli("stock", str(path), "-o", str(out))
    assert result.exit_code == 0, result.output
    policy = pl.read_csv(out)
    assert policy.filter(pl.col("sku") == "k2599")["mean_demand"].item() == 2.5


def _table_rows(stderr: str, title: str) -> list[list[str]]:
    """The body rows of the stderr table under ``title``, split into cells."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith(title))
    rows = []
    for line in lines[start + 3 :]:
        if "│" not in line:
            break
        rows.append([cell.strip() for cell in line.split(": ", 1)[1].split("│")])
    return rows


def _with_champions_sku(fc: pl.DataFrame, sku: str, forecast: float, tmp_path) -> str:
    """The forecast with one more sku, bought by Champions alone at ``forecast`` a period
    (error sd the same), written to a CSV file."""
    extra = fc.filter(pl.col("sku") == "B").with_columns(
        sku=pl.lit(sku),
        unique_id=pl.lit(f"Champions/{sku}"),
        forecast=forecast,
        mean_demand=forecast,
        error_sd=forecast,
    )
    path = tmp_path / "fc.csv"
    pl.concat([fc, extra]).write_csv(path)
    return str(path)


def test_cli_stock_simulate_leaves_points_without_forecast_demand_out(
    cli, forecast_csv, tmp_path
) -> None:
    # C is forecast 0: it has no service to replay or to expect. Counted, it added a point
    # meeting its target at 100 % to the summary, and to Champions' per-segment rows with the
    # weight of a whole point (demand_share 1 of 1 segment).
    fc = pl.read_csv(forecast_csv, try_parse_dates=True)
    path = _with_champions_sku(fc, "C", 0.0, tmp_path)
    out = tmp_path / "p.csv"
    result = cli("stock", str(path), "--simulate", "200", "-o", str(out))
    assert result.exit_code == 0, result.output
    policy = pl.read_csv(out)
    assert policy.filter(pl.col("sku") == "C")["expected_fill_rate"].to_list() == [None]
    # By hand: the points with demand, per distribution, and their mean expected fill rate.
    want = (
        policy.filter(pl.col("mean_demand") > 0)
        .group_by("distribution")
        .agg(pl.len().alias("points"), pl.col("expected_fill_rate").mean().alias("fill"))
    )
    summary = _table_rows(result.stderr, "replay of 200 periods")
    got = {r[0]: (int(r[2]), r[4]) for r in summary}
    assert got == {
        d: (n, f"{fill:.1%}") for d, n, fill in want.select("distribution", "points", "fill").rows()
    }
    # Per segment: Champions buys at A and B (C has no demand at all).
    per_segment = _table_rows(result.stderr, "achieved service per segment, replay of 200 periods")
    champions = next(r for r in per_segment if r[0] == "Champions")
    assert int(champions[3]) == fc.filter(pl.col("segment") == "Champions")["sku"].n_unique()
    assert "1 stocking point without forecast demand" in " ".join(result.stderr.split())


def test_cli_stock_simulate_prints_achieved_service_per_segment(
    cli, forecast_csv, config_toml, tmp_path
) -> None:
    result = cli(
        "stock",
        str(forecast_csv),
        "--config",
        str(config_toml),
        "--review-days",
        "7",
        "--simulate",
        "300",
        "-o",
        str(tmp_path / "p.csv"),
    )
    assert result.exit_code == 0, result.output
    assert "achieved service per segment, replay of 300 periods" in result.stderr
    assert "Hibernating" in result.stderr


@pytest.mark.parametrize(("freq", "days"), [("D", 1.0), ("M", 30.4375)])
def test_cli_stock_takes_a_one_period_forecasts_length_from_its_freq(
    cli, tmp_path, freq, days
) -> None:
    """A forecast of one period (--horizon 1) has no date gap to read its length from: stock
    assumed a week, so a daily item was planned on a seventh of its lead-time demand (and a
    monthly one on 4.3 times it). segchain forecast records its --freq: stock reads it."""
    orders = tmp_path / "orders.csv"
    lines = [
        f"{i},{date(2023, 1, 1) + timedelta(days=i)},C{i % 3},S1,{1 + i % 4},2.0"
        for i in range(400)
    ]
    orders.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n" + "\n".join(lines) + "\n"
    )
    seg, fc, pol = tmp_path / "seg.parquet", tmp_path / "fc.parquet", tmp_path / "pol.parquet"
    assert cli("segment", str(orders), "-o", str(seg)).exit_code == 0
    made = cli(
        "forecast",
        str(seg),
        "--orders",
        str(orders),
        "--freq",
        freq,
        "--horizon",
        "1",
        "--models",
        "WindowAverage",
        "-o",
        str(fc),
    )
    assert made.exit_code == 0, made.stderr
    result = cli("stock", str(fc), "-o", str(pol))
    assert result.exit_code == 0, result.stderr
    assert "single period" not in result.stderr
    assert pl.read_parquet(pol)["period_days"].unique().to_list() == [days]


@pytest.mark.parametrize("option", ["--items", "--orders", "--on-hand"])
def test_cli_stock_a_missing_file_names_its_option(cli, forecast_csv, tmp_path, option) -> None:
    out = tmp_path / "policy.csv"
    result = cli("stock", str(forecast_csv), option, "missing.csv", "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == f"segchain stock: Error: {option} missing.csv: no such file\n"
    assert not out.exists()


def test_cli_stock_an_orders_glob_matching_nothing_names_its_option(cli, forecast_csv) -> None:
    result = cli("stock", str(forecast_csv), "--orders", "exports/*.csv", "-o", "p.csv")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "segchain stock: Error: --orders exports/*.csv: no file matches this pattern\n"
    )


def test_cli_stock_one_stocking_point_is_singular(cli, forecast_csv, items_csv, tmp_path) -> None:
    """'wrote 1 stocking points' and '1 stocking points, (s, Q) ...' on stderr."""
    one = tmp_path / "one.csv"
    pl.read_csv(forecast_csv).filter(pl.col("sku") == "B").write_csv(one)
    result = cli("stock", str(one), "--items", str(items_csv), "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.stderr
    assert "segchain stock: 1 stocking point, (s, Q) looked at every 1 day, periods of" in (
        result.stderr
    )
    assert f"segchain stock: wrote 1 stocking point to {tmp_path / 'p.csv'} (csv)\n" in (
        result.stderr
    )


def test_cli_stock_a_forecast_given_as_orders_is_named(cli, forecast_csv, tmp_path) -> None:
    copy = tmp_path / "forecast2.csv"
    copy.write_bytes(forecast_csv.read_bytes())
    result = cli("stock", str(forecast_csv), "--orders", str(copy), "-o", "p.csv")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"segchain stock: Error: --orders {copy}: holds forecast (segchain forecast) (by its "
        "columns), not the expected order lines\n"
        "segchain stock:   hint: give the order lines here: the ERP export, or validate's "
        "output\n"
    )


def test_cli_stock_warns_when_no_item_matches_a_forecast_sku(cli, forecast_csv, tmp_path) -> None:
    """An item master of other skus was reported only as '2 of 2 items used default
    parameters', and the summary then asked for --items, which was given."""
    items = tmp_path / "items.csv"
    items.write_text("sku,unit_cost,lead_time_days\nC,5.0,14\n")
    result = cli("stock", str(forecast_csv), "--items", str(items), "-o", "p.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        f"segchain stock: Warning: --items {items} matches no sku of FORECAST {forecast_csv} (1 "
        "sku in the items: 'C'; in the forecast: 'A', 'B'); every stocking point uses the "
        "default parameters\n"
    ) in result.stderr


def test_items_matching_none_names_dropped_leading_zeros() -> None:
    from segchain.stock.inputs import items_matching_none

    points = pl.DataFrame({"sku": ["00047", "00046"]})
    (warning,) = items_matching_none(points, pl.DataFrame({"sku": [47, 46], "unit_cost": [1, 2]}))
    assert "(2 skus in the items: '46', '47'; in the forecast: '00046', '00047')" in warning
    assert "the skus meet once leading zeros are dropped" in warning
    assert items_matching_none(points, pl.DataFrame({"sku": ["00047", "9"]})) == []


def test_cli_stock_simulate_leaves_points_the_replay_drew_no_demand_at_out_of_its_means(
    cli, forecast_csv, tmp_path
) -> None:
    # D sells 0.01 a week: over 3 replayed weeks no unit is asked. Its achieved fill rate
    # was 100 %, a point 'meeting' its target on nothing, pulling the means up.
    fc = pl.read_csv(forecast_csv, try_parse_dates=True)
    path = _with_champions_sku(fc, "D", 0.01, tmp_path)
    result = cli("stock", str(path), "--simulate", "3", "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert "drew no demand (or no order arrived) in the replay of 3 periods" in said


def test_segment_summary_weights_only_the_points_the_replay_measured() -> None:
    from segchain.cli.stock_summary import segment_summary as _segment_summary

    per_seg = pl.DataFrame(
        {
            "segment": ["g", "g", "g"],
            "service_measure": ["fill-rate"] * 3,
            "service_level": [0.95] * 3,
            "demand_share": [0.5, 0.25, 0.25],
            "achieved_fill_rate": [0.9, 1.0, None],
            "achieved_csl": [0.8, 0.9, None],
            "target_met": [False, True, None],
        }
    )
    row = _segment_summary(per_seg).row(0, named=True)
    # By hand: (0.5 * 0.9 + 0.25 * 1.0) / 0.75, the unmeasured point out of the weights.
    assert row["achieved_fill_rate"] == pytest.approx((0.45 + 0.25) / 0.75)
    assert row["achieved_csl"] == pytest.approx((0.4 + 0.225) / 0.75)
    assert row["met"] == 1


def test_cli_stock_counts_the_item_rows_no_stocking_point_has(cli, forecast_csv, tmp_path) -> None:
    """Item rows of skus the forecast does not hold were left out without a word when another
    row matched (noticed by hostile4, s43); all rows matching, nothing is said."""
    items = tmp_path / "items.csv"
    items.write_text("sku,unit_cost\nA,5\nB,3\nC,4\nD,1\n")
    result = cli("stock", str(forecast_csv), "--items", str(items), "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.stderr
    assert (
        f"segchain stock: --items {items}: 2 rows of skus no stocking point of FORECAST "
        f"{forecast_csv} has, not used: 'C', 'D'\n"
    ) in result.stderr
    items.write_text("sku,unit_cost\nA,5\nB,3\n")
    result = cli("stock", str(forecast_csv), "--items", str(items), "-o", str(tmp_path / "q.csv"))
    assert result.exit_code == 0, result.stderr
    assert "not used" not in result.stderr

"""CLI tests of segchain forecast: exit codes, exact error text, outputs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest


def write_inputs(tmp_path: Path, *, weeks: int = 40, segment_ids=("0001", "0002")):
    rng = np.random.default_rng(0)
    start = dt.date(2023, 1, 2)
    rows = []
    for w in range(weeks):
        for cust in ("0001", "0002"):
            for sku in ("A-1", "A-2"):
                q = int(rng.poisson(4))
                if q:
                    day = start + dt.timedelta(weeks=w, days=1)
                    rows.append(f"{w}{cust}{sku},{day},{cust},{sku},{q},2.50")
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n" + "\n".join(rows) + "\n"
    )
    segments = tmp_path / "segments.csv"
    labels = ["Champions", "At risk"]
    segments.write_text(
        "customer_id,segment,segment_rank\n"
        + "\n".join(f"{c},{labels[i % 2]},{i % 2 + 1}" for i, c in enumerate(segment_ids))
        + "\n"
    )
    return orders, segments


def test_cli_forecast_writes_forecast_and_backtest(cli, tmp_path):
    orders, segments = write_inputs(tmp_path)
    out, bt = tmp_path / "fc.csv", tmp_path / "bt.csv"
    r = cli(
        "forecast",
        str(segments),
        "--orders",
        str(orders),
        "-o",
        str(out),
        "--horizon",
        "4",
        "--backtest",
        str(bt),
        "--n-jobs",
        "1",
    )
    assert r.exit_code == 0, r.stderr
    fc = pl.read_csv(out)
    assert fc.columns[:7] == [
        "unique_id",
        "ds",
        "forecast",
        "forecast-lo-80",
        "forecast-hi-80",
        "forecast-lo-95",
        "forecast-hi-95",
    ]
    assert fc.height == 4 * 4  # 2 segments x 2 skus x 4 weeks
    assert set(fc.get_column("segment")) == {"Champions", "At risk"}
    backtest = pl.read_csv(bt)
    assert backtest.filter(pl.col("scope") == "overall").height == 1
    assert "segment forecasts summed vs direct" in r.stderr


def test_cli_forecast_no_common_customers_exit_1_with_examples(cli, tmp_path):
    orders, segments = write_inputs(tmp_path, segment_ids=("X9", "X8"))
    r = cli("forecast", str(segments), "--orders", str(orders), "--n-jobs", "1")
    assert r.exit_code == 1
    assert (
        f"segchain forecast: Error: SEGMENTS {segments} and --orders {orders} have no customer_id "
        "in common: orders have '0001', '0002'; "
        "segments have 'X8', 'X9'"
    ) in r.stderr


def test_cli_forecast_segments_of_only_a_header_exit_1(cli, tmp_path):
    # Said 'have no customer_id in common: orders have '0001', '0002'; segments have' and
    # nothing after.
    orders, segments = write_inputs(tmp_path)
    segments.write_text("customer_id,segment,segment_rank\n")
    r = cli("forecast", str(segments), "--orders", str(orders), "-o", "fc.csv")
    assert r.exit_code == 1
    assert r.stderr.endswith(
        f"segchain forecast: Error: SEGMENTS {segments}: the table has no rows (only a header)\n"
        "segchain forecast:   hint: give the segments that segchain segment wrote (one row per "
        "customer)\n"
    )
    assert not (tmp_path / "fc.csv").exists()


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (
            ["--horizon", "0"],
            "segchain forecast: Error: --horizon: must be a whole number >= 1, got 0\n",
        ),
        (
            ["--models", "AutoETS,Prophet"],
            "segchain forecast: Error: --models: unknown model Prophet\n",
        ),
        (
            # An unset shell variable (--models "$MODELS") ran every model, as auto, unsaid;
            # --level '' and --by '' are refused.
            ["--models", ""],
            "segchain forecast: Error: --models: no model given: give auto or model names\n",
        ),
        (
            ["--models", " , "],
            "segchain forecast: Error: --models: no model given: give auto or model names\n",
        ),
        (
            ["--engine", "hadoop"],
            "segchain forecast: Error: --engine: must be one of local, dask, ray, spark, got "
            "'hadoop'\n",
        ),
        (
            ["--reconcile", "magic"],
            "segchain forecast: Error: --reconcile: must be one of auto, none, bottom-up, mint, "
            "top-down, "
            "got 'magic'\n",
        ),
        (
            ["--outliers", "clip"],
            "segchain forecast: Error: --outliers: must be one of keep, cap, drop, got 'clip'\n",
        ),
    ],
)
def test_cli_forecast_bad_options_exit_2(cli, tmp_path, args, text):
    orders, segments = write_inputs(tmp_path, weeks=3)
    r = cli("forecast", str(segments), "--orders", str(orders), *args)
    assert r.exit_code == 2
    assert text in r.stderr


def test_cli_forecast_too_little_history_exit_1(cli, tmp_path):
    orders, segments = write_inputs(tmp_path, weeks=1)
    r = cli("forecast", str(segments), "--orders", str(orders))
    assert r.exit_code == 1
    assert "forecasting needs at least 2 periods of history" in r.stderr


def test_cli_forecast_both_inputs_on_stdin_exit_2(cli, tmp_path):
    r = cli("forecast", "-", "--orders", "-")
    assert r.exit_code == 2
    assert "segchain forecast: Error: SEGMENTS and --orders cannot both read stdin" in r.stderr


def test_cli_forecast_reads_segments_from_stdin(cli, tmp_path):
    orders, segments = write_inputs(tmp_path, weeks=12)
    r = cli(
        "forecast",
        "--orders",
        str(orders),
        "--horizon",
        "2",
        "--by",
        "sku",
        "--n-jobs",
        "1",
        input=segments.read_bytes(),
    )
    assert r.exit_code == 0, r.stderr
    fc = pl.read_csv(r.stdout_bytes)
    assert sorted(fc.get_column("unique_id").unique()) == ["A-1", "A-2"]
    assert (fc.get_column("forecast-lo-80") >= 0).all()


def test_cli_forecast_counts_cleansed_lines_in_backtest_metadata(cli, tmp_path):
    from segchain.tableio import read_metadata

    orders, segments = write_inputs(tmp_path, weeks=30)
    with orders.open("a") as f:
        f.write("giveaway,2023-03-07,0001,A-1,500,0\n")
    bt = tmp_path / "bt.parquet"
    r = cli("forecast", str(segments), "--orders", str(orders), "--backtest", str(bt), "-o", "-")
    assert r.exit_code == 0, r.stderr
    assert "1 zero-price order line (giveaways, samples) left out" in r.stderr
    meta = read_metadata(bt)
    assert meta["excluded"]["zero_price"] == 1
    assert meta["params"]["outliers"] == "cap"


def test_cli_forecast_counts_every_fallback_on_stderr_and_in_the_metadata(cli, tmp_path):
    from segchain.tableio import read_metadata

    # 2 customers (2 segments) x 2 skus x 30 weeks: 120 segment series-periods, under the 200
    # the global model needs; a new sku sold once in the last week is too short to backtest.
    orders, segments = write_inputs(tmp_path, weeks=30)
    with orders.open("a") as f:
        f.write("new,2023-07-25,0001,B-9,4,2.50\n")
    bt = tmp_path / "bt.parquet"
    out = tmp_path / "fc.parquet"
    r = cli(
        "forecast",
        str(segments),
        "--orders",
        str(orders),
        "--horizon",
        "4",
        "--n-jobs",
        "1",
        "--backtest",
        str(bt),
        "-o",
        str(out),
    )
    assert r.exit_code == 0, r.stderr
    fc = pl.read_parquet(out)
    # The short series is still forecast (4 weeks), by the history's average.
    new = fc.filter(pl.col("sku") == "B-9")
    assert new.height == 4 and new.get_column("model").unique().to_list() == ["HistoricAverage"]
    fallbacks = read_metadata(bt)["fallbacks"]
    assert fallbacks["global_model_skipped"] == 4  # the backtested segment x sku series
    assert fallbacks["not_backtested"] == 1
    assert fallbacks["sku_not_backtested"] == 1
    assert read_metadata(out)["fallbacks"] == fallbacks
    assert "4 series: too little data for the global model" in r.stderr
    assert "1 series with under 12 periods of history" in r.stderr


def test_cli_forecast_does_not_echo_the_librarys_lists_of_short_series(cli, tmp_path):
    # Series of different lengths: the backtest windows of the longest are too early for the
    # youngest, and utilsforecast warns with their ids once per window. segchain scores each
    # series on the windows it has and says what it could not backtest itself.
    orders, segments = write_inputs(tmp_path, weeks=60)
    rng = np.random.default_rng(1)
    with orders.open("a") as f:
        for w in range(44, 60):  # a sku launched 16 weeks before the end
            day = dt.date(2023, 1, 2) + dt.timedelta(weeks=w, days=2)
            f.write(f"n{w},{day},0001,C-0,{int(rng.poisson(5)) + 1},2.50\n")
    r = cli(
        "forecast",
        str(segments),
        "--orders",
        str(orders),
        "--horizon",
        "4",
        "--n-jobs",
        "1",
        "-o",
        str(tmp_path / "fc.csv"),
    )
    assert r.exit_code == 0, r.stderr
    assert pl.read_csv(tmp_path / "fc.csv").filter(pl.col("sku") == "C-0").height == 4
    assert "too short for the window" not in r.stderr


def test_cli_forecast_refuses_segments_with_a_blank_customer_id(cli, tmp_path):
    """A segments row without its customer_id was dropped without a word (costs refuses it);
    found by a hostile sweep (session 38): a table given to a stage with a blank key is exit 1."""
    orders, segments = write_inputs(tmp_path)
    segments.write_text("customer_id,segment\n0001,Champions\n,At risk\n0002,At risk\n , x\n")
    r = cli("forecast", str(segments), "--orders", str(orders), "-o", "fc.csv")
    assert r.exit_code == 1
    assert r.stderr == (
        f"segchain forecast: Error: SEGMENTS {segments}: 2 rows with a blank customer_id "
        "(rows 2, 4)\n"
        "segchain forecast:   hint: give the segments that segchain segment wrote (one row per "
        "customer)\n"
    )
    assert not (tmp_path / "fc.csv").exists()


def test_forecast_stage_refuses_segments_with_a_blank_customer_id():
    """The stage run from Python refuses it too, naming the table by its word."""
    from segchain.errors import DataError
    from segchain.forecast.series import build_series

    orders = pl.DataFrame(
        {
            "order_date": [dt.date(2024, 1, 1), dt.date(2024, 1, 8)],
            "customer_id": ["C1", "C2"],
            "sku": ["P1", "P1"],
            "quantity": [1.0, 2.0],
        }
    )
    segments = pl.DataFrame({"customer_id": ["C1", None], "segment": ["A", "B"]})
    with pytest.raises(DataError) as exc:
        build_series(orders, segments, by=["segment", "sku"], freq="W")
    assert exc.value.message == "segments: 1 row with a blank customer_id (row 2)"


@pytest.mark.parametrize("engine", [[], ["--engine", "local"]])
def test_cli_forecast_refuses_an_address_without_a_cluster_engine(cli, tmp_path, engine):
    """--address tcp://... without --engine dask ran every model on this machine, unsaid:
    the cluster the user named was never asked. Found by a hostile sweep (session 38)."""
    orders, segments = write_inputs(tmp_path, weeks=3)
    r = cli(
        "forecast",
        str(segments),
        "--orders",
        str(orders),
        "--address",
        "tcp://10.0.0.5:8786",
        *engine,
        "-o",
        "fc.csv",
    )
    assert r.exit_code == 2
    assert r.stderr == (
        "segchain forecast: Error: --address tcp://10.0.0.5:8786 names a cluster, but the "
        "engine is local: the models would run on this machine, the address unused\n"
        "segchain forecast:   hint: add --engine dask (or ray, spark) to run on that cluster, "
        "or leave --address out\n"
    )
    assert not (tmp_path / "fc.csv").exists()


def test_cli_forecast_refuses_n_jobs_with_a_cluster_engine(cli, tmp_path):
    """--n-jobs sizes the local engine's pool; with --engine dask it did nothing, unsaid (the
    cluster's workers run the models). Found by a hostile sweep (session 38)."""
    orders, segments = write_inputs(tmp_path, weeks=3)
    r = cli(
        "forecast",
        str(segments),
        "--orders",
        str(orders),
        "--engine",
        "dask",
        "--n-jobs",
        "2",
        "-o",
        "fc.csv",
    )
    assert r.exit_code == 2
    assert r.stderr == (
        "segchain forecast: Error: --n-jobs 2 sets the local engine's processes, but the "
        "engine is dask: the cluster's workers run the models, --n-jobs unused\n"
        "segchain forecast:   hint: leave --n-jobs out and size the cluster, or run with "
        "--engine local\n"
    )
    assert not (tmp_path / "fc.csv").exists()


def test_cli_forecast_an_address_from_the_environment_is_a_standing_setting(
    cli, tmp_path, monkeypatch
):
    """$SEGCHAIN_ADDRESS (for the runs on a cluster) does not stop a local run."""
    orders, segments = write_inputs(tmp_path, weeks=12)
    monkeypatch.setenv("SEGCHAIN_ADDRESS", "tcp://10.0.0.5:8786")
    r = cli("forecast", str(segments), "--orders", str(orders), "--n-jobs", "1", "-o", "fc.csv")
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "fc.csv").exists()

"""Acceptance: the chain on CDNOW's full purchase log, an export nobody tuned segchain to.

CDNOW's master log (23,570 customers who first bought in the first quarter of 1997, 69,659
lines to 1998-06-30: customer, day, CDs, dollars) ships in the lifetimes wheel
(lifetimes/datasets/CDNOW_master.txt), found with importlib.util.find_spec and never imported.
It is written as a spreadsheet user would export it: a header, an order per customer-day, one
sku ("CD": the log has no product), unit price = dollars / CDs (80 lines are 0 dollars), no
sites. Its shape is the degenerate one: one sku, most customers buying once, all of them
acquired in one quarter, so every recency-defined segment but the top ones has stopped buying.

Every expected figure is computed here from the log with polars, not taken from segchain.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import realdata

CUT = dt.date(1998, 1, 5)  # a Monday: the 8 weeks after it are held out
HORIZON = 8


def _log() -> pl.DataFrame:
    rows = [
        line.split()
        for line in realdata.cdnow("CDNOW_master.txt").read_text().splitlines()[1:]
        if line.strip()
    ]
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "order_date": [dt.datetime.strptime(r[1], "%Y%m%d").date() for r in rows],
            "quantity": [int(r[2]) for r in rows],
            "dollars": [float(r[3]) for r in rows],
        }
    )


def _export(log: pl.DataFrame, path: Path) -> None:
    log.select(
        (pl.col("customer_id") + "-" + pl.col("order_date").dt.strftime("%Y%m%d")).alias(
            "order_id"
        ),
        pl.col("order_date").dt.strftime("%Y-%m-%d"),
        "customer_id",
        pl.lit("CD").alias("sku"),
        "quantity",
        (pl.col("dollars") / pl.col("quantity")).alias("unit_price"),
    ).write_csv(path)


def _run(args: list[str], folder: Path):  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from segchain.cli import app

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # no segchain.toml of the developer's folder
        mp.setenv("NO_COLOR", "1")
        mp.setenv("TERMINAL_WIDTH", "200")
        ran = CliRunner().invoke(app, args, catch_exceptions=False)
    assert ran.exit_code == 0, ran.stderr
    return ran


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):  # type: ignore[no-untyped-def]
    log = _log()
    folder = tmp_path_factory.mktemp("cdnow_chain")
    _export(log, folder / "orders.csv")
    _run(
        ["segment", "orders.csv", "--profile", "profile.csv", "-o", "segments.parquet"],
        folder,
    )
    return log, folder


def test_cdnow_log_is_the_published_shape(cdnow):
    log, _ = cdnow
    assert log.height == 69_659
    assert log["customer_id"].n_unique() == 23_570
    assert log.filter(pl.col("dollars") == 0).height == 80


def test_cdnow_report_revenue_per_segment_is_what_its_customers_spent(cdnow):
    # The report was given segment's --profile (mean monetary rounded to cents) beside the
    # segments: it showed Champions 1,320,703 for the 1,320,691 its customers spent.
    from segchain.report import build_report
    from segchain.report.sections.segments import segment_profile

    log, folder = cdnow
    segments = pl.read_parquet(folder / "segments.parquet")
    spent = (
        log.join(segments.select("customer_id", "segment"), on="customer_id")
        .group_by("segment")
        .agg(pl.col("dollars").sum().alias("spent"), pl.len().alias("lines"))
    )
    assert spent["lines"].sum() == log.height  # every line has its customer's segment
    tables = {
        "segments": segments,
        "segment_profile": pl.read_csv(folder / "profile.csv"),
    }
    got = segment_profile(tables)
    joined = got.join(spent, on="segment")
    assert joined.height == spent.height
    assert (joined["revenue"] - joined["spent"]).abs().max() < 0.01
    heads = {h.label: h.value for s in build_report(tables).sections for h in s.headlines}
    assert heads["Revenue"] == f"{round(log['dollars'].sum()):,}"


@pytest.mark.slow
def test_cdnow_forecast_held_out_and_segments_forecast_nothing(cdnow, capsys):
    # Cut at 1998-01-05, 8 weeks ahead, weekly: the chain against the 8-week moving average on
    # the held-out weeks (the sku total: one sku), and the segments forecast nothing though
    # their customers buy in those weeks, which stderr must say.
    log, folder = cdnow
    history = log.filter(pl.col("order_date") < CUT)
    _export(history, folder / "history.csv")
    _run(["segment", "history.csv", "-o", "seg_cut.parquet"], folder)
    ran = _run(
        [
            "forecast",
            "seg_cut.parquet",
            "--orders",
            "history.csv",
            "--freq",
            "W",
            "--horizon",
            str(HORIZON),
            "-o",
            "fc_cut.parquet",
        ],
        folder,
    )
    # Truth and moving average as forecast counts demand: zero-dollar lines are no demand.
    sold = log.filter(pl.col("dollars") > 0).with_columns(pl.col("order_date").dt.truncate("1w"))
    weekly = sold.group_by("order_date").agg(pl.col("quantity").sum()).sort("order_date")
    before = weekly.filter(pl.col("order_date") < CUT).tail(8)["quantity"].mean()
    after = weekly.filter(
        (pl.col("order_date") >= CUT) & (pl.col("order_date") < CUT + dt.timedelta(weeks=HORIZON))
    )
    assert after.height == HORIZON
    fc = (
        pl.read_parquet(folder / "fc_cut.parquet")
        .group_by("ds")
        .agg(pl.col("forecast").sum())
        .join(after, left_on="ds", right_on="order_date")
    )
    assert fc.height == HORIZON
    actual = after["quantity"].sum()
    chain = (fc["forecast"] - fc["quantity"]).abs().sum() / actual
    moving = (after["quantity"] - before).abs().sum() / actual
    with capsys.disabled():
        print(f"\nCDNOW at {CUT}, {HORIZON} weeks: chain WAPE {chain:.3f}, 8-week MA {moving:.3f}")
    assert chain <= moving * 1.05

    # How the sku forecast is split among the segments, against what each segment's customers
    # bought in the held-out weeks. Split by the last 13 weeks' shares, 7 of 9 RFM segments
    # (defined by recency: no sale in their last weeks) were forecast 0 while their customers
    # bought 3,036 of the 10,139 units; the split reads the whole history now.
    seg = pl.read_parquet(folder / "seg_cut.parquet").select("customer_id", "segment")
    ahead = (
        pl.read_parquet(folder / "fc_cut.parquet").group_by("segment").agg(pl.col("forecast").sum())
    )
    held = (
        sold.filter(
            (pl.col("order_date") >= CUT)
            & (pl.col("order_date") < CUT + dt.timedelta(weeks=HORIZON))
        )
        .join(seg, on="customer_id")
        .group_by("segment")
        .agg(pl.col("quantity").sum().alias("bought"))
    )
    both = ahead.join(held, on="segment", how="full", coalesce=True).fill_null(0)
    # The split's own error: each segment's share of the forecast against its share of the
    # units bought (the total's error taken out), summed over segments.
    split = (
        (both["forecast"] / both["forecast"].sum() - both["bought"] / both["bought"].sum())
        .abs()
        .sum()
    )
    with capsys.disabled():
        print(f"CDNOW split among {both.height} segments: sum of share errors {split:.3f}")
    silent = both.filter((pl.col("forecast") == 0) & (pl.col("bought") > 0.01 * actual))
    assert silent.is_empty(), silent
    assert split < 0.45  # 0.617 split by the last 13 weeks, 0.361 by the whole history
    assert "forecast no demand" not in " ".join(ran.stderr.split())

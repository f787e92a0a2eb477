"""Every count a command writes on stderr has thousands separators (``3,105``, not ``3105``), as
the report and the stderr tables write them (segchain/formatting.py).

One realistic run where the counts pass 999: the sample export of 2,200 customers, with a
thousand and more postage lines, price corrections, giveaways, unreadable dates, customers
without coordinates and customers without a segment, through validate, segment, forecast,
network, stock and costs. Its stderr is scanned for numbers the formatter did not write
(``raw_numbers``); the counts this test planted are looked for, written as they must be.
"""

from __future__ import annotations

import re

import polars as pl
import pytest

from segchain.formatting import raw_numbers

CUSTOMERS = 2_200
UNLOCATED = 1_100  # customers whose lines carry no address or coordinates
UNSEGMENTED = 1_050  # customers left out of the segments given to forecast


@pytest.fixture(scope="module")
def chain_stderr(tmp_path_factory: pytest.TempPathFactory) -> str:
    from typer.testing import CliRunner

    from segchain.cli import app

    runner = CliRunner()
    d = tmp_path_factory.mktemp("counts")
    logs: list[str] = []

    def run(*args: str) -> None:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        logs.append(result.stderr)

    run("sample", "-o", str(d), "--customers", str(CUSTOMERS), "--skus", "10", "--years", "1")
    logs.clear()  # sample's own lines are about the files it writes
    orders = pl.read_csv(d / "orders.csv", infer_schema=False)
    base = orders.head(1_200)
    hostile = pl.concat(
        [
            base.with_columns(sku=pl.lit("POST"), description=pl.lit("POSTAGE")),
            base.head(1_100).with_columns(
                unit_price=pl.lit("-3.00"), order_id=pl.lit("X") + pl.col("order_id")
            ),
            base.head(1_050).with_columns(
                unit_price=pl.lit("0"), order_id=pl.lit("Z") + pl.col("order_id")
            ),
            base.head(1_020).with_columns(order_date=pl.lit("not a date")),
        ]
    )
    orders = pl.concat([orders, hostile])
    ids = orders["customer_id"].drop_nulls().unique().sort().to_list()
    assert len(ids) == CUSTOMERS
    nowhere = pl.col("customer_id").is_in(ids[:UNLOCATED])
    orders = orders.with_columns(
        pl.when(nowhere).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("city", "postal_code", "country", "lat", "lon")
    )
    orders.write_csv(d / "export.csv")
    out = {name: str(d / name) for name in ("orders.parquet", "segments.parquet")}
    run("validate", str(d / "export.csv"), "--rejects", str(d / "rejects.csv"),
        "-o", out["orders.parquet"])  # fmt: skip
    run("segment", out["orders.parquet"], "-o", out["segments.parquet"])
    segments = pl.read_parquet(out["segments.parquet"])
    some = d / "some_segments.parquet"
    segments.filter(~pl.col("customer_id").is_in(ids[-UNSEGMENTED:])).write_parquet(some)
    run("forecast", str(some), "--orders", out["orders.parquet"], "--by", "sku",
        "--models", "Naive", "--horizon", "4", "-o", str(d / "forecast.parquet"))  # fmt: skip
    run("network", out["segments.parquet"], "--sites", str(d / "sites.csv"),
        "--skip-unlocated", "-o", str(d / "assignments.parquet"))  # fmt: skip
    run("stock", str(d / "forecast.parquet"), "--orders", out["orders.parquet"],
        "--on-hand", str(d / "on_hand.csv"), "--simulate", "1200",
        "-o", str(d / "policy.parquet"))  # fmt: skip
    run("costs", out["segments.parquet"], "--orders", out["orders.parquet"],
        "-o", str(d / "costs.csv"))  # fmt: skip
    return "".join(logs)


def test_counts_on_stderr_have_thousands_separators(chain_stderr: str) -> None:
    # Before: '1050 customer(s) without a segment', '1200 non-product order line(s)', 'e.g.
    # ... (and 1045 more)', '1100 customer(s) without coordinates', 'replay of 1200 periods'.
    assert raw_numbers(chain_stderr) == []


@pytest.mark.parametrize(
    "planted",
    [
        # A planted customer whose every line is rejected or no demand drops out of each
        # count, so the counts are matched by their shape: over 999, with a separator.
        r"order lines of 1,0\d\d customers without a segment in SEGMENTS [^\n]* left out, "
        r"e\.g\. ",
        r"'\d+' \(and 1,0\d\d more\)\n",
        r"\n[^\n]*: Warning: CUSTOMERS [^\n]*: 1,\d\d\d customers without coordinates left out",
        r"\n[^\n]*: Warning: --orders [^\n]*: 2,\d\d\d non-product order lines \(postage, fees\) "
        r"left out",
        r"\n[^\n]*: Warning: --orders [^\n]*: 1,\d\d\d price-correction order lines",
        r"\n[^\n]*: Warning: --orders [^\n]*: 1,\d\d\d zero-price order lines",
        r"replay of 1,200 periods",
    ],
)
def test_counts_planted_in_the_run_are_written_with_separators(
    chain_stderr: str, planted: str
) -> None:
    assert re.search(planted, chain_stderr), planted

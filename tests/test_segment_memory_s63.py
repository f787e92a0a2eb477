"""`segchain segment` on validate's Parquet keeps the stage lazy until the aggregation (audit U3,
session 63): the lines the command hands the stage are the file's scan itself, as the benchmark's
``segment(pl.scan_parquet(path))`` reads it. A column added over the scan (a row number, a
``reason`` null on every line) made polars' streaming engine hold every line for the queries
sharing it: 1.9 GB on 9.2 M lines where the stage as benchmarked peaks at 0.5 GB.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from segchain.cli import common as c
from segchain.orders import from_clean
from segchain.tableio import provenance, write_table


def _validated(path: Path, lines: int, customers: int) -> Path:
    """A table as validate writes it (its columns, types, flags and metadata), ``lines`` long."""
    i = pl.col("i")
    customer = i * 7919 % customers
    quantity = (1 + i % 5).cast(pl.Float64)
    price = 2.5 + (i % 11).cast(pl.Float64)
    frame = pl.select(i=pl.int_range(lines)).select(
        order_id=(i // 3).cast(pl.String),
        order_date=pl.lit(dt.date(2023, 1, 1)) + pl.duration(days=i * 31 % 900),
        customer_id=pl.lit("C") + customer.cast(pl.String),
        sku=pl.lit("S") + (i % 997).cast(pl.String),
        quantity=quantity,
        unit_price=price,
        amount=quantity * price,
        flag=pl.lit(None, dtype=pl.String),
        lat=45.0 + (customer % 100).cast(pl.Float64) / 100,
        lon=4.8 + (customer % 50).cast(pl.Float64) / 100,
        city=pl.lit("City") + (customer % 300).cast(pl.String),
        postal_code=(10000 + customer % 900).cast(pl.String),
        country=pl.lit("FR"),
    )
    write_table(frame, str(path), metadata=provenance("orders", params={"returns": "net"}))
    return path


def test_from_clean_lines_are_the_scan(tmp_path: Path) -> None:
    """validate's Parquet, nothing to reject: the import's lines are the file's scan, no column
    added over it (the plan the stage's queries share)."""
    path = _validated(tmp_path / "clean.parquet", 50, 10)
    scan = pl.scan_parquet(path)
    imp = from_clean(scan)
    assert imp.lines.explain() == scan.explain()
    assert imp.rejects_none


def test_load_orders_of_validated_parquet_adds_no_column(tmp_path: Path) -> None:
    """Through the command's reader: the lines hold the file's columns, and only those."""
    path = _validated(tmp_path / "clean.parquet", 50, 10)
    loaded = c.load_orders(
        str(path), c.OrderOptions(), config=c.load_config(None), reporter=c.Reporter(quiet=True)
    )
    assert loaded.imp.lines.collect_schema().names() == pl.read_parquet_schema(path).names()


def test_returns_drop_still_rejects_with_reasons(tmp_path: Path) -> None:
    """--returns drop rejects validate's returns: those lines keep their reason and row."""
    frame = pl.read_parquet(_validated(tmp_path / "clean.parquet", 30, 6))
    frame = frame.with_columns(
        flag=pl.when(pl.int_range(pl.len()) % 10 == 0).then(pl.lit("return")).otherwise("flag")
    )
    imp = from_clean(frame, returns="drop")
    rejects = imp.rejects.collect()
    assert rejects.get_column("row").to_list() == [1, 11, 21]
    assert set(rejects.get_column("reason")) == {"return"}


_PEAK = """
import resource, sys
import polars as pl
from segchain.segment import segment
segment(pl.scan_parquet(sys.argv[1]), method="rfm")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

_COMMAND = """
import resource, subprocess, sys
subprocess.run([sys.executable, "-m", "segchain", "segment", *sys.argv[1:], "-q"], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_kb(script: str, *args: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("rejects", [False, True])
def test_segment_command_peaks_near_the_stage_on_validated_parquet(
    tmp_path: Path, rejects: bool
) -> None:
    """On 3 M validated lines the command peaks within the file's bytes (read once and held:
    tableio) and 0.15 GB of ``segment(pl.scan_parquet(path))``, measured in the same run (it
    peaked 0.37 GB above it; with --rejects 0.28 GB more), growing with every line."""
    path = _validated(tmp_path / "clean.parquet", 3_000_000, 30_000)
    stage = _peak_kb(_PEAK, str(path))
    extra = ["--rejects", str(tmp_path / "rejects.csv")] if rejects else []
    command = _peak_kb(_COMMAND, str(path), "-o", str(tmp_path / "seg.csv"), *extra)
    allowance = 2 * path.stat().st_size // 1024 + 150 * 1024
    assert command - stage < allowance, json.dumps({"command_kb": command, "stage_kb": stage})
    if rejects:
        written = pl.read_csv(tmp_path / "rejects.csv")
        assert written.height == 0
        assert written.columns[:2] == ["row", "source_file"]

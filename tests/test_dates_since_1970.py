"""A date column written as its integers: days since 1970-01-01, how Parquet and Arrow store a
date (an export that wrote `df["date"].astype(int)`, a data warehouse's epoch-day key). Read as
Excel serial numbers, 19,360 became 1953-01-01 instead of 2023-01-03, every order shifted 70
years back without a word: the run went on, segmented and forecast in 1953."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from segchain.cli import app

runner = CliRunner()

# Independent of the code under test: the two readings by the calendar alone.
EPOCH = dt.date(1970, 1, 1)
EXCEL_DAY_0 = dt.date(1899, 12, 30)
DAYS = [19_360, 19_400, 19_500]


def lines(days: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(days))],
            "order_date": days,
            "customer_id": ["c1", "c2", "c1"][: len(days)],
            "sku": ["a", "b", "a"][: len(days)],
            "quantity": [1, 2, 3][: len(days)],
            "unit_price": [1.0, 2.0, 3.0][: len(days)],
        }
    )


def write(frame: pl.DataFrame, path: Path) -> Path:
    frame.write_csv(path) if path.suffix == ".csv" else frame.write_parquet(path)
    return path


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_days_since_1970_are_refused_naming_both_readings(tmp_path: Path, suffix: str) -> None:
    export = write(lines(DAYS), tmp_path / f"orders{suffix}")
    out = tmp_path / "out.parquet"
    result = run("validate", export, "-o", out)
    assert result.exit_code == 1, result.stderr
    message = " ".join(result.stderr.split())
    lo, hi = min(DAYS), max(DAYS)
    as_serial = f"{EXCEL_DAY_0 + dt.timedelta(lo)} to {EXCEL_DAY_0 + dt.timedelta(hi)}"
    as_epoch = f"{EPOCH + dt.timedelta(lo)} to {EPOCH + dt.timedelta(hi)}"
    assert as_serial == "1953-01-01 to 1953-05-21"  # the calendar, not the code
    assert "holds whole numbers from 19,360 to 19,500" in message
    assert as_serial in message and as_epoch in message
    assert "cast(pl.Date)" in message
    assert "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_excel_serials_of_this_century_are_read_and_said(tmp_path: Path, suffix: str) -> None:
    # The same days as Excel serials (the epoch day plus Excel's serial of 1970-01-01) stay
    # dates, and the note says how a number was read, for Parquet as for a CSV's text.
    serials = [d + (EPOCH - EXCEL_DAY_0).days for d in DAYS]
    export = write(lines(serials), tmp_path / f"orders{suffix}")
    out = tmp_path / "out.parquet"
    result = run("validate", export, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "dates: serial (Excel day numbers)" in result.stderr
    read = sorted(pl.read_parquet(out)["order_date"].to_list())
    assert read == [EPOCH + dt.timedelta(d) for d in DAYS]

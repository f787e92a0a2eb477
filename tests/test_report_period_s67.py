"""The report names a one-period forecast's period by its --freq, not a week (session 67).

A forecast of one period has no date gap: the report's forecast section named every such
forecast's period a week ('Horizon: 1 week' for `forecast --freq M --horizon 1`, its Parquet
metadata recording M, the order history drawn in weeks beside it). It now reads the forecast's
`freq` column (written on every row, so a CSV or a pipe keeps it), else its metadata.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest


@pytest.fixture
def segmented(cli, tmp_path: Path) -> tuple[Path, Path]:
    """400 days of one sku bought by three customers, and their segments."""
    orders = tmp_path / "orders.csv"
    lines = [(i, date(2023, 1, 1) + timedelta(days=i), f"C{i % 3}", 1 + i % 4) for i in range(400)]
    orders.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        + "".join(f"{i},{d},{c},S1,{q},2.0\n" for i, d, c, q in lines)
    )
    seg = tmp_path / "seg.parquet"
    assert cli("segment", str(orders), "-o", str(seg)).exit_code == 0
    return orders, seg


def _forecast(cli, segmented: tuple[Path, Path], freq: str, *out: str) -> str:
    orders, seg = segmented
    args = ["--freq", freq, "--horizon", "1", "--models", "WindowAverage", "--reconcile", "none"]
    made = cli("forecast", str(seg), "--orders", str(orders), *args, *out)
    assert made.exit_code == 0, made.stderr
    return made.stdout


def _headline(cli, tmp_path: Path, forecast: str, stdin: str | None = None) -> str:
    page = tmp_path / "r.md"
    result = cli("report", forecast, "-o", str(page), input=stdin)
    assert result.exit_code == 0, result.stderr
    text = page.read_text(encoding="utf-8")
    return text[text.index("**Horizon: ") :].split("**")[1]


@pytest.mark.parametrize(("freq", "word"), [("M", "month"), ("D", "day")])
def test_report_names_a_one_period_forecasts_period_by_its_freq_column(
    cli, segmented, tmp_path: Path, freq: str, word: str
) -> None:
    _forecast(cli, segmented, freq, "-o", str(tmp_path / "fc.csv"))
    assert _headline(cli, tmp_path, str(tmp_path / "fc.csv")) == f"Horizon: 1 {word}"
    piped = _forecast(cli, segmented, freq)
    assert _headline(cli, tmp_path, "-", stdin=piped) == f"Horizon: 1 {word}"


def test_report_names_a_one_period_forecasts_period_by_its_metadata(
    cli, segmented, tmp_path: Path
) -> None:
    """A Parquet forecast without the column (written before it) is read by its metadata."""
    from segchain.tableio import read_metadata, write_table

    written = tmp_path / "fc.parquet"
    _forecast(cli, segmented, "M", "-o", str(written))
    older = pl.read_parquet(written).drop("freq", strict=False)
    write_table(older, str(tmp_path / "older.parquet"), metadata=read_metadata(written))
    assert _headline(cli, tmp_path, str(tmp_path / "older.parquet")) == "Horizon: 1 month"


def test_report_names_a_hand_made_one_period_forecasts_period_a_week(cli, tmp_path) -> None:
    """Neither column nor metadata: a week, as before (stock assumes one too)."""
    (tmp_path / "fc.csv").write_text("unique_id,ds,forecast\nA,2024-01-01,5\nB,2024-01-01,3\n")
    assert _headline(cli, tmp_path, str(tmp_path / "fc.csv")) == "Horizon: 1 week"
